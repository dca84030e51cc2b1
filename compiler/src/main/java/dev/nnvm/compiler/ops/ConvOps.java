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
 * Conv and ConvTranspose over 1-D, 2-D and 3-D inputs.
 *
 * <p>The kernels run every case as 3-D (leading spatial axes of size 1) with
 * direct loops over {@code double[]} arrays: for each output channel, input
 * channel and kernel offset, the innermost loop walks one contiguous output
 * row, so it vectorizes and needs no im2col buffer. A 1x1 kernel with unit
 * strides and no pads walks whole planes at once.
 */
final class ConvOps {
  private ConvOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("Conv")
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(2, 3)
        .attrs(commonAttrs())
        .infer(ctx -> List.of(inferConv(ctx, false)))
        .eval(ctx -> List.of(evalConv(ctx, false)))
        .register(r);
    List<AttrSpec> transposeAttrs = new ArrayList<>(commonAttrs());
    transposeAttrs.add(AttrSpec.of("output_padding", Attribute.Kind.INTS));
    transposeAttrs.add(AttrSpec.of("output_shape", Attribute.Kind.INTS));
    OpDef.builder("ConvTranspose")
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(2, 3)
        .attrs(transposeAttrs)
        .infer(ctx -> List.of(inferConv(ctx, true)))
        .eval(ctx -> List.of(evalConv(ctx, true)))
        .register(r);
  }

  private static List<AttrSpec> commonAttrs() {
    return List.of(
        AttrSpec.ofString("auto_pad", "NOTSET").oneOf("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"),
        AttrSpec.of("dilations", Attribute.Kind.INTS),
        AttrSpec.ofInt("group", 1).check(a -> a.asInt() >= 1, "a positive group count"),
        AttrSpec.of("kernel_shape", Attribute.Kind.INTS),
        AttrSpec.of("pads", Attribute.Kind.INTS),
        AttrSpec.of("strides", Attribute.Kind.INTS));
  }

  private static TensorType inferConv(InferContext ctx, boolean transposed) {
    DType t = TypeRules.requireType(ctx, 0, NnTypes.FLOATS);
    TypeRules.requireSameType(ctx, 0, 1);
    Shape x = NnTypes.requireRankAtLeast(ctx, 0, 3, "X");
    Shape w = ctx.inputType(1).shape();
    if (!x.hasRank()) {
      return TensorType.unknownShape(t);
    }
    NnTypes.requireRank(ctx, 1, x.rank(), "W");
    if (ctx.hasInput(2)) {
      TypeRules.requireSameType(ctx, 0, 2);
      NnTypes.requireRank(ctx, 2, 1, "B");
    }
    int spatial = x.rank() - 2;
    long group = ctx.attrInt("group");
    long c = NnTypes.staticDim(x, 1);
    long wIn = NnTypes.staticDim(w, transposed ? 0 : 1);
    long wOut = NnTypes.staticDim(w, transposed ? 1 : 0);
    checkChannels(ctx, c, wIn, group, transposed);
    long m = wOut < 0 ? -1 : transposed ? wOut * group : wOut;
    if (!transposed && m >= 0 && m % group != 0) {
      throw ctx.error("W has %d output channels, not divisible by group %d", m, group);
    }
    if (ctx.hasInput(2)) {
      long b = NnTypes.staticDim(ctx.inputType(2).shape(), 0);
      if (b >= 0 && m >= 0 && b != m) {
        throw ctx.error("input 2 (B): expected %d values (one per output channel), got %d", m, b);
      }
    }
    long[] kernel = kernelShape(ctx, w.hasRank() ? NnTypes.dims(w, 2) : unknowns(spatial), spatial);
    List<Dim> out = new ArrayList<>();
    out.add(x.dim(0));
    out.add(NnTypes.dim(m));
    if (Arrays.stream(kernel).anyMatch(k -> k < 0)) {
      for (int i = 0; i < spatial; i++) {
        out.add(Dim.unknown());
      }
    } else {
      long[] in = NnTypes.dims(x, 2);
      Window win = transposed ? Window.transposed(ctx, in, kernel) : Window.forward(ctx, in, kernel, false);
      for (long o : win.out) {
        out.add(NnTypes.dim(o));
      }
    }
    return new TensorType(t, Shape.of(out));
  }

  private static long[] unknowns(int n) {
    long[] r = new long[n];
    Arrays.fill(r, -1);
    return r;
  }

  private static void checkChannels(OpContext ctx, long c, long wIn, long group, boolean transposed) {
    if (c < 0 || wIn < 0) {
      return;
    }
    long expected = transposed ? c : wIn * group;
    long actual = transposed ? wIn : c;
    if (expected != actual || c % group != 0) {
      throw ctx.error("channel mismatch: X has %d channels, W expects %s with group %d",
          c, transposed ? wIn + " input channels" : wIn + " per group", group);
    }
  }

  /** The kernel's spatial sizes: from W, checked against {@code kernel_shape} when both are known. */
  private static long[] kernelShape(OpContext ctx, long[] fromW, int spatial) {
    long[] attr = ctx.attrInts("kernel_shape");
    if (fromW.length != spatial) {
      throw ctx.error("W must have %d spatial axes, has %d", spatial, fromW.length);
    }
    if (attr == null) {
      return fromW;
    }
    if (attr.length != spatial) {
      throw ctx.error("kernel_shape %s must have %d values", Arrays.toString(attr), spatial);
    }
    for (int i = 0; i < spatial; i++) {
      if (fromW[i] >= 0 && fromW[i] != attr[i]) {
        throw ctx.error("kernel_shape %s does not match W's spatial shape %s", Arrays.toString(attr), Arrays.toString(fromW));
      }
    }
    return attr.clone();
  }

  private static Tensor evalConv(EvalContext ctx, boolean transposed) {
    Tensor x = ctx.input(0);
    Tensor w = ctx.input(1);
    Tensor b = ctx.optionalInput(2);
    if (x.rank() < 3 || w.rank() != x.rank()) {
      throw ctx.error("expected X of rank >= 3 and W of the same rank, got %s and %s",
          Shape.toString(x.shape()), Shape.toString(w.shape()));
    }
    int spatial = x.rank() - 2;
    int group = Math.toIntExact(ctx.attrInt("group"));
    long[] xs = x.shape();
    long[] ws = w.shape();
    checkChannels(ctx, xs[1], ws[transposed ? 0 : 1], group, transposed);
    int n = (int) xs[0];
    int c = (int) xs[1];
    int m = (int) (transposed ? ws[1] * group : ws[0]);
    if (m % group != 0) {
      throw ctx.error("W has %d output channels, not divisible by group %d", m, group);
    }
    if (b != null && (b.rank() != 1 || b.dim(0) != m)) {
      throw ctx.error("input 2 (B): expected shape [%d], got %s", m, Shape.toString(b.shape()));
    }
    long[] in = Arrays.copyOfRange(xs, 2, xs.length);
    long[] kernel = kernelShape(ctx, Arrays.copyOfRange(ws, 2, ws.length), spatial);
    Window win = transposed ? Window.transposed(ctx, in, kernel) : Window.forward(ctx, in, kernel, false);
    Geometry g = new Geometry(n, c, m, group, in, win);
    double[] bias = b == null ? null : NnTypes.doubles(b);
    double[] y = transposed
        ? convTranspose(NnTypes.doubles(x), NnTypes.doubles(w), bias, g)
        : conv(NnTypes.doubles(x), NnTypes.doubles(w), bias, g.flattenedIfPointwise());
    long[] outShape = new long[xs.length];
    outShape[0] = n;
    outShape[1] = m;
    System.arraycopy(win.out, 0, outShape, 2, spatial);
    return NnTypes.tensor(x.dtype(), outShape, y);
  }

  /** Sizes of one convolution with every spatial attribute as three axes. */
  private static final class Geometry {
    final int n;
    final int c;
    final int m;
    final int group;
    final int[] in;
    final int[] out;
    final int[] k;
    final int[] s;
    final int[] d;
    final int[] p;

    Geometry(int n, int c, int m, int group, long[] in, Window win) {
      this(n, c, m, group, Window.as3d(in, 1), Window.as3d(win.out, 1), Window.as3d(win.kernel, 1),
          Window.as3d(win.strides, 1), Window.as3d(win.dilations, 1), Window.as3d(win.padBegin, 0));
    }

    private Geometry(int n, int c, int m, int group, int[] in, int[] out, int[] k, int[] s, int[] d, int[] p) {
      this.n = n;
      this.c = c;
      this.m = m;
      this.group = group;
      this.in = in;
      this.out = out;
      this.k = k;
      this.s = s;
      this.d = d;
      this.p = p;
    }

    int inPlane() {
      return in[0] * in[1] * in[2];
    }

    int outPlane() {
      return out[0] * out[1] * out[2];
    }

    int kernelPlane() {
      return k[0] * k[1] * k[2];
    }

    /** For a 1x1 kernel with unit strides and no pads, the same convolution over one long row per plane. */
    Geometry flattenedIfPointwise() {
      for (int i = 0; i < 3; i++) {
        if (k[i] != 1 || s[i] != 1 || p[i] != 0 || in[i] != out[i]) {
          return this;
        }
      }
      int[] row = {1, 1, inPlane()};
      int[] ones = {1, 1, 1};
      return new Geometry(n, c, m, group, row, row, ones, ones, ones, new int[3]);
    }
  }

  private static double[] conv(double[] x, double[] w, double[] bias, Geometry g) {
    int inPlane = g.inPlane();
    int outPlane = g.outPlane();
    int kPlane = g.kernelPlane();
    int cg = g.c / g.group;
    int mg = g.m / g.group;
    int inH = g.in[1];
    int inW = g.in[2];
    int outH = g.out[1];
    int outW = g.out[2];
    double[] y = new double[g.n * g.m * outPlane];
    for (int n = 0; n < g.n; n++) {
      for (int m = 0; m < g.m; m++) {
        int yBase = (n * g.m + m) * outPlane;
        if (bias != null) {
          Arrays.fill(y, yBase, yBase + outPlane, bias[m]);
        }
        int grp = m / mg;
        for (int cc = 0; cc < cg; cc++) {
          int xBase = (n * g.c + grp * cg + cc) * inPlane;
          int wBase = (m * cg + cc) * kPlane;
          for (int kd = 0; kd < g.k[0]; kd++) {
            for (int kh = 0; kh < g.k[1]; kh++) {
              for (int kw = 0; kw < g.k[2]; kw++) {
                double wv = w[wBase + (kd * g.k[1] + kh) * g.k[2] + kw];
                int offW = kw * g.d[2] - g.p[2];
                int lo = (int) Math.max(0, Window.ceilDiv(-offW, g.s[2]));
                int hi = (int) Math.min(outW, Math.floorDiv(inW - 1 - offW, g.s[2]) + 1);
                if (lo >= hi) {
                  continue;
                }
                for (int od = 0; od < g.out[0]; od++) {
                  int id = od * g.s[0] + kd * g.d[0] - g.p[0];
                  if (id < 0 || id >= g.in[0]) {
                    continue;
                  }
                  for (int oh = 0; oh < outH; oh++) {
                    int ih = oh * g.s[1] + kh * g.d[1] - g.p[1];
                    if (ih < 0 || ih >= inH) {
                      continue;
                    }
                    int yRow = yBase + (od * outH + oh) * outW;
                    int xRow = xBase + (id * inH + ih) * inW + offW;
                    if (g.s[2] == 1) {
                      for (int ow = lo; ow < hi; ow++) {
                        y[yRow + ow] += wv * x[xRow + ow];
                      }
                    } else {
                      int sw = g.s[2];
                      for (int ow = lo; ow < hi; ow++) {
                        y[yRow + ow] += wv * x[xRow + ow * sw];
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return y;
  }

  private static double[] convTranspose(double[] x, double[] w, double[] bias, Geometry g) {
    int inPlane = g.inPlane();
    int outPlane = g.outPlane();
    int kPlane = g.kernelPlane();
    int cg = g.c / g.group;
    int mg = g.m / g.group;
    int inH = g.in[1];
    int inW = g.in[2];
    int outH = g.out[1];
    int outW = g.out[2];
    int sw = g.s[2];
    double[] y = new double[g.n * g.m * outPlane];
    for (int n = 0; n < g.n; n++) {
      for (int c = 0; c < g.c; c++) {
        int xBase = (n * g.c + c) * inPlane;
        int grp = c / cg;
        for (int mm = 0; mm < mg; mm++) {
          int m = grp * mg + mm;
          int yBase = (n * g.m + m) * outPlane;
          int wBase = (c * mg + mm) * kPlane;
          for (int kd = 0; kd < g.k[0]; kd++) {
            for (int kh = 0; kh < g.k[1]; kh++) {
              for (int kw = 0; kw < g.k[2]; kw++) {
                double wv = w[wBase + (kd * g.k[1] + kh) * g.k[2] + kw];
                int offW = kw * g.d[2] - g.p[2];
                int lo = (int) Math.max(0, Window.ceilDiv(-offW, sw));
                int hi = (int) Math.min(inW, Math.floorDiv(outW - 1 - offW, sw) + 1);
                if (lo >= hi) {
                  continue;
                }
                for (int id = 0; id < g.in[0]; id++) {
                  int od = id * g.s[0] + kd * g.d[0] - g.p[0];
                  if (od < 0 || od >= g.out[0]) {
                    continue;
                  }
                  for (int ih = 0; ih < inH; ih++) {
                    int oh = ih * g.s[1] + kh * g.d[1] - g.p[1];
                    if (oh < 0 || oh >= outH) {
                      continue;
                    }
                    int xRow = xBase + (id * inH + ih) * inW;
                    int yRow = yBase + (od * outH + oh) * outW + offW;
                    for (int iw = lo; iw < hi; iw++) {
                      y[yRow + iw * sw] += wv * x[xRow + iw];
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    if (bias != null) {
      for (int n = 0; n < g.n; n++) {
        for (int m = 0; m < g.m; m++) {
          int base = (n * g.m + m) * outPlane;
          for (int i = 0; i < outPlane; i++) {
            y[base + i] += bias[m];
          }
        }
      }
    }
    return y;
  }
}
