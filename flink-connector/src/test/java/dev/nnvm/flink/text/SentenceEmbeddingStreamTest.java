package dev.nnvm.flink.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.flink.FlinkTestModels;
import dev.nnvm.flink.stream.NnvmInference;
import dev.nnvm.scoring.ScoringSpec;
import dev.nnvm.scoring.text.Encoded;
import dev.nnvm.scoring.text.TextTokenizer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A stream of sentences to all-MiniLM-L6-v2 embeddings on a MiniCluster
 * (parallelism 2, micro-batches of 4): tokenizer, length buckets, the encoder
 * compiled once on the client, mean pooling and L2 normalization, against
 * ONNX Runtime run on each sentence alone (the same token ids, pooled here in
 * double precision). A null text gets a null embedding.
 */
class SentenceEmbeddingStreamTest {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
      .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  private static final List<String> SENTENCES = Arrays.asList(
      "The cat sat on the mat.",
      "Flink scores streams in micro-batches.",
      null,
      "A",
      "Deep-learning compilers turn graphs into native code, once, on the client.",
      "Exactly-once delivery needs the operator to flush before each checkpoint barrier.",
      "Café, naïve, façade: accents survive tokenization.",
      "12345 67890",
      "Short one.",
      "Embeddings of similar sentences point in similar directions.");

  @Test
  @Timeout(300)
  void sentencesEmbedLikeOnnxRuntime() throws Exception {
    byte[] onnx = FlinkTestModels.resource("/all-minilm-l6-v2.onnx");
    byte[] tokenizerJson = FlinkTestModels.resource("/all-minilm-l6-v2-tokenizer.json");
    long t0 = System.nanoTime();
    byte[] artifact = ModelCompiler.create().withCache(ArtifactCache.defaultDirectory())
        .compile(onnx, null, "all-MiniLM-L6-v2", CompileOptions.defaults()).bytes();
    System.out.printf("all-MiniLM-L6-v2 compiled (or read from the artifact cache) in %.0f ms%n",
        (System.nanoTime() - t0) / 1e6);
    ScoringSpec spec = ScoringSpec.builder(artifact).build();

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    List<Sentence> input = new ArrayList<>();
    for (int i = 0; i < SENTENCES.size(); i++) {
      input.add(new Sentence(i, SENTENCES.get(i)));
    }
    DataStream<Sentence> sentences = env.fromData(input, TypeInformation.of(Sentence.class)).rebalance();
    long t1 = System.nanoTime();
    List<Embedded> results = NnvmInference.of(SentenceEmbeddingModel.<Sentence>of(spec, tokenizerJson, 128, s -> s.text))
        .batchSize(4).maxLatency(Duration.ofMillis(50))
        .recordNamer((s, i) -> "sentence " + s.id)
        .apply(sentences, (s, p) -> {
          Embedded e = new Embedded();
          e.id = s.id;
          e.embedding = p.floats(SentenceEmbeddingModel.EMBEDDING);
          e.error = p.error();
          e.batchSize = p.batchSize();
          return e;
        }, TypeInformation.of(Embedded.class))
        .executeAndCollect(SENTENCES.size() + 1);
    System.out.printf("%d sentences embedded on the MiniCluster in %.0f ms%n", results.size(),
        (System.nanoTime() - t1) / 1e6);
    assertEquals(SENTENCES.size(), results.size());

    double maxAbs = 0;
    double minCos = 1;
    OrtEnvironment ortEnv = OrtEnvironment.getEnvironment();
    try (TextTokenizer tokenizer = TextTokenizer.fromBytes(tokenizerJson, 128);
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(1);
      try (OrtSession session = ortEnv.createSession(onnx, opts)) {
        for (Embedded e : results) {
          String text = SENTENCES.get((int) e.id);
          if (text == null) {
            assertNull(e.embedding);
            assertNotNull(e.error);
            assertTrue(e.error.startsWith("sentence " + e.id + ": the text is null"), e.error);
            continue;
          }
          assertNull(e.error, e.error);
          assertEquals(384, e.embedding.length);
          Encoded enc = tokenizer.encode(List.of(text));
          long[] shape = {1, enc.length(0)};
          try (OnnxTensor ids = OnnxTensor.createTensor(ortEnv, LongBuffer.wrap(enc.inputIds(0)), shape);
              OnnxTensor mask = OnnxTensor.createTensor(ortEnv, LongBuffer.wrap(enc.attentionMask(0)), shape);
              OnnxTensor types = OnnxTensor.createTensor(ortEnv, LongBuffer.wrap(enc.tokenTypeIds(0)), shape);
              OrtSession.Result res = session.run(Map.of(TextTokenizer.INPUT_IDS, ids,
                  TextTokenizer.ATTENTION_MASK, mask, TextTokenizer.TOKEN_TYPE_IDS, types))) {
            FloatBuffer hidden = ((OnnxTensor) res.get("last_hidden_state").orElseThrow()).getFloatBuffer();
            double[] want = new double[384];
            int tokens = enc.length(0);
            for (int t = 0; t < tokens; t++) {
              for (int d = 0; d < 384; d++) {
                want[d] += hidden.get(t * 384 + d) / (double) tokens;
              }
            }
            double norm = Math.sqrt(Arrays.stream(want).map(x -> x * x).sum());
            double dot = 0;
            double gotNorm = 0;
            for (int d = 0; d < 384; d++) {
              want[d] /= norm;
              maxAbs = Math.max(maxAbs, Math.abs(want[d] - e.embedding[d]));
              dot += want[d] * e.embedding[d];
              gotNorm += (double) e.embedding[d] * e.embedding[d];
            }
            double cos = dot / Math.sqrt(gotNorm);
            minCos = Math.min(minCos, cos);
            assertTrue(cos > 0.9999, "sentence " + e.id + ": cosine " + cos);
          }
        }
      }
    }
    System.out.printf("sentence embeddings on a stream vs ONNX Runtime (%d sentences): max abs error %.3g,"
        + " min cosine %.10f%n", SENTENCES.size() - 1, maxAbs, minCos);
    assertTrue(maxAbs < 1e-3, "max abs error " + maxAbs);
  }
}
