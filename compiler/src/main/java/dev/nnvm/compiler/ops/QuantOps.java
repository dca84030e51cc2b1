package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
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
import java.util.List;

/**
 * Linear quantization: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear
 * and the integer / quantized-linear MatMul and Conv.
 *
 * <p>The arithmetic follows ONNX Runtime's CPU kernels so results match it
 * bit for bit: scales and divisions in float32, rounding half to even
 * ({@code nearbyint}), then saturation to the target type; integer
 * accumulation exact; requantization multiplies the accumulator by the float
 * {@code a_scale * b_scale / y_scale}. Only per-tensor and per-axis
 * quantization are supported (block_size must be 0).
 */
final class QuantOps {
  private QuantOps() {}

  private static final DType[] FLOAT_IN = {DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16};
  private static final DType[] QUANT = {DType.UINT8, DType.INT8, DType.UINT16, DType.INT16};
  private static final DType[] DEQUANT_IN = {DType.UINT8, DType.INT8, DType.UINT16, DType.INT16, DType.INT32};
  private static final DType[] BYTES = {DType.UINT8, DType.INT8};

  static void register(OpRegistry r) {
    // Elementwise on x with the scale and zero point broadcast along one axis (or all): BROADCAST.
    OpDef.builder("QuantizeLinear")
        .pattern(FusionPattern.BROADCAST)
        .inputs(2, 3)
        .attr(AttrSpec.ofInt("axis", 1))
        .attr(AttrSpec.ofInt("saturate", 1))
        .attr(AttrSpec.ofInt("block_size", 0))
        .attr(AttrSpec.ofInt("output_dtype", 0))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, DType.FLOAT32, DType.FLOAT16, DType.BFLOAT16, DType.INT32);
          TypeRules.requireType(ctx, 1, FLOAT_IN);
          requireNoBlocks(ctx);
          return List.of(ctx.inputType(0).withDType(quantizedType(ctx,
              ctx.hasInput(2) ? ctx.inputType(2).dtype() : null)));
        })
        .eval(ctx -> {
          requireNoBlocks(ctx);
          Tensor x = ctx.input(0);
          Tensor scale = ctx.input(1);
          Tensor zp = ctx.optionalInput(2);
          DType t = quantizedType(ctx, zp == null ? null : zp.dtype());
          int[] si = paramIndex(ctx, x.shape(), scale, "y_scale");
          int[] zi = zp == null ? null : paramIndex(ctx, x.shape(), zp, "y_zero_point");
          long[] out = new long[x.size()];
          for (int i = 0; i < out.length; i++) {
            float q = (float) x.getDouble(i) / (float) scale.getDouble(si[i]);
            out[i] = saturate(t, Math.rint(q) + (zp == null ? 0 : zp.getLong(zi[i])));
          }
          return List.of(Tensor.ofLongs(t, x.shape(), out));
        })
        .register(r);

    OpDef.builder("DequantizeLinear")
        .pattern(FusionPattern.BROADCAST)
        .inputs(2, 3)
        .attr(AttrSpec.ofInt("axis", 1))
        .attr(AttrSpec.ofInt("block_size", 0))
        .attr(AttrSpec.ofInt("output_dtype", 0))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, DEQUANT_IN);
          TypeRules.requireType(ctx, 1, FLOAT_IN);
          if (ctx.hasInput(2)) {
            TypeRules.requireSameType(ctx, 0, 2);
          }
          requireNoBlocks(ctx);
          return List.of(ctx.inputType(0).withDType(dequantizedType(ctx, ctx.inputType(1).dtype())));
        })
        .eval(ctx -> {
          requireNoBlocks(ctx);
          Tensor x = ctx.input(0);
          Tensor scale = ctx.input(1);
          Tensor zp = ctx.optionalInput(2);
          DType t = dequantizedType(ctx, scale.dtype());
          int[] si = paramIndex(ctx, x.shape(), scale, "x_scale");
          int[] zi = zp == null ? null : paramIndex(ctx, x.shape(), zp, "x_zero_point");
          Object out = Tensor.newStorage(t, x.size());
          for (int i = 0; i < x.size(); i++) {
            long v = x.getLong(i) - (zp == null ? 0 : zp.getLong(zi[i]));
            Tensor.setFromDouble(t, out, i, (float) v * (float) scale.getDouble(si[i]));
          }
          return List.of(Tensor.of(t, x.shape(), out));
        })
        .register(r);

    OpDef.builder("DynamicQuantizeLinear")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(3)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, DType.FLOAT32);
          return List.of(ctx.inputType(0).withDType(DType.UINT8), TensorType.of(DType.FLOAT32),
              TensorType.of(DType.UINT8));
        })
        .eval(QuantOps::dynamicQuantize)
        .register(r);

    // Opaque: the compiled kernel is a standalone loop nest (no fused epilogue), see lower.QuantKernels.
    OpDef.builder("MatMulInteger")
        .pattern(FusionPattern.OPAQUE)
        .inputs(2, 4)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, BYTES);
          TypeRules.requireType(ctx, 1, BYTES);
          requireZeroPointType(ctx, 2, 0);
          requireZeroPointType(ctx, 3, 1);
          return List.of(new TensorType(DType.INT32, matMulShape(ctx, 0, 1)));
        })
        .eval(ctx -> {
          Tensor a = ctx.input(0);
          Tensor b = ctx.input(1);
          MatMulPlan p = new MatMulPlan(ctx, a.shape(), b.shape());
          long[] acc = p.accumulate(a, b, ctx.optionalInput(2), ctx.optionalInput(3));
          long[] out = new long[acc.length];
          for (int i = 0; i < acc.length; i++) {
            out[i] = Tensor.wrap(DType.INT32, acc[i]);
          }
          return List.of(Tensor.ofLongs(DType.INT32, p.outShape, out));
        })
        .register(r);

    OpDef.builder("QLinearMatMul")
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(8)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, BYTES);
          TypeRules.requireType(ctx, 3, BYTES);
          TypeRules.requireSameType(ctx, 0, 2);
          TypeRules.requireSameType(ctx, 3, 5);
          TypeRules.requireType(ctx, 7, BYTES);
          return List.of(new TensorType(ctx.inputType(7).dtype(), matMulShape(ctx, 0, 3)));
        })
        .eval(ctx -> {
          Tensor a = ctx.input(0);
          Tensor b = ctx.input(3);
          MatMulPlan p = new MatMulPlan(ctx, a.shape(), b.shape());
          long[] acc = p.accumulate(a, b, ctx.input(2), ctx.input(5));
          Tensor as = ctx.input(1);
          Tensor bs = ctx.input(4);
          float ys = (float) ctx.input(6).getDouble(0);
          Tensor yzp = ctx.input(7);
          long[] out = new long[acc.length];
          for (int i = 0; i < acc.length; i++) {
            int row = (i / p.n) % p.m;
            int col = i % p.n;
            float sa = (float) as.getDouble(as.size() == 1 ? 0 : row);
            float sb = (float) bs.getDouble(bs.size() == 1 ? 0 : col);
            out[i] = requantize(acc[i], sa * sb / ys, yzp.getLong(0), yzp.dtype());
          }
          return List.of(Tensor.ofLongs(yzp.dtype(), p.outShape, out));
        })
        .register(r);

    convOp(r, "ConvInteger", 2, 4)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, BYTES);
          TypeRules.requireType(ctx, 1, BYTES);
          requireZeroPointType(ctx, 2, 0);
          requireZeroPointType(ctx, 3, 1);
          return List.of(new TensorType(DType.INT32, convShape(ctx, 0, 1)));
        })
        .eval(ctx -> {
          IntegerConv c = new IntegerConv(ctx, ctx.input(0), ctx.input(1), ctx.optionalInput(2), ctx.optionalInput(3));
          long[] acc = c.accumulate(null);
          long[] out = new long[acc.length];
          for (int i = 0; i < acc.length; i++) {
            out[i] = Tensor.wrap(DType.INT32, acc[i]);
          }
          return List.of(Tensor.ofLongs(DType.INT32, c.outShape, out));
        })
        .register(r);

    convOp(r, "QLinearConv", 8, 9)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, BYTES);
          TypeRules.requireType(ctx, 3, BYTES);
          TypeRules.requireType(ctx, 7, BYTES);
          if (ctx.hasInput(8)) {
            TypeRules.requireType(ctx, 8, DType.INT32);
          }
          return List.of(new TensorType(ctx.inputType(7).dtype(), convShape(ctx, 0, 3)));
        })
        .eval(ctx -> {
          IntegerConv c = new IntegerConv(ctx, ctx.input(0), ctx.input(3), ctx.input(2), ctx.input(5));
          long[] acc = c.accumulate(ctx.optionalInput(8));
          float xs = (float) ctx.input(1).getDouble(0);
          Tensor ws = ctx.input(4);
          float ys = (float) ctx.input(6).getDouble(0);
          Tensor yzp = ctx.input(7);
          long[] out = new long[acc.length];
          for (int i = 0; i < acc.length; i++) {
            int m = (i / c.spatial) % c.m;
            float sw = (float) ws.getDouble(ws.size() == 1 ? 0 : m);
            out[i] = requantize(acc[i], xs * sw / ys, yzp.getLong(0), yzp.dtype());
          }
          return List.of(Tensor.ofLongs(yzp.dtype(), c.outShape, out));
        })
        .register(r);
  }

  // ---- QuantizeLinear / DequantizeLinear ----

  private static void requireNoBlocks(OpContext ctx) {
    if (ctx.attrInt("block_size") != 0) {
      throw new UnsupportedModelException(ctx.node().describe() + ": blocked quantization (block_size "
          + ctx.attrInt("block_size") + ") is not supported; only per-tensor and per-axis");
    }
  }

  private static DType quantizedType(OpContext ctx, DType zeroPointType) {
    long code = ctx.attrInt("output_dtype");
    DType t = zeroPointType != null ? zeroPointType : code != 0 ? onnxType(ctx, code) : DType.UINT8;
    if (zeroPointType != null && code != 0 && onnxType(ctx, code) != zeroPointType) {
      throw ctx.error("output_dtype %s disagrees with the zero point's type %s", onnxType(ctx, code), zeroPointType);
    }
    for (DType q : QUANT) {
      if (q == t) {
        return t;
      }
    }
    throw new UnsupportedModelException(ctx.node().describe() + ": quantizing to " + t
        + " is not supported; supported: u8, i8, u16, i16");
  }

  private static DType dequantizedType(OpContext ctx, DType scaleType) {
    long code = ctx.attrInt("output_dtype");
    if (code != 0 && onnxType(ctx, code) != scaleType) {
      throw ctx.error("output_dtype %s disagrees with the scale's type %s", onnxType(ctx, code), scaleType);
    }
    return scaleType;
  }

  private static DType onnxType(OpContext ctx, long code) {
    try {
      return DType.fromOnnx((int) code);
    } catch (IllegalArgumentException e) {
      throw new UnsupportedModelException(ctx.node().describe() + ": " + e.getMessage());
    }
  }

  /** For each element of x, the index of its scale / zero point (per tensor or per axis). */
  private static int[] paramIndex(OpContext ctx, long[] shape, Tensor param, String name) {
    int n = Tensor.elementCount(shape);
    int[] idx = new int[n];
    if (param.size() == 1 && param.rank() <= 1) {
      return idx;
    }
    int axis = ctx.axis(ctx.attrInt("axis"), shape.length, "axis");
    if (param.rank() != 1 || shape.length == 0 || param.dim(0) != shape[axis]) {
      throw ctx.error("%s has shape %s; expected a scalar or a vector of %s (axis %d of input shape %s)", name,
          Shape.toString(param.shape()), shape.length == 0 ? "?" : shape[axis], axis, Shape.toString(shape));
    }
    int inner = 1;
    for (int d = axis + 1; d < shape.length; d++) {
      inner *= (int) shape[d];
    }
    for (int i = 0; i < n; i++) {
      idx[i] = (int) ((i / inner) % shape[axis]);
    }
    return idx;
  }

  private static long saturate(DType t, double v) {
    double lo;
    double hi;
    switch (t) {
      case UINT8: lo = 0; hi = 255; break;
      case INT8: lo = -128; hi = 127; break;
      case UINT16: lo = 0; hi = 65535; break;
      case INT16: lo = -32768; hi = 32767; break;
      default: lo = Integer.MIN_VALUE; hi = Integer.MAX_VALUE; break;
    }
    return (long) Math.max(lo, Math.min(hi, v));
  }

  private static long requantize(long acc, float multiplier, long zeroPoint, DType t) {
    float v = (float) acc * multiplier;
    return saturate(t, Math.rint(v) + zeroPoint);
  }

  // ---- DynamicQuantizeLinear ----

  private static List<Tensor> dynamicQuantize(EvalContext ctx) {
    Tensor x = ctx.input(0);
    float[] v = x.floats();
    float min = 0;
    float max = 0;
    for (float f : v) {
      min = Math.min(min, f);
      max = Math.max(max, f);
    }
    float scale = max == min ? 1f : (max - min) / 255f;
    float initialZeroPoint = 0f - min / scale;
    long zp = (long) Math.rint(Math.max(0f, Math.min(255f, initialZeroPoint)));
    long[] out = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = saturate(DType.UINT8, Math.rint(v[i] / scale) + zp);
    }
    return List.of(Tensor.ofLongs(DType.UINT8, x.shape(), out), Tensor.scalarFloat(scale),
        Tensor.scalarLong(DType.UINT8, zp));
  }

  // ---- MatMul ----

  private static void requireZeroPointType(InferContext ctx, int zp, int of) {
    if (ctx.hasInput(zp)) {
      TypeRules.requireSameType(ctx, of, zp);
    }
  }

  /** numpy matmul shape of two inputs, with symbolic dims. */
  private static Shape matMulShape(InferContext ctx, int ai, int bi) {
    Shape a = ctx.inputType(ai).shape();
    Shape b = ctx.inputType(bi).shape();
    if (!a.hasRank() || !b.hasRank()) {
      return Shape.unknownRank();
    }
    if (a.rank() == 0 || b.rank() == 0) {
      throw ctx.error("MatMul inputs must have rank >= 1, got %s and %s", a, b);
    }
    Dim ka = a.dim(a.rank() - 1);
    Dim kb = b.dim(b.rank() == 1 ? 0 : b.rank() - 2);
    if (ka.isStatic() && kb.isStatic() && ka.value() != kb.value()) {
      throw ctx.error("inner dimensions differ: %s and %s", a, b);
    }
    List<Dim> batchA = a.rank() > 2 ? a.dims().subList(0, a.rank() - 2) : List.of();
    List<Dim> batchB = b.rank() > 2 ? b.dims().subList(0, b.rank() - 2) : List.of();
    List<Dim> out;
    try {
      out = new ArrayList<>(Broadcasting.shape(Shape.of(batchA), Shape.of(batchB)).dims());
    } catch (RuntimeException e) {
      throw ctx.error("%s", e.getMessage());
    }
    if (a.rank() > 1) {
      out.add(a.dim(a.rank() - 2));
    }
    if (b.rank() > 1) {
      out.add(b.dim(b.rank() - 1));
    }
    return Shape.of(out);
  }

  /** numpy matmul of two integer tensors with zero points, accumulated exactly in longs. */
  private static final class MatMulPlan {
    final long[] outShape;
    final int m;
    final int k;
    final int n;
    final int[] aBatch;
    final int[] bBatch;

    MatMulPlan(OpContext ctx, long[] a, long[] b) {
      if (a.length == 0 || b.length == 0) {
        throw ctx.error("MatMul inputs must have rank >= 1, got %s and %s", Shape.toString(a), Shape.toString(b));
      }
      long[] a2 = a.length == 1 ? new long[] {1, a[0]} : a;
      long[] b2 = b.length == 1 ? new long[] {b[0], 1} : b;
      this.m = (int) a2[a2.length - 2];
      this.k = (int) a2[a2.length - 1];
      this.n = (int) b2[b2.length - 1];
      if (b2[b2.length - 2] != k) {
        throw ctx.error("inner dimensions differ: %s and %s", Shape.toString(a), Shape.toString(b));
      }
      long[] ba = java.util.Arrays.copyOf(a2, a2.length - 2);
      long[] bb = java.util.Arrays.copyOf(b2, b2.length - 2);
      long[] batch = Broadcasting.shape(ba, bb);
      this.aBatch = Broadcasting.indexMap(ba, batch);
      this.bBatch = Broadcasting.indexMap(bb, batch);
      List<Long> out = new ArrayList<>();
      for (long d : batch) {
        out.add(d);
      }
      if (a.length > 1) {
        out.add((long) m);
      }
      if (b.length > 1) {
        out.add((long) n);
      }
      this.outShape = out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Sum over k of (a - a_zp) * (b - b_zp); a_zp may be per row (M values), b_zp per column (N values). */
    long[] accumulate(Tensor a, Tensor b, Tensor aZp, Tensor bZp) {
      long[] av = a.longs();
      long[] bv = b.longs();
      long[] out = new long[aBatch.length * m * n];
      long[] col = new long[k];
      for (int bt = 0; bt < aBatch.length; bt++) {
        int aOff = aBatch[bt] * m * k;
        int bOff = bBatch[bt] * k * n;
        for (int j = 0; j < n; j++) {
          long zb = bZp == null ? 0 : bZp.getLong(bZp.size() == 1 ? 0 : j);
          for (int p = 0; p < k; p++) {
            col[p] = bv[bOff + p * n + j] - zb;
          }
          for (int i = 0; i < m; i++) {
            long za = aZp == null ? 0 : aZp.getLong(aZp.size() == 1 ? 0 : i);
            long s = 0;
            for (int p = 0; p < k; p++) {
              s += (av[aOff + i * k + p] - za) * col[p];
            }
            out[(bt * m + i) * n + j] = s;
          }
        }
      }
      return out;
    }
  }

  // ---- Conv ----

  private static OpDef.Builder convOp(OpRegistry r, String name, int minInputs, int maxInputs) {
    return OpDef.builder(name)
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(minInputs, maxInputs)
        .attr(AttrSpec.ofString("auto_pad", "NOTSET").oneOf("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"))
        .attr(AttrSpec.of("dilations", Attribute.Kind.INTS))
        .attr(AttrSpec.ofInt("group", 1))
        .attr(AttrSpec.of("kernel_shape", Attribute.Kind.INTS))
        .attr(AttrSpec.of("pads", Attribute.Kind.INTS))
        .attr(AttrSpec.of("strides", Attribute.Kind.INTS));
  }

  /** Output shape of a convolution; spatial dims are unknown unless static. */
  private static Shape convShape(InferContext ctx, int xi, int wi) {
    Shape x = ctx.inputType(xi).shape();
    Shape w = ctx.inputType(wi).shape();
    if (!x.hasRank() || !w.hasRank()) {
      return Shape.unknownRank();
    }
    if (x.rank() < 3 || w.rank() != x.rank()) {
      throw ctx.error("expected X of rank >= 3 and W of the same rank, got %s and %s", x, w);
    }
    List<Dim> out = new ArrayList<>();
    out.add(x.dim(0));
    out.add(w.dim(0));
    int sp = x.rank() - 2;
    boolean known = true;
    long[] xs = new long[x.rank()];
    long[] ws = new long[w.rank()];
    for (int d = 0; d < x.rank(); d++) {
      known &= x.dim(d).isStatic() || d < 2;
      known &= w.dim(d).isStatic();
      xs[d] = x.dim(d).isStatic() ? x.dim(d).value() : 1;
      ws[d] = w.dim(d).isStatic() ? w.dim(d).value() : 1;
    }
    if (known) {
      ConvGeometry g = new ConvGeometry(ctx, xs, ws);
      for (int d = 0; d < sp; d++) {
        out.add(Dim.of(g.out[d]));
      }
    } else {
      for (int d = 0; d < sp; d++) {
        out.add(Dim.unknown());
      }
    }
    return Shape.of(out);
  }

  /** Kernel, strides, dilations and begin pads of a convolution, and its output spatial size. */
  private static final class ConvGeometry {
    final long[] kernel;
    final long[] strides;
    final long[] dilations;
    final long[] padBegin;
    final long[] out;

    ConvGeometry(OpContext ctx, long[] x, long[] w) {
      int sp = x.length - 2;
      kernel = new long[sp];
      for (int d = 0; d < sp; d++) {
        kernel[d] = w[d + 2];
      }
      long[] ks = ctx.attrInts("kernel_shape");
      if (ks != null && !java.util.Arrays.equals(ks, kernel)) {
        throw ctx.error("kernel_shape %s disagrees with W's spatial shape %s", java.util.Arrays.toString(ks),
            java.util.Arrays.toString(kernel));
      }
      strides = orOnes(ctx.attrInts("strides"), sp, ctx, "strides");
      dilations = orOnes(ctx.attrInts("dilations"), sp, ctx, "dilations");
      long[] pads = ctx.attrInts("pads");
      if (pads != null && pads.length != 2 * sp) {
        throw ctx.error("pads has %d values, expected %d", pads.length, 2 * sp);
      }
      String autoPad = ctx.attrString("auto_pad");
      padBegin = new long[sp];
      out = new long[sp];
      for (int d = 0; d < sp; d++) {
        long in = x[d + 2];
        long span = (kernel[d] - 1) * dilations[d] + 1;
        long begin;
        long end;
        if (autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
          long o = (in + strides[d] - 1) / strides[d];
          long total = Math.max(0, (o - 1) * strides[d] + span - in);
          begin = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
          end = total - begin;
        } else if (autoPad.equals("VALID") || pads == null) {
          begin = 0;
          end = 0;
        } else {
          begin = pads[d];
          end = pads[d + sp];
        }
        padBegin[d] = begin;
        out[d] = (in + begin + end - span) / strides[d] + 1;
        if (out[d] < 0 || in + begin + end < span) {
          throw ctx.error("kernel span %d is larger than padded input %d on spatial axis %d", span,
              in + begin + end, d);
        }
      }
    }

    private static long[] orOnes(long[] v, int n, OpContext ctx, String what) {
      if (v == null) {
        long[] ones = new long[n];
        java.util.Arrays.fill(ones, 1);
        return ones;
      }
      if (v.length != n) {
        throw ctx.error("%s has %d values, expected %d", what, v.length, n);
      }
      return v;
    }
  }

  /** Grouped N-d convolution of integer tensors with zero points, accumulated exactly. */
  private static final class IntegerConv {
    final long[] outShape;
    final int m;
    final int spatial;
    private final Tensor x;
    private final Tensor w;
    private final Tensor xZp;
    private final Tensor wZp;
    private final ConvGeometry g;
    private final int group;

    IntegerConv(OpContext ctx, Tensor x, Tensor w, Tensor xZp, Tensor wZp) {
      this.x = x;
      this.w = w;
      this.xZp = xZp;
      this.wZp = wZp;
      if (x.rank() < 3 || w.rank() != x.rank()) {
        throw ctx.error("expected X of rank >= 3 and W of the same rank, got %s and %s",
            Shape.toString(x.shape()), Shape.toString(w.shape()));
      }
      this.g = new ConvGeometry(ctx, x.shape(), w.shape());
      this.group = (int) ctx.attrInt("group");
      this.m = (int) w.dim(0);
      if (group <= 0 || x.dim(1) != w.dim(1) * group || m % group != 0) {
        throw ctx.error("channels do not match: X %s, W %s, group %d", Shape.toString(x.shape()),
            Shape.toString(w.shape()), group);
      }
      long[] os = new long[x.rank()];
      os[0] = x.dim(0);
      os[1] = m;
      int sp = 1;
      for (int d = 0; d < g.out.length; d++) {
        os[d + 2] = g.out[d];
        sp *= (int) g.out[d];
      }
      this.outShape = os;
      this.spatial = sp;
    }

    long[] accumulate(Tensor bias) {
      int sp = g.out.length;
      long[] xs = x.shape();
      long[] xStr = Broadcasting.strides(xs);
      long[] wStr = Broadcasting.strides(w.shape());
      int cPerGroup = (int) w.dim(1);
      int mPerGroup = m / group;
      int kernelSize = 1;
      for (long k : g.kernel) {
        kernelSize *= (int) k;
      }
      long xz = xZp == null ? 0 : xZp.getLong(0);
      long[] xv = x.longs();
      long[] wv = w.longs();
      long[] out = new long[Tensor.elementCount(outShape)];
      int[] o = new int[sp];
      int[] kk = new int[sp];
      int batch = (int) xs[0];
      for (int nb = 0; nb < batch; nb++) {
        for (int oc = 0; oc < m; oc++) {
          int grp = oc / mPerGroup;
          long wz = wZp == null ? 0 : wZp.getLong(wZp.size() == 1 ? 0 : oc);
          for (int s = 0; s < spatial; s++) {
            unflatten(s, g.out, o);
            long acc = bias == null ? 0 : bias.getLong(oc);
            for (int c = 0; c < cPerGroup; c++) {
              int ic = grp * cPerGroup + c;
              for (int q = 0; q < kernelSize; q++) {
                unflatten(q, g.kernel, kk);
                long xo = nb * xStr[0] + ic * xStr[1];
                long wo = oc * wStr[0] + c * wStr[1];
                boolean inside = true;
                for (int d = 0; d < sp; d++) {
                  long pos = o[d] * g.strides[d] - g.padBegin[d] + kk[d] * g.dilations[d];
                  if (pos < 0 || pos >= xs[d + 2]) {
                    inside = false;
                    break;
                  }
                  xo += pos * xStr[d + 2];
                  wo += kk[d] * wStr[d + 2];
                }
                if (inside) {
                  acc += (xv[(int) xo] - xz) * (wv[(int) wo] - wz);
                }
              }
            }
            out[(nb * m + oc) * spatial + s] = acc;
          }
        }
      }
      return out;
    }

    private static void unflatten(int flat, long[] dims, int[] idx) {
      for (int d = dims.length - 1; d >= 0; d--) {
        idx[d] = (int) (flat % dims[d]);
        flat /= (int) dims[d];
      }
    }
  }
}
