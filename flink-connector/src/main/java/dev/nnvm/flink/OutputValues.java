package dev.nnvm.flink;

import java.nio.ByteOrder;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;

/**
 * Reads one row of a scorer's output column as a Java value: the row's
 * elements flattened row-major into a primitive array, or a boxed scalar for a
 * column of scalars. Works for every output layout the bridge makes (scalars,
 * nested {@code FixedSizeList}s, a {@code List} over fixed-size rows, the
 * fixed-shape tensor extension).
 */
public final class OutputValues {
  private OutputValues() {}

  /** Row {@code row} of {@code column}, or null when the row is null. */
  public static Object read(FieldVector column, int row) {
    if (column.isNull(row)) {
      return null;
    }
    FieldVector v = unwrap(column);
    if (!(v instanceof FixedSizeListVector) && !(v instanceof ListVector)) {
      return v instanceof BitVector b ? Boolean.valueOf(b.get(row) != 0) : v.getObject(row);
    }
    // Map the row range [row, row + 1) down the nesting to a range of leaf elements.
    long start = row;
    long end = row + 1L;
    while (v instanceof FixedSizeListVector || v instanceof ListVector) {
      if (v instanceof FixedSizeListVector f) {
        start *= f.getListSize();
        end *= f.getListSize();
        v = unwrap(f.getDataVector());
      } else {
        ListVector l = (ListVector) v;
        start = l.getOffsetBuffer().getInt(start * ListVector.OFFSET_WIDTH);
        end = l.getOffsetBuffer().getInt(end * ListVector.OFFSET_WIDTH);
        v = unwrap(l.getDataVector());
      }
    }
    return elements(v, start, Math.toIntExact(end - start));
  }

  private static FieldVector unwrap(FieldVector v) {
    return v instanceof ExtensionTypeVector<?> e ? (FieldVector) e.getUnderlyingVector() : v;
  }

  private static Object elements(FieldVector leaf, long start, int n) {
    ArrowBuf data = leaf.getDataBuffer();
    if (leaf instanceof Float4Vector) {
      float[] a = new float[n];
      if (n > 0) {
        data.nioBuffer(start * 4, n * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
      }
      return a;
    } else if (leaf instanceof Float8Vector) {
      double[] a = new double[n];
      if (n > 0) {
        data.nioBuffer(start * 8, n * 8).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(a);
      }
      return a;
    } else if (leaf instanceof BigIntVector) {
      long[] a = new long[n];
      if (n > 0) {
        data.nioBuffer(start * 8, n * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(a);
      }
      return a;
    } else if (leaf instanceof IntVector) {
      int[] a = new int[n];
      if (n > 0) {
        data.nioBuffer(start * 4, n * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(a);
      }
      return a;
    } else if (leaf instanceof SmallIntVector) {
      short[] a = new short[n];
      for (int i = 0; i < n; i++) {
        a[i] = data.getShort((start + i) * 2);
      }
      return a;
    } else if (leaf instanceof TinyIntVector) {
      byte[] a = new byte[n];
      data.getBytes(start, a, 0, n);
      return a;
    } else if (leaf instanceof BitVector b) {
      boolean[] a = new boolean[n];
      for (int i = 0; i < n; i++) {
        a[i] = b.get(Math.toIntExact(start + i)) != 0;
      }
      return a;
    }
    throw new IllegalArgumentException("output column holds " + leaf.getField().getType()
        + " elements, which the Flink connector does not read");
  }
}
