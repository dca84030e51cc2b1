package dev.nnvm.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.ColumnType;
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


}
