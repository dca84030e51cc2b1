package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.runtime.DType;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Reference loops shared by the elementwise operators: floating math runs in
 * double and is rounded to the element type once; integer math runs exactly
 * on longs and wraps to the element type's width.
 */
final class ElementwiseKernels {
  private ElementwiseKernels() {}

  /** An integer function of one element of type {@code t} (u64 passed as its bits). */
  @FunctionalInterface
  interface IntUnary {
    long apply(DType t, long x);
  }

  /** An integer function of two elements of type {@code t} (u64 passed as their bits). */
  @FunctionalInterface
  interface IntBinary {
    long apply(DType t, long a, long b);
  }

  /** A predicate on two elements at given flat indices of two tensors. */
  @FunctionalInterface
  interface ElementPredicate {
    boolean test(Tensor a, int i, Tensor b, int j);
  }

  /**
   * Applies {@code f} (floating types and bool) or {@code g} (integer types;
   * when null, integers go through {@code f}) to every element.
   */
  static Tensor unary(EvalContext ctx, Tensor x, DoubleUnaryOperator f, IntUnary g) {
    DType t = x.dtype();
    Object out = Tensor.newStorage(t, x.size());
    if (t.isFloatingPoint() || g == null) {
      for (int i = 0; i < x.size(); i++) {
        Tensor.setFromDouble(t, out, i, f.applyAsDouble(x.getDouble(i)));
      }
    } else {
      long[] in = x.longs();
      long[] o = (long[]) out;
      try {
        for (int i = 0; i < in.length; i++) {
          o[i] = Tensor.wrap(t, g.apply(t, in[i]));
        }
      } catch (ArithmeticException e) {
        throw ctx.error("%s", e.getMessage());
      }
    }
    return Tensor.of(t, x.shape(), out);
  }

  /** A per-element boolean test of a floating or integer tensor. */
  static Tensor test(Tensor x, java.util.function.DoublePredicate p) {
    boolean[] out = new boolean[x.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = p.test(x.getDouble(i));
    }
    return Tensor.ofBools(x.shape(), out);
  }

  /**
   * Broadcasts two tensors of the same element type and applies {@code f}
   * (floating types) or {@code g} (integer types, may be null) pairwise.
   */
  static Tensor binary(EvalContext ctx, Tensor a, Tensor b, DoubleBinaryOperator f, IntBinary g) {
    long[] shape = broadcastShape(ctx, a, b);
    int[] ia = Broadcasting.indexMap(a.shape(), shape);
    int[] ib = Broadcasting.indexMap(b.shape(), shape);
    DType t = a.dtype();
    Object out = Tensor.newStorage(t, ia.length);
    if (t.isFloatingPoint() || g == null) {
      for (int i = 0; i < ia.length; i++) {
        Tensor.setFromDouble(t, out, i, f.applyAsDouble(a.getDouble(ia[i]), b.getDouble(ib[i])));
      }
    } else {
      long[] x = a.longs();
      long[] y = b.longs();
      long[] o = (long[]) out;
      try {
        for (int i = 0; i < ia.length; i++) {
          o[i] = Tensor.wrap(t, g.apply(t, x[ia[i]], y[ib[i]]));
        }
      } catch (ArithmeticException e) {
        throw ctx.error("%s", e.getMessage());
      }
    }
    return Tensor.of(t, shape, out);
  }

  /** Broadcasts two tensors and evaluates a predicate pairwise into a bool tensor. */
  static Tensor compare(EvalContext ctx, Tensor a, Tensor b, ElementPredicate p) {
    long[] shape = broadcastShape(ctx, a, b);
    int[] ia = Broadcasting.indexMap(a.shape(), shape);
    int[] ib = Broadcasting.indexMap(b.shape(), shape);
    boolean[] out = new boolean[ia.length];
    for (int i = 0; i < ia.length; i++) {
      out[i] = p.test(a, ia[i], b, ib[i]);
    }
    return Tensor.ofBools(shape, out);
  }

  /** Folds every given input left to right with a broadcasting binary kernel. */
  static Tensor fold(EvalContext ctx, DoubleBinaryOperator f, IntBinary g) {
    Tensor acc = null;
    for (int i = 0; i < ctx.inputCount(); i++) {
      Tensor x = ctx.optionalInput(i);
      if (x != null) {
        acc = acc == null ? x : binary(ctx, acc, x, f, g);
      }
    }
    if (acc == null) {
      throw ctx.error("needs at least one input");
    }
    return acc;
  }

  static long[] broadcastShape(EvalContext ctx, Tensor... ts) {
    long[][] shapes = new long[ts.length][];
    for (int i = 0; i < ts.length; i++) {
      shapes[i] = ts[i].shape();
    }
    try {
      return Broadcasting.shape(shapes);
    } catch (RuntimeException e) {
      throw ctx.error("%s", e.getMessage());
    }
  }

  /** Compares two integer elements of type {@code t} (u64 unsigned). */
  static int compareInts(DType t, long a, long b) {
    return t == DType.UINT64 ? Long.compareUnsigned(a, b) : Long.compare(a, b);
  }
}
