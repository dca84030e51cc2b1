package dev.nnvm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.ColumnType;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class SparkTypesTest {
  private static StructField column(String name, DataType type) {
    return new StructField(name, type, true, Metadata.empty());
  }

  private static ValueInfo input(String name, String type) {
    return new ValueInfo(name, TensorType.parse(type));
  }

  /** The columns a MiniLM-style encoder reads: token ids per row, plus a score and a vector column. */
  private static final StructType SCHEMA = new StructType(new StructField[] {
      column("text", DataTypes.StringType),
      column("input_ids", DataTypes.createArrayType(DataTypes.LongType)),
      column("attention_mask", DataTypes.createArrayType(DataTypes.LongType, false)),
      column("score", DataTypes.DoubleType),
      column("embedding", DataTypes.createArrayType(DataTypes.FloatType)),
      column("patches", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType))),
      column("flag", DataTypes.BooleanType),
  });

  @Test
  void scalarTypesMapBothWays() {
    for (DType t : DType.values()) {
      boolean spark = t == DType.INT8 || t == DType.INT16 || t == DType.INT32 || t == DType.INT64
          || t == DType.FLOAT32 || t == DType.FLOAT64 || t == DType.BOOL;
      if (spark) {
        assertEquals(t, SparkTypes.toDType(SparkTypes.toDataType(t)));
      } else {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SparkTypes.toDataType(t));
        assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
      }
    }
    assertEquals(DType.INT32, SparkTypes.toDType(DataTypes.IntegerType));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SparkTypes.toDType(DataTypes.createDecimalType(10, 2)));
    assertTrue(e.getMessage().contains("decimal(10,2)"), e.getMessage());
  }

  @Test
  void arraysBecomeVariableRowDimensions() {
    assertEquals(ColumnType.scalar(DType.FLOAT64), SparkTypes.columnType(DataTypes.DoubleType));
    assertEquals(new ColumnType(DType.INT64, Shape.parse("[?]")),
        SparkTypes.columnType(DataTypes.createArrayType(DataTypes.LongType)));
    ColumnType nested = SparkTypes.columnType(SCHEMA.apply("patches").dataType());
    assertEquals(new ColumnType(DType.FLOAT32, Shape.parse("[?, ?]")), nested);
    assertEquals(3, nested.batchRank());
    assertThrows(IllegalArgumentException.class,
        () -> SparkTypes.columnType(DataTypes.createArrayType(DataTypes.StringType)));
  }

  @Test
  void matchingColumnsFeedTheModel() {
    List<ValueInfo> inputs = List.of(
        input("input_ids", "i64[batch, seq]"),
        input("attention_mask", "i64[batch, seq]"),
        input("score", "f64[N]"),
        input("embedding", "f32[N, 384]"),
        input("patches", "f32[N, 16, 64]"),
        input("flag", "bool?"));
    assertEquals(List.of(), SparkTypes.inputProblems(SCHEMA, inputs));
    SparkTypes.checkInputs(SCHEMA, inputs);
  }

  @Test
  void everyMismatchIsReportedAtOnce() {
    List<ValueInfo> inputs = List.of(
        input("token_type_ids", "i64[batch, seq]"),
        input("input_ids", "i32[batch, seq]"),
        input("embedding", "f32[N]"),
        input("text", "string[N]"),
        input("scale", "f32[]"));
    List<String> problems = SparkTypes.inputProblems(SCHEMA, inputs);
    assertEquals(List.of(
        "model input 'token_type_ids' i64[batch, seq] has no column; the columns are"
            + " [text, input_ids, attention_mask, score, embedding, patches, flag]",
        "column 'input_ids' holds i64, model input 'input_ids' needs i32 [batch, seq]",
        "column 'embedding' (array<float>) gives tensors of rank 2, model input 'embedding' has rank 1 [N]",
        "column 'text': Spark type string has no tensor element type; supported are tinyint, smallint, int,"
            + " bigint, float, double, boolean and arrays of those",
        "model input 'scale' is a scalar, but a column feeds tensors whose first dimension is the rows"), problems);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SparkTypes.checkInputs(SCHEMA, inputs));
    assertTrue(e.getMessage().startsWith("the DataFrame cannot feed the model: model input 'token_type_ids'"),
        e.getMessage());
    assertTrue(e.getMessage().contains("; column 'input_ids' holds i64"), e.getMessage());
  }
}
