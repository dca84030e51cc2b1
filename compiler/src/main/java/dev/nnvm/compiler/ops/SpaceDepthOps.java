package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.List;

/** DepthToSpace, SpaceToDepth, Trilu and ReverseSequence: index-remapping operators on fixed axes. */
final class SpaceDepthOps {
  private SpaceDepthOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("DepthToSpace")
        .pattern(FusionPattern.INJECTIVE)
        .attr(AttrSpec.required("blocksize", Attribute.Kind.INT))
        .attr(AttrSpec.ofString("mode", "DCR").oneOf("DCR", "CRD"))
        .infer(ctx -> List.of(blockType(ctx, true)))
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] in = requireRank4(ctx, x.shape());
          long b = blocksize(ctx);
          if (in[1] % (b * b) != 0) {
            throw ctx.error("channels %d are not divisible by blocksize^2 = %d", in[1], b * b);
          }
          long c = in[1] / (b * b);
          long[] out = {in[0], c, in[2] * b, in[3] * b};
          boolean dcr = ctx.attrString("mode").equals("DCR");
          long[] st = Broadcasting.strides(in);
          return List.of(IndexMaps.take(x, IndexMaps.build(out, o -> {
            long h = o[2] / b;
            long bh = o[2] % b;
            long w = o[3] / b;
            long bw = o[3] % b;
            long ch = dcr ? (bh * b + bw) * c + o[1] : o[1] * b * b + bh * b + bw;
            return (int) (o[0] * st[0] + ch * st[1] + h * st[2] + w * st[3]);
          }), out));
        })
        .register(r);

    OpDef.builder("SpaceToDepth")
        .pattern(FusionPattern.INJECTIVE)
        .attr(AttrSpec.required("blocksize", Attribute.Kind.INT))
        .infer(ctx -> List.of(blockType(ctx, false)))
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] in = requireRank4(ctx, x.shape());
          long b = blocksize(ctx);
          if (in[2] % b != 0 || in[3] % b != 0) {
            throw ctx.error("spatial dims %d x %d are not divisible by blocksize %d", in[2], in[3], b);
          }
          long c = in[1];
          long[] out = {in[0], c * b * b, in[2] / b, in[3] / b};
          long[] st = Broadcasting.strides(in);
          return List.of(IndexMaps.take(x, IndexMaps.build(out, o -> {
            long blk = o[1] / c;
            long ch = o[1] % c;
            long h = o[2] * b + blk / b;
            long w = o[3] * b + blk % b;
            return (int) (o[0] * st[0] + ch * st[1] + h * st[2] + w * st[3]);
          }), out));
        })
        .register(r);

    OpDef.builder("Trilu")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, 2)
        .attr(AttrSpec.ofInt("upper", 1))
        .infer(ctx -> {
          Shape s = ctx.inputType(0).shape();
          if (s.hasRank() && s.rank() < 2) {
            throw ctx.error("input must have rank >= 2, got %s", s);
          }
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] in = x.shape();
          if (in.length < 2) {
            throw ctx.error("input must have rank >= 2, got %s", Shape.toString(in));
          }
          long k = ctx.hasInput(1) ? ctx.input(1).scalarLong() : 0;
          boolean upper = ctx.attrInt("upper") != 0;
          int r0 = in.length - 2;
          long[] st = Broadcasting.strides(in);
          return List.of(IndexMaps.take(x, IndexMaps.build(in, c -> {
            long diff = c[r0 + 1] - c[r0];
            boolean keep = upper ? diff >= k : diff <= k;
            return keep ? IndexMaps.flat(c, st) : -1;
          }), in));
        })
        .register(r);

    OpDef.builder("ReverseSequence")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(2)
        .attr(AttrSpec.ofInt("batch_axis", 1))
        .attr(AttrSpec.ofInt("time_axis", 0))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 1, DType.INT64);
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] in = x.shape();
          int batch = ctx.axis(ctx.attrInt("batch_axis"), in.length, "batch_axis");
          int time = ctx.axis(ctx.attrInt("time_axis"), in.length, "time_axis");
          if (batch == time || in.length < 2) {
            throw ctx.error("batch_axis and time_axis must differ on an input of rank >= 2");
          }
          long[] lens = ctx.input(1).toLongArray();
          if (lens.length != in[batch]) {
            throw ctx.error("sequence_lens has %d entries for a batch of %d", lens.length, in[batch]);
          }
          long[] st = Broadcasting.strides(in);
          return List.of(IndexMaps.take(x, IndexMaps.build(in, c -> {
            long len = lens[(int) c[batch]];
            if (len < 0 || len > in[time]) {
              throw ctx.error("sequence length %d is out of range [0, %d]", len, in[time]);
            }
            long t = c[time] < len ? len - 1 - c[time] : c[time];
            return (int) (IndexMaps.flat(c, st) + (t - c[time]) * st[time]);
          }), in));
        })
        .register(r);
  }

  private static long blocksize(OpContext ctx) {
    long b = ctx.attrInt("blocksize");
    if (b <= 0) {
      throw ctx.error("blocksize must be positive, got %d", b);
    }
    return b;
  }

  private static long[] requireRank4(OpContext ctx, long[] shape) {
    if (shape.length != 4) {
      throw ctx.error("input must have rank 4, got %s", Shape.toString(shape));
    }
    return shape;
  }

  private static TensorType blockType(InferContext ctx, boolean toSpace) {
    TensorType x = ctx.inputType(0);
    Shape s = x.shape();
    if (!s.hasRank()) {
      return x.withShape(Shape.of(Dim.unknown(), Dim.unknown(), Dim.unknown(), Dim.unknown()));
    }
    if (s.rank() != 4) {
      throw ctx.error("input must have rank 4, got %s", s);
    }
    long b = blocksize(ctx);
    Dim c = s.dim(1);
    Dim h = s.dim(2);
    Dim w = s.dim(3);
    if (toSpace) {
      return x.withShape(Shape.of(s.dim(0), divide(c, b * b), SymbolicShapes.times(h, b), SymbolicShapes.times(w, b)));
    }
    return x.withShape(Shape.of(s.dim(0), SymbolicShapes.times(c, b * b), divide(h, b), divide(w, b)));
  }

  private static Dim divide(Dim d, long by) {
    if (by == 1) {
      return d;
    }
    return d.isStatic() ? Dim.of(d.value() / by) : Dim.unknown();
  }
}
