package dev.nnvm.spark.text;

import dev.nnvm.scoring.text.Pooling;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML stage that turns an encoder's token states into sentence
 * embeddings: mean pooling over the attention mask, then (by default) L2
 * normalization ({@link Pooling}), written as {@code array<float>}.
 *
 * <p>The token states ({@code hiddenCol}, default {@code last_hidden_state})
 * are {@code array<array<float>>} (one vector per token, as the model stage
 * writes an {@code [N, seq, hidden]} output) or {@code array<float>} holding
 * {@code seq x hidden} values row-major, which needs {@code hiddenSize}. The
 * mask ({@code maskCol}, default {@code attention_mask}) is an array of
 * integers; it may be shorter than the token rows (padding the model stage
 * added counts as masked) or longer when the extra entries are 0. A null state
 * or mask gives a null embedding.
 *
 * <p>Has only params, so Spark's default writer and reader save and load it.
 */
public final class NnvmPooling extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> hiddenCol;
  private final Param<String> maskCol;
  private final Param<String> outputCol;
  private final BooleanParam normalize;
  private final IntParam hiddenSize;

  public NnvmPooling() {
    this(Identifiable$.MODULE$.randomUID("nnvmPooling"));
  }

  public NnvmPooling(String uid) {
    this.uid = uid;
    hiddenCol = new Param<>(this, "hiddenCol", "the token states (array<array<float>>, or array<float> with"
        + " hiddenSize)");
    maskCol = new Param<>(this, "maskCol", "the attention mask (array of integers)");
    outputCol = new Param<>(this, "outputCol", "the embedding column written (array<float>)");
    normalize = new BooleanParam(this, "normalize", "whether to scale each embedding to unit L2 norm");
    hiddenSize = new IntParam(this, "hiddenSize", "values per token when the states are a flat array<float>"
        + " (0: the states are nested)");
    setDefault(hiddenCol, "last_hidden_state");
    setDefault(maskCol, "attention_mask");
    setDefault(outputCol, "embedding");
    setDefault(normalize, true);
    setDefault(hiddenSize, 0);
  }

  @Override
  public String uid() {
    return uid;
  }

  public Param<String> hiddenCol() {
    return hiddenCol;
  }

  public Param<String> maskCol() {
    return maskCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public BooleanParam normalize() {
    return normalize;
  }

  public IntParam hiddenSize() {
    return hiddenSize;
  }

  public NnvmPooling setHiddenCol(String value) {
    set(hiddenCol, value);
    return this;
  }

  public NnvmPooling setMaskCol(String value) {
    set(maskCol, value);
    return this;
  }

  public NnvmPooling setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public NnvmPooling setNormalize(boolean value) {
    set(normalize, value);
    return this;
  }

  public NnvmPooling setHiddenSize(int value) {
    set(hiddenSize, value);
    return this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    List<String> problems = new ArrayList<>();
    List<String> names = Arrays.asList(schema.fieldNames());
    String hidden = getOrDefault(hiddenCol);
    String mask = getOrDefault(maskCol);
    int size = (Integer) getOrDefault(hiddenSize);
    if (!names.contains(hidden)) {
      problems.add("missing token state column '" + hidden + "' (the input has " + names + ")");
    } else {
      DataType t = schema.apply(hidden).dataType();
      boolean nested = t instanceof ArrayType a && a.elementType() instanceof ArrayType b && floating(b.elementType());
      boolean flat = t instanceof ArrayType a && floating(a.elementType());
      if (!nested && !flat) {
        problems.add("token state column '" + hidden + "' has type " + t.simpleString()
            + ", expected array<array<float>> (or a flat array<float> with hiddenSize)");
      } else if (flat && size < 1) {
        problems.add("token state column '" + hidden + "' is a flat " + t.simpleString()
            + ": set hiddenSize to the values per token");
      }
    }
    if (!names.contains(mask)) {
      problems.add("missing attention mask column '" + mask + "' (the input has " + names + ")");
    } else {
      DataType t = schema.apply(mask).dataType();
      if (!(t instanceof ArrayType a && a.elementType() instanceof IntegralType)) {
        problems.add("attention mask column '" + mask + "' has type " + t.simpleString()
            + ", expected an array of integers");
      }
    }
    if (size < 0) {
      problems.add("hiddenSize must be >= 0, got " + size);
    }
    if (names.contains(getOrDefault(outputCol))) {
      problems.add("output column '" + getOrDefault(outputCol) + "' already exists");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("NnvmPooling " + uid + ": " + String.join("; ", problems));
    }
    return schema.add(new StructField(getOrDefault(outputCol), DataTypes.createArrayType(DataTypes.FloatType, false),
        true, Metadata.empty()));
  }

  private static boolean floating(DataType t) {
    return t.equals(DataTypes.FloatType) || t.equals(DataTypes.DoubleType);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    String hidden = getOrDefault(hiddenCol);
    String mask = getOrDefault(maskCol);
    boolean unit = (Boolean) getOrDefault(normalize);
    int size = (Integer) getOrDefault(hiddenSize);
    UserDefinedFunction pool = functions.udf((UDF2<Object, Object, float[]>) (states, m) -> {
      if (states == null || m == null) {
        return null;
      }
      long[] weights = SparkArrays.longs(m);
      float[] tokens;
      int dim;
      if (size > 0) {
        tokens = SparkArrays.floats(states);
        dim = size;
      } else {
        List<Object> rows = SparkArrays.list(states);
        dim = rows.isEmpty() ? 0 : SparkArrays.list(rows.get(0)).size();
        tokens = new float[rows.size() * dim];
        for (int t = 0; t < rows.size(); t++) {
          float[] v = SparkArrays.floats(rows.get(t));
          if (v.length != dim) {
            throw new IllegalArgumentException("column '" + hidden + "': token " + t + " has " + v.length
                + " values, token 0 has " + dim);
          }
          System.arraycopy(v, 0, tokens, t * dim, dim);
        }
        if (dim == 0) {
          return new float[0];
        }
      }
      float[] e;
      try {
        e = Pooling.meanPool(tokens, dim, weights);
      } catch (IllegalArgumentException bad) {
        throw new IllegalArgumentException("columns '" + hidden + "' and '" + mask + "': " + bad.getMessage(), bad);
      }
      if (unit) {
        Pooling.l2Normalize(e);
      }
      return e;
    }, DataTypes.createArrayType(DataTypes.FloatType, false));
    return dataset.toDF().withColumn(getOrDefault(outputCol), pool.apply(functions.col(hidden), functions.col(mask)));
  }

  @Override
  public NnvmPooling copy(ParamMap extra) {
    return (NnvmPooling) defaultCopy(extra);
  }

  /** A reader of saved pooling stages. */
  public static MLReader<NnvmPooling> read() {
    return new org.apache.spark.ml.util.DefaultParamsReader<>();
  }

  /** Loads a stage saved with {@link #write()}. */
  public static NnvmPooling load(String path) {
    return read().load(path);
  }
}
