package dev.nnvm.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.ColumnType;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.RowType;
import org.junit.jupiter.api.Test;

class FlinkTypesTest {
  @Test
  void scalarTypesMapBothWays() {
    for (DType t : DType.values()) {
      boolean flink = t == DType.INT8 || t == DType.INT16 || t == DType.INT32 || t == DType.INT64
          || t == DType.FLOAT32 || t == DType.FLOAT64 || t == DType.BOOL;
      if (flink) {
        DataType d = FlinkTypes.toDataType(t);
        assertEquals(t, FlinkTypes.toDType(d));
        assertEquals(t, FlinkTypes.toDType(d.notNull()), "nullability does not matter");
      } else {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlinkTypes.toDataType(t));
        assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
      }
    }
    assertEquals(DType.INT64, FlinkTypes.toDType(new BigIntType(false)));
  }

  @Test
  void columnsOfARowTypeMapToRowShapes() {
    DataType row = DataTypes.ROW(
        DataTypes.FIELD("input_ids", DataTypes.ARRAY(DataTypes.BIGINT().notNull())),
        DataTypes.FIELD("score", DataTypes.DOUBLE()),
        DataTypes.FIELD("image", DataTypes.ARRAY(DataTypes.ARRAY(DataTypes.FLOAT()))),
        DataTypes.FIELD("flag", DataTypes.BOOLEAN().notNull()));
    Map<String, ColumnType> columns = new LinkedHashMap<>();
    RowType rowType = (RowType) row.getLogicalType();
    for (RowType.RowField f : rowType.getFields()) {
      columns.put(f.getName(), FlinkTypes.columnType(f.getType()));
    }
    assertEquals(Map.of(
        "input_ids", new ColumnType(DType.INT64, Shape.parse("[?]")),
        "score", ColumnType.scalar(DType.FLOAT64),
        "image", new ColumnType(DType.FLOAT32, Shape.parse("[?, ?]")),
        "flag", ColumnType.scalar(DType.BOOL)), columns);
    assertEquals(List.of("input_ids", "score", "image", "flag"), List.copyOf(columns.keySet()));
    assertEquals(3, columns.get("image").batchRank());
    assertEquals(new ColumnType(DType.INT8, Shape.parse("[?]")),
        FlinkTypes.columnType(DataTypes.ARRAY(DataTypes.TINYINT())));
  }

  @Test
  void unsupportedTypesAreNamed() {
    Map<DataType, String> named = Map.of(
        DataTypes.STRING(), "STRING",
        DataTypes.DECIMAL(10, 2), "DECIMAL(10, 2)",
        DataTypes.TIMESTAMP(3), "TIMESTAMP(3)",
        DataTypes.ARRAY(DataTypes.STRING()), "STRING",
        DataTypes.MAP(DataTypes.INT(), DataTypes.FLOAT()), "MAP<INT, FLOAT>");
    named.forEach((type, name) -> {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlinkTypes.columnType(type));
      assertTrue(e.getMessage().startsWith("Flink type " + name + " has no tensor element type"), e.getMessage());
    });
  }
}
