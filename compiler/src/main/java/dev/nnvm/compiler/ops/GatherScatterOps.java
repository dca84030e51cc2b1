package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
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
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Indexing operators: Gather, GatherElements, GatherND, ScatterElements,
 * Scatter, ScatterND, OneHot, and the data-dependent NonZero and Compress.
 * Negative indices count from the end of their axis.
 */
final class GatherScatterOps {
  private GatherScatterOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("Gather")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(2)
        .attr(AttrSpec.ofInt("axis", 0))
        .infer(ctx -> {
          SymbolicShapes.requireIndices(ctx, 1);
          List<Dim> d = SymbolicShapes.dims(ctx, 0);
          List<Dim> idx = SymbolicShapes.dims(ctx, 1);
          DType t = ctx.inputType(0).dtype();
          if (d == null || idx == null) {
            return List.of(TensorType.unknownShape(t));
          }
          if (d.isEmpty()) {
            throw ctx.error("data must have rank >= 1");
          }
          int axis = ctx.axis(ctx.attrInt("axis"), d.size(), "axis");
          List<Dim> out = new ArrayList<>(d.subList(0, axis));
          out.addAll(idx);
          out.addAll(d.subList(axis + 1, d.size()));
          return List.of(SymbolicShapes.type(t, out));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          Tensor ind = ctx.input(1);
          long[] in = x.shape();
          if (in.length == 0) {
            throw ctx.error("data must have rank >= 1");
          }
          int axis = ctx.axis(ctx.attrInt("axis"), in.length, "axis");
          int q = ind.rank();
          long[] out = new long[in.length - 1 + q];
          System.arraycopy(in, 0, out, 0, axis);
          System.arraycopy(ind.shape(), 0, out, axis, q);
          System.arraycopy(in, axis + 1, out, axis + q, in.length - axis - 1);
          long[] st = Broadcasting.strides(in);
          long[] ist = Broadcasting.strides(ind.shape());
          return List.of(IndexMaps.take(x, IndexMaps.build(out, c -> {
            long f = 0;
            for (int i = 0; i < axis; i++) {
              f += c[i] * st[i];
            }
            long k = 0;
            for (int i = 0; i < q; i++) {
              k += c[axis + i] * ist[i];
            }
            f += index(ctx, ind.getLong((int) k), in[axis]) * st[axis];
            for (int i = axis + 1; i < in.length; i++) {
              f += c[i - 1 + q] * st[i];
            }
            return (int) f;
          }), out));
        })
        .register(r);

    OpDef.builder("GatherElements")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(2)
        .attr(AttrSpec.ofInt("axis", 0))
        .infer(ctx -> {
          SymbolicShapes.requireIndices(ctx, 1);
          requireSameRank(ctx, 0, 1);
          return List.of(ctx.inputType(1).withDType(ctx.inputType(0).dtype()));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          Tensor ind = ctx.input(1);
          long[] in = x.shape();
          if (ind.rank() != in.length) {
            throw ctx.error("indices rank %d differs from data rank %d", ind.rank(), in.length);
          }
          int axis = ctx.axis(ctx.attrInt("axis"), in.length, "axis");
          long[] st = Broadcasting.strides(in);
          long[] out = ind.shape();
          int[] k = {0};
          return List.of(IndexMaps.take(x, IndexMaps.build(out, c -> {
            long f = IndexMaps.flat(c, st) - c[axis] * st[axis];
            return (int) (f + index(ctx, ind.getLong(k[0]++), in[axis]) * st[axis]);
          }), out));
        })
        .register(r);

    OpDef.builder("GatherND")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(2)
        .attr(AttrSpec.ofInt("batch_dims", 0))
        .infer(GatherScatterOps::inferGatherNd)
        .eval(GatherScatterOps::gatherNd)
        .register(r);

    scatterElements(r, "ScatterElements", true);
    scatterElements(r, "Scatter", false);

    OpDef.builder("ScatterND")
        .pattern(FusionPattern.OPAQUE)
        .inputs(3)
        .attr(AttrSpec.ofString("reduction", "none").oneOf("none", "add", "mul", "max", "min"))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 1, DType.INT64);
          TypeRules.requireSameType(ctx, 0, 2);
          return List.of(ctx.inputType(0));
        })
        .eval(GatherScatterOps::scatterNd)
        .register(r);

    OpDef.builder("OneHot")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(3)
        .attr(AttrSpec.ofInt("axis", -1))
        .infer(ctx -> {
          if (!ctx.inputType(0).dtype().isNumeric() || !ctx.inputType(1).dtype().isNumeric()) {
            throw ctx.error("indices and depth must be numeric, got %s and %s", ctx.inputType(0).dtype(),
                ctx.inputType(1).dtype());
          }
          List<Dim> d = SymbolicShapes.dims(ctx, 0);
          DType t = ctx.inputType(2).dtype();
          if (d == null) {
            return List.of(TensorType.unknownShape(t));
          }
          int axis = ctx.axis(ctx.attrInt("axis"), d.size() + 1, "axis");
          Dim depth = ctx.constant(1).map(v -> Dim.of(depth(ctx, v))).orElse(Dim.unknown());
          d.add(axis, depth);
          return List.of(SymbolicShapes.type(t, d));
        })
        .eval(ctx -> {
          Tensor ind = ctx.input(0);
          Tensor values = ctx.input(2);
          if (values.size() != 2) {
            throw ctx.error("values must hold [off, on], got shape %s", Shape.toString(values.shape()));
          }
          long depth = depth(ctx, ctx.input(1));
          long[] in = ind.shape();
          int axis = ctx.axis(ctx.attrInt("axis"), in.length + 1, "axis");
          long[] out = new long[in.length + 1];
          System.arraycopy(in, 0, out, 0, axis);
          out[axis] = depth;
          System.arraycopy(in, axis, out, axis + 1, in.length - axis);
          long[] st = Broadcasting.strides(in);
          return List.of(IndexMaps.take(values, IndexMaps.build(out, c -> {
            long f = 0;
            for (int i = 0, j = 0; i < out.length; i++) {
              if (i != axis) {
                f += c[i] * st[j++];
              }
            }
            double v = ind.getDouble((int) f);
            long iv = (long) v;
            if (iv < 0) {
              iv += depth;
            }
            return iv == c[axis] ? 1 : 0;
          }), out));
        })
        .register(r);

    OpDef.builder("NonZero")
        .pattern(FusionPattern.OPAQUE)
        .infer(ctx -> {
          Shape s = ctx.inputType(0).shape();
          Dim rank = s.hasRank() ? Dim.of(s.rank()) : Dim.unknown();
          return List.of(new TensorType(DType.INT64, Shape.of(rank, Dim.unknown())));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] in = x.shape();
          List<Integer> hits = new ArrayList<>();
          for (int i = 0; i < x.size(); i++) {
            if (x.getBool(i)) {
              hits.add(i);
            }
          }
          long[] out = new long[in.length * hits.size()];
          for (int k = 0; k < hits.size(); k++) {
            long[] c = IndexMaps.unravel(hits.get(k), in);
            for (int d = 0; d < in.length; d++) {
              out[d * hits.size() + k] = c[d];
            }
          }
          return List.of(Tensor.ofLongs(DType.INT64, new long[] {in.length, hits.size()}, out));
        })
        .register(r);

    OpDef.builder("Compress")
        .pattern(FusionPattern.OPAQUE)
        .inputs(2)
        .attr(AttrSpec.of("axis", Attribute.Kind.INT))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 1, DType.BOOL);
          List<Dim> d = SymbolicShapes.dims(ctx, 0);
          DType t = ctx.inputType(0).dtype();
          if (!ctx.hasAttr("axis")) {
            return List.of(new TensorType(t, Shape.of(Dim.unknown())));
          }
          if (d == null) {
            return List.of(TensorType.unknownShape(t));
          }
          d.set(ctx.axis(ctx.attrInt("axis"), d.size(), "axis"), Dim.unknown());
          return List.of(SymbolicShapes.type(t, d));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          Tensor cond = ctx.input(1);
          if (!ctx.hasAttr("axis")) {
            x = x.reshape(x.size());
          }
          long[] in = x.shape();
          int axis = ctx.hasAttr("axis") ? ctx.axis(ctx.attrInt("axis"), in.length, "axis") : 0;
          if (cond.size() > in[axis]) {
            throw ctx.error("condition has %d entries for an axis of %d", cond.size(), in[axis]);
          }
          List<Long> keep = new ArrayList<>();
          for (int i = 0; i < cond.size(); i++) {
            if (cond.getBool(i)) {
              keep.add((long) i);
            }
          }
          long[] out = in.clone();
          out[axis] = keep.size();
          long[] st = Broadcasting.strides(in);
          return List.of(IndexMaps.take(x, IndexMaps.build(out, c -> {
            long f = IndexMaps.flat(c, st) - c[axis] * st[axis];
            return (int) (f + keep.get((int) c[axis]) * st[axis]);
          }), out));
        })
        .register(r);

    UniqueOp.register(r);
  }

  /** Normalizes a possibly negative index into [0, n) or fails naming the node. */
  static long index(OpContext ctx, long i, long n) {
    long j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) {
      throw ctx.error("index %d is out of range for an axis of size %d", i, n);
    }
    return j;
  }

  private static long depth(OpContext ctx, Tensor t) {
    if (t.size() != 1) {
      throw ctx.error("depth must hold one element, got shape %s", Shape.toString(t.shape()));
    }
    double d = t.getDouble(0);
    if (d < 1) {
      throw ctx.error("depth must be positive, got %s", d);
    }
    return (long) d;
  }

  private static void requireSameRank(InferContext ctx, int a, int b) {
    Shape sa = ctx.inputType(a).shape();
    Shape sb = ctx.inputType(b).shape();
    if (sa.hasRank() && sb.hasRank() && sa.rank() != sb.rank()) {
      throw ctx.error("inputs %d and %d must have the same rank, got %s and %s", a, b, sa, sb);
    }
  }

  private static List<TensorType> inferGatherNd(InferContext ctx) {
    TypeRules.requireType(ctx, 1, DType.INT64);
    List<Dim> d = SymbolicShapes.dims(ctx, 0);
    List<Dim> idx = SymbolicShapes.dims(ctx, 1);
    DType t = ctx.inputType(0).dtype();
    if (d == null || idx == null || idx.isEmpty() || !idx.get(idx.size() - 1).isStatic()) {
      return List.of(TensorType.unknownShape(t));
    }
    int b = (int) ctx.attrInt("batch_dims");
    int k = (int) idx.get(idx.size() - 1).value();
    if (b < 0 || b >= Math.min(d.size(), idx.size()) || b + k > d.size()) {
      throw ctx.error("batch_dims %d and index depth %d do not fit data %s and indices %s", b, k,
          ctx.inputType(0).shape(), ctx.inputType(1).shape());
    }
    List<Dim> out = new ArrayList<>(idx.subList(0, idx.size() - 1));
    out.addAll(d.subList(b + k, d.size()));
    return List.of(SymbolicShapes.type(t, out));
  }

  private static List<Tensor> gatherNd(EvalContext ctx) {
    Tensor x = ctx.input(0);
    Tensor ind = ctx.input(1);
    long[] in = x.shape();
    long[] is = ind.shape();
    int b = (int) ctx.attrInt("batch_dims");
    if (is.length == 0) {
      throw ctx.error("indices must have rank >= 1");
    }
    int k = (int) is[is.length - 1];
    if (b < 0 || b >= Math.min(in.length, is.length) || b + k > in.length) {
      throw ctx.error("batch_dims %d and index depth %d do not fit data %s and indices %s", b, k,
          Shape.toString(in), Shape.toString(is));
    }
    long[] out = new long[is.length - 1 + in.length - b - k];
    System.arraycopy(is, 0, out, 0, is.length - 1);
    System.arraycopy(in, b + k, out, is.length - 1, in.length - b - k);
    long[] st = Broadcasting.strides(in);
    long[] ist = Broadcasting.strides(is);
    int q = is.length - 1;
    return List.of(IndexMaps.take(x, IndexMaps.build(out, c -> {
      long f = 0;
      for (int i = 0; i < b; i++) {
        f += c[i] * st[i];
      }
      long base = 0;
      for (int i = 0; i < q; i++) {
        base += c[i] * ist[i];
      }
      for (int j = 0; j < k; j++) {
        f += index(ctx, ind.getLong((int) (base + j)), in[b + j]) * st[b + j];
      }
      for (int i = b + k; i < in.length; i++) {
        f += c[q + i - b - k] * st[i];
      }
      return (int) f;
    }), out));
  }

  /** ScatterElements, or its deprecated alias Scatter (opsets 9-10, which has no reduction). */
  private static void scatterElements(OpRegistry r, String name, boolean withReduction) {
    OpDef.Builder b = OpDef.builder(name)
        .pattern(FusionPattern.OPAQUE)
        .inputs(3)
        .attr(AttrSpec.ofInt("axis", 0));
    if (withReduction) {
      b.attr(AttrSpec.ofString("reduction", "none").oneOf("none", "add", "mul", "max", "min"));
    }
    b.infer(ctx -> {
          SymbolicShapes.requireIndices(ctx, 1);
          TypeRules.requireSameType(ctx, 0, 2);
          requireSameRank(ctx, 0, 1);
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> List.of(scatterElements(ctx, withReduction ? ctx.attrString("reduction") : "none")))
        .register(r);
  }

  private static Tensor scatterElements(EvalContext ctx, String red) {
    Tensor x = ctx.input(0);
    Tensor ind = ctx.input(1);
    Tensor upd = ctx.input(2);
    long[] in = x.shape();
    if (ind.rank() != in.length || !Arrays.equals(ind.shape(), upd.shape())) {
      throw ctx.error("indices %s and updates %s must have the same shape and the rank of data %s",
          Shape.toString(ind.shape()), Shape.toString(upd.shape()), Shape.toString(in));
    }
    int axis = ctx.axis(ctx.attrInt("axis"), in.length, "axis");
    long[] st = Broadcasting.strides(in);
    Object dst = IndexMaps.copyOf(x);
    long[] is = ind.shape();
    for (int k = 0; k < ind.size(); k++) {
      long[] c = IndexMaps.unravel(k, is);
      c[axis] = index(ctx, ind.getLong(k), in[axis]);
      combine(x.dtype(), dst, IndexMaps.flat(c, st), upd, k, red);
    }
    return Tensor.of(x.dtype(), in, dst);
  }

  private static List<Tensor> scatterNd(EvalContext ctx) {
    Tensor x = ctx.input(0);
    Tensor ind = ctx.input(1);
    Tensor upd = ctx.input(2);
    long[] in = x.shape();
    long[] is = ind.shape();
    if (is.length == 0 || is[is.length - 1] > in.length) {
      throw ctx.error("indices %s do not fit data %s", Shape.toString(is), Shape.toString(in));
    }
    int k = (int) is[is.length - 1];
    int q = is.length - 1;
    long[] want = new long[q + in.length - k];
    System.arraycopy(is, 0, want, 0, q);
    System.arraycopy(in, k, want, q, in.length - k);
    if (!Arrays.equals(want, upd.shape())) {
      throw ctx.error("updates must have shape %s, got %s", Shape.toString(want), Shape.toString(upd.shape()));
    }
    long[] st = Broadcasting.strides(in);
    String red = ctx.attrString("reduction");
    Object dst = IndexMaps.copyOf(x);
    int slice = 1;
    for (int i = k; i < in.length; i++) {
      slice *= (int) in[i];
    }
    int n = upd.size() / Math.max(slice, 1);
    for (int u = 0; u < (slice == 0 ? 0 : n); u++) {
      long f = 0;
      for (int j = 0; j < k; j++) {
        f += index(ctx, ind.getLong(u * k + j), in[j]) * st[j];
      }
      for (int e = 0; e < slice; e++) {
        combine(x.dtype(), dst, (int) f + e, upd, u * slice + e, red);
      }
    }
    return List.of(Tensor.of(x.dtype(), in, dst));
  }

  /** Writes update element {@code si} into {@code dst[di]} with a scatter reduction. */
  private static void combine(DType t, Object dst, int di, Tensor upd, int si, String red) {
    if (red.equals("none")) {
      IndexMaps.copy(upd.data(), si, dst, di);
    } else if (dst instanceof long[]) {
      long[] d = (long[]) dst;
      long a = d[di];
      long b = upd.longs()[si];
      boolean unsigned = t == DType.UINT64;
      switch (red) {
        case "add": d[di] = Tensor.wrap(t, a + b); break;
        case "mul": d[di] = Tensor.wrap(t, a * b); break;
        case "max": d[di] = (unsigned ? Long.compareUnsigned(a, b) : Long.compare(a, b)) >= 0 ? a : b; break;
        default: d[di] = (unsigned ? Long.compareUnsigned(a, b) : Long.compare(a, b)) <= 0 ? a : b; break;
      }
    } else if (dst instanceof boolean[]) {
      boolean[] d = (boolean[]) dst;
      boolean b = upd.bools()[si];
      d[di] = red.equals("add") || red.equals("max") ? d[di] || b : d[di] && b;
    } else {
      double a = dst instanceof float[] ? ((float[]) dst)[di] : ((double[]) dst)[di];
      double b = upd.getDouble(si);
      double v;
      switch (red) {
        case "add": v = a + b; break;
        case "mul": v = a * b; break;
        case "max": v = Math.max(a, b); break;
        default: v = Math.min(a, b); break;
      }
      Tensor.setFromDouble(t, dst, di, v);
    }
  }
}
