package dev.nnvm.flink;

import dev.nnvm.arrow.ColumnType;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;

/**
 * Maps Flink table types to tensor types.
 *
 * <p>Numeric and boolean columns hold one element per row; {@code ARRAY} of
 * them holds a variable-length vector per row (row shape {@code [?]}, or
 * {@code [?, ?]} for arrays of arrays). Flink has no unsigned or 16-bit
 * float types.
 */
public final class FlinkTypes {
  private FlinkTypes() {}

  /** The element type of a scalar logical type. */
  public static DType toDType(LogicalType type) {
    switch (type.getTypeRoot()) {
      case TINYINT: return DType.INT8;
      case SMALLINT: return DType.INT16;
      case INTEGER: return DType.INT32;
      case BIGINT: return DType.INT64;
      case FLOAT: return DType.FLOAT32;
      case DOUBLE: return DType.FLOAT64;
      case BOOLEAN: return DType.BOOL;
      default:
        throw new IllegalArgumentException("Flink type " + type.asSummaryString() + " has no tensor element type;"
            + " supported are TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, BOOLEAN and ARRAYs of those");
    }
  }

  /** The element type of a scalar data type. */
  public static DType toDType(DataType type) {
    return toDType(type.getLogicalType());
  }

  /** The (nullable) Flink data type holding elements of {@code dtype}. */
  public static DataType toDataType(DType dtype) {
    switch (dtype) {
      case INT8: return DataTypes.TINYINT();
      case INT16: return DataTypes.SMALLINT();
      case INT32: return DataTypes.INT();
      case INT64: return DataTypes.BIGINT();
      case FLOAT32: return DataTypes.FLOAT();
      case FLOAT64: return DataTypes.DOUBLE();
      case BOOL: return DataTypes.BOOLEAN();
      default:
        throw new IllegalArgumentException("element type " + dtype + " has no Flink data type;"
            + " supported are i8, i16, i32, i64, f32, f64 and bool");
    }
  }

  /** What one row of a column of {@code type} holds. */
  public static ColumnType columnType(LogicalType type) {
    List<Dim> rowDims = new ArrayList<>();
    LogicalType t = type;
    while (t instanceof ArrayType) {
      rowDims.add(Dim.unknown());
      t = ((ArrayType) t).getElementType();
    }
    return new ColumnType(toDType(t), Shape.of(rowDims));
  }

  /** What one row of a column of {@code type} holds. */
  public static ColumnType columnType(DataType type) {
    return columnType(type.getLogicalType());
  }
}
