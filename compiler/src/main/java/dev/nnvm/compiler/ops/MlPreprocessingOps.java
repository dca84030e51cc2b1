package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * The feature preprocessing and linear models of the {@code ai.onnx.ml} domain that scikit-learn pipelines
 * export around their estimators, as reference kernels: {@code Binarizer}, {@code Scaler}, {@code Normalizer},
 * {@code Imputer}, {@code ArrayFeatureExtractor} and {@code LinearRegressor}. Where the specification leaves a
 * choice, they do what ONNX Runtime does (and the tests compare with it): {@code Normalizer} MAX divides by the
 * largest value, L1 by the sum of absolute values, L2 by the Euclidean norm; {@code Scaler} computes
 * {@code (x - offset) * scale} in float; {@code LinearRegressor} applies only PROBIT, and only to one target.
 */
final class MlPreprocessingOps {
  private static final String ML = TreeEnsembleOps.ML;

  private MlPreprocessingOps() {}

  static void register(OpRegistry r) {
    OpDef.builder(ML, "Binarizer")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.ofFloat("threshold", 0f))
        .infer(ctx -> List.of(ctx.inputType(0)))
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          double t = ctx.attrFloat("threshold");
          double[] v = x.toDoubleArray();
          for (int i = 0; i < v.length; i++) {
            v[i] = Double.isNaN(v[i]) ? v[i] : v[i] > t ? 1 : 0;
          }
          return List.of(Tensor.fromDoubles(x.dtype(), x.shape(), v));
        })
        .register(r);
    OpDef.builder(ML, "Scaler")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.of("offset", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("scale", Attribute.Kind.FLOATS))
        .infer(ctx -> List.of(new TensorType(DType.FLOAT32, ctx.inputType(0).shape())))
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          int width = width(x);
          float[] offset = MlAttributes.floats(ctx, "offset");
          float[] scale = MlAttributes.floats(ctx, "scale");
          perFeature(ctx, "offset", offset.length, width);
          perFeature(ctx, "scale", scale.length, width);
          float[] out = new float[x.size()];
          for (int i = 0; i < out.length; i++) {
            int f = i % width;
            float o = offset.length == 0 ? 0f : offset[offset.length == 1 ? 0 : f];
            float s = scale.length == 0 ? 1f : scale[scale.length == 1 ? 0 : f];
            out[i] = ((float) x.getDouble(i) - o) * s;
          }
          return List.of(Tensor.of(DType.FLOAT32, x.shape(), out));
        })
        .register(r);
    OpDef.builder(ML, "Normalizer")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.ofString("norm", "MAX").oneOf("MAX", "L1", "L2"))
        .infer(ctx -> List.of(new TensorType(DType.FLOAT32, ctx.inputType(0).shape())))
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          int width = width(x);
          String norm = ctx.attrString("norm");
          float[] out = new float[x.size()];
          for (int row = 0; row < out.length / Math.max(width, 1); row++) {
            float d = 0f;
            for (int f = 0; f < width; f++) {
              float v = (float) x.getDouble(row * width + f);
              switch (norm) {
                case "MAX": d = f == 0 || v > d ? v : d; break;
                case "L1": d += Math.abs(v); break;
                default: d += v * v; break;
              }
            }
            if (norm.equals("L2")) {
              d = (float) Math.sqrt(d);
            }
            for (int f = 0; f < width; f++) {
              float v = (float) x.getDouble(row * width + f);
              out[row * width + f] = d == 0f ? v : v / d;
            }
          }
          return List.of(Tensor.of(DType.FLOAT32, x.shape(), out));
        })
        .register(r);
    OpDef.builder(ML, "Imputer")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.of("imputed_value_floats", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("imputed_value_int64s", Attribute.Kind.INTS))
        .attr(AttrSpec.ofFloat("replaced_value_float", 0f))
        .attr(AttrSpec.ofInt("replaced_value_int64", 0))
        .infer(ctx -> List.of(ctx.inputType(0)))
        .eval(MlPreprocessingOps::impute)
        .register(r);
    OpDef.builder(ML, "ArrayFeatureExtractor")
        .pattern(FusionPattern.OPAQUE)
        .inputs(2)
        .outputs(1)
        .infer(MlPreprocessingOps::inferExtract)
        .eval(MlPreprocessingOps::extract)
        .register(r);
    OpDef.builder(ML, "LinearRegressor")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.of("coefficients", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("intercepts", Attribute.Kind.FLOATS))
        .attr(AttrSpec.ofInt("targets", 1))
        .attr(AttrSpec.ofString("post_transform", "NONE").oneOf(MlAttributes.TRANSFORMS.toArray(new String[0])))
        .infer(ctx -> {
          long targets = ctx.attrInt("targets");
          if (targets < 1) {
            throw ctx.error("targets must be at least 1, got %d", targets);
          }
          return List.of(new TensorType(DType.FLOAT32, Shape.of(MlAttributes.rows(ctx), Dim.of(targets))));
        })
        .eval(MlPreprocessingOps::regress)
        .register(r);
    OpDef.builder(ML, "LinearClassifier")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(2)
        .attr(AttrSpec.of("coefficients", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("intercepts", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("classlabels_ints", Attribute.Kind.INTS))
        .attr(AttrSpec.of("classlabels_strings", Attribute.Kind.STRINGS))
        .attr(AttrSpec.ofInt("multi_class", 0))
        .attr(AttrSpec.ofString("post_transform", "NONE").oneOf(MlAttributes.TRANSFORMS.toArray(new String[0])))
        .infer(ctx -> {
          Dim rows = MlAttributes.rows(ctx);
          int classes = ctx.hasAttr("intercepts") ? ctx.attrFloats("intercepts").length : -1;
          boolean strings = ctx.hasAttr("classlabels_strings");
          int labels = strings ? ctx.attr("classlabels_strings").asStrings().size()
              : ctx.hasAttr("classlabels_ints") ? ctx.attrInts("classlabels_ints").length : 0;
          Dim columns = classes < 0 ? Dim.unknown() : Dim.of(classes == 1 && labels == 2 ? 2 : classes);
          return List.of(new TensorType(strings ? DType.STRING : DType.INT64, Shape.of(rows)),
              new TensorType(DType.FLOAT32, Shape.of(rows, columns)));
        })
        .eval(MlPreprocessingOps::classify)
        .register(r);
  }

  /**
   * LinearClassifier as ONNX Runtime computes it: scores {@code x W^T + b}; with several score columns the label
   * is the first largest and the post transform applies to the row; with one column the label is the second
   * class label when the score is above 0 (1 and 0 when there are not two labels), and with two labels the
   * scores become {@code [1 - s, s]} (no other transform but PROBIT).
   */
  private static List<Tensor> classify(EvalContext ctx) {
    Tensor x = ctx.input(0);
    int width = width(x);
    float[] w = MlAttributes.floats(ctx, "coefficients");
    float[] b = MlAttributes.floats(ctx, "intercepts");
    int classes = b.length;
    if (classes == 0 || w.length != classes * width) {
      throw ctx.error("coefficients has %d values and intercepts %d: expected classes x features = %d x %d",
          w.length, b.length, classes, width);
    }
    boolean strings = ctx.hasAttr("classlabels_strings");
    List<String> stringLabels = MlAttributes.strings(ctx, "classlabels_strings");
    long[] intLabels = MlAttributes.ints(ctx, "classlabels_ints");
    int labels = strings ? stringLabels.size() : intLabels.length;
    if (classes > 1 && labels != classes) {
      throw ctx.error("%d score columns but %d class labels", classes, labels);
    }
    int rows = x.size() / Math.max(width, 1);
    boolean second = classes == 1 && labels == 2;
    int columns = second ? 2 : classes;
    int transform = MlAttributes.transform(ctx.attrString("post_transform"));
    float[] z = new float[rows * columns];
    long[] ints = new long[rows];
    String[] names = new String[rows];
    for (int r = 0; r < rows; r++) {
      float[] s = new float[classes];
      for (int c = 0; c < classes; c++) {
        float v = b[c];
        for (int f = 0; f < width; f++) {
          v += (float) x.getDouble(r * width + f) * w[c * width + f];
        }
        s[c] = v;
      }
      int label;
      if (classes == 1) {
        label = s[0] > 0 ? 1 : 0;
        if (strings) {
          names[r] = labels == 2 ? stringLabels.get(label) : Integer.toString(label);
        } else {
          ints[r] = labels == 2 ? intLabels[label] : label;
        }
        if (transform == 4) {
          s[0] = TreeEnsembleOps.probit(s[0]);
        }
        if (second) {
          z[r * 2] = transform == 4 ? s[0] : 1f - s[0];
          z[r * 2 + 1] = transform == 4 ? 0f : s[0];
        } else {
          z[r] = s[0];
        }
        continue;
      }
      label = 0;
      for (int c = 1; c < classes; c++) {
        if (s[c] > s[label]) {
          label = c;
        }
      }
      if (strings) {
        names[r] = stringLabels.get(label);
      } else {
        ints[r] = intLabels[label];
      }
      TreeEnsembleOps.transform(s, transform);
      System.arraycopy(s, 0, z, r * columns, classes);
    }
    Tensor y = strings ? Tensor.ofStrings(new long[] {rows}, names) : Tensor.ofLongs(DType.INT64, new long[] {rows},
        ints);
    return List.of(y, Tensor.of(DType.FLOAT32, new long[] {rows, columns}, z));
  }

  /** Elements per row (the last dimension; a scalar is one feature). */
  private static int width(Tensor x) {
    return x.rank() == 0 ? 1 : (int) x.dim(x.rank() - 1);
  }

  private static void perFeature(EvalContext ctx, String name, int length, int width) {
    if (length > 1 && length != width) {
      throw ctx.error("%s has %d values; give one, or one per feature (%d)", name, length, width);
    }
  }

  private static List<Tensor> impute(EvalContext ctx) {
    Tensor x = ctx.input(0);
    int width = width(x);
    boolean floating = x.dtype().isFloatingPoint();
    double[] v = x.toDoubleArray();
    if (floating) {
      float[] imputed = MlAttributes.floats(ctx, "imputed_value_floats");
      if (imputed.length == 0) {
        throw ctx.error("a float input needs imputed_value_floats");
      }
      perFeature(ctx, "imputed_value_floats", imputed.length, width);
      float replaced = ctx.attrFloat("replaced_value_float");
      for (int i = 0; i < v.length; i++) {
        boolean hit = Float.isNaN(replaced) ? Double.isNaN(v[i]) : v[i] == replaced;
        if (hit) {
          v[i] = imputed[imputed.length == 1 ? 0 : i % width];
        }
      }
    } else {
      long[] imputed = MlAttributes.ints(ctx, "imputed_value_int64s");
      if (imputed.length == 0) {
        throw ctx.error("an integer input needs imputed_value_int64s");
      }
      perFeature(ctx, "imputed_value_int64s", imputed.length, width);
      long replaced = ctx.attrInt("replaced_value_int64");
      long[] l = x.toLongArray();
      for (int i = 0; i < l.length; i++) {
        if (l[i] == replaced) {
          l[i] = imputed[imputed.length == 1 ? 0 : i % width];
        }
      }
      return List.of(Tensor.ofLongs(x.dtype(), x.shape(), l));
    }
    return List.of(Tensor.fromDoubles(x.dtype(), x.shape(), v));
  }

  private static List<TensorType> inferExtract(InferContext ctx) {
    TensorType x = ctx.inputType(0);
    Shape idx = ctx.inputType(1).shape();
    if (!x.shape().hasRank() || !idx.hasRank()) {
      return List.of(TensorType.unknownShape(x.dtype()));
    }
    Dim k = idx.isStatic() ? Dim.of(idx.elementCount()) : Dim.unknown();
    List<Dim> out = new ArrayList<>();
    if (x.shape().rank() == 1) {
      out.add(Dim.of(1));
    } else {
      out.addAll(x.shape().dims().subList(0, x.shape().rank() - 1));
    }
    out.add(k);
    return List.of(new TensorType(x.dtype(), Shape.of(out)));
  }

  private static List<Tensor> extract(EvalContext ctx) {
    Tensor x = ctx.input(0);
    long[] idx = ctx.input(1).toLongArray();
    int width = width(x);
    for (long i : idx) {
      if (i < 0 || i >= width) {
        throw ctx.error("index %d is out of range for the last dimension of X (%d)", i, width);
      }
    }
    int rows = x.size() / Math.max(width, 1);
    long[] shape;
    if (x.rank() <= 1) {
      shape = new long[] {1, idx.length};
    } else {
      shape = x.shape().clone();
      shape[shape.length - 1] = idx.length;
    }
    Object storage = Tensor.newStorage(x.dtype(), rows * idx.length);
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < idx.length; j++) {
        System.arraycopy(x.data(), (int) (r * width + idx[j]), storage, r * idx.length + j, 1);
      }
    }
    return List.of(Tensor.of(x.dtype(), shape, storage));
  }

  private static List<Tensor> regress(EvalContext ctx) {
    Tensor x = ctx.input(0);
    int width = width(x);
    int targets = (int) ctx.attrInt("targets");
    float[] w = MlAttributes.floats(ctx, "coefficients");
    float[] b = MlAttributes.floats(ctx, "intercepts");
    if (w.length != targets * width) {
      throw ctx.error("coefficients has %d values, expected targets x features = %d x %d", w.length, targets, width);
    }
    if (b.length != 0 && b.length != targets) {
      throw ctx.error("intercepts has %d values, expected %d (one per target)", b.length, targets);
    }
    int rows = x.size() / Math.max(width, 1);
    float[] out = new float[rows * targets];
    boolean probit = ctx.attrString("post_transform").equals("PROBIT");
    for (int r = 0; r < rows; r++) {
      for (int t = 0; t < targets; t++) {
        float s = b.length == 0 ? 0f : b[t];
        for (int f = 0; f < width; f++) {
          s += (float) x.getDouble(r * width + f) * w[t * width + f];
        }
        out[r * targets + t] = s;
      }
      if (targets == 1 && probit) {
        out[r] = TreeEnsembleOps.probit(out[r]);
      } else if (targets > 1) {
        float[] row = new float[targets];
        System.arraycopy(out, r * targets, row, 0, targets);
        TreeEnsembleOps.transform(row, MlAttributes.transform(ctx.attrString("post_transform")));
        System.arraycopy(row, 0, out, r * targets, targets);
      }
    }
    return List.of(Tensor.of(DType.FLOAT32, new long[] {rows, targets}, out));
  }
}
