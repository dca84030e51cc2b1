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
import dev.nnvm.flink.stream.UnboundedSource;
import dev.nnvm.scoring.ScoringSpec;
import dev.nnvm.scoring.text.Encoded;
import dev.nnvm.scoring.text.TextTokenizer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A stream of sentences to all-MiniLM-L6-v2 embeddings on a MiniCluster
 * (parallelism 2, micro-batches of 4): tokenizer, length buckets, the encoder
 * compiled once on the client, mean pooling and L2 normalization, against
 * ONNX Runtime run on each sentence alone (the same token ids, pooled here in
 * double precision). A null text gets a null embedding. The same over an
 * unbounded source that never ends by itself.
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
    ScoringSpec spec = ScoringSpec.builder(artifact()).build();

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    List<Sentence> input = new ArrayList<>();
    for (int i = 0; i < SENTENCES.size(); i++) {
      input.add(new Sentence(i, SENTENCES.get(i)));
    }
    DataStream<Sentence> sentences = env.fromData(input, TypeInformation.of(Sentence.class)).rebalance();
    long t1 = System.nanoTime();
    List<Embedded> results = embed(spec, sentences, 4).executeAndCollect(SENTENCES.size() + 1);
    System.out.printf("%d sentences embedded on the MiniCluster in %.0f ms%n", results.size(),
        (System.nanoTime() - t1) / 1e6);
    assertEquals(SENTENCES.size(), results.size());
    assertMatchOnnxRuntime("sentence embeddings on a bounded stream", results);
  }

  /**
   * An unbounded source (it never ends by itself; 100 sentences a second, cycling through the list) at
   * parallelism 1, batches of 8 with a 30 ms max latency: 30 results come out while the job is still running
   * (UnboundedSourceTest shows the timer flushing partial batches), and they match ONNX Runtime. Then the job is
   * cancelled.
   */
  @Test
  @Timeout(300)
  void unboundedSentenceStreamEmbedsLikeOnnxRuntime() throws Exception {
    ScoringSpec spec = ScoringSpec.builder(artifact()).build();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    int n = 30;
    DataStream<Sentence> sentences = env.fromSource(new UnboundedSource<>(new DataGeneratorSource<>(
            id -> new Sentence(id, SENTENCES.get((int) (id % SENTENCES.size()))), Long.MAX_VALUE,
            RateLimiterStrategy.perSecond(100), TypeInformation.of(Sentence.class))),
        WatermarkStrategy.noWatermarks(), "unbounded sentences");
    CloseableIterator<Embedded> out = embed(spec, sentences, 8).collectAsync();
    JobClient job = env.executeAsync("unbounded sentences");
    List<Embedded> results = new ArrayList<>();
    Set<Long> ids = new HashSet<>();
    int partial = 0;
    try {
      while (results.size() < n && out.hasNext()) {
        Embedded e = out.next();
        assertTrue(ids.add(e.id), "sentence " + e.id + " came out twice");
        results.add(e);
        partial += e.batchSize < 8 ? 1 : 0;
        assertTrue(e.batchSize >= 1 && e.batchSize <= 8, "batch size " + e.batchSize);
      }
      JobStatus status = job.getJobStatus().get();
      System.out.printf("unbounded sentence stream: %d results with the job %s, %d of them from partial"
          + " (timer-flushed) batches%n", results.size(), status, partial);
      assertEquals(JobStatus.RUNNING, status, "the job never ends by itself");
    } finally {
      job.cancel().get(30, TimeUnit.SECONDS);
      out.close();
    }
    assertEquals(n, results.size());
    for (long id = 0; id < n; id++) {
      assertTrue(ids.contains(id), "sentence " + id + " came out");
    }
    assertMatchOnnxRuntime("sentence embeddings on an unbounded stream", results);
  }

  /** all-MiniLM-L6-v2 compiled on the client (or read from the artifact cache). */
  private static byte[] artifact() throws Exception {
    long t0 = System.nanoTime();
    byte[] artifact = ModelCompiler.create().withCache(ArtifactCache.defaultDirectory())
        .compile(FlinkTestModels.resource("/all-minilm-l6-v2.onnx"), null, "all-MiniLM-L6-v2",
            CompileOptions.defaults()).bytes();
    System.out.printf("all-MiniLM-L6-v2 compiled (or read from the artifact cache) in %.0f ms%n",
        (System.nanoTime() - t0) / 1e6);
    return artifact;
  }

  /** Tokenizer, encoder, mean pooling and L2 norm on a stream, batches of {@code batch}, 50 ms max latency. */
  private static DataStream<Embedded> embed(ScoringSpec spec, DataStream<Sentence> sentences, int batch)
      throws Exception {
    byte[] tokenizerJson = FlinkTestModels.resource("/all-minilm-l6-v2-tokenizer.json");
    return NnvmInference.of(SentenceEmbeddingModel.<Sentence>of(spec, tokenizerJson, 128, s -> s.text))
        .batchSize(batch).maxLatency(Duration.ofMillis(batch == 8 ? 30 : 50))
        .recordNamer((s, i) -> "sentence " + s.id)
        .apply(sentences, (s, p) -> {
          Embedded e = new Embedded();
          e.id = s.id;
          e.embedding = p.floats(SentenceEmbeddingModel.EMBEDDING);
          e.error = p.error();
          e.batchSize = p.batchSize();
          return e;
        }, TypeInformation.of(Embedded.class));
  }

  /**
   * Each result against ONNX Runtime run on its sentence alone (the same token ids), pooled here in double
   * precision; sentence i is SENTENCES[i % size], a null text has a null embedding and says why.
   */
  private static void assertMatchOnnxRuntime(String label, List<Embedded> results) throws Exception {
    byte[] onnx = FlinkTestModels.resource("/all-minilm-l6-v2.onnx");
    byte[] tokenizerJson = FlinkTestModels.resource("/all-minilm-l6-v2-tokenizer.json");
    double maxAbs = 0;
    double minCos = 1;
    OrtEnvironment ortEnv = OrtEnvironment.getEnvironment();
    try (TextTokenizer tokenizer = TextTokenizer.fromBytes(tokenizerJson, 128);
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(1);
      try (OrtSession session = ortEnv.createSession(onnx, opts)) {
        for (Embedded e : results) {
          String text = SENTENCES.get((int) (e.id % SENTENCES.size()));
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
    System.out.printf("%s vs ONNX Runtime (%d results): max abs error %.3g, min cosine %.10f%n", label,
        results.size(), maxAbs, minCos);
    assertTrue(maxAbs < 1e-3, "max abs error " + maxAbs);
  }
}
