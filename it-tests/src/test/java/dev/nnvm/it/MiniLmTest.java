package dev.nnvm.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 (a 6-layer BERT sentence encoder, from the LangChain4j
 * model jars) on the reference evaluator against ONNX Runtime.
 *
 * <p>Inputs: random token ids from the 30522-word BERT vocabulary, framed by
 * [CLS] and [SEP]; the second sentence is shorter and zero-padded with its
 * attention mask zero there, so the masking path of attention is exercised.
 */
class MiniLmTest {
  private static final int BATCH = 2;
  private static final int SEQ = 16;
  private static final int VOCAB = 30522;
  private static final long CLS = 101;
  private static final long SEP = 102;
  private static final int[] LENGTHS = {SEQ, 11};

  static Map<String, Tensor> inputs(Random random) {
    long[] ids = new long[BATCH * SEQ];
    long[] mask = new long[BATCH * SEQ];
    for (int b = 0; b < BATCH; b++) {
      for (int s = 0; s < LENGTHS[b]; s++) {
        ids[b * SEQ + s] = s == 0 ? CLS : s == LENGTHS[b] - 1 ? SEP : 1000 + random.nextInt(VOCAB - 1000);
        mask[b * SEQ + s] = 1;
      }
    }
    long[] shape = {BATCH, SEQ};
    return Map.of("input_ids", Tensor.ofLongs(DType.INT64, shape, ids),
        "attention_mask", Tensor.ofLongs(DType.INT64, shape, mask),
        "token_type_ids", Tensor.zeros(DType.INT64, shape));
  }

  @Test
  void fp32MatchesOnnxRuntime() throws Exception {
    RandomTensors random = new RandomTensors();
    System.out.println("all-MiniLM-L6-v2 fp32, seed " + random.seed());
    // fp32 through 6 transformer layers: summation order differs from ONNX Runtime's
    // blocked GEMMs, so allow 1e-3 relative plus 1e-4 absolute for values near zero.
    ModelCheck.againstOrt("all-MiniLM-L6-v2", ModelCheck.resource("/all-minilm-l6-v2.onnx"), inputs(random.random()),
        1e-3, 1e-4).assertAllWithin();
  }

  /**
   * The quantized model quantizes every activation on the fly
   * (DynamicQuantizeLinear, then MatMulInteger and a float rescale). ONNX
   * Runtime's full optimization level fuses those into one kernel that
   * rescales in a different order, so its activations differ in the last
   * float bit, some land on the other side of a rounding step (one step is
   * 1/255 of the activation range) and the outputs drift by up to ~0.15. With
   * the basic level ONNX Runtime runs the operators as written and agrees
   * with the reference evaluator to ~1e-6, except when an activation lands
   * within float rounding of a step boundary: then one side rounds a step
   * up, and nearby outputs move by ~2e-2 (seen: 9 of 12288 elements, max
   * 0.02, embedding cosine 0.999999; in a later run one flip early in the
   * network carried through to a cosine of 0.99946; in another, 202 of 12288
   * elements moved by up to 0.11 and one sentence's cosine was 0.99879). Any
   * last-bit difference before a quantization step can do this, so no
   * element-wise bound holds on every random input. The test therefore
   * asserts what a wrong quantized kernel cannot meet: the mean-pooled
   * sentence embeddings (the model's actual use) agree to a cosine above
   * 0.99, and the mean absolute error over all elements is below 5e-2 (with
   * about half a million quantized activations per run, a few flips happen in
   * most runs; an early one spread through attention gave a mean error of
   * 0.018 and cosines of 0.9985; a wrong kernel moves every element by far
   * more). The element-wise report is printed.
   */
  @Test
  void quantizedMatchesOnnxRuntimeUnfused() throws Exception {
    RandomTensors random = new RandomTensors();
    System.out.println("all-MiniLM-L6-v2-q (dynamically quantized), seed " + random.seed());
    Map<String, Tensor> inputs = inputs(random.random());
    byte[] model = ModelCheck.resource("/all-minilm-l6-v2-q.onnx");
    ModelCheck.Checked run = ModelCheck.againstOrt("all-MiniLM-L6-v2-q", model, inputs, OptLevel.BASIC_OPT, 5e-2,
        5e-2);
    Tensor mask = inputs.get("attention_mask");
    for (int b = 0; b < BATCH; b++) {
      double cos = cosine(meanPool(run.expected().get("last_hidden_state"), mask, b),
          meanPool(run.actual().get("last_hidden_state"), mask, b));
      System.out.printf("  sentence %d: cosine similarity of mean-pooled embeddings %.7f%n", b, cos);
      assertTrue(cos > 0.99, "sentence " + b + ": cosine similarity " + cos);
    }
    Tensor expected = run.expected().get("last_hidden_state");
    Tensor actual = run.actual().get("last_hidden_state");
    double sum = 0;
    for (int i = 0; i < expected.size(); i++) {
      sum += Math.abs(expected.getDouble(i) - actual.getDouble(i));
    }
    double mean = sum / expected.size();
    System.out.printf("  mean abs error over %d elements: %.3g%n", expected.size(), mean);
    assertTrue(mean < 5e-2, "mean absolute error " + mean + " of last_hidden_state");
  }

  static double[] meanPool(Tensor hidden, Tensor mask, int b) {
    int seq = (int) hidden.dim(1);
    int dim = (int) hidden.dim(2);
    double[] out = new double[dim];
    int n = 0;
    for (int s = 0; s < seq; s++) {
      if (mask.getLong(b * seq + s) != 0) {
        n++;
        for (int d = 0; d < dim; d++) {
          out[d] += hidden.getDouble((b * seq + s) * dim + d);
        }
      }
    }
    for (int d = 0; d < dim; d++) {
      out[d] /= n;
    }
    return out;
  }

  static double cosine(double[] x, double[] y) {
    double xy = 0;
    double xx = 0;
    double yy = 0;
    for (int i = 0; i < x.length; i++) {
      xy += x[i] * y[i];
      xx += x[i] * x[i];
      yy += y[i] * y[i];
    }
    return xy / Math.sqrt(xx * yy);
  }
}
