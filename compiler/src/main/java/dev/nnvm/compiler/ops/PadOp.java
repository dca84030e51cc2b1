package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Pad: pads (and value) as attributes before opset 11, as inputs from 11;
 * an optional axes input from 18; modes constant, reflect, edge and wrap.
 * Negative pads crop.
 */
final class PadOp {
  private PadOp() {}

  static void register(OpRegistry r) {
    OpDef.builder("Pad")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, 4)
        .attr(AttrSpec.ofString("mode", "constant").oneOf("constant", "reflect", "edge", "wrap"))
        .attr(AttrSpec.of("pads", dev.nnvm.compiler.ir.Attribute.Kind.INTS))
        .attr(AttrSpec.ofFloat("value", 0f))
        .infer(PadOp::infer)
        .eval(PadOp::eval)
        .register(r);
  }

  private static List<TensorType> infer(InferContext ctx) {
    SymbolicShapes.requireTypesIfPresent(ctx, new int[] {1}, DType.INT64);
    SymbolicShapes.requireTypesIfPresent(ctx, new int[] {3}, DType.INT32, DType.INT64);
    if (ctx.hasInput(2)) {
      TypeRules.requireSameType(ctx, 0, 2);
    }
    List<Dim> d = SymbolicShapes.dims(ctx, 0);
    DType t = ctx.inputType(0).dtype();
    if (d == null) {
      return List.of(TensorType.unknownShape(t));
    }
    SymbolicShapes.IntsParam pads = SymbolicShapes.param(ctx, "pads", 1);
    SymbolicShapes.IntsParam axes = SymbolicShapes.param(ctx, null, 3);
    if (!pads.known() || !axes.known()) {
      return List.of(SymbolicShapes.type(t, SymbolicShapes.unknownDims(d.size())));
    }
    long[] full = fullPads(ctx, pads.values(), axes.values(), d.size());
    List<Dim> out = new ArrayList<>();
    for (int i = 0; i < d.size(); i++) {
      long add = full[i] + full[i + d.size()];
      Dim x = d.get(i);
      out.add(add == 0 ? x : x.isStatic() ? Dim.of(x.value() + add) : Dim.unknown());
    }
    return List.of(SymbolicShapes.type(t, out));
  }

  /** Pads for every axis as [begin_0.., end_0..]. */
  private static long[] fullPads(OpContext ctx, long[] pads, long[] axes, int rank) {
    if (pads == null) {
      throw ctx.error("needs pads");
    }
    int n = axes == null ? rank : axes.length;
    if (pads.length != 2 * n) {
      throw ctx.error("pads %s must have %d entries", Arrays.toString(pads), 2 * n);
    }
    long[] full = new long[2 * rank];
    for (int i = 0; i < n; i++) {
      int a = axes == null ? i : ctx.axis(axes[i], rank, "axis");
      full[a] = pads[i];
      full[a + rank] = pads[i + n];
    }
    return full;
  }

  private static List<Tensor> eval(EvalContext ctx) {
    Tensor x = ctx.input(0);
    long[] in = x.shape();
    int rank = in.length;
    long[] pads = fullPads(ctx, SymbolicShapes.param(ctx, "pads", 1), SymbolicShapes.param(ctx, null, 3), rank);
    String mode = ctx.attrString("mode");
    long[] out = new long[rank];
    for (int i = 0; i < rank; i++) {
      out[i] = in[i] + pads[i] + pads[i + rank];
      if (out[i] < 0) {
        throw ctx.error("pads %s crop axis %d of %s below zero", Arrays.toString(pads), i, Arrays.toString(in));
      }
      if (!mode.equals("constant") && in[i] == 0 && out[i] > 0) {
        throw ctx.error("mode %s cannot pad the empty axis %d", mode, i);
      }
    }
    Tensor fill = constantValue(ctx, x.dtype());
    long[] st = Broadcasting.strides(in);
    int[] map = IndexMaps.build(out, c -> {
      long f = 0;
      for (int i = 0; i < rank; i++) {
        long j = source(mode, c[i] - pads[i], in[i]);
        if (j < 0) {
          return -1;
        }
        f += j * st[i];
      }
      return (int) f;
    });
    return List.of(IndexMaps.take(x, map, out, fill));
  }

  /** The input index an output index reads along one axis, or -1 for the constant. */
  private static long source(String mode, long i, long n) {
    if (i >= 0 && i < n) {
      return i;
    }
    switch (mode) {
      case "edge":
        return i < 0 ? 0 : n - 1;
      case "wrap":
        return Math.floorMod(i, n);
      case "reflect": {
        if (n == 1) {
          return 0;
        }
        long period = 2 * (n - 1);
        long m = Math.floorMod(i, period);
        return m < n ? m : period - m;
      }
      default:
        return -1;
    }
  }

  private static Tensor constantValue(EvalContext ctx, DType t) {
    if (ctx.hasInput(2)) {
      Tensor v = ctx.input(2);
      if (v.size() > 1) {
        throw ctx.error("constant_value must hold one element");
      }
      if (v.size() == 1) {
        return v.cast(t);
      }
    }
    if (ctx.hasAttr("value")) {
      return Tensor.scalarFloat(ctx.attrFloat("value")).cast(t);
    }
    return null;
  }
}
