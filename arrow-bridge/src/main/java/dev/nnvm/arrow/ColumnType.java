package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.Objects;

/**
 * What one row of a column holds, in tensor terms: an element type and the
 * shape of the row's value ({@code []} for one number per row, {@code [384]}
 * for a fixed-size vector, {@code [?]} for a variable-length array). A batch
 * of {@code n} rows is then a tensor of shape {@code [n] + rowShape}.
 */
public record ColumnType(DType dtype, Shape rowShape) {
  public ColumnType {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(rowShape, "rowShape");
    if (!rowShape.hasRank()) {
      throw new IllegalArgumentException("a column's row shape needs a known rank");
    }
  }

  /** One value of {@code dtype} per row. */
  public static ColumnType scalar(DType dtype) {
    return new ColumnType(dtype, Shape.scalar());
  }

  /** The rank of the tensor a batch of rows makes (the row dimension included). */
  public int batchRank() {
    return 1 + rowShape.rank();
  }

  @Override
  public String toString() {
    return dtype + (rowShape.rank() == 0 ? "" : rowShape.toString());
  }
}
