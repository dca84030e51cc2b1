package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;

/** Type checks and dense-array conversions shared by the neural-network operators. */
final class NnTypes {
  static final DType[] FLOATS = {DType.FLOAT32, DType.FLOAT16, DType.FLOAT64, DType.BFLOAT16};

  private NnTypes() {}

  /** Input {@code i}'s shape, failing naming the node unless its rank is known and at least {@code min}. */
  static Shape requireRankAtLeast(InferContext ctx, int i, int min, String what) {
    Shape s = ctx.inputType(i).shape();
    if (s.hasRank() && s.rank() < min) {
      throw ctx.error("input %d (%s): expected rank >= %d, got rank %d %s", i, what, min, s.rank(), s);
    }
    return s;
  }

  /** Fails naming the node unless input {@code i} (when its rank is known) has exactly rank {@code rank}. */
  static void requireRank(InferContext ctx, int i, int rank, String what) {
    Shape s = ctx.inputType(i).shape();
    if (s.hasRank() && s.rank() != rank) {
      throw ctx.error("input %d (%s): expected rank %d, got rank %d %s", i, what, rank, s.rank(), s);
    }
  }

  /** The dimensions of {@code s} from {@code from} on, -1 where not a known number. */
  static long[] dims(Shape s, int from) {
    long[] r = new long[s.rank() - from];
    for (int i = 0; i < r.length; i++) {
      Dim d = s.dim(from + i);
      r[i] = d.isStatic() ? d.value() : -1;
    }
    return r;
  }

  /** A dimension from a size that may be unknown (-1). */
  static Dim dim(long size) {
    return size < 0 ? Dim.unknown() : Dim.of(size);
  }

  /** Dimension {@code i} of {@code s} as a number, or -1 when it is not static or the rank is unknown. */
  static long staticDim(Shape s, int i) {
    return s.hasRank() && i < s.rank() && s.dim(i).isStatic() ? s.dim(i).value() : -1;
  }

  /** The elements of a floating-point tensor as doubles (the backing array for f64; do not modify it). */
  static double[] doubles(Tensor t) {
    return t.dtype() == DType.FLOAT64 ? t.doubles() : t.toDoubleArray();
  }

  /** A tensor of type {@code t} from computed doubles (rounded to f32/f16/bf16). */
  static Tensor tensor(DType t, long[] shape, double[] values) {
    return t == DType.FLOAT64 ? Tensor.of(t, shape, values) : Tensor.fromDoubles(t, shape, values);
  }

  /** A tensor type with the given element type and dimensions. */
  static TensorType type(DType t, Dim... dims) {
    return new TensorType(t, Shape.of(dims));
  }
}
