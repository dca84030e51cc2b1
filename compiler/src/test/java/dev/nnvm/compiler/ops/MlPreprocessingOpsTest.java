package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Binarizer, Scaler, Normalizer, Imputer, ArrayFeatureExtractor and LinearRegressor ({@code ai.onnx.ml})
 * against ONNX Runtime's kernels, on inputs from a fixed, printed seed (NaN where the operator handles it).
 */
class MlPreprocessingOpsTest {
  private static final long SEED = Long.getLong("nnvm.seed", 20261206L);
  private static final String ML = TreeEnsembleOps.ML;

  private static Tensor values(SplittableRandom random, DType dtype, int rows, int cols, boolean nans) {
    double[] v = new double[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = dtype == DType.INT64 ? random.nextInt(-4, 5)
          : nans && random.nextInt(8) == 0 ? Double.NaN : random.nextDouble() * 4 - 2;
    }
    return Tensor.fromDoubles(dtype, new long[] {rows, cols}, v);
  }

  private static OpTester op(String name, Tensor x) {
    return OpTester.op(name).domain(ML).input("X", x).outputs("Y").tolerance(1e-6, 1e-6);
  }

  @Test
  void preprocessingMatchesOnnxRuntime() {
    System.out.println("ml preprocessing seed " + SEED);
    SplittableRandom random = new SplittableRandom(SEED);
    op("Binarizer", values(random, DType.FLOAT32, 5, 4, false)).attr("threshold", 0.3f).check();
    op("Scaler", values(random, DType.FLOAT32, 5, 4, false)).attr("offset", 0.5f, -1f, 0f, 2f)
        .attr("scale", 2f, 0.5f, -1f, 3f).check();
    op("Scaler", values(random, DType.FLOAT64, 3, 4, false)).attr("offset", Attribute.ofFloats(0.25f)).attr("scale", Attribute.ofFloats(4f)).check();
    op("Scaler", values(random, DType.INT64, 3, 4, false)).attr("offset", Attribute.ofFloats(1f)).attr("scale", Attribute.ofFloats(0.5f)).check();
    for (String norm : new String[] {"MAX", "L1", "L2"}) {
      op("Normalizer", values(random, DType.FLOAT32, 6, 5, false)).attr("norm", norm).check();
    }
    op("Imputer", values(random, DType.FLOAT32, 6, 3, true)).attr("imputed_value_floats", 1f, 2f, 3f)
        .attr("replaced_value_float", Float.NaN).check();
    op("Imputer", values(random, DType.INT64, 4, 3, false)).attr("imputed_value_int64s", new long[] {99})
        .attr("replaced_value_int64", -1L).check();
    OpTester.op("ArrayFeatureExtractor").domain(ML).input("X", values(random, DType.FLOAT32, 3, 5, false))
        .constant("Y", Tensor.vector(0, 3, 3)).outputs("Z").check();
    OpTester.op("ArrayFeatureExtractor").domain(ML).input("X", Tensor.fromDoubles(DType.INT64, new long[] {2, 2, 4},
            new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))
        .constant("Y", Tensor.vector(2)).outputs("Z").check();
    float[] w = new float[3 * 4];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (random.nextDouble() - 0.5);
    }
    op("LinearRegressor", values(random, DType.FLOAT32, 5, 4, false)).attr("coefficients", w)
        .attr("intercepts", 0.5f, -0.25f, 1f).attr("targets", 3L).check();
    op("LinearRegressor", values(random, DType.FLOAT32, 5, 4, false)).attr("coefficients", 0.5f, -1f, 2f, 0.25f)
        .attr("intercepts", Attribute.ofFloats(0.125f)).check();
    // LinearClassifier: three classes (integer labels, softmax and none), binary with one score column (string
    // labels: [1 - s, s]), double input.
    for (String post : new String[] {"NONE", "SOFTMAX", "LOGISTIC"}) {
      OpTester.op("LinearClassifier").domain(ML).input("X", values(random, DType.FLOAT32, 6, 4, false))
          .outputs("label", "scores").attr("coefficients", w).attr("intercepts", 0.5f, -0.25f, 1f)
          .attr("classlabels_ints", 3L, 5L, 9L).attr("post_transform", post).check();
    }
    OpTester.op("LinearClassifier").domain(ML).input("X", values(random, DType.FLOAT64, 6, 4, false))
        .outputs("label", "scores").attr("coefficients", 0.5f, -1f, 2f, 0.25f)
        .attr("intercepts", Attribute.ofFloats(-0.1f))
        .attr("classlabels_strings", Attribute.ofStrings(java.util.List.of("no", "yes"))).check();
  }
}
