package dev.nnvm.arrow;

import java.util.List;
import java.util.Objects;

/**
 * How a model input is made from the columns of a batch.
 *
 * <ul>
 *   <li>{@link Column}: one column whose rows are the input's rows: a scalar
 *       numeric column (an {@code [N]} or {@code [N, 1]} input), a
 *       {@code FixedSizeList} (nested for higher ranks), an
 *       {@code arrow.fixed_shape_tensor}, or a {@code List} whose rows all
 *       have the same length. Zero-copy (the tensor is the column's own
 *       buffer) when the element types agree, no row is dropped, and for
 *       {@code List} the offsets are regular, as Spark's {@code ArrayType}
 *       arrives; otherwise the rows are copied.</li>
 *   <li>{@link Gather}: {@code k} scalar columns, one per feature, copied
 *       into an {@code [N, k]} tensor.</li>
 *   <li>{@link Padded}: a column of variable-length rows (token sequences),
 *       copied into {@code [N, L]} where {@code L} is the batch's longest
 *       row, shorter rows filled with {@code padValue}; when
 *       {@code maskInput} is given, that model input receives the matching
 *       attention mask (1 for a real element, 0 for padding, in the mask
 *       input's element type). Zero-copy when every row already has length
 *       {@code L}. See {@link LengthBuckets} to pad less.</li>
 * </ul>
 */
public sealed interface InputLayout permits InputLayout.Column, InputLayout.Gather, InputLayout.Padded {

  /** The columns the layout reads. */
  List<String> columns();

  /** One column, one input. */
  record Column(String column) implements InputLayout {
    public Column {
      Objects.requireNonNull(column, "column");
    }

    @Override
    public List<String> columns() {
      return List.of(column);
    }
  }

  /** Scalar columns gathered, in this order, into the last dimension of an {@code [N, k]} input. */
  record Gather(List<String> columns) implements InputLayout {
    public Gather {
      columns = List.copyOf(columns);
      if (columns.isEmpty()) {
        throw new IllegalArgumentException("a gathered input needs at least one column");
      }
    }
  }

  /** Variable-length rows padded to the batch's longest with {@code padValue}; {@code maskInput} may be null. */
  record Padded(String column, double padValue, String maskInput) implements InputLayout {
    public Padded {
      Objects.requireNonNull(column, "column");
    }

    @Override
    public List<String> columns() {
      return List.of(column);
    }
  }
}
