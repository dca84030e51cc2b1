package dev.nnvm.scoring.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ScoringSpec;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sentences to embeddings through every stage a connector uses: the
 * tokenizer (all-MiniLM-L6-v2's tokenizer.json), length buckets, the compiled
 * model scored by {@link BatchScorer} on each bucket's padded batch, mean
 * pooling with the mask and L2 normalization, and the merge back to row order
 * (a null text stays a null row). The oracle is ONNX Runtime run on each
 * sentence alone (the same token ids, no padding at all), its
 * last_hidden_state pooled here in double precision: padding, bucketing and
 * pooling must not change the embedding.
 */
class MiniLmTextEndToEndTest {
  private static final int NULL_ROW = 10;

  @Test
  @Timeout(900)
  void sentencesEmbedLikeOnnxRuntime() throws Exception {
    byte[] onnx = TextFixtures.resource(TextFixtures.MODEL);
    long t0 = System.nanoTime();
    byte[] artifact = ModelCompiler.create().withCache(ArtifactCache.defaultDirectory())
        .compile(onnx, null, "all-MiniLM-L6-v2", CompileOptions.defaults()).bytes();
    System.out.printf("all-MiniLM-L6-v2 compiled (or read from the artifact cache) in %.0f ms%n",
        (System.nanoTime() - t0) / 1e6);
    List<String> texts = new ArrayList<>(TextFixtures.SENTENCES);
    texts.add(NULL_ROW, null);
    int n = texts.size();

    float[][] got = new float[n][];
    boolean[] gotNull = new boolean[n];
    Encoded encoded;
    long tokenizeNanos;
    long scoreNanos;
    int dim;
    try (BufferAllocator allocator = new RootAllocator();
        TextTokenizer tokenizer = TextTokenizer.fromBytes(TextFixtures.resource(TextFixtures.TOKENIZER), 128)) {
      long t1 = System.nanoTime();
      encoded = tokenizer.encode(texts);
      tokenizeNanos = System.nanoTime() - t1;
      ScoringSpec spec = ScoringSpec.builder(artifact).threads(2).build();
      long t2 = System.nanoTime();
      try (BatchScorer scorer = BatchScorer.open(spec, allocator);
          TokenBuckets buckets = encoded.bucketed(allocator, 16)) {
        List<VectorSchemaRoot> embeddings = new ArrayList<>();
        try {
          for (TokenBuckets.Bucket b : buckets.buckets()) {
            try (VectorSchemaRoot hidden = scorer.score(b.batch())) {
              embeddings.add(Pooling.embed(hidden.getVector("last_hidden_state"),
                  b.batch().getVector(TextTokenizer.ATTENTION_MASK), "embedding", true, allocator));
            }
          }
          try (VectorSchemaRoot merged = buckets.merge(embeddings, embeddings.get(0).getSchema(), allocator)) {
            scoreNanos = System.nanoTime() - t2;
            FixedSizeListVector e = (FixedSizeListVector) merged.getVector("embedding");
            dim = e.getListSize();
            assertEquals(n, merged.getRowCount());
            for (int r = 0; r < n; r++) {
              gotNull[r] = e.isNull(r);
              if (!gotNull[r]) {
                got[r] = new float[dim];
                for (int d = 0; d < dim; d++) {
                  got[r][d] = ((Float4Vector) e.getDataVector()).get(r * dim + d);
                }
              }
            }
          }
        } finally {
          embeddings.forEach(VectorSchemaRoot::close);
        }
        System.out.printf("%d texts: %d buckets of width 16, %d tokens padded (%d padded to the longest)%n", n,
            buckets.buckets().size(), buckets.paddedTokens(), (long) (n - 1) * encoded.longest());
      }
    }
    assertEquals(384, dim);

    double maxAbs = 0;
    double minCos = 1;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(2);
      try (OrtSession session = env.createSession(onnx, opts)) {
        for (int r = 0; r < n; r++) {
          assertEquals(r == NULL_ROW, gotNull[r], "row " + r + " is null exactly when its text is");
          if (r == NULL_ROW) {
            continue;
          }
          long[] shape = {1, encoded.length(r)};
          try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(encoded.inputIds(r)), shape);
              OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(encoded.attentionMask(r)), shape);
              OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(encoded.tokenTypeIds(r)), shape);
              OrtSession.Result res = session.run(Map.of(TextTokenizer.INPUT_IDS, ids,
                  TextTokenizer.ATTENTION_MASK, mask, TextTokenizer.TOKEN_TYPE_IDS, types))) {
            FloatBuffer hidden = ((OnnxTensor) res.get("last_hidden_state").orElseThrow()).getFloatBuffer();
            double[] want = new double[dim];
            for (int t = 0; t < encoded.length(r); t++) {
              for (int d = 0; d < dim; d++) {
                want[d] += hidden.get(t * dim + d);
              }
            }
            double norm = 0;
            for (int d = 0; d < dim; d++) {
              want[d] /= encoded.length(r);
              norm += want[d] * want[d];
            }
            norm = Math.sqrt(norm);
            double dot = 0;
            double gotNorm = 0;
            for (int d = 0; d < dim; d++) {
              want[d] /= norm;
              maxAbs = Math.max(maxAbs, Math.abs(want[d] - got[r][d]));
              dot += want[d] * got[r][d];
              gotNorm += (double) got[r][d] * got[r][d];
            }
            double cos = dot / Math.sqrt(gotNorm);
            minCos = Math.min(minCos, cos);
            assertTrue(cos > 0.9999, "row " + r + " (" + encoded.length(r) + " tokens): cosine " + cos);
          }
        }
      }
    }
    System.out.printf("sentence embeddings vs ONNX Runtime (%d sentences, %d tokens max): max abs error %.3g,"
        + " min cosine similarity %.10f; tokenizing %.1f ms, scoring + pooling %.0f ms%n", n - 1, encoded.longest(),
        maxAbs, minCos, tokenizeNanos / 1e6, scoreNanos / 1e6);
    assertTrue(maxAbs < 1e-3, "max abs error " + maxAbs);
  }
}
