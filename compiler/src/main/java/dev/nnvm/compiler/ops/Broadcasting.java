package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * Numpy-style (multidirectional) broadcasting, for concrete shapes in the
 * reference kernels and for symbolic shapes in type inference.
 */
public final class Broadcasting {
  private Broadcasting() {}

  /** The broadcast result of concrete shapes; fails when two dimensions disagree. */
  public static long[] shape(long[]... shapes) {
    int rank = 0;
    for (long[] s : shapes) {
      rank = Math.max(rank, s.length);
    }
    long[] out = new long[rank];
    java.util.Arrays.fill(out, 1);
    for (long[] s : shapes) {
      int off = rank - s.length;
      for (int i = 0; i < s.length; i++) {
        long d = s[i];
        long o = out[off + i];
        if (o == 1) {
          out[off + i] = d;
        } else if (d != 1 && d != o) {
          throw new ModelException("shapes " + describe(shapes) + " cannot be broadcast together (axis "
              + (off + i) + ": " + o + " vs " + d + ")");
        }
      }
    }
    return out;
  }

  private static String describe(long[][] shapes) {
    List<String> parts = new ArrayList<>();
    for (long[] s : shapes) {
      parts.add(Shape.toString(s));
    }
    return String.join(" and ", parts);
  }

  /**
   * The broadcast result of symbolic shapes. Unknown ranks give an unknown
   * rank; a symbolic dimension against a static one other than 1 takes the
   * static size; two different symbols give an unknown dimension.
   */
  public static Shape shape(Shape... shapes) {
    int rank = 0;
    for (Shape s : shapes) {
      if (!s.hasRank()) {
        return Shape.unknownRank();
      }
      rank = Math.max(rank, s.rank());
    }
    Dim[] out = new Dim[rank];
    java.util.Arrays.fill(out, Dim.of(1));
    for (Shape s : shapes) {
      int off = rank - s.rank();
      for (int i = 0; i < s.rank(); i++) {
        out[off + i] = merge(out[off + i], s.dim(i), shapes);
      }
    }
    return Shape.of(out);
  }

  private static Dim merge(Dim a, Dim b, Shape[] all) {
    if (a.equals(b)) {
      return a;
    }
    if (a.isStatic() && a.value() == 1) {
      return b;
    }
    if (b.isStatic() && b.value() == 1) {
      return a;
    }
    if (a.isStatic() && b.isStatic()) {
      throw new ModelException("shapes " + java.util.Arrays.toString(all) + " cannot be broadcast together ("
          + a + " vs " + b + ")");
    }
    if (a.isStatic()) {
      return a;
    }
    if (b.isStatic()) {
      return b;
    }
    return Dim.unknown();
  }

  /** Row-major strides of a shape, in elements. */
  public static long[] strides(long[] shape) {
    long[] st = new long[shape.length];
    long s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      st[i] = s;
      s *= shape[i];
    }
    return st;
  }

  /**
   * For each element of {@code outShape} (row-major), the flat index of the
   * element of an input of shape {@code inShape} that broadcasts to it.
   */
  public static int[] indexMap(long[] inShape, long[] outShape) {
    int n = dev.nnvm.compiler.ir.Tensor.elementCount(outShape);
    int[] map = new int[n];
    int rank = outShape.length;
    int off = rank - inShape.length;
    long[] inStrides = strides(inShape);
    long[] eff = new long[rank];
    for (int i = 0; i < inShape.length; i++) {
      eff[off + i] = inShape[i] == 1 ? 0 : inStrides[i];
    }
    int[] idx = new int[rank];
    int flat = 0;
    for (int k = 0; k < n; k++) {
      map[k] = flat;
      for (int d = rank - 1; d >= 0; d--) {
        idx[d]++;
        flat += (int) eff[d];
        if (idx[d] < outShape[d]) {
          break;
        }
        flat -= (int) (eff[d] * idx[d]);
        idx[d] = 0;
      }
    }
    return map;
  }
}
