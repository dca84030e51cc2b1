package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.List;

/**
 * What the {@code ai.onnx.ml} operators share: optional list attributes read as empty when absent, the post
 * transform names, the branch comparison of tree ensembles and the rows of an {@code [N, F]} or {@code [F]} input.
 */
final class MlAttributes {
  /** The post transforms, in the order {@link TreeEnsembleOps#transform} numbers them. */
  static final List<String> TRANSFORMS = List.of("NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO", "PROBIT");

  private MlAttributes() {}

  static long[] ints(OpContext ctx, String name) {
    return ctx.hasAttr(name) ? ctx.attrInts(name) : new long[0];
  }

  static float[] floats(OpContext ctx, String name) {
    return ctx.hasAttr(name) ? ctx.attrFloats(name) : new float[0];
  }

  static List<String> strings(OpContext ctx, String name) {
    return ctx.hasAttr(name) ? ctx.attr(name).asStrings() : List.of();
  }

  /** A tensor attribute's values as doubles, empty when absent. */
  static double[] tensorDoubles(OpContext ctx, String name) {
    return ctx.hasAttr(name) ? ctx.attrTensor(name).toDoubleArray() : new double[0];
  }

  /** The index of a post transform name in {@link #TRANSFORMS}. */
  static int transform(String name) {
    return TRANSFORMS.indexOf(name);
  }

  /** The batch dimension of input 0, {@code [N, F]} or {@code [F]} (one row). */
  static Dim rows(InferContext ctx) {
    Shape x = ctx.inputType(0).shape();
    if (!x.hasRank()) {
      return Dim.unknown();
    }
    if (x.rank() > 2) {
      throw ctx.error("input X must be [N, features] or [features], got %s", x);
    }
    return x.rank() == 2 ? x.dim(0) : Dim.of(1);
  }

  /**
   * Whether a branch goes to its true child: {@code mode} 0 LEQ, 1 LT, 2 GTE, 3 GT, 4 EQ, else NEQ, comparing the
   * feature value {@code v} with the node's value {@code t}.
   */
  static boolean branch(int mode, double v, double t) {
    switch (mode) {
      case 0: return v <= t;
      case 1: return v < t;
      case 2: return v >= t;
      case 3: return v > t;
      case 4: return v == t;
      default: return v != t;
    }
  }
}
