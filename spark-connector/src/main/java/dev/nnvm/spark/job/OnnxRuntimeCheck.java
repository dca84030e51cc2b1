package dev.nnvm.spark.job;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The job's agreement check: a sample of the rows it embedded, embedded again on the driver by ONNX Runtime
 * from the same ONNX file, one sentence at a time (no padding, so nothing but the model decides the result),
 * with the tokenizer library called directly and mean pooling and L2 normalization written out here, and
 * compared with {@link EvaluationMetrics} (cosine similarity, max abs error).
 *
 * <p>ONNX Runtime is not a dependency of the connector jar: the launcher puts it on the driver's class path
 * for this check, and {@link #available()} says whether it is there.
 */
final class OnnxRuntimeCheck {
  private OnnxRuntimeCheck() {}

  /** Whether ONNX Runtime's Java API is on the class path. */
  static boolean available() {
    try {
      Class.forName("ai.onnxruntime.OrtEnvironment", false, OnnxRuntimeCheck.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /**
   * Embeds {@code texts} with ONNX Runtime and compares them with {@code ours} (same order).
   *
   * @param normalize whether {@code ours} are L2-normalized
   */
  static EvaluationMetrics compareEmbeddings(Path onnx, Path tokenizerJson, int maxLength, List<String> texts,
      List<float[]> ours, boolean normalize, int threads) throws IOException, OrtException {
    EvaluationMetrics m = new EvaluationMetrics(1);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
            .optMaxLength(maxLength).optTruncation(true).optPadding(false).build();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(Math.max(1, threads));
      try (OrtSession session = env.createSession(onnx.toString(), options)) {
        Map<String, NodeInfo> inputs = session.getInputInfo();
        for (int i = 0; i < texts.size(); i++) {
          Encoding e = tokenizer.encode(texts.get(i));
          float[] got = embed(env, session, inputs.keySet(), e, normalize);
          m.addCompared(ours.get(i), got);
        }
      }
    }
    return m;
  }

  private static float[] embed(OrtEnvironment env, OrtSession session, java.util.Set<String> inputNames, Encoding e,
      boolean normalize) throws OrtException {
    long[] shape = {1, e.getIds().length};
    Map<String, long[]> values = Map.of("input_ids", e.getIds(), "attention_mask", e.getAttentionMask(),
        "token_type_ids", e.getTypeIds());
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      for (String name : inputNames) {
        long[] v = values.get(name);
        if (v == null) {
          throw new IllegalArgumentException("the model's input '" + name + "' is none of input_ids, attention_mask,"
              + " token_type_ids: the ONNX Runtime check covers BERT-style encoders only");
        }
        feeds.put(name, OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape));
      }
      try (OrtSession.Result r = session.run(feeds)) {
        OnnxTensor out = (OnnxTensor) r.get(0);
        FloatBuffer fb = out.getFloatBuffer();
        float[] all = new float[fb.remaining()];
        fb.get(all);
        long[] mask = e.getAttentionMask();
        int tokens = mask.length;
        int hidden = all.length / tokens;
        float[] mean = new float[hidden];
        double count = 0;
        for (int t = 0; t < tokens; t++) {
          if (mask[t] != 0) {
            count++;
            for (int h = 0; h < hidden; h++) {
              mean[h] += all[t * hidden + h];
            }
          }
        }
        for (int h = 0; h < hidden; h++) {
          mean[h] = (float) (mean[h] / Math.max(count, 1e-9));
        }
        if (normalize) {
          double norm = 0;
          for (float x : mean) {
            norm += x * x;
          }
          float scale = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
          for (int h = 0; h < hidden; h++) {
            mean[h] *= scale;
          }
        }
        return mean;
      }
    } finally {
      for (OnnxTensor t : feeds.values()) {
        t.close();
      }
    }
  }
}
