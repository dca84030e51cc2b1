package dev.nnvm.spark;

import dev.nnvm.arrow.ColumnType;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * Maps Spark SQL column types to tensor types (executor side: runtime types
 * only, never the compiler's; {@link SparkArrow#plan} checks a DataFrame
 * schema against a model).
 *
 * <p>Numeric and boolean columns hold one element per row; {@code ArrayType}
 * of them holds a variable-length vector per row (row shape {@code [?]}, or
 * {@code [?, ?]} for arrays of arrays). A batch of rows feeds a model input
 * whose first dimension is the row count. Spark has no unsigned or 16-bit
 * float types, so models with such inputs need a cast in the model.
 */
public final class SparkTypes {
  private SparkTypes() {}

  /** The element type of a scalar Spark type. */
  public static DType toDType(DataType type) {
    if (type.equals(DataTypes.ByteType)) {
      return DType.INT8;
    }
    if (type.equals(DataTypes.ShortType)) {
      return DType.INT16;
    }
    if (type.equals(DataTypes.IntegerType)) {
      return DType.INT32;
    }
    if (type.equals(DataTypes.LongType)) {
      return DType.INT64;
    }
    if (type.equals(DataTypes.FloatType)) {
      return DType.FLOAT32;
    }
    if (type.equals(DataTypes.DoubleType)) {
      return DType.FLOAT64;
    }
    if (type.equals(DataTypes.BooleanType)) {
      return DType.BOOL;
    }
    throw new IllegalArgumentException("Spark type " + type.simpleString() + " has no tensor element type;"
        + " supported are tinyint, smallint, int, bigint, float, double, boolean and arrays of those");
  }

  /** The scalar Spark type holding elements of {@code dtype}. */
  public static DataType toDataType(DType dtype) {
    switch (dtype) {
      case INT8: return DataTypes.ByteType;
      case INT16: return DataTypes.ShortType;
      case INT32: return DataTypes.IntegerType;
      case INT64: return DataTypes.LongType;
      case FLOAT32: return DataTypes.FloatType;
      case FLOAT64: return DataTypes.DoubleType;
      case BOOL: return DataTypes.BooleanType;
      default:
        throw new IllegalArgumentException("element type " + dtype + " has no Spark SQL type;"
            + " supported are i8, i16, i32, i64, f32, f64 and bool");
    }
  }

  /** What one row of a column of {@code type} holds. */
  public static ColumnType columnType(DataType type) {
    List<Dim> rowDims = new ArrayList<>();
    DataType t = type;
    while (t instanceof ArrayType) {
      rowDims.add(Dim.unknown());
      t = ((ArrayType) t).elementType();
    }
    return new ColumnType(toDType(t), Shape.of(rowDims));
  }


}
