package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.List;
import org.apache.arrow.vector.complex.BaseRepeatedValueVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

/**
 * The Arrow column a model output becomes. In every layout the output's
 * elements lie in one contiguous buffer of the new column, which the runtime
 * writes directly.
 */
public enum OutputLayout {
  /** {@link #SCALAR} for {@code [N]}, {@link #FIXED_SIZE_LIST} for static rows, else {@link #LIST}. */
  AUTO,
  /** One number per row: an {@code [N]} or {@code [N, 1]} output. */
  SCALAR,
  /** Nested {@code FixedSizeList}s: every row dimension must be static. */
  FIXED_SIZE_LIST,
  /**
   * A {@code List} over the first row dimension (which may vary from batch to
   * batch, like a sequence length), {@code FixedSizeList}s for the others,
   * which must be static.
   */
  LIST,
  /** The {@code arrow.fixed_shape_tensor} extension type: every row dimension must be static. */
  TENSOR;

  /** The concrete layout of an output with rows of {@code rowShape}; AUTO is resolved. */
  OutputLayout resolve(Shape rowShape) {
    if (this != AUTO) {
      return this;
    }
    if (rowShape.rank() == 0) {
      return SCALAR;
    }
    return rowShape.isStatic() ? FIXED_SIZE_LIST : LIST;
  }

  /** Why rows of {@code rowShape} do not fit this (resolved) layout, or null when they do. */
  String misfit(Shape rowShape) {
    switch (this) {
      case SCALAR:
        return rowShape.rank() == 0 || rowShape.equals(Shape.of(1)) ? null
            : "SCALAR needs rows of shape [] or [1]";
      case FIXED_SIZE_LIST:
      case TENSOR:
        return rowShape.rank() > 0 && rowShape.isStatic() ? null : this + " needs static row dimensions";
      case LIST:
        if (rowShape.rank() == 0) {
          return "LIST needs rows of rank 1 or more";
        }
        return Shape.of(rowShape.dims().subList(1, rowShape.rank())).isStatic() ? null
            : "LIST needs every row dimension but the first to be static";
      default:
        throw new IllegalStateException("unresolved layout " + this);
    }
  }

  /** The Arrow field of an output column (a resolved layout that fits {@code rowShape}). */
  Field field(String column, DType dtype, Shape rowShape) {
    switch (this) {
      case SCALAR:
        return ArrowTypes.field(column, ColumnType.scalar(dtype));
      case FIXED_SIZE_LIST:
        return ArrowTypes.field(column, new ColumnType(dtype, rowShape));
      case TENSOR:
        return FixedShapeTensorType.field(column, ArrowTypes.toArrowType(dtype), rowShape.toArray());
      case LIST: {
        List<Dim> inner = rowShape.dims().subList(1, rowShape.rank());
        Field child = ArrowTypes.field(BaseRepeatedValueVector.DATA_VECTOR_NAME, new ColumnType(dtype, Shape.of(inner)));
        return new Field(column, FieldType.nullable(ArrowType.List.INSTANCE), List.of(child));
      }
      default:
        throw new IllegalStateException("unresolved layout " + this);
    }
  }
}
