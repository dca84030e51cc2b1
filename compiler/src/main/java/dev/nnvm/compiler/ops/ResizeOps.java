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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Resize and the deprecated Upsample.
 *
 * <p>How it works: the output size and scale of every axis are resolved from
 * scales or sizes (with axes and keep_aspect_ratio_policy); then the input is
 * resampled one axis at a time. For each output index along an axis the
 * coordinate transformation gives a position in the input, and the mode turns
 * it into neighbour indices and weights (nearest: one, linear: two, cubic:
 * four; with antialias, linear and cubic kernels are widened by 1 / scale when
 * downsampling). Interpolation is separable, so the passes give the same result as
 * interpolating all axes at once. An axis with scale 1 and an unchanged size is
 * left alone (as ONNX Runtime does), even where a coordinate transformation
 * such as tf_half_pixel_for_nn would shift it.
 */
final class ResizeOps {
  private ResizeOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("Resize")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, 4)
        .attr(AttrSpec.ofString("mode", "nearest").oneOf("nearest", "linear", "cubic"))
        .attr(AttrSpec.ofString("coordinate_transformation_mode", "half_pixel").oneOf("half_pixel",
            "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
            "tf_crop_and_resize"))
        .attr(AttrSpec.ofFloat("cubic_coeff_a", -0.75f))
        .attr(AttrSpec.ofInt("exclude_outside", 0))
        .attr(AttrSpec.ofFloat("extrapolation_value", 0f))
        .attr(AttrSpec.ofString("nearest_mode", "round_prefer_floor").oneOf("round_prefer_floor",
            "round_prefer_ceil", "floor", "ceil"))
        .attr(AttrSpec.ofInt("antialias", 0).oneOf(0, 1))
        .attr(AttrSpec.of("axes", Attribute.Kind.INTS))
        .attr(AttrSpec.ofString("keep_aspect_ratio_policy", "stretch").oneOf("stretch", "not_larger", "not_smaller"))
        .infer(ctx -> inferResize(ctx, ctx.opset() < 11 ? 1 : 2, ctx.opset() < 11 ? -1 : 3))
        .eval(ctx -> {
          boolean v10 = ctx.opset() < 11;
          long[] in = ctx.input(0).shape();
          Plan p = plan(ctx, in, floats(ctx, v10 ? 1 : 2), v10 ? null : SymbolicShapes.param(ctx, null, 3));
          String coord = v10 ? "asymmetric" : ctx.attrString("coordinate_transformation_mode");
          String nearest = v10 ? "simple" : ctx.attrString("nearest_mode");
          double[] roi = v10 ? null : floats(ctx, 1);
          return List.of(resize(ctx, ctx.input(0), p, ctx.attrString("mode"), coord, nearest, roi));
        })
        .register(r);

    OpDef.builder("Upsample")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, 2)
        .attr(AttrSpec.ofString("mode", "nearest").oneOf("nearest", "linear"))
        .attr(AttrSpec.of("scales", Attribute.Kind.FLOATS))
        .infer(ctx -> inferResize(ctx, 1, -1))
        .eval(ctx -> {
          long[] in = ctx.input(0).shape();
          double[] scales = ctx.hasAttr("scales") ? toDoubles(ctx.attrFloats("scales")) : floats(ctx, 1);
          Plan p = plan(ctx, in, scales, null);
          return List.of(resize(ctx, ctx.input(0), p, ctx.attrString("mode"), "asymmetric", "simple", null));
        })
        .register(r);
  }

  /** Output size and scale of every axis. */
  private static final class Plan {
    final long[] out;
    final double[] scale;
    final boolean[] axis;

    Plan(long[] out, double[] scale, boolean[] axis) {
      this.out = out;
      this.scale = scale;
      this.axis = axis;
    }
  }

  private static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static double[] floats(EvalContext ctx, int input) {
    if (input < 0 || !ctx.hasInput(input) || ctx.input(input).size() == 0) {
      return null;
    }
    return ctx.input(input).toDoubleArray();
  }

  /** The axes a node resizes, normalized; all axes when the attribute is absent. */
  private static int[] axes(OpContext ctx, int rank) {
    long[] a = ctx.def().attrs().containsKey("axes") ? ctx.attrInts("axes") : null;
    if (a == null) {
      int[] all = new int[rank];
      for (int i = 0; i < rank; i++) {
        all[i] = i;
      }
      return all;
    }
    return SymbolicShapes.axes(ctx, a, rank, "axis");
  }

  private static Plan plan(OpContext ctx, long[] in, double[] scales, long[] sizes) {
    int rank = in.length;
    int[] ax = axes(ctx, rank);
    long[] out = in.clone();
    double[] scale = new double[rank];
    Arrays.fill(scale, 1);
    boolean[] on = new boolean[rank];
    if (scales != null) {
      if (scales.length != ax.length) {
        throw ctx.error("scales has %d entries for %d axes", scales.length, ax.length);
      }
      for (int i = 0; i < ax.length; i++) {
        if (scales[i] <= 0) {
          throw ctx.error("scales must be positive, got %s", Arrays.toString(scales));
        }
        scale[ax[i]] = scales[i];
        out[ax[i]] = (long) Math.floor(in[ax[i]] * scales[i]);
        on[ax[i]] = true;
      }
      return new Plan(out, scale, on);
    }
    if (sizes == null) {
      throw ctx.error("needs scales or sizes");
    }
    if (sizes.length != ax.length) {
      throw ctx.error("sizes has %d entries for %d axes", sizes.length, ax.length);
    }
    String policy = ctx.def().attrs().containsKey("keep_aspect_ratio_policy")
        ? ctx.attrString("keep_aspect_ratio_policy") : "stretch";
    double common = policy.equals("not_larger") ? Double.MAX_VALUE : 0;
    for (int i = 0; i < ax.length; i++) {
      double s = (double) sizes[i] / in[ax[i]];
      common = policy.equals("not_larger") ? Math.min(common, s) : Math.max(common, s);
    }
    for (int i = 0; i < ax.length; i++) {
      int a = ax[i];
      on[a] = true;
      if (policy.equals("stretch")) {
        out[a] = sizes[i];
        scale[a] = (double) sizes[i] / in[a];
      } else {
        out[a] = Math.round(common * in[a]);
        scale[a] = common;
      }
    }
    return new Plan(out, scale, on);
  }

  private static List<TensorType> inferResize(InferContext ctx, int scalesInput, int sizesInput) {
    SymbolicShapes.requireTypesIfPresent(ctx, new int[] {scalesInput}, DType.FLOAT32);
    SymbolicShapes.requireTypesIfPresent(ctx, new int[] {sizesInput}, DType.INT64);
    List<Dim> d = SymbolicShapes.dims(ctx, 0);
    DType t = ctx.inputType(0).dtype();
    if (d == null) {
      return List.of(TensorType.unknownShape(t));
    }
    double[] scales = null;
    if (ctx.hasAttr("scales")) {
      scales = toDoubles(ctx.attrFloats("scales"));
    } else if (ctx.hasInput(scalesInput)) {
      if (ctx.constant(scalesInput).isEmpty()) {
        return List.of(SymbolicShapes.type(t, SymbolicShapes.unknownDims(d.size())));
      }
      Tensor s = ctx.constant(scalesInput).get();
      scales = s.size() == 0 ? null : s.toDoubleArray();
    }
    long[] sizes = null;
    if (scales == null) {
      if (sizesInput < 0 || !ctx.hasInput(sizesInput) || ctx.constant(sizesInput).isEmpty()) {
        return List.of(SymbolicShapes.type(t, SymbolicShapes.unknownDims(d.size())));
      }
      sizes = ctx.constant(sizesInput).get().toLongArray();
    }
    boolean allStatic = d.stream().allMatch(Dim::isStatic);
    if (allStatic) {
      long[] in = d.stream().mapToLong(Dim::value).toArray();
      return List.of(TensorType.of(t, plan(ctx, in, scales, sizes).out));
    }
    int[] ax = axes(ctx, d.size());
    List<Dim> out = new ArrayList<>(d);
    for (int i = 0; i < ax.length; i++) {
      Dim x = d.get(ax[i]);
      if (scales != null) {
        out.set(ax[i], scales[i] == 1 ? x : x.isStatic() ? Dim.of((long) Math.floor(x.value() * scales[i])) : Dim.unknown());
      } else {
        out.set(ax[i], Dim.unknown());
      }
    }
    if (sizes != null && ctx.attrString("keep_aspect_ratio_policy").equals("stretch")) {
      for (int i = 0; i < ax.length; i++) {
        out.set(ax[i], Dim.of(sizes[i]));
      }
    }
    return List.of(SymbolicShapes.type(t, out));
  }

  private static Tensor resize(EvalContext ctx, Tensor x, Plan p, String mode, String coord, String nearest,
      double[] roi) {
    long[] shape = x.shape();
    int rank = shape.length;
    int[] ax = axes(ctx, rank);
    double[] roiStart = new double[rank];
    double[] roiEnd = new double[rank];
    Arrays.fill(roiEnd, 1);
    if (coord.equals("tf_crop_and_resize")) {
      if (roi == null || roi.length != 2 * ax.length) {
        throw ctx.error("tf_crop_and_resize needs roi with %d entries", 2 * ax.length);
      }
      for (int i = 0; i < ax.length; i++) {
        roiStart[ax[i]] = roi[i];
        roiEnd[ax[i]] = roi[i + ax.length];
      }
    }
    double[] data = x.toDoubleArray();
    double a = ctx.def().attrs().containsKey("cubic_coeff_a") ? ctx.attrFloat("cubic_coeff_a") : -0.75;
    boolean exclude = ctx.def().attrs().containsKey("exclude_outside") && ctx.attrInt("exclude_outside") != 0;
    boolean antialias = ctx.def().attrs().containsKey("antialias") && ctx.attrInt("antialias") != 0;
    double extrapolation = ctx.def().attrs().containsKey("extrapolation_value") ? ctx.attrFloat("extrapolation_value") : 0;
    for (int axis = 0; axis < rank; axis++) {
      boolean identity = p.scale[axis] == 1 && p.out[axis] == shape[axis] && !coord.equals("tf_crop_and_resize");
      if (!p.axis[axis] || identity) {
        continue;
      }
      Taps taps = new Taps(shape[axis], p.out[axis], p.scale[axis], mode, coord, nearest, a, exclude, antialias,
          roiStart[axis], roiEnd[axis]);
      long[] next = shape.clone();
      next[axis] = p.out[axis];
      data = resample(data, shape, axis, next[axis], taps, extrapolation);
      shape = next;
    }
    return Tensor.fromDoubles(x.dtype(), shape, data);
  }

  private static double[] resample(double[] in, long[] shape, int axis, long outLen, Taps taps, double extrapolation) {
    long outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= shape[i];
    }
    long inner = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      inner *= shape[i];
    }
    long len = shape[axis];
    double[] out = new double[(int) (outer * outLen * inner)];
    for (long o = 0; o < outer; o++) {
      for (int j = 0; j < outLen; j++) {
        int[] idx = taps.index[j];
        double[] w = taps.weight[j];
        for (long q = 0; q < inner; q++) {
          double v;
          if (idx == null) {
            v = extrapolation;
          } else {
            v = 0;
            for (int k = 0; k < idx.length; k++) {
              v += w[k] * in[(int) ((o * len + idx[k]) * inner + q)];
            }
          }
          out[(int) ((o * outLen + j) * inner + q)] = v;
        }
      }
    }
    return out;
  }

  /** The neighbour indices and weights of every output index along one axis (null: extrapolate). */
  private static final class Taps {
    final int[][] index;
    final double[][] weight;

    Taps(long inLen, long outLen, double scale, String mode, String coord, String nearest, double a,
        boolean exclude, boolean antialias, double roiStart, double roiEnd) {
      index = new int[(int) outLen][];
      weight = new double[(int) outLen][];
      for (int j = 0; j < outLen; j++) {
        double xo = original(j, inLen, outLen, scale, coord, roiStart, roiEnd);
        if (coord.equals("tf_crop_and_resize") && (xo < 0 || xo > inLen - 1)) {
          continue;
        }
        switch (mode) {
          case "nearest":
            index[j] = new int[] {clamp(nearestIndex(xo, nearest, scale), inLen)};
            weight[j] = new double[] {1};
            break;
          default:
            filter(j, xo, mode.equals("linear"), antialias ? Math.min(scale, 1) : 1, a, inLen, exclude);
            break;
        }
      }
    }

    /**
     * Linear or cubic taps around {@code xo}. The kernel is stretched by
     * 1 / {@code stretch} (antialiasing when downsampling; 1 otherwise), and
     * its weights are normalized to sum to 1; taps outside the input read the
     * edge, or get weight 0 with exclude_outside.
     */
    private void filter(int j, double xo, boolean linear, double stretch, double a, long inLen, boolean exclude) {
      long i0 = (long) Math.floor(xo);
      double t = xo - i0;
      long first = (long) Math.floor(-(linear ? 1 : 2) / stretch) + 1;
      int n = (int) (2 - 2 * first);
      int[] ii = new int[n];
      double[] w = new double[n];
      double sum = 0;
      for (int k = 0; k < n; k++) {
        double x = stretch * (first + k - t);
        w[k] = linear ? Math.max(0, 1 - Math.abs(x)) : cubic(x, a);
        sum += w[k];
      }
      double kept = 0;
      for (int k = 0; k < n; k++) {
        long idx = i0 + first + k;
        w[k] /= sum;
        if (exclude && (idx < 0 || idx >= inLen)) {
          w[k] = 0;
        }
        kept += w[k];
        ii[k] = clamp(idx, inLen);
      }
      if (exclude && kept != 0) {
        for (int k = 0; k < n; k++) {
          w[k] /= kept;
        }
      }
      index[j] = ii;
      weight[j] = w;
    }

    private static int clamp(long i, long n) {
      return (int) Math.max(0, Math.min(n - 1, i));
    }

    private static double cubic(double x, double a) {
      x = Math.abs(x);
      if (x <= 1) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
      }
      if (x < 2) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
      }
      return 0;
    }

    private static long nearestIndex(double x, String mode, double scale) {
      switch (mode) {
        case "simple":
          return scale < 1 ? (long) Math.ceil(x) : (long) x;
        case "floor":
          return (long) Math.floor(x);
        case "ceil":
          return (long) Math.ceil(x);
        case "round_prefer_ceil":
          return (long) Math.floor(x + 0.5);
        default:
          return x - Math.floor(x) == 0.5 ? (long) Math.floor(x) : Math.round(x);
      }
    }

    private static double original(long x, long inLen, long outLen, double scale, String coord, double roiStart,
        double roiEnd) {
      switch (coord) {
        case "half_pixel_symmetric": {
          double adjustment = outLen / (scale * inLen);
          double center = inLen / 2.0;
          double offset = center * (1 - adjustment);
          return offset + (x + 0.5) / scale - 0.5;
        }
        case "pytorch_half_pixel":
          return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
        case "align_corners": {
          double width = scale * inLen;
          return width == 1 ? 0 : x * (inLen - 1) / (width - 1);
        }
        case "asymmetric":
          return x / scale;
        case "tf_half_pixel_for_nn":
          return (x + 0.5) / scale;
        case "tf_crop_and_resize": {
          double width = scale * inLen;
          return width > 1 ? roiStart * (inLen - 1) + x * (roiEnd - roiStart) * (inLen - 1) / (width - 1)
              : 0.5 * (roiStart + roiEnd) * (inLen - 1);
        }
        default:
          return (x + 0.5) / scale - 0.5;
      }
    }
  }
}
