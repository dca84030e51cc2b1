package dev.nnvm.arrow;

import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.complex.ListVector;

/**
 * Copies one row of an output column into another vector of the same type, nested List columns included.
 * Arrow 19's own copies fall short for the bridge's output layouts: {@code ListVector.copyFromSafe} has no writer
 * for FixedSizeList elements ([N, seq, 384] comes back as a List of FixedSizeLists), and a List row's offsets
 * follow the previous row's, so rows must reach a List target in increasing order.
 */
public final class RowCopy {
  private RowCopy() {}

  /**
   * Copies row {@code fromIndex} of {@code from} to row {@code toIndex} of {@code to}, allocating as needed.
   * Into a List column, rows must be copied in increasing {@code toIndex} order with none left out; the caller sets
   * the value count when done.
   */
  public static void copy(ValueVector from, int fromIndex, ValueVector to, int toIndex) {
    if (!(from instanceof ListVector)) {
      to.copyFromSafe(fromIndex, toIndex, from);
      return;
    }
    ListVector src = (ListVector) from;
    ListVector dst = (ListVector) to;
    if (src.isNull(fromIndex)) {
      setNull(dst, toIndex);
      return;
    }
    int start = dst.startNewValue(toIndex);
    int first = src.getElementStartIndex(fromIndex);
    int size = src.getElementEndIndex(fromIndex) - first;
    for (int k = 0; k < size; k++) {
      copy(src.getDataVector(), first + k, dst.getDataVector(), start + k);
    }
    dst.endValue(toIndex, size);
  }

  /**
   * Makes row {@code index} of a freshly allocated vector null, in the same increasing order as {@link #copy}: a
   * List row gets an empty range (its offsets stay in step); other vectors are null there already.
   */
  public static void setNull(ValueVector to, int index) {
    if (to instanceof ListVector) {
      ListVector dst = (ListVector) to;
      dst.startNewValue(index);
      dst.endValue(index, 0);
      BitVectorHelper.unsetBit(dst.getValidityBuffer(), index);
    }
  }
}
