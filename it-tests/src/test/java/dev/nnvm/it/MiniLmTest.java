package dev.nnvm.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

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
   * (DynamicQuantizeLinear, then MatMulInteger). A value that lands within
   * rounding distance of a quantization step can round one step differently
   * when the scale differs in its last bit, and that one-step difference
   * (scale ~ range/255, about 0.02 to 0.05 here) is then carried through the
   * following layers. So element-wise agreement is checked at a tolerance of a
   * few quantization steps, and the use that matters, the mean-pooled
   * sentence embedding, must point the same way as ONNX Runtime's (cosine
   * similarity above 0.999).
   */
  @Test
  void quantizedMatchesOnnxRuntime() throws Exception {
    RandomTensors random = new RandomTensors();
    System.out.println("all-MiniLM-L6-v2-q (dynamically quantized), seed " + random.seed());
    byte[] model = ModelCheck.resource("/all-minilm-l6-v2-q.onnx");
    Map<String, Tensor> inputs = inputs(random.random());
    ModelCheck.Checked run = ModelCheck.againstOrt("all-MiniLM-L6-v2-q", model, inputs, 0.05, 0.1);
    Tensor mask = inputs.get("attention_mask");
    for (int b = 0; b < BATCH; b++) {
      double[] e = meanPool(run.expected().get("last_hidden_state"), mask, b);
      double[] a = meanPool(run.actual().get("last_hidden_state"), mask, b);
      double cos = cosine(e, a);
      System.out.printf("  sentence %d: cosine similarity of mean-pooled embeddings %.6f%n", b, cos);
      assertTrue(cos > 0.999, "sentence " + b + ": cosine similarity " + cos);
    }
    run.assertAllWithin();
  }

  private static double[] meanPool(Tensor hidden, Tensor mask, int b) {
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

  private static double cosine(double[] x, double[] y) {
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
