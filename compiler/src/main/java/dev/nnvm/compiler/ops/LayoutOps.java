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
 * Layout operators that move elements: Transpose, Concat, Split and Tile
 * here, and Slice ({@link SliceOp}), Pad ({@link PadOp}), DepthToSpace,
 * SpaceToDepth, Trilu and ReverseSequence ({@link SpaceDepthOps}). Kernels
 * build an index map (see {@link IndexMaps}).
 */
final class LayoutOps {
  private LayoutOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("Transpose")
        .pattern(FusionPattern.INJECTIVE)
        .attr(AttrSpec.of("perm", Attribute.Kind.INTS))
        .infer(ctx -> {
          List<Dim> d = SymbolicShapes.dims(ctx, 0);
          DType t = ctx.inputType(0).dtype();
          if (d == null) {
            return List.of(TensorType.unknownShape(t));
          }
          int[] perm = perm(ctx, d.size());
          List<Dim> out = new ArrayList<>();
          for (int p : perm) {
            out.add(d.get(p));
          }
          return List.of(SymbolicShapes.type(t, out));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] in = x.shape();
          int[] perm = perm(ctx, in.length);
          long[] out = new long[in.length];
          long[] st = Broadcasting.strides(in);
          long[] pst = new long[in.length];
          for (int i = 0; i < perm.length; i++) {
            out[i] = in[perm[i]];
            pst[i] = st[perm[i]];
          }
          return List.of(IndexMaps.take(x, IndexMaps.build(out, c -> IndexMaps.flat(c, pst)), out));
        })
        .register(r);

    OpDef.builder("Concat")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, Integer.MAX_VALUE)
        .attr(AttrSpec.required("axis", Attribute.Kind.INT))
        .infer(LayoutOps::inferConcat)
        .eval(LayoutOps::concat)
        .register(r);

    OpDef.builder("Split")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, 2)
        .outputs(1, Integer.MAX_VALUE)
        .attr(AttrSpec.ofInt("axis", 0))
        .attr(AttrSpec.of("split", Attribute.Kind.INTS))
        .attr(AttrSpec.of("num_outputs", Attribute.Kind.INT))
        .infer(LayoutOps::inferSplit)
        .eval(LayoutOps::split)
        .register(r);

    OpDef.builder("Tile")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(2)
        .infer(ctx -> {
          SymbolicShapes.requireIndices(ctx, 1);
          List<Dim> d = SymbolicShapes.dims(ctx, 0);
          DType t = ctx.inputType(0).dtype();
          if (d == null) {
            return List.of(TensorType.unknownShape(t));
          }
          if (ctx.constant(1).isEmpty()) {
            return List.of(SymbolicShapes.type(t, SymbolicShapes.unknownDims(d.size())));
          }
          long[] reps = repeats(ctx, ctx.constant(1).get(), d.size());
          List<Dim> out = new ArrayList<>();
          for (int i = 0; i < d.size(); i++) {
            out.add(SymbolicShapes.times(d.get(i), reps[i]));
          }
          return List.of(SymbolicShapes.type(t, out));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] in = x.shape();
          long[] reps = repeats(ctx, ctx.input(1), in.length);
          long[] out = new long[in.length];
          for (int i = 0; i < in.length; i++) {
            out[i] = in[i] * reps[i];
          }
          long[] st = Broadcasting.strides(in);
          return List.of(IndexMaps.take(x, IndexMaps.build(out, c -> {
            long f = 0;
            for (int i = 0; i < c.length; i++) {
              f += (c[i] % in[i]) * st[i];
            }
            return (int) f;
          }), out));
        })
        .register(r);

    SliceOp.register(r);
    PadOp.register(r);
    SpaceDepthOps.register(r);
  }

  private static int[] perm(OpContext ctx, int rank) {
    long[] p = ctx.attrInts("perm");
    int[] out = new int[rank];
    if (p == null) {
      for (int i = 0; i < rank; i++) {
        out[i] = rank - 1 - i;
      }
      return out;
    }
    if (p.length != rank) {
      throw ctx.error("perm %s has %d entries for an input of rank %d", Arrays.toString(p), p.length, rank);
    }
    boolean[] seen = new boolean[rank];
    for (int i = 0; i < rank; i++) {
      int a = ctx.axis(p[i], rank, "perm entry");
      if (seen[a]) {
        throw ctx.error("perm %s is not a permutation", Arrays.toString(p));
      }
      seen[a] = true;
      out[i] = a;
    }
    return out;
  }

  private static List<TensorType> inferConcat(InferContext ctx) {
    DType t = ctx.inputType(0).dtype();
    int rank = -1;
    for (int i = 0; i < ctx.inputCount(); i++) {
      TypeRules.requireSameType(ctx, 0, i);
      Shape s = ctx.inputType(i).shape();
      if (s.hasRank()) {
        if (rank >= 0 && s.rank() != rank) {
          throw ctx.error("inputs 0 and %d have different ranks (%d vs %d)", i, rank, s.rank());
        }
        rank = s.rank();
      }
    }
    if (rank < 0) {
      return List.of(TensorType.unknownShape(t));
    }
    int axis = ctx.axis(ctx.attrInt("axis"), rank, "axis");
    List<Dim> out = SymbolicShapes.unknownDims(rank);
    long sum = 0;
    boolean sumKnown = true;
    for (int i = 0; i < ctx.inputCount(); i++) {
      Shape s = ctx.inputType(i).shape();
      if (!s.hasRank()) {
        sumKnown = false;
        continue;
      }
      for (int d = 0; d < rank; d++) {
        Dim x = s.dim(d);
        if (d == axis) {
          if (x.isStatic()) {
            sum += x.value();
          } else {
            sumKnown = false;
          }
        } else if (out.get(d).isUnknown() || out.get(d).isSymbolic() && x.isStatic()) {
          out.set(d, x);
        } else if (x.isStatic() && out.get(d).isStatic() && x.value() != out.get(d).value()) {
          throw ctx.error("inputs disagree on dimension %d (%d vs %d)", d, out.get(d).value(), x.value());
        }
      }
    }
    out.set(axis, sumKnown ? Dim.of(sum) : concatSymbolic(ctx, axis));
    return List.of(SymbolicShapes.type(t, out));
  }

  /** A concatenated axis where exactly one input has a non-static, non-zero extent keeps that extent. */
  private static Dim concatSymbolic(InferContext ctx, int axis) {
    Dim only = null;
    for (int i = 0; i < ctx.inputCount(); i++) {
      Shape s = ctx.inputType(i).shape();
      if (!s.hasRank()) {
        return Dim.unknown();
      }
      Dim x = s.dim(axis);
      if (x.isStatic() && x.value() == 0) {
        continue;
      }
      if (only != null) {
        return Dim.unknown();
      }
      only = x;
    }
    return only == null ? Dim.of(0) : only;
  }

  private static List<Tensor> concat(EvalContext ctx) {
    Tensor first = ctx.input(0);
    int rank = first.rank();
    int axis = ctx.axis(ctx.attrInt("axis"), rank, "axis");
    long[] out = first.shape();
    out[axis] = 0;
    for (int i = 0; i < ctx.inputCount(); i++) {
      Tensor x = ctx.input(i);
      if (x.rank() != rank || x.dtype() != first.dtype()) {
        throw ctx.error("input %d has type %s, input 0 has %s", i, x.type(), first.type());
      }
      for (int d = 0; d < rank; d++) {
        if (d != axis && x.dim(d) != first.dim(d)) {
          throw ctx.error("inputs 0 and %d disagree on dimension %d (%d vs %d)", i, d, first.dim(d), x.dim(d));
        }
      }
      out[axis] += x.dim(axis);
    }
    Object dst = Tensor.newStorage(first.dtype(), Tensor.elementCount(out));
    long outer = 1;
    for (int d = 0; d < axis; d++) {
      outer *= out[d];
    }
    long inner = 1;
    for (int d = axis + 1; d < rank; d++) {
      inner *= out[d];
    }
    int pos = 0;
    for (long o = 0; o < outer; o++) {
      for (int i = 0; i < ctx.inputCount(); i++) {
        Tensor x = ctx.input(i);
        int block = (int) (x.dim(axis) * inner);
        System.arraycopy(x.data(), (int) (o * block), dst, pos, block);
        pos += block;
      }
    }
    return List.of(Tensor.of(first.dtype(), out, dst));
  }

  private static List<TensorType> inferSplit(InferContext ctx) {
    SymbolicShapes.requireTypesIfPresent(ctx, new int[] {1}, DType.INT64);
    List<Dim> d = SymbolicShapes.dims(ctx, 0);
    DType t = ctx.inputType(0).dtype();
    int n = ctx.outputCount();
    List<TensorType> outs = new ArrayList<>();
    if (d == null) {
      for (int i = 0; i < n; i++) {
        outs.add(TensorType.unknownShape(t));
      }
      return outs;
    }
    int axis = ctx.axis(ctx.attrInt("axis"), d.size(), "axis");
    SymbolicShapes.IntsParam split = SymbolicShapes.param(ctx, "split", 1);
    long[] sizes = null;
    if (split.known() && split.present()) {
      sizes = split.values();
    } else if (split.known() && d.get(axis).isStatic()) {
      sizes = evenSplit(ctx, d.get(axis).value(), n);
    }
    if (sizes != null) {
      checkSplit(ctx, sizes, d.get(axis), n);
    }
    for (int i = 0; i < n; i++) {
      List<Dim> o = new ArrayList<>(d);
      o.set(axis, sizes == null ? (n == 1 ? d.get(axis) : Dim.unknown()) : Dim.of(sizes[i]));
      outs.add(SymbolicShapes.type(t, o));
    }
    return outs;
  }

  private static long[] evenSplit(OpContext ctx, long size, int n) {
    long[] s = new long[n];
    if (ctx.hasAttr("num_outputs")) {
      if (ctx.attrInt("num_outputs") != n) {
        throw ctx.error("num_outputs is %d but the node has %d outputs", ctx.attrInt("num_outputs"), n);
      }
      long chunk = (size + n - 1) / n;
      for (int i = 0; i < n; i++) {
        s[i] = Math.max(0, Math.min(chunk, size - i * chunk));
      }
      return s;
    }
    if (size % n != 0) {
      throw ctx.error("cannot split a dimension of %d evenly into %d outputs", size, n);
    }
    Arrays.fill(s, size / n);
    return s;
  }

  private static void checkSplit(OpContext ctx, long[] sizes, Dim dim, int n) {
    if (sizes.length != n) {
      throw ctx.error("split %s has %d entries for %d outputs", Arrays.toString(sizes), sizes.length, n);
    }
    long sum = 0;
    for (long s : sizes) {
      if (s < 0) {
        throw ctx.error("split %s has a negative size", Arrays.toString(sizes));
      }
      sum += s;
    }
    if (dim.isStatic() && sum != dim.value()) {
      throw ctx.error("split %s sums to %d, the axis has %d", Arrays.toString(sizes), sum, dim.value());
    }
  }

  private static List<Tensor> split(EvalContext ctx) {
    Tensor x = ctx.input(0);
    long[] in = x.shape();
    int axis = ctx.axis(ctx.attrInt("axis"), in.length, "axis");
    int n = ctx.outputCount();
    long[] sizes = SymbolicShapes.param(ctx, "split", 1);
    if (sizes == null) {
      sizes = evenSplit(ctx, in[axis], n);
    }
    checkSplit(ctx, sizes, Dim.of(in[axis]), n);
    long[] st = Broadcasting.strides(in);
    List<Tensor> outs = new ArrayList<>();
    long offset = 0;
    for (long size : sizes) {
      long[] out = in.clone();
      out[axis] = size;
      long off = offset;
      outs.add(IndexMaps.take(x, IndexMaps.build(out, c -> {
        long f = 0;
        for (int i = 0; i < c.length; i++) {
          f += (i == axis ? c[i] + off : c[i]) * st[i];
        }
        return (int) f;
      }), out));
      offset += size;
    }
    return outs;
  }

  private static long[] repeats(OpContext ctx, Tensor t, int rank) {
    long[] reps = t.toLongArray();
    if (reps.length != rank) {
      throw ctx.error("repeats has %d entries for an input of rank %d", reps.length, rank);
    }
    for (long v : reps) {
      if (v < 0) {
        throw ctx.error("repeats %s has a negative entry", Arrays.toString(reps));
      }
    }
    return reps;
  }
}
