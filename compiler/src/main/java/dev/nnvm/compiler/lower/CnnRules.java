package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.lower.Expr.BinaryOp;
import dev.nnvm.compiler.lower.Expr.CompareOp;
import dev.nnvm.compiler.lower.Expr.UnaryOp;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.List;

/**
 * Compute rules of the index-map operators of convolutional networks:
 * nnvm.LayoutTransform (NCHW to NCHW{b}c and back), Pad (constant, edge,
 * reflect) and Resize / Upsample (nearest and linear). Every load is at an
 * in-bounds index: positions outside the input are clamped and, where the
 * operator says so, selected away.
 */
final class CnnRules {
  private CnnRules() {}

  /** NCHW -> [N, C/b, H, W, b] reads [n, cb * b + l, h, w]; the way back reads [n, c / b, h, w, c % b]. */
  static Expr layoutTransform(LowerContext ctx, List<Expr> idx) {
    Expr b = Exprs.i64(ctx.attrInt("block"));
    if (ctx.attrInt("to_blocked") == 1) {
      return ctx.input(0, List.of(idx.get(0), Exprs.add(Exprs.mul(idx.get(1), b), idx.get(4)), idx.get(2),
          idx.get(3)));
    }
    return ctx.input(0, List.of(idx.get(0), Exprs.div(idx.get(1), b), idx.get(2), idx.get(3),
        Exprs.rem(idx.get(1), b)));
  }

  static Expr pad(LowerContext ctx, List<Expr> idx) {
    int rank = idx.size();
    boolean modern = ctx.opset() >= 11;
    long[] pads = modern ? constantInts(ctx, 1, "pads") : ctx.attrInts("pads");
    String mode = ctx.attrString("mode");
    int[] axes = new int[pads.length / 2];
    long[] axesIn = modern && ctx.node().hasInput(3) ? constantInts(ctx, 3, "axes") : null;
    for (int i = 0; i < axes.length; i++) {
      axes[i] = axesIn == null ? i : ctx.axis(axesIn[i], rank, "axis");
    }
    List<Expr> in = new ArrayList<>(idx);
    Expr inside = null;
    for (int i = 0; i < axes.length; i++) {
      int a = axes[i];
      Expr size = Exprs.dim(ctx.inputType(0).shape().dim(a));
      Expr pos = Exprs.sub(idx.get(a), Exprs.i64(pads[i]));
      Expr last = Exprs.sub(size, Exprs.i64(1));
      switch (mode) {
        case "constant":
          Expr ok = Exprs.value(BinaryOp.AND, Exprs.compare(CompareOp.GE, pos, Exprs.i64(0)),
              Exprs.compare(CompareOp.LT, pos, size));
          inside = inside == null ? ok : Exprs.value(BinaryOp.AND, inside, ok);
          break;
        case "reflect":
          Expr mirrored = Exprs.select(Exprs.compare(CompareOp.LT, pos, Exprs.i64(0)), Exprs.sub(Exprs.i64(0), pos),
              pos);
          pos = Exprs.select(Exprs.compare(CompareOp.GT, mirrored, last), Exprs.sub(Exprs.mul(Exprs.i64(2), last),
              mirrored), mirrored);
          break;
        case "edge":
          break;
        default:
          throw new UnsupportedModelException(ctx.node().describe() + ": Pad mode '" + mode
              + "' cannot be compiled");
      }
      in.set(a, clamp(pos, last));
    }
    Expr x = ctx.input(0, in);
    if (inside == null) {
      return x;
    }
    Expr value;
    if (!modern) {
      value = Exprs.constant(ctx.attrFloat("value"), x.type());
    } else if (ctx.node().hasInput(2)) {
      value = ctx.input(2, zeros(ctx.inputType(2).shape().rank()));
    } else {
      value = Exprs.constant(0, x.type());
    }
    return Exprs.select(inside, x, value);
  }

  /**
   * Resize and Upsample, separably per resized axis: the output coordinate
   * mapped back to the input (in double precision, as the reference does),
   * then the nearest input element or the two linear taps (clamped to the
   * edge), so linear resizing of k axes mixes 2^k input elements.
   */
  static Expr resize(LowerContext ctx, List<Expr> idx) {
    boolean upsample = ctx.node().opType().equals("Upsample");
    boolean v10 = !upsample && ctx.opset() < 11;
    String mode = ctx.attrString("mode");
    String coord = upsample || v10 ? "asymmetric" : ctx.attrString("coordinate_transformation_mode");
    String nearest = upsample || v10 ? "simple" : ctx.attrString("nearest_mode");
    if (!upsample && !v10 && (ctx.hasAttr("axes") || ctx.attrInt("antialias") != 0
        || !ctx.attrString("keep_aspect_ratio_policy").equals("stretch"))) {
      throw new UnsupportedModelException(ctx.node().describe()
          + ": Resize with axes, antialias or a kept aspect ratio cannot be compiled");
    }
    if (!mode.equals("nearest") && !mode.equals("linear") || coord.equals("tf_crop_and_resize")
        || coord.equals("half_pixel_symmetric")) {
      throw new UnsupportedModelException(ctx.node().describe() + ": Resize mode " + mode + " with coordinates "
          + coord + " cannot be compiled");
    }
    TensorType xt = ctx.inputType(0);
    int rank = idx.size();
    double[] scales = scales(ctx, upsample, v10, rank);
    List<List<Expr>> corners = new ArrayList<>(List.of(new ArrayList<>(idx)));
    List<Expr> weights = new ArrayList<>();
    weights.add(null);
    for (int a = 0; a < rank; a++) {
      long inLen = staticDim(ctx, xt.shape().dim(a));
      long outLen = staticDim(ctx, ctx.outputType().shape().dim(a));
      double scale = scales == null ? (double) outLen / inLen : scales[a];
      if (scale == 1 && inLen == outLen) {
        continue;
      }
      Expr xo = original(Exprs.as(idx.get(a), DType.FLOAT64), inLen, outLen, scale, coord);
      Expr last = Exprs.i64(inLen - 1);
      if (mode.equals("nearest")) {
        Expr i = clamp(Exprs.as(nearestIndex(xo, nearest, scale), DType.INT64), last);
        for (List<Expr> c : corners) {
          c.set(a, i);
        }
        continue;
      }
      Expr floor = Exprs.unary(UnaryOp.FLOOR, xo);
      Expr t = Exprs.value(BinaryOp.SUB, xo, floor);
      Expr i0 = Exprs.as(floor, DType.INT64);
      Expr lo = clamp(i0, last);
      Expr hi = clamp(Exprs.add(i0, Exprs.i64(1)), last);
      Expr wLo = Exprs.value(BinaryOp.SUB, Exprs.constant(1, DType.FLOAT64), t);
      List<List<Expr>> nextCorners = new ArrayList<>();
      List<Expr> nextWeights = new ArrayList<>();
      for (int k = 0; k < corners.size(); k++) {
        for (boolean high : new boolean[] {false, true}) {
          List<Expr> c = new ArrayList<>(corners.get(k));
          c.set(a, high ? hi : lo);
          nextCorners.add(c);
          Expr w = high ? t : wLo;
          nextWeights.add(weights.get(k) == null ? w : Exprs.value(BinaryOp.MUL, weights.get(k), w));
        }
      }
      corners = nextCorners;
      weights = nextWeights;
    }
    if (weights.get(0) == null) {
      return ctx.input(0, corners.get(0));
    }
    Expr sum = null;
    for (int k = 0; k < corners.size(); k++) {
      Expr term = Exprs.value(BinaryOp.MUL, Exprs.as(ctx.input(0, corners.get(k)), DType.FLOAT64), weights.get(k));
      sum = sum == null ? term : Exprs.value(BinaryOp.ADD, sum, term);
    }
    return Exprs.as(sum, xt.dtype());
  }

  /** The per-axis scales from the attribute or a constant input, or null when the sizes decide them. */
  private static double[] scales(LowerContext ctx, boolean upsample, boolean v10, int rank) {
    if (upsample && ctx.hasAttr("scales")) {
      float[] f = ctx.attrFloats("scales");
      double[] d = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        d[i] = f[i];
      }
      return d;
    }
    int input = upsample || v10 ? 1 : 2;
    if (!ctx.node().hasInput(input)) {
      return null;
    }
    Tensor s = ctx.constant(input).orElseThrow(() -> new UnsupportedModelException(ctx.node().describe()
        + ": scales computed at run time cannot be compiled"));
    if (s.size() == 0) {
      return null;
    }
    if (s.size() != rank) {
      throw new UnsupportedModelException(ctx.node().describe() + ": " + s.size() + " scales for rank " + rank);
    }
    return s.toDoubleArray();
  }

  private static Expr original(Expr x, long inLen, long outLen, double scale, String coord) {
    Expr half = Exprs.constant(0.5, DType.FLOAT64);
    Expr s = Exprs.constant(scale, DType.FLOAT64);
    switch (coord) {
      case "asymmetric":
        return Exprs.value(BinaryOp.DIV, x, s);
      case "tf_half_pixel_for_nn":
        return Exprs.value(BinaryOp.DIV, Exprs.value(BinaryOp.ADD, x, half), s);
      case "align_corners": {
        double width = scale * inLen;
        return width == 1 ? Exprs.constant(0, DType.FLOAT64) : Exprs.value(BinaryOp.DIV,
            Exprs.value(BinaryOp.MUL, x, Exprs.constant(inLen - 1, DType.FLOAT64)),
            Exprs.constant(width - 1, DType.FLOAT64));
      }
      case "pytorch_half_pixel":
        if (outLen <= 1) {
          return Exprs.constant(0, DType.FLOAT64);
        }
        return Exprs.value(BinaryOp.SUB, Exprs.value(BinaryOp.DIV, Exprs.value(BinaryOp.ADD, x, half), s), half);
      default:
        return Exprs.value(BinaryOp.SUB, Exprs.value(BinaryOp.DIV, Exprs.value(BinaryOp.ADD, x, half), s), half);
    }
  }

  private static Expr nearestIndex(Expr x, String mode, double scale) {
    Expr half = Exprs.constant(0.5, DType.FLOAT64);
    switch (mode) {
      case "simple":
        return scale < 1 ? Exprs.unary(UnaryOp.CEIL, x) : x;
      case "floor":
        return Exprs.unary(UnaryOp.FLOOR, x);
      case "ceil":
        return Exprs.unary(UnaryOp.CEIL, x);
      case "round_prefer_ceil":
        return Exprs.unary(UnaryOp.FLOOR, Exprs.value(BinaryOp.ADD, x, half));
      default:
        return Exprs.unary(UnaryOp.CEIL, Exprs.value(BinaryOp.SUB, x, half));
    }
  }

  private static Expr clamp(Expr i, Expr last) {
    return Exprs.value(BinaryOp.MAX, Exprs.i64(0), Exprs.value(BinaryOp.MIN, i, last));
  }

  private static List<Expr> zeros(int rank) {
    List<Expr> z = new ArrayList<>();
    for (int i = 0; i < rank; i++) {
      z.add(Exprs.i64(0));
    }
    return z;
  }

  private static long[] constantInts(LowerContext ctx, int input, String what) {
    return ctx.constant(input).map(Tensor::toLongArray).orElseThrow(() -> new UnsupportedModelException(
        ctx.node().describe() + ": " + what + " computed at run time cannot be compiled"));
  }

  private static long staticDim(LowerContext ctx, Dim d) {
    if (!d.isStatic()) {
      throw new UnsupportedModelException(ctx.node().describe() + ": Resize over symbolic sizes cannot be compiled");
    }
    return d.value();
  }
}
