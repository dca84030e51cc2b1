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
import java.util.Arrays;
import java.util.List;

/**
 * Normalizations: BatchNormalization, LayerNormalization,
 * InstanceNormalization, GroupNormalization, LpNormalization,
 * MeanVarianceNormalization and LRN.
 *
 * <p>All are OPAQUE: each first computes statistics over many elements and
 * then rescales every element with them, two passes that elementwise fusion
 * cannot express (inference-mode BatchNormalization is instead folded into
 * the preceding convolution by a rewrite rule). Statistics are computed in
 * double, so {@code stash_type} needs no separate handling.
 */
final class NormOps {
  private NormOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("BatchNormalization")
        .pattern(FusionPattern.OPAQUE)
        .inputs(5)
        .outputs(1, 5)
        .attr(AttrSpec.ofFloat("epsilon", 1e-5f))
        .attr(AttrSpec.ofFloat("momentum", 0.9f))
        .attr(AttrSpec.ofInt("spatial", 1).oneOf(0, 1))
        .attr(AttrSpec.ofInt("training_mode", 0).oneOf(0, 1))
        .infer(NormOps::inferBatchNorm)
        .eval(NormOps::evalBatchNorm)
        .register(r);
    OpDef.builder("LayerNormalization")
        .pattern(FusionPattern.OPAQUE)
        .inputs(2, 3)
        .outputs(1, 3)
        .attr(AttrSpec.ofInt("axis", -1))
        .attr(AttrSpec.ofFloat("epsilon", 1e-5f))
        .attr(AttrSpec.ofInt("stash_type", 1))
        .infer(NormOps::inferLayerNorm)
        .eval(NormOps::evalLayerNorm)
        .register(r);
    OpDef.builder("InstanceNormalization")
        .pattern(FusionPattern.OPAQUE)
        .inputs(3)
        .attr(AttrSpec.ofFloat("epsilon", 1e-5f))
        .infer(ctx -> List.of(inferChannelNorm(ctx, 1)))
        .eval(ctx -> List.of(evalGroupNorm(ctx, (int) ctx.input(0).dim(1))))
        .register(r);
    OpDef.builder("GroupNormalization")
        .pattern(FusionPattern.OPAQUE)
        .inputs(3)
        .attr(AttrSpec.ofFloat("epsilon", 1e-5f))
        .attr(AttrSpec.required("num_groups", Attribute.Kind.INT))
        .attr(AttrSpec.ofInt("stash_type", 1))
        .infer(ctx -> List.of(inferChannelNorm(ctx, ctx.attrInt("num_groups"))))
        .eval(ctx -> List.of(evalGroupNorm(ctx, Math.toIntExact(ctx.attrInt("num_groups")))))
        .register(r);
    OpDef.builder("LpNormalization")
        .pattern(FusionPattern.OPAQUE)
        .attr(AttrSpec.ofInt("axis", -1))
        .attr(AttrSpec.ofInt("p", 2).oneOf(1, 2))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, NnTypes.FLOATS);
          Shape x = ctx.inputType(0).shape();
          if (x.hasRank()) {
            ctx.axis(ctx.attrInt("axis"), x.rank(), "axis");
          }
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> List.of(evalLpNorm(ctx)))
        .register(r);
    OpDef.builder("MeanVarianceNormalization")
        .pattern(FusionPattern.OPAQUE)
        .attr(AttrSpec.ofInts("axes", 0, 2, 3))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, NnTypes.FLOATS);
          Shape x = ctx.inputType(0).shape();
          if (x.hasRank()) {
            reducedShape(ctx, new long[x.rank()], ctx.attrInts("axes"));
          }
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> List.of(evalMvn(ctx)))
        .register(r);
    OpDef.builder("LRN")
        .pattern(FusionPattern.OPAQUE)
        .attr(AttrSpec.ofFloat("alpha", 1e-4f))
        .attr(AttrSpec.ofFloat("beta", 0.75f))
        .attr(AttrSpec.ofFloat("bias", 1f))
        .attr(AttrSpec.required("size", Attribute.Kind.INT).check(a -> a.asInt() >= 1, "a positive size"))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, NnTypes.FLOATS);
          NnTypes.requireRankAtLeast(ctx, 0, 3, "X");
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> List.of(evalLrn(ctx)))
        .register(r);
  }

  /** Training-mode statistics are batch statistics; before opset 14 extra outputs also mean training. */
  private static boolean training(OpContext ctx) {
    return ctx.opset() >= 14 ? ctx.attrInt("training_mode") != 0 : ctx.outputCount() > 1;
  }

  private static List<TensorType> inferBatchNorm(InferContext ctx) {
    DType t = TypeRules.requireType(ctx, 0, NnTypes.FLOATS);
    Shape x = NnTypes.requireRankAtLeast(ctx, 0, 2, "X");
    for (int i = 1; i < 5; i++) {
      TypeRules.requireType(ctx, i, NnTypes.FLOATS);
    }
    boolean spatial = ctx.opset() >= 9 || ctx.attrInt("spatial") != 0;
    long c = NnTypes.staticDim(x, 1);
    String[] names = {"X", "scale", "B", "mean", "var"};
    for (int i = 1; i < 5; i++) {
      Shape p = ctx.inputType(i).shape();
      if (spatial) {
        NnTypes.requireRank(ctx, i, 1, names[i]);
        long len = NnTypes.staticDim(p, 0);
        if (len >= 0 && c >= 0 && len != c) {
          throw ctx.error("input %d (%s): expected %d values (one per channel of X %s), got %d", i, names[i], c, x, len);
        }
      }
    }
    if (!training(ctx)) {
      if (ctx.outputCount() > 1) {
        throw ctx.error("inference mode has one output, the node asks for %d", ctx.outputCount());
      }
      return List.of(ctx.inputType(0).withDType(t));
    }
    if (ctx.opset() < 14) {
      throw new UnsupportedModelException(ctx.node().describe()
          + ": training-mode BatchNormalization before opset 14 (saved mean/variance outputs) is not supported");
    }
    if (ctx.outputCount() != 3) {
      throw ctx.error("training mode has 3 outputs (Y, running_mean, running_var), the node has %d", ctx.outputCount());
    }
    List<TensorType> out = new ArrayList<>();
    out.add(ctx.inputType(0));
    for (int i = 1; i < ctx.outputCount(); i++) {
      out.add(ctx.inputType(i + 2));
    }
    return out;
  }

  private static List<Tensor> evalBatchNorm(EvalContext ctx) {
    Tensor x = ctx.input(0);
    if (x.rank() < 2) {
      throw ctx.error("input 0 (X): expected rank >= 2, got %s", Shape.toString(x.shape()));
    }
    boolean spatial = ctx.opset() >= 9 || ctx.attrInt("spatial") != 0;
    int n = (int) x.dim(0);
    int c = (int) x.dim(1);
    int plane = x.size() / Math.max(1, n * c);
    int channels = spatial ? c : c * plane;
    int inner = spatial ? plane : 1;
    double[][] params = new double[5][];
    for (int i = 1; i < 5; i++) {
      Tensor p = ctx.input(i);
      if (p.size() != channels) {
        throw ctx.error("input %d: expected %d values, got shape %s", i, channels, Shape.toString(p.shape()));
      }
      params[i] = p.toDoubleArray();
    }
    double eps = ctx.attrFloat("epsilon");
    double[] v = NnTypes.doubles(x);
    double[] mean = params[3];
    double[] var = params[4];
    boolean training = training(ctx);
    if (training) {
      if (ctx.opset() < 14) {
        throw new UnsupportedModelException(ctx.node().describe()
            + ": training-mode BatchNormalization before opset 14 (saved mean/variance outputs) is not supported");
      }
      mean = new double[channels];
      var = new double[channels];
      double count = (double) n * inner;
      for (int b = 0; b < n; b++) {
        for (int ch = 0; ch < channels; ch++) {
          int base = (b * channels + ch) * inner;
          for (int j = 0; j < inner; j++) {
            mean[ch] += v[base + j] / count;
          }
        }
      }
      for (int b = 0; b < n; b++) {
        for (int ch = 0; ch < channels; ch++) {
          int base = (b * channels + ch) * inner;
          for (int j = 0; j < inner; j++) {
            double d = v[base + j] - mean[ch];
            var[ch] += d * d / count;
          }
        }
      }
    }
    double[] y = new double[v.length];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < channels; ch++) {
        double scale = params[1][ch] / Math.sqrt(var[ch] + eps);
        double shift = params[2][ch] - mean[ch] * scale;
        int base = (b * channels + ch) * inner;
        for (int j = 0; j < inner; j++) {
          y[base + j] = v[base + j] * scale + shift;
        }
      }
    }
    List<Tensor> out = new ArrayList<>();
    out.add(NnTypes.tensor(x.dtype(), x.shape(), y));
    if (training) {
      double momentum = ctx.attrFloat("momentum");
      double[][] running = {new double[channels], new double[channels]};
      for (int ch = 0; ch < channels; ch++) {
        running[0][ch] = params[3][ch] * momentum + mean[ch] * (1 - momentum);
        running[1][ch] = params[4][ch] * momentum + var[ch] * (1 - momentum);
      }
      for (int i = 1; i < ctx.outputCount(); i++) {
        Tensor like = ctx.input(i + 2);
        out.add(NnTypes.tensor(like.dtype(), like.shape(), running[i - 1]));
      }
    }
    return out;
  }

  private static List<TensorType> inferLayerNorm(InferContext ctx) {
    DType t = TypeRules.requireType(ctx, 0, NnTypes.FLOATS);
    TypeRules.requireSameType(ctx, 0, 1);
    if (ctx.hasInput(2)) {
      TypeRules.requireSameType(ctx, 0, 2);
    }
    DType stash = stashType(ctx);
    Shape x = ctx.inputType(0).shape();
    List<TensorType> out = new ArrayList<>();
    out.add(ctx.inputType(0));
    if (ctx.outputCount() > 1) {
      TensorType statType = TensorType.unknownShape(stash);
      if (x.hasRank()) {
        int axis = ctx.axis(ctx.attrInt("axis"), x.rank(), "axis");
        List<Dim> dims = new ArrayList<>(x.dims());
        for (int i = axis; i < dims.size(); i++) {
          dims.set(i, Dim.of(1));
        }
        statType = new TensorType(stash, Shape.of(dims));
      }
      for (int i = 1; i < ctx.outputCount(); i++) {
        out.add(statType);
      }
    }
    return out;
  }

  private static DType stashType(OpContext ctx) {
    long code = ctx.attrInt("stash_type");
    DType d;
    try {
      d = DType.fromOnnx((int) code);
    } catch (RuntimeException e) {
      throw new UnsupportedModelException(ctx.node().describe() + ": stash_type " + code + " is not a floating type");
    }
    if (!d.isFloatingPoint()) {
      throw new UnsupportedModelException(ctx.node().describe() + ": stash_type " + d + " is not a floating type");
    }
    return d;
  }

  private static List<Tensor> evalLayerNorm(EvalContext ctx) {
    Tensor x = ctx.input(0);
    long[] shape = x.shape();
    int axis = ctx.axis(ctx.attrInt("axis"), x.rank(), "axis");
    long[] normShape = Arrays.copyOfRange(shape, axis, shape.length);
    int inner = Tensor.elementCount(normShape);
    int outer = inner == 0 ? 0 : x.size() / inner;
    double[] v = NnTypes.doubles(x);
    double[][] stats = stats(v, outer, inner);
    int[] is = broadcastParam(ctx, 1, "Scale", normShape);
    double[] scale = ctx.input(1).toDoubleArray();
    int[] ib = ctx.hasInput(2) ? broadcastParam(ctx, 2, "B", normShape) : null;
    double[] bias = ctx.hasInput(2) ? ctx.input(2).toDoubleArray() : null;
    double eps = ctx.attrFloat("epsilon");
    double[] y = new double[v.length];
    double[] invStd = new double[outer];
    for (int o = 0; o < outer; o++) {
      invStd[o] = 1 / Math.sqrt(stats[1][o] + eps);
      for (int j = 0; j < inner; j++) {
        int i = o * inner + j;
        y[i] = (v[i] - stats[0][o]) * invStd[o] * scale[is[j]] + (bias == null ? 0 : bias[ib[j]]);
      }
    }
    List<Tensor> out = new ArrayList<>();
    out.add(NnTypes.tensor(x.dtype(), shape, y));
    long[] statShape = shape.clone();
    Arrays.fill(statShape, axis, statShape.length, 1);
    DType stash = stashType(ctx);
    if (ctx.outputCount() > 1) {
      out.add(NnTypes.tensor(stash, statShape, stats[0]));
    }
    if (ctx.outputCount() > 2) {
      out.add(NnTypes.tensor(stash, statShape, invStd));
    }
    return out;
  }

  private static int[] broadcastParam(EvalContext ctx, int i, String what, long[] target) {
    long[] shape = ctx.input(i).shape();
    if (!broadcastsTo(shape, target)) {
      throw ctx.error("input %d (%s) of shape %s does not broadcast to the normalized shape %s",
          i, what, Shape.toString(shape), Shape.toString(target));
    }
    return Broadcasting.indexMap(shape, target);
  }

  /** Whether {@code shape} broadcasts unidirectionally to {@code target}. */
  private static boolean broadcastsTo(long[] shape, long[] target) {
    if (shape.length > target.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      long d = shape[shape.length - 1 - i];
      if (d != 1 && d != target[target.length - 1 - i]) {
        return false;
      }
    }
    return true;
  }

  /** Mean and population variance of each of {@code outer} contiguous runs of {@code inner} values. */
  private static double[][] stats(double[] v, int outer, int inner) {
    double[] mean = new double[outer];
    double[] var = new double[outer];
    for (int o = 0; o < outer; o++) {
      double s = 0;
      for (int j = o * inner; j < (o + 1) * inner; j++) {
        s += v[j];
      }
      mean[o] = s / inner;
      double q = 0;
      for (int j = o * inner; j < (o + 1) * inner; j++) {
        double d = v[j] - mean[o];
        q += d * d;
      }
      var[o] = q / inner;
    }
    return new double[][] {mean, var};
  }

  /** Instance (one group per channel) and group normalization: input 1 and 2 hold per-channel or per-group values. */
  private static TensorType inferChannelNorm(InferContext ctx, long groups) {
    TypeRules.requireType(ctx, 0, NnTypes.FLOATS);
    TypeRules.requireSameType(ctx, 0, 1);
    TypeRules.requireSameType(ctx, 0, 2);
    Shape x = NnTypes.requireRankAtLeast(ctx, 0, 3, "X");
    NnTypes.requireRank(ctx, 1, 1, "scale");
    NnTypes.requireRank(ctx, 2, 1, "B");
    long c = NnTypes.staticDim(x, 1);
    if (groups < 1 || c >= 0 && c % groups != 0) {
      throw ctx.error("num_groups %d must be positive and divide the %d channels", groups, c);
    }
    for (int i = 1; i < 3; i++) {
      long len = NnTypes.staticDim(ctx.inputType(i).shape(), 0);
      if (len >= 0 && c >= 0 && len != c && len != groups) {
        throw ctx.error("input %d: expected %d values (one per channel), got %d", i, c, len);
      }
    }
    return ctx.inputType(0);
  }

  private static Tensor evalGroupNorm(EvalContext ctx, int groups) {
    Tensor x = ctx.input(0);
    if (x.rank() < 3) {
      throw ctx.error("input 0 (X): expected rank >= 3, got %s", Shape.toString(x.shape()));
    }
    int n = (int) x.dim(0);
    int c = (int) x.dim(1);
    if (groups < 1 || c % groups != 0) {
      throw ctx.error("num_groups %d must be positive and divide the %d channels", groups, c);
    }
    int plane = x.size() / Math.max(1, n * c);
    double[] scale = ctx.input(1).toDoubleArray();
    double[] bias = ctx.input(2).toDoubleArray();
    for (double[] p : new double[][] {scale, bias}) {
      if (p.length != c && p.length != groups) {
        throw ctx.error("scale and B must have %d values (one per channel), got %d", c, p.length);
      }
    }
    int perGroup = c / groups;
    double[] v = NnTypes.doubles(x);
    double[][] stats = stats(v, n * groups, perGroup * plane);
    double eps = ctx.attrFloat("epsilon");
    double[] y = new double[v.length];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        int g = b * groups + ch / perGroup;
        double inv = 1 / Math.sqrt(stats[1][g] + eps);
        double sc = scale[scale.length == c ? ch : ch / perGroup];
        double sh = bias[bias.length == c ? ch : ch / perGroup];
        int base = (b * c + ch) * plane;
        for (int j = base; j < base + plane; j++) {
          y[j] = (v[j] - stats[0][g]) * inv * sc + sh;
        }
      }
    }
    return NnTypes.tensor(x.dtype(), x.shape(), y);
  }

  private static Tensor evalLpNorm(EvalContext ctx) {
    Tensor x = ctx.input(0);
    long[] shape = x.shape();
    int axis = ctx.axis(ctx.attrInt("axis"), x.rank(), "axis");
    long p = ctx.attrInt("p");
    int len = (int) shape[axis];
    int inner = 1;
    for (int i = axis + 1; i < shape.length; i++) {
      inner *= (int) shape[i];
    }
    int outer = len * inner == 0 ? 0 : x.size() / (len * inner);
    double[] v = NnTypes.doubles(x);
    double[] y = new double[v.length];
    for (int o = 0; o < outer; o++) {
      for (int j = 0; j < inner; j++) {
        int base = o * len * inner + j;
        double norm = 0;
        for (int k = 0; k < len; k++) {
          double e = v[base + k * inner];
          norm += p == 1 ? Math.abs(e) : e * e;
        }
        norm = p == 1 ? norm : Math.sqrt(norm);
        for (int k = 0; k < len; k++) {
          y[base + k * inner] = norm == 0 ? 0 : v[base + k * inner] / norm;
        }
      }
    }
    return NnTypes.tensor(x.dtype(), shape, y);
  }

  /** The shape with the given axes set to 1, failing naming the node on a bad axis. */
  private static long[] reducedShape(OpContext ctx, long[] shape, long[] axes) {
    long[] r = shape.clone();
    for (long a : axes) {
      r[ctx.axis(a, shape.length, "axes value")] = 1;
    }
    return r;
  }

  private static Tensor evalMvn(EvalContext ctx) {
    Tensor x = ctx.input(0);
    long[] shape = x.shape();
    long[] reduced = reducedShape(ctx, shape, ctx.attrInts("axes"));
    int[] group = Broadcasting.indexMap(reduced, shape);
    int groups = Tensor.elementCount(reduced);
    double[] v = NnTypes.doubles(x);
    double[] mean = new double[groups];
    double[] var = new double[groups];
    double count = groups == 0 ? 0 : (double) v.length / groups;
    for (int i = 0; i < v.length; i++) {
      mean[group[i]] += v[i] / count;
    }
    for (int i = 0; i < v.length; i++) {
      double d = v[i] - mean[group[i]];
      var[group[i]] += d * d / count;
    }
    double[] y = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      y[i] = (v[i] - mean[group[i]]) / (Math.sqrt(var[group[i]]) + 1e-9);
    }
    return NnTypes.tensor(x.dtype(), shape, y);
  }

  private static Tensor evalLrn(EvalContext ctx) {
    Tensor x = ctx.input(0);
    if (x.rank() < 3) {
      throw ctx.error("input 0 (X): expected rank >= 3, got %s", Shape.toString(x.shape()));
    }
    int n = (int) x.dim(0);
    int c = (int) x.dim(1);
    int plane = x.size() / Math.max(1, n * c);
    long size = ctx.attrInt("size");
    int before = (int) ((size - 1) / 2);
    int after = (int) (size - 1 - before);
    double alpha = ctx.attrFloat("alpha");
    double beta = ctx.attrFloat("beta");
    double bias = ctx.attrFloat("bias");
    double[] v = NnTypes.doubles(x);
    double[] y = new double[v.length];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        int base = (b * c + ch) * plane;
        for (int j = 0; j < plane; j++) {
          double sum = 0;
          for (int k = Math.max(0, ch - before); k <= Math.min(c - 1, ch + after); k++) {
            double e = v[(b * c + k) * plane + j];
            sum += e * e;
          }
          y[base + j] = v[base + j] / Math.pow(bias + alpha / size * sum, beta);
        }
      }
    }
    return NnTypes.tensor(x.dtype(), x.shape(), y);
  }
}
