package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The blocked channel layout NCHW{b}c that CPU convolution kernels use
 * (NNVM's AlterOpLayout): a [N, C, H, W] tensor is stored as
 * [N, C/b, H, W, b], so the b channels of one pixel are one SIMD vector.
 * Convolution weights [O, I, KH, KW] are packed as [O/b, I/bi, KH, KW, bi, b]
 * (bi = b, or 1 for depthwise convolutions).
 *
 * <p>Reference kernels convert to the plain layout and back, so they are
 * exactly as correct as the plain operators.
 */
final class BlockedLayoutOps {
  /** Converts between NCHW and NCHW{b}c. */
  static final String LAYOUT_TRANSFORM = "LayoutTransform";
  /** Convolution in NCHW{b}c with packed weights. */
  static final String CONV_BLOCKED = "ConvNCHWc";

  private BlockedLayoutOps() {}

  static void register(OpRegistry r) {
    OpDef.builder(NnvmOps.DOMAIN, LAYOUT_TRANSFORM)
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1)
        .attr(AttrSpec.required("block", Attribute.Kind.INT).check(a -> a.asInt() > 0, "a positive block"))
        .attr(AttrSpec.ofInt("to_blocked", 1).oneOf(0, 1))
        .infer(ctx -> {
          TensorType t = ctx.inputType(0);
          int block = (int) ctx.attrInt("block");
          return List.of(ctx.attrInt("to_blocked") == 1 ? blockedType(ctx, t, block) : plainType(ctx, t, block));
        })
        .eval(ctx -> {
          int block = (int) ctx.attrInt("block");
          Tensor x = ctx.input(0);
          return List.of(ctx.attrInt("to_blocked") == 1 ? toBlocked(x, block) : toPlain(x, block));
        })
        .doc("NCHW <-> NCHW{block}c.")
        .register(r);

    OpDef.builder(NnvmOps.DOMAIN, CONV_BLOCKED)
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(2, 3)
        .attr(AttrSpec.required("block", Attribute.Kind.INT))
        .attr(AttrSpec.required("weight_block_in", Attribute.Kind.INT))
        .attr(AttrSpec.ofInt("group", 1))
        .attr(AttrSpec.of("strides", Attribute.Kind.INTS))
        .attr(AttrSpec.of("pads", Attribute.Kind.INTS))
        .attr(AttrSpec.of("dilations", Attribute.Kind.INTS))
        .attr(AttrSpec.of("kernel_shape", Attribute.Kind.INTS))
        .infer(ctx -> {
          int block = (int) ctx.attrInt("block");
          TensorType x = plainType(ctx, ctx.inputType(0), block);
          TensorType w = ctx.inputType(1);
          if (!w.shape().hasRank() || w.shape().rank() != 6) {
            throw ctx.error("packed weights must have rank 6, got %s", w.shape());
          }
          Shape ws = w.shape();
          TensorType plainW = new TensorType(w.dtype(), Shape.of(times(ws.dim(0), ws.dim(5)), times(ws.dim(1),
              ws.dim(4)), ws.dim(2), ws.dim(3)));
          OpDef conv = r.find("", "Conv").orElseThrow();
          List<TensorType> ins = new ArrayList<>(List.of(x, plainW));
          if (ctx.hasInput(2)) {
            ins.add(ctx.inputType(2));
          }
          Node plain = plainConv(ctx.node(), List.of("x", "w", "b").subList(0, ins.size()), "y");
          TensorType out = conv.typeRule().infer(new InferContext(plain, conv, 17, ins, List.of())).get(0);
          return List.of(blockedType(ctx, out, block));
        })
        .eval(ctx -> {
          int block = (int) ctx.attrInt("block");
          int wbi = (int) ctx.attrInt("weight_block_in");
          Map<String, Tensor> bind = new LinkedHashMap<>();
          bind.put("x", toPlain(ctx.input(0), block));
          bind.put("w", unpackWeights(ctx.input(1), wbi, block));
          List<String> ins = new ArrayList<>(List.of("x", "w"));
          if (ctx.hasInput(2)) {
            bind.put("b", ctx.input(2));
            ins.add("b");
          }
          Graph.Builder g = Graph.builder("conv").opset("", 17);
          bind.forEach((k, v) -> g.input(k, v.type()));
          Graph body = g.node(plainConv(ctx.node(), ins, "y")).output("y", TensorType.unknownShape(
              ctx.input(0).dtype())).build();
          return List.of(toBlocked(ctx.runSubgraph(body, bind).get(0), block));
        })
        .doc("Conv on NCHW{block}c data with weights packed as [O/b, I/bi, KH, KW, bi, b].")
        .register(r);
  }

  private static Dim times(Dim a, Dim b) {
    return a.isStatic() && b.isStatic() ? Dim.of(a.value() * b.value()) : Dim.unknown();
  }

  /** The plain Conv node with this node's convolution attributes. */
  private static Node plainConv(Node n, List<String> inputs, String output) {
    Map<String, Attribute> attrs = new LinkedHashMap<>();
    for (String k : List.of("group", "strides", "pads", "dilations", "kernel_shape")) {
      Attribute a = n.attribute(k);
      if (a != null) {
        attrs.put(k, a);
      }
    }
    return new Node(n.name(), "Conv", "", inputs, List.of(output), attrs);
  }

  private static TensorType blockedType(dev.nnvm.compiler.ir.op.OpContext ctx, TensorType t, int block) {
    Shape s = t.shape();
    if (!s.hasRank() || s.rank() != 4) {
      throw ctx.error("NCHW{b}c needs a rank-4 NCHW tensor, got %s", s);
    }
    Dim c = s.dim(1);
    if (!c.isStatic() || c.value() % block != 0) {
      throw ctx.error("channels %s are not a multiple of the block %d", c, block);
    }
    return new TensorType(t.dtype(), Shape.of(s.dim(0), Dim.of(c.value() / block), s.dim(2), s.dim(3),
        Dim.of(block)));
  }

  private static TensorType plainType(dev.nnvm.compiler.ir.op.OpContext ctx, TensorType t, int block) {
    Shape s = t.shape();
    if (!s.hasRank() || s.rank() != 5 || !s.dim(4).equals(Dim.of(block))) {
      throw ctx.error("expected an NCHW%dc tensor of rank 5, got %s", block, s);
    }
    return new TensorType(t.dtype(), Shape.of(s.dim(0), times(s.dim(1), Dim.of(block)), s.dim(2), s.dim(3)));
  }

  /** [N, C, H, W] -> [N, C/b, H, W, b]. */
  static Tensor toBlocked(Tensor x, int b) {
    return Tensor.of(x.dtype(), new long[] {x.dim(0), x.dim(1) / b, x.dim(2), x.dim(3), b},
        copyData(x, x.dim(0), x.dim(1), x.dim(2) * x.dim(3), b, true));
  }

  /** [N, C/b, H, W, b] -> [N, C, H, W]. */
  static Tensor toPlain(Tensor x, int b) {
    return Tensor.of(x.dtype(), new long[] {x.dim(0), x.dim(1) * b, x.dim(2), x.dim(3)},
        copyData(x, x.dim(0), x.dim(1) * b, x.dim(2) * x.dim(3), b, false));
  }

  /** Moves data between [N, C, HW] and [N, C/b, HW, b], in the direction asked. */
  private static Object copyData(Tensor src, long n, long c, long hw, int b, boolean toBlocked) {
    Object out = Tensor.newStorage(src.dtype(), src.size());
    for (long i = 0; i < n; i++) {
      for (long ch = 0; ch < c; ch++) {
        for (long p = 0; p < hw; p++) {
          long plain = (i * c + ch) * hw + p;
          long blocked = ((i * (c / b) + ch / b) * hw + p) * b + ch % b;
          System.arraycopy(src.data(), (int) (toBlocked ? plain : blocked), out, (int) (toBlocked ? blocked : plain), 1);
        }
      }
    }
    return out;
  }

  /** [O, I, KH, KW] -> [O/b, I/bi, KH, KW, bi, b]. */
  static Tensor packWeights(Tensor w, int bi, int b) {
    return Tensor.of(w.dtype(), new long[] {w.dim(0) / b, w.dim(1) / bi, w.dim(2), w.dim(3), bi, b},
        copyWeights(w, w.dim(0), w.dim(1), w.dim(2) * w.dim(3), bi, b, true));
  }

  /** [O/b, I/bi, KH, KW, bi, b] -> [O, I, KH, KW]. */
  static Tensor unpackWeights(Tensor w, int bi, int b) {
    return Tensor.of(w.dtype(), new long[] {w.dim(0) * b, w.dim(1) * bi, w.dim(2), w.dim(3)},
        copyWeights(w, w.dim(0) * b, w.dim(1) * bi, w.dim(2) * w.dim(3), bi, b, false));
  }

  /** Moves weights between [O, I, K] and [O/b, I/bi, K, bi, b], in the direction asked. */
  private static Object copyWeights(Tensor src, long o, long i, long k, int bi, int b, boolean pack) {
    Object out = Tensor.newStorage(src.dtype(), src.size());
    for (long oc = 0; oc < o; oc++) {
      for (long ic = 0; ic < i; ic++) {
        for (long p = 0; p < k; p++) {
          long plain = (oc * i + ic) * k + p;
          long packed = ((((oc / b) * (i / bi) + ic / bi) * k + p) * bi + ic % bi) * b + oc % b;
          System.arraycopy(src.data(), (int) (pack ? plain : packed), out, (int) (pack ? packed : plain), 1);
        }
      }
    }
    return out;
  }
}
