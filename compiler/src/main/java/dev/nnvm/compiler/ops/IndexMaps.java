package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;

/**
 * Layout kernels as index maps: an operator computes, for each output element
 * in row-major order, the flat index of the input element it copies (or -1
 * for a fill value), and {@link #take} moves the elements of any type.
 */
final class IndexMaps {
  private IndexMaps() {}

  /** The flat source index of one output coordinate, or -1 for the fill value. */
  @FunctionalInterface
  interface Source {
    int of(long[] coord);
  }

  /** Evaluates {@code f} at every coordinate of {@code outShape}, in row-major order. */
  static int[] build(long[] outShape, Source f) {
    int n = Tensor.elementCount(outShape);
    int[] map = new int[n];
    long[] c = new long[outShape.length];
    for (int k = 0; k < n; k++) {
      map[k] = f.of(c);
      for (int d = c.length - 1; d >= 0; d--) {
        if (++c[d] < outShape[d]) {
          break;
        }
        c[d] = 0;
      }
    }
    return map;
  }

  /** The row-major flat index of a coordinate. */
  static int flat(long[] coord, long[] strides) {
    long f = 0;
    for (int i = 0; i < coord.length; i++) {
      f += coord[i] * strides[i];
    }
    return (int) f;
  }

  /** The coordinate of a flat index in a shape. */
  static long[] unravel(long flat, long[] shape) {
    long[] c = new long[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      c[d] = shape[d] == 0 ? 0 : flat % shape[d];
      flat = shape[d] == 0 ? 0 : flat / shape[d];
    }
    return c;
  }

  /** The tensor whose element k is {@code x[map[k]]}, or zero where {@code map[k]} is -1. */
  static Tensor take(Tensor x, int[] map, long[] shape) {
    return take(x, map, shape, null);
  }

  /** As {@link #take(Tensor, int[], long[])}, with {@code fill}'s single element where the map is -1. */
  static Tensor take(Tensor x, int[] map, long[] shape, Tensor fill) {
    DType t = x.dtype();
    Object dst = Tensor.newStorage(t, map.length);
    Object src = x.data();
    if (src instanceof float[]) {
      float[] s = (float[]) src;
      float[] d = (float[]) dst;
      float f = fill == null ? 0f : (float) fill.getDouble(0);
      for (int k = 0; k < map.length; k++) {
        d[k] = map[k] < 0 ? f : s[map[k]];
      }
    } else if (src instanceof double[]) {
      double[] s = (double[]) src;
      double[] d = (double[]) dst;
      double f = fill == null ? 0 : fill.getDouble(0);
      for (int k = 0; k < map.length; k++) {
        d[k] = map[k] < 0 ? f : s[map[k]];
      }
    } else if (src instanceof long[]) {
      long[] s = (long[]) src;
      long[] d = (long[]) dst;
      long f = fill == null ? 0 : fill.getLong(0);
      for (int k = 0; k < map.length; k++) {
        d[k] = map[k] < 0 ? f : s[map[k]];
      }
    } else if (src instanceof boolean[]) {
      boolean[] s = (boolean[]) src;
      boolean[] d = (boolean[]) dst;
      boolean f = fill != null && fill.getBool(0);
      for (int k = 0; k < map.length; k++) {
        d[k] = map[k] < 0 ? f : s[map[k]];
      }
    } else {
      String[] s = (String[]) src;
      String[] d = (String[]) dst;
      String f = fill == null ? "" : fill.strings()[0];
      for (int k = 0; k < map.length; k++) {
        d[k] = map[k] < 0 ? f : s[map[k]];
      }
    }
    return Tensor.of(t, shape, dst);
  }

  /** Copies element {@code si} of {@code src} to element {@code di} of {@code dst} (same storage class). */
  static void copy(Object src, int si, Object dst, int di) {
    if (src instanceof float[]) {
      ((float[]) dst)[di] = ((float[]) src)[si];
    } else if (src instanceof double[]) {
      ((double[]) dst)[di] = ((double[]) src)[si];
    } else if (src instanceof long[]) {
      ((long[]) dst)[di] = ((long[]) src)[si];
    } else if (src instanceof boolean[]) {
      ((boolean[]) dst)[di] = ((boolean[]) src)[si];
    } else {
      ((String[]) dst)[di] = ((String[]) src)[si];
    }
  }

  /** A fresh storage array holding a copy of the tensor's elements. */
  static Object copyOf(Tensor x) {
    Object d = x.data();
    if (d instanceof float[]) {
      return ((float[]) d).clone();
    } else if (d instanceof double[]) {
      return ((double[]) d).clone();
    } else if (d instanceof long[]) {
      return ((long[]) d).clone();
    } else if (d instanceof boolean[]) {
      return ((boolean[]) d).clone();
    }
    return ((String[]) d).clone();
  }
}
