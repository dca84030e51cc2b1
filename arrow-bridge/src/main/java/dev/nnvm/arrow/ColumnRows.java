package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;

/**
 * The rows of one input column as runs of leaf elements: row {@code r}
 * starts at leaf element {@link #start(int)} and holds
 * {@link #elements(int)} elements, contiguously (nested fixed-size lists and
 * the tensor extension are flat in their leaf vector; a {@code List} may
 * only be the outer level). The column must have passed
 * {@link SchemaMapping#validate}.
 */
final class ColumnRows {
  private final String name;
  private final int rows;
  private final List<FieldVector> levels = new ArrayList<>();
  private final FieldVector leaf;
  private final DType dtype;
  private final ListVector list;
  private final Shape rowShape;
  private final long inner;
  private final long fixedLength;

  ColumnRows(String name, FieldVector column, int rows) {
    this.name = name;
    this.rows = rows;
    FieldVector v = column;
    while (true) {
      if (v instanceof ExtensionTypeVector) {
        v = (FieldVector) ((ExtensionTypeVector<?>) v).getUnderlyingVector();
      }
      levels.add(v);
      if (v instanceof FixedSizeListVector) {
        v = ((FixedSizeListVector) v).getDataVector();
      } else if (v instanceof ListVector) {
        v = ((ListVector) v).getDataVector();
      } else {
        break;
      }
    }
    this.leaf = v;
    this.dtype = ArrowTypes.toDType(leaf.getField().getType());
    this.list = levels.get(0) instanceof ListVector ? (ListVector) levels.get(0) : null;
    this.rowShape = ArrowTypes.columnType(column.getField()).rowShape();
    long n = 1;
    for (int i = 1; i < rowShape.rank(); i++) {
      n *= rowShape.dim(i).value();
    }
    this.inner = n;
    this.fixedLength = list != null || rowShape.rank() == 0 ? 1 : rowShape.dim(0).value();
    checkBuffers();
  }

  /** Refuses a column whose buffers are too short for its rows, before anything reads them by address. */
  private void checkBuffers() {
    if (rows == 0) {
      return;
    }
    if (list != null && list.getOffsetBuffer().capacity() < 4L * (rows + 1)) {
      throw new IllegalArgumentException("column '" + name + "': " + rows + " rows need " + 4L * (rows + 1)
          + " bytes of offsets, the buffer has " + list.getOffsetBuffer().capacity());
    }
    long need = list != null ? offset(rows) * inner : rows * fixedLength * inner;
    long capacity = leaf.getDataBuffer().capacity();
    long have = bitPacked() ? capacity * 8 : capacity / dtype.byteSize();
    if (need > have || (list != null && offset(0) < 0)) {
      throw new IllegalArgumentException("column '" + name + "': " + rows + " rows need " + need
          + " elements, its element buffer holds " + have);
    }
  }

  /** The shape of one row, {@code ?} first for a {@code List} column. */
  Shape rowShape() {
    return rowShape;
  }

  String name() {
    return name;
  }

  DType dtype() {
    return dtype;
  }

  /** True for Arrow's bit-packed booleans. */
  boolean bitPacked() {
    return leaf instanceof BitVector;
  }

  /** The address of the leaf element buffer. */
  long leafAddress() {
    return leaf.getDataBufferAddress();
  }

  /** True when rows vary in length (a {@code List} column). */
  boolean variable() {
    return list != null;
  }

  /** The outer length of row {@code r}: its list length, or its first row dimension for a fixed column. */
  long length(int r) {
    return list != null ? offset(r + 1) - offset(r) : fixedLength;
  }

  /** Leaf elements per unit of {@link #length(int)}: the product of the row dimensions after the first. */
  long inner() {
    return inner;
  }

  /** The leaf element where row {@code r} starts. */
  long start(int r) {
    return list != null ? offset(r) * inner : r * fixedLength * inner;
  }

  /** The leaf elements of row {@code r}. */
  long elements(int r) {
    return length(r) * inner;
  }

  /** True when rows {@code 0..rows-1} all have length {@code length} and lie back to back. */
  boolean regular(long length) {
    if (list == null) {
      return true;
    }
    long first = offset(0);
    for (int r = 1; r <= rows; r++) {
      if (offset(r) - first != r * length) {
        return false;
      }
    }
    return true;
  }

  private long offset(int r) {
    return MemoryUtil.getInt(list.getOffsetBufferAddress() + 4L * r);
  }

  /**
   * Adds the rows that are null or hold a null element to {@code out}, each
   * with a description; a row already there keeps its first description.
   */
  void nullRows(Map<Integer, String> out) {
    if (rows == 0) {
      return;
    }
    FieldVector top = levels.get(0);
    if (top.getNullCount() > 0) {
      for (int r = 0; r < rows; r++) {
        if (top.isNull(r)) {
          out.putIfAbsent(r, "row " + r + " of column '" + name + "' is null");
        }
      }
    }
    long per = 1;
    for (int d = 1; d < levels.size(); d++) {
      FieldVector v = levels.get(d);
      if (d > 1) {
        per *= ((FixedSizeListVector) levels.get(d - 1)).getListSize();
      }
      if (v.getNullCount() == 0) {
        continue;
      }
      long end = list != null ? offset(rows) * per : rows * sizeAt(0) * per;
      for (long j = 0; j < Math.min(end, v.getValueCount()); j++) {
        if (v.isNull((int) j)) {
          int r = rowOf(j / per);
          if (r >= 0 && r < rows) {
            out.putIfAbsent(r, "row " + r + " of column '" + name + "' holds a null element");
          }
        }
      }
    }
  }

  private long sizeAt(int level) {
    return ((FixedSizeListVector) levels.get(level)).getListSize();
  }

  /** The row of an element of the top level's child. */
  private int rowOf(long childIndex) {
    if (list == null) {
      return (int) (childIndex / sizeAt(0));
    }
    int lo = 0;
    int hi = rows;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (offset(mid) <= childIndex) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
