package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Helpers for the type rules of layout operators: symbolic dimension
 * arithmetic and integer parameters that may be an attribute (older opsets)
 * or an input (newer opsets) whose value may or may not be known.
 */
final class SymbolicShapes {
  private SymbolicShapes() {}

  /** An integer-list parameter as the type rule sees it: absent, unknown, or known values. */
  static final class IntsParam {
    private final boolean known;
    private final long[] values;

    private IntsParam(boolean known, long[] values) {
      this.known = known;
      this.values = values;
    }

    /** True when the parameter is absent or its value is known. */
    boolean known() {
      return known;
    }

    /** True when the node gives the parameter (as attribute or input). */
    boolean present() {
      return !known || values != null;
    }

    /** The values; null when absent. Only when {@link #known()}. */
    long[] values() {
      return values;
    }

    /** This parameter, or an absent one when it is a known empty list (Squeeze reads an empty axes list as omitted). */
    IntsParam emptyAsAbsent() {
      return known && values != null && values.length == 0 ? new IntsParam(true, null) : this;
    }
  }

  /** The parameter from attribute {@code attr} (when set) or else from input {@code input}. */
  static IntsParam param(InferContext ctx, String attr, int input) {
    if (attr != null && ctx.hasAttr(attr)) {
      return new IntsParam(true, ctx.attrInts(attr));
    }
    if (input >= 0 && ctx.hasInput(input)) {
      Optional<Tensor> c = ctx.constant(input);
      return c.map(t -> new IntsParam(true, t.toLongArray())).orElseGet(() -> new IntsParam(false, null));
    }
    return new IntsParam(true, null);
  }

  /** The parameter's values at run time, from the attribute (when set) or input; null when absent. */
  static long[] param(EvalContext ctx, String attr, int input) {
    if (attr != null && ctx.hasAttr(attr)) {
      return ctx.attrInts(attr);
    }
    if (input >= 0 && ctx.hasInput(input)) {
      return ctx.input(input).toLongArray();
    }
    return null;
  }

  /** The values, or null when they are null or empty (an empty list given for an optional list). */
  static long[] emptyAsAbsent(long[] values) {
    return values == null || values.length == 0 ? null : values;
  }

  /** The shape of input {@code i}, or null when its rank is unknown. */
  static List<Dim> dims(InferContext ctx, int i) {
    Shape s = ctx.inputType(i).shape();
    return s.hasRank() ? new ArrayList<>(s.dims()) : null;
  }

  /** The product of dimensions: static when all are; the one non-static dim when the rest multiply to 1. */
  static Dim product(List<Dim> dims) {
    long p = 1;
    Dim other = null;
    for (Dim d : dims) {
      if (d.isStatic()) {
        p *= d.value();
      } else if (other == null) {
        other = d;
      } else {
        return Dim.unknown();
      }
    }
    if (other == null) {
      return Dim.of(p);
    }
    if (p == 0) {
      return Dim.of(0);
    }
    return p == 1 ? other : Dim.unknown();
  }

  /** Multiplies a dimension by a static factor (keeps symbols only for factor 1). */
  static Dim times(Dim d, long factor) {
    if (factor == 1) {
      return d;
    }
    if (d.isStatic()) {
      return Dim.of(d.value() * factor);
    }
    return factor == 0 ? Dim.of(0) : Dim.unknown();
  }

  /** A type of the given element type and dims. */
  static TensorType type(DType t, List<Dim> dims) {
    return new TensorType(t, Shape.of(dims));
  }

  /** A list of {@code n} unknown dims. */
  static List<Dim> unknownDims(int n) {
    List<Dim> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Dim.unknown());
    }
    return out;
  }

  /** The length of a 1-D shape-like input when static, else -1. */
  static int staticLength(InferContext ctx, int i) {
    Shape s = ctx.inputType(i).shape();
    if (s.hasRank() && s.rank() == 1 && s.dim(0).isStatic()) {
      return (int) s.dim(0).value();
    }
    return s.hasRank() && s.rank() == 0 ? 1 : -1;
  }

  /** Normalizes axes against a rank; fails naming the node on out-of-range or repeated axes. */
  static int[] axes(OpContext ctx, long[] axes, int rank, String what) {
    int[] out = new int[axes.length];
    boolean[] seen = new boolean[Math.max(rank, 1)];
    for (int i = 0; i < axes.length; i++) {
      out[i] = ctx.axis(axes[i], rank, what);
      if (seen[out[i]]) {
        throw ctx.error("%s %d is repeated", what, axes[i]);
      }
      seen[out[i]] = true;
    }
    return out;
  }

  /** Fails naming the node unless each given optional input is absent or has one of the allowed types. */
  static void requireTypesIfPresent(InferContext ctx, int[] inputs, DType... allowed) {
    for (int i : inputs) {
      if (i >= 0 && ctx.hasInput(i)) {
        TypeRules.requireType(ctx, i, allowed);
      }
    }
  }

  /** Fails naming the node unless input {@code i} is an int32 or int64 index tensor. */
  static void requireIndices(InferContext ctx, int i) {
    TypeRules.requireType(ctx, i, DType.INT32, DType.INT64);
  }
}
