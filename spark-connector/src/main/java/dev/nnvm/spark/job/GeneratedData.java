package dev.nnvm.spark.job;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A generated data set shaped like a model's inputs, for runs without input data: one column per model input,
 * named after it, holding a row's slice of the input tensor (a scalar for per-row rank 0, else nested arrays, one
 * level per dimension), plus a {@code row_id} column. Floating-point inputs are uniform in [-1, 1), integer inputs
 * uniform in {@code [intLow, intHigh]}. Row {@code i}'s values depend only on the seed and {@code i}, so the same
 * command gives the same data however Spark partitions it.
 */
final class GeneratedData {
  static final String ROW_ID = "row_id";

  private GeneratedData() {}

  /** The per-row shape of {@code spec} (its dimensions after the first, the batch), bound with {@code dims}. */
  static int[] rowShape(TensorSpec spec, Map<String, Long> dims) {
    List<Dim> d = spec.shape().dims();
    if (d.isEmpty()) {
      throw new JobException("input '" + spec.name() + "' is a scalar; a generated data set needs a batch dimension");
    }
    int[] shape = new int[d.size() - 1];
    for (int i = 1; i < d.size(); i++) {
      Dim x = d.get(i);
      if (x.isStatic()) {
        shape[i - 1] = Math.toIntExact(x.value());
      } else if (x.isSymbolic() && dims.containsKey(x.symbol())) {
        shape[i - 1] = Math.toIntExact(dims.get(x.symbol()));
      } else {
        throw new JobException("input '" + spec.name() + "' dimension " + i + " (" + x + ") has no size: give it with"
            + " --dim " + (x.isSymbolic() ? x.symbol() : "NAME") + "=SIZE");
      }
    }
    return shape;
  }

  static DataType elementType(TensorSpec spec) {
    DType t = spec.dtype();
    switch (t) {
      case FLOAT32: return DataTypes.FloatType;
      case FLOAT64: return DataTypes.DoubleType;
      case INT64: return DataTypes.LongType;
      case INT32: return DataTypes.IntegerType;
      default:
        throw new JobException("input '" + spec.name() + "' has element type " + t + "; generated data covers"
            + " float32, float64, int32 and int64 inputs");
    }
  }

  static StructType schema(List<TensorSpec> inputs, Map<String, Long> dims) {
    List<StructField> fields = new ArrayList<>();
    fields.add(DataTypes.createStructField(ROW_ID, DataTypes.LongType, false));
    for (TensorSpec s : inputs) {
      DataType type = elementType(s);
      for (int i = 0; i < rowShape(s, dims).length; i++) {
        type = DataTypes.createArrayType(type, false);
      }
      fields.add(DataTypes.createStructField(s.name(), type, false));
    }
    return DataTypes.createStructType(fields);
  }

  /** {@code rows} generated rows in {@code partitions} partitions. */
  static Dataset<Row> generate(SparkSession spark, List<TensorSpec> inputs, Map<String, Long> dims, long rows,
      int partitions, long seed, long intLow, long intHigh) {
    StructType schema = schema(inputs, dims);
    List<int[]> shapes = new ArrayList<>();
    List<DType> types = new ArrayList<>();
    for (TensorSpec s : inputs) {
      shapes.add(rowShape(s, dims));
      types.add(s.dtype());
    }
    MapFunction<Long, Row> row = id -> {
      SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
      Object[] values = new Object[shapes.size() + 1];
      values[0] = id;
      for (int i = 0; i < shapes.size(); i++) {
        values[i + 1] = value(random, shapes.get(i), 0, types.get(i), intLow, intHigh);
      }
      return RowFactory.create(values);
    };
    return spark.range(0, rows, 1, partitions).map(row, Encoders.row(schema));
  }

  private static Object value(SplittableRandom random, int[] shape, int level, DType type, long low, long high) {
    if (level == shape.length) {
      switch (type) {
        case FLOAT32: return (float) (random.nextDouble() * 2 - 1);
        case FLOAT64: return random.nextDouble() * 2 - 1;
        case INT64: return low + random.nextLong(high - low + 1);
        case INT32: return (int) (low + random.nextLong(high - low + 1));
        default: throw new IllegalStateException(type.toString());
      }
    }
    Object[] items = new Object[shape[level]];
    for (int i = 0; i < items.length; i++) {
      items[i] = value(random, shape, level + 1, type, low, high);
    }
    // Spark's row encoder takes a Scala Seq for an ArrayType value (not a java.util.List).
    return scala.jdk.javaapi.CollectionConverters.asScala(java.util.Arrays.asList(items)).toSeq();
  }
}
