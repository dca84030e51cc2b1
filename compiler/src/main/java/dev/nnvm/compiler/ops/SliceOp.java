package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.analysis.ShapeValue;
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
 * Slice: starts, ends and axes as attributes before opset 10, and starts,
 * ends, axes, steps as inputs from 10. Negative starts/ends count from the
 * end; they are clamped to the axis (to [0, dim] for positive steps and
 * [-1, dim - 1] for negative ones).
 */
final class SliceOp {
  private SliceOp() {}

  static void register(OpRegistry r) {
    OpDef.builder("Slice")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, 5)
        .attr(AttrSpec.of("starts", Attribute.Kind.INTS))
        .attr(AttrSpec.of("ends", Attribute.Kind.INTS))
        .attr(AttrSpec.of("axes", Attribute.Kind.INTS))
        .infer(SliceOp::infer)
        .eval(SliceOp::eval)
        .register(r);
  }

  /** The slice of one axis: first index, step and resulting length. */
  private static final class Range {
    final long start;
    final long step;
    final long length;

    Range(long dim, long start, long end, long step) {
      start = start < 0 ? start + dim : start;
      end = end < 0 ? end + dim : end;
      long lo = step > 0 ? 0 : -1;
      long hi = step > 0 ? dim : dim - 1;
      start = Math.max(lo, Math.min(hi, start));
      end = Math.max(lo, Math.min(hi, end));
      long span = step > 0 ? end - start : start - end;
      long by = Math.abs(step);
      this.start = start;
      this.step = step;
      this.length = Math.max(0, (span + by - 1) / by);
    }
  }

  /**
   * starts, ends, normalized axes and steps, all of one length; axes default
   * to 0.. and steps to 1 when absent. Fails naming the node on bad values.
   */
  private static long[][] normalize(OpContext ctx, long[] starts, long[] ends, long[] axes, long[] steps, int rank) {
    if (starts == null || ends == null || starts.length != ends.length) {
      throw ctx.error("starts and ends must be given with the same length");
    }
    int n = starts.length;
    if (axes != null && axes.length != n || steps != null && steps.length != n) {
      throw ctx.error("starts, ends, axes and steps must have the same length");
    }
    long[] ax = new long[n];
    for (int i = 0; i < n; i++) {
      ax[i] = axes != null ? axes[i] : i;
    }
    int[] norm = SymbolicShapes.axes(ctx, ax, rank, "axis");
    long[] st = new long[n];
    for (int i = 0; i < n; i++) {
      ax[i] = norm[i];
      st[i] = steps != null ? steps[i] : 1;
      if (st[i] == 0) {
        throw ctx.error("steps must not be zero");
      }
    }
    return new long[][] {starts, ends, ax, st};
  }

  private static int stepsInput(OpContext ctx) {
    return ctx.opset() >= 10 ? 4 : -1;
  }

  private static List<TensorType> infer(InferContext ctx) {
    SymbolicShapes.requireTypesIfPresent(ctx, new int[] {1, 2, 3, 4}, DType.INT32, DType.INT64);
    List<Dim> d = SymbolicShapes.dims(ctx, 0);
    DType t = ctx.inputType(0).dtype();
    if (d == null) {
      return List.of(TensorType.unknownShape(t));
    }
    SymbolicShapes.IntsParam[] p = {
        SymbolicShapes.param(ctx, "starts", 1), SymbolicShapes.param(ctx, "ends", 2),
        SymbolicShapes.param(ctx, "axes", 3), SymbolicShapes.param(ctx, null, stepsInput(ctx))};
    if (p[0].known() && !p[1].known() && p[2].known() && p[3].known() && ctx.shapeValue(2).isPresent()) {
      List<Dim> out = symbolicEnds(ctx, d, p[0].values(), ctx.shapeValue(2).get(), p[2].values(), p[3].values());
      if (out != null) {
        return List.of(SymbolicShapes.type(t, out));
      }
    }
    for (SymbolicShapes.IntsParam q : p) {
      if (!q.known()) {
        List<Dim> out = SymbolicShapes.unknownDims(d.size());
        if (p[2].known() && p[2].values() != null) {
          out = new ArrayList<>(d);
          for (int a : SymbolicShapes.axes(ctx, p[2].values(), d.size(), "axis")) {
            out.set(a, Dim.unknown());
          }
        }
        return List.of(SymbolicShapes.type(t, out));
      }
    }
    long[][] q = normalize(ctx, p[0].values(), p[1].values(), p[2].values(), p[3].values(), d.size());
    List<Dim> out = new ArrayList<>(d);
    for (int i = 0; i < q[0].length; i++) {
      int a = (int) q[2][i];
      Dim dim = d.get(a);
      if (dim.isStatic()) {
        out.set(a, Dim.of(new Range(dim.value(), q[0][i], q[1][i], q[3][i]).length));
      } else {
        boolean whole = q[3][i] == 1 && q[0][i] == 0 && q[1][i] >= Integer.MAX_VALUE;
        out.set(a, whole ? dim : Dim.unknown());
      }
    }
    return List.of(SymbolicShapes.type(t, out));
  }

  /**
   * Output dims when the ends are computed at run time but known as symbols:
   * slicing {@code [0, S)} with step 1 along an axis gives {@code S} (the
   * kernel checks at run time that S fits); other sliced axes are unknown.
   */
  private static List<Dim> symbolicEnds(InferContext ctx, List<Dim> d, long[] starts, ShapeValue ends, long[] axes,
      long[] steps) {
    if (starts == null || ends.isScalar() || ends.size() != starts.length) {
      return null;
    }
    List<Dim> out = new ArrayList<>(d);
    for (int i = 0; i < starts.length; i++) {
      int a = axes == null ? i : SymbolicShapes.axes(ctx, new long[] {axes[i]}, d.size(), "axis")[0];
      long step = steps == null ? 1 : steps[i];
      ShapeValue.Element e = ends.get(i);
      out.set(a, starts[i] == 0 && step == 1 && e.isSymbol() ? Dim.symbol(e.symbol()) : Dim.unknown());
    }
    return out;
  }

  private static List<Tensor> eval(EvalContext ctx) {
    Tensor x = ctx.input(0);
    long[] in = x.shape();
    long[][] q = normalize(ctx, SymbolicShapes.param(ctx, "starts", 1), SymbolicShapes.param(ctx, "ends", 2),
        SymbolicShapes.param(ctx, "axes", 3), SymbolicShapes.param(ctx, null, stepsInput(ctx)), in.length);
    long[] start = new long[in.length];
    long[] step = new long[in.length];
    long[] out = in.clone();
    Arrays.fill(step, 1);
    for (int i = 0; i < q[0].length; i++) {
      int a = (int) q[2][i];
      Range s = new Range(in[a], q[0][i], q[1][i], q[3][i]);
      start[a] = s.start;
      step[a] = s.step;
      out[a] = s.length;
    }
    long[] st = Broadcasting.strides(in);
    return List.of(IndexMaps.take(x, IndexMaps.build(out, c -> {
      long f = 0;
      for (int i = 0; i < c.length; i++) {
        f += (start[i] + c[i] * step[i]) * st[i];
      }
      return (int) f;
    }), out));
  }
}
