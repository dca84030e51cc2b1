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
 * Pooling: MaxPool (with optional Indices), AveragePool, LpPool and their
 * global forms.
 *
 * <p>Windowed pools are OPAQUE: each output reads an overlapping, padded
 * window, which is neither an injective index map nor a reduction over whole
 * axes, so no fusion rule applies. Global pools reduce whole spatial axes and
 * are REDUCE.
 */
public final class PoolOps {
  private static final DType[] MAX_TYPES = {
      DType.FLOAT32, DType.FLOAT16, DType.FLOAT64, DType.BFLOAT16, DType.INT8, DType.UINT8};

  /** What a pooling window computes. */
  private enum Kind { MAX, AVERAGE, LP }

  private PoolOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("MaxPool")
        .pattern(FusionPattern.OPAQUE)
        .outputs(1, 2)
        .attrs(windowAttrs())
        .attr(AttrSpec.ofInt("storage_order", 0).oneOf(0, 1))
        .infer(ctx -> inferWindowed(ctx, MAX_TYPES))
        .eval(ctx -> evalWindowed(ctx, Kind.MAX))
        .register(r);
    OpDef.builder("AveragePool")
        .pattern(FusionPattern.OPAQUE)
        .attrs(windowAttrs())
        .attr(AttrSpec.ofInt("count_include_pad", 0).oneOf(0, 1))
        .infer(ctx -> inferWindowed(ctx, NnTypes.FLOATS))
        .eval(ctx -> evalWindowed(ctx, Kind.AVERAGE))
        .register(r);
    OpDef.builder("LpPool")
        .pattern(FusionPattern.OPAQUE)
        .attrs(windowAttrs())
        .attr(AttrSpec.ofInt("p", 2).check(a -> a.asInt() >= 1, "a positive exponent"))
        .infer(ctx -> inferWindowed(ctx, NnTypes.FLOATS))
        .eval(ctx -> evalWindowed(ctx, Kind.LP))
        .register(r);
    global(r, "GlobalAveragePool", Kind.AVERAGE, NnTypes.FLOATS);
    global(r, "GlobalMaxPool", Kind.MAX, NnTypes.FLOATS);
    global(r, "GlobalLpPool", Kind.LP, NnTypes.FLOATS);
  }

  private static List<AttrSpec> windowAttrs() {
    return List.of(
        AttrSpec.ofString("auto_pad", "NOTSET").oneOf("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"),
        AttrSpec.ofInt("ceil_mode", 0).oneOf(0, 1),
        AttrSpec.of("dilations", Attribute.Kind.INTS),
        AttrSpec.required("kernel_shape", Attribute.Kind.INTS),
        AttrSpec.of("pads", Attribute.Kind.INTS),
        AttrSpec.of("strides", Attribute.Kind.INTS));
  }

  private static void global(OpRegistry r, String name, Kind kind, DType[] types) {
    OpDef.Builder b = OpDef.builder(name).pattern(FusionPattern.REDUCE);
    if (kind == Kind.LP) {
      b.attr(AttrSpec.ofInt("p", 2).check(a -> a.asInt() >= 1, "a positive exponent"));
    }
    b.infer(ctx -> {
      DType t = TypeRules.requireType(ctx, 0, types);
      Shape x = NnTypes.requireRankAtLeast(ctx, 0, 3, "X");
      if (!x.hasRank()) {
        return List.of(TensorType.unknownShape(t));
      }
      List<Dim> out = new ArrayList<>(x.dims().subList(0, 2));
      for (int i = 2; i < x.rank(); i++) {
        out.add(Dim.of(1));
      }
      return List.of(new TensorType(t, Shape.of(out)));
    }).eval(ctx -> List.of(evalGlobal(ctx, kind))).register(r);
  }

  private static Tensor evalGlobal(EvalContext ctx, Kind kind) {
    Tensor x = ctx.input(0);
    if (x.rank() < 3) {
      throw ctx.error("input 0 (X): expected rank >= 3, got %s", Shape.toString(x.shape()));
    }
    long[] shape = x.shape();
    int planes = (int) (shape[0] * shape[1]);
    int plane = x.size() / Math.max(planes, 1);
    double p = kind == Kind.LP ? ctx.attrInt("p") : 0;
    double[] v = NnTypes.doubles(x);
    double[] out = new double[planes];
    for (int i = 0; i < planes; i++) {
      double acc = kind == Kind.MAX ? Double.NEGATIVE_INFINITY : 0;
      for (int j = i * plane; j < (i + 1) * plane; j++) {
        switch (kind) {
          case MAX: acc = Math.max(acc, v[j]); break;
          case AVERAGE: acc += v[j]; break;
          default: acc += Math.pow(Math.abs(v[j]), p); break;
        }
      }
      out[i] = kind == Kind.AVERAGE ? acc / plane : kind == Kind.LP ? Math.pow(acc, 1 / p) : acc;
    }
    long[] outShape = shape.clone();
    Arrays.fill(outShape, 2, outShape.length, 1);
    return NnTypes.tensor(x.dtype(), outShape, out);
  }

  /** The lowest finite value of an element type, where MaxPool starts. */
  public static double lowest(DType t) {
    switch (t) {
      case FLOAT32: return -Float.MAX_VALUE;
      case FLOAT16: return -65504.0;
      case BFLOAT16: return -3.3895313892515355e38;
      case FLOAT64: return -Double.MAX_VALUE;
      case INT8: return Byte.MIN_VALUE;
      case INT16: return Short.MIN_VALUE;
      case INT32: return Integer.MIN_VALUE;
      case INT64: return Long.MIN_VALUE;
      default: return 0;  // unsigned types
    }
  }

  private static List<TensorType> inferWindowed(InferContext ctx, DType[] types) {
    DType t = TypeRules.requireType(ctx, 0, types);
    Shape x = NnTypes.requireRankAtLeast(ctx, 0, 3, "X");
    List<TensorType> result = new ArrayList<>();
    if (!x.hasRank()) {
      result.add(TensorType.unknownShape(t));
    } else {
      long[] kernel = kernel(ctx, x.rank() - 2);
      Window win = Window.forward(ctx, NnTypes.dims(x, 2), kernel, ctx.attrInt("ceil_mode") != 0);
      List<Dim> out = new ArrayList<>(x.dims().subList(0, 2));
      for (long o : win.out) {
        out.add(NnTypes.dim(o));
      }
      result.add(new TensorType(t, Shape.of(out)));
    }
    if (ctx.outputCount() > 1) {
      result.add(result.get(0).withDType(DType.INT64));
    }
    return result;
  }

  private static long[] kernel(OpContext ctx, int spatial) {
    long[] k = ctx.attrInts("kernel_shape");
    if (k == null) {
      throw ctx.error("missing required attribute 'kernel_shape'");
    }
    if (k.length != spatial) {
      throw ctx.error("kernel_shape %s must have one value per spatial axis (%d)", Arrays.toString(k), spatial);
    }
    return k;
  }

  private static List<Tensor> evalWindowed(EvalContext ctx, Kind kind) {
    Tensor x = ctx.input(0);
    if (x.rank() < 3) {
      throw ctx.error("input 0 (X): expected rank >= 3, got %s", Shape.toString(x.shape()));
    }
    long[] xs = x.shape();
    int spatial = xs.length - 2;
    long[] in = Arrays.copyOfRange(xs, 2, xs.length);
    Window win = Window.forward(ctx, in, kernel(ctx, spatial), ctx.attrInt("ceil_mode") != 0);
    int[] i3 = Window.as3d(in, 1);
    int[] o3 = Window.as3d(win.out, 1);
    int[] k3 = Window.as3d(win.kernel, 1);
    int[] s3 = Window.as3d(win.strides, 1);
    int[] d3 = Window.as3d(win.dilations, 1);
    int[] pb = Window.as3d(win.padBegin, 0);
    int[] pe = Window.as3d(win.padEnd, 0);
    boolean includePad = kind == Kind.AVERAGE && ctx.attrInt("count_include_pad") != 0;
    boolean columnMajor = kind == Kind.MAX && ctx.attrInt("storage_order") == 1;
    double p = kind == Kind.LP ? ctx.attrInt("p") : 0;
    int planes = (int) (xs[0] * xs[1]);
    int inPlane = i3[0] * i3[1] * i3[2];
    int outPlane = o3[0] * o3[1] * o3[2];
    double[] v = NnTypes.doubles(x);
    double[] out = new double[planes * outPlane];
    long[] indices = kind == Kind.MAX && ctx.outputCount() > 1 ? new long[out.length] : null;
    int[] pos = new int[3];
    for (int plane = 0; plane < planes; plane++) {
      int base = plane * inPlane;
      int o = plane * outPlane;
      for (int od = 0; od < o3[0]; od++) {
        for (int oh = 0; oh < o3[1]; oh++) {
          for (int ow = 0; ow < o3[2]; ow++, o++) {
            int[] start = {od * s3[0] - pb[0], oh * s3[1] - pb[1], ow * s3[2] - pb[2]};
            // As ONNX Runtime: start from the type's lowest finite value, and a NaN never wins.
            double acc = kind == Kind.MAX ? lowest(x.dtype()) : 0;
            int best = -1;
            int first = -1;
            int valid = 0;
            int padded = 0;
            for (int kd = 0; kd < k3[0]; kd++) {
              pos[0] = start[0] + kd * d3[0];
              for (int kh = 0; kh < k3[1]; kh++) {
                pos[1] = start[1] + kh * d3[1];
                for (int kw = 0; kw < k3[2]; kw++) {
                  pos[2] = start[2] + kw * d3[2];
                  if (inside(pos, pb, i3, pe)) {
                    padded++;
                  }
                  if (!inside(pos, null, i3, null)) {
                    continue;
                  }
                  valid++;
                  int idx = (pos[0] * i3[1] + pos[1]) * i3[2] + pos[2];
                  double e = v[base + idx];
                  if (kind == Kind.MAX) {
                    int at = columnMajor ? pos[0] + pos[1] * i3[0] + pos[2] * i3[0] * i3[1] : idx;
                    first = first < 0 ? at : first;
                    if (e > acc) {
                      acc = e;
                      best = at;
                    }
                  } else if (kind == Kind.AVERAGE) {
                    acc += e;
                  } else {
                    acc += Math.pow(Math.abs(e), p);
                  }
                }
              }
            }
            if (kind == Kind.AVERAGE) {
              acc /= includePad ? padded : valid;
            } else if (kind == Kind.LP) {
              acc = Math.pow(acc, 1 / p);
            }
            out[o] = acc;
            if (indices != null) {
              // Nothing beat the start value (all NaN, or all the lowest value): the first position.
              indices[o] = (long) plane * inPlane + (best >= 0 ? best : Math.max(first, 0));
            }
          }
        }
      }
    }
    long[] outShape = xs.clone();
    System.arraycopy(win.out, 0, outShape, 2, spatial);
    Tensor y = NnTypes.tensor(x.dtype(), outShape, out);
    return indices == null ? List.of(y) : List.of(y, Tensor.ofLongs(DType.INT64, outShape, indices));
  }

  /** Whether a position lies in [-padBegin, size + padEnd) on every axis (pads null: in [0, size)). */
  private static boolean inside(int[] pos, int[] padBegin, int[] size, int[] padEnd) {
    for (int i = 0; i < 3; i++) {
      int lo = padBegin == null ? 0 : -padBegin[i];
      int hi = size[i] + (padEnd == null ? 0 : padEnd[i]);
      if (pos[i] < lo || pos[i] >= hi) {
        return false;
      }
    }
    return true;
  }
}
