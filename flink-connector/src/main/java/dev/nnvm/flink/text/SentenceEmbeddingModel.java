package dev.nnvm.flink.text;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.flink.BatchModel;
import dev.nnvm.flink.OutputValues;
import dev.nnvm.flink.Prediction;
import dev.nnvm.flink.RecordNamer;
import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.scoring.ScoringSpec;
import dev.nnvm.scoring.text.Encoded;
import dev.nnvm.scoring.text.Pooling;
import dev.nnvm.scoring.text.TextTokenizer;
import dev.nnvm.scoring.text.TokenBuckets;
import dev.nnvm.scoring.text.TokenizerCache;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * Sentence embeddings on a stream: each micro-batch of texts goes through a
 * Hugging Face tokenizer (DJL, {@link TextTokenizer}, one per TaskManager JVM
 * through {@link TokenizerCache}), is grouped by token count so each group is
 * padded only to its own longest row ({@link TokenBuckets}), runs through a
 * BERT-style encoder compiled on the client (inputs {@code input_ids},
 * {@code attention_mask}, {@code token_type_ids}), and is mean-pooled with
 * the attention mask and L2-normalized ({@link Pooling}), the way
 * sentence-transformers computes embeddings. The same stages the Spark
 * connector uses.
 *
 * <p>The prediction's output column is {@value #EMBEDDING} ({@code float[]}).
 * A null text is a bad record (null prediction under NULL_OUTPUT, an error
 * under STRICT).
 *
 * @param <IN> the record type
 */
public final class SentenceEmbeddingModel<IN> implements BatchModel<IN> {
  private static final long serialVersionUID = 1L;
  /** The prediction's output column. */
  public static final String EMBEDDING = "embedding";

  /** The text of a record (null for none). */
  @FunctionalInterface
  public interface TextExtractor<IN> extends Serializable {
    String text(IN record);
  }

  private final ScoringSpec spec;
  private final byte[] tokenizerJson;
  private final String fingerprint;
  private final int maxLength;
  private final TextExtractor<? super IN> text;
  private final String hiddenOutput;
  private final int bucketWidth;
  private final boolean normalize;

  private SentenceEmbeddingModel(ScoringSpec spec, byte[] tokenizerJson, int maxLength,
      TextExtractor<? super IN> text, String hiddenOutput, int bucketWidth, boolean normalize) {
    this.spec = spec;
    this.tokenizerJson = tokenizerJson;
    this.fingerprint = TextTokenizer.fingerprint(tokenizerJson);
    this.maxLength = maxLength;
    this.text = text;
    this.hiddenOutput = hiddenOutput;
    this.bucketWidth = bucketWidth;
    this.normalize = normalize;
  }

  /**
   * Embeddings of {@code text} by the encoder in {@code spec} (its first output is the token states
   * {@code [N, seq, hidden]}), tokenized by {@code tokenizerJson}, at most {@code maxLength} tokens; length buckets
   * 16 tokens wide, L2-normalized.
   *
   * @throws IllegalArgumentException when the tokenizer bytes are not a tokenizer.json (checked here, on the
   *     client) or the model lacks the token inputs
   */
  public static <IN> SentenceEmbeddingModel<IN> of(ScoringSpec spec, byte[] tokenizerJson, int maxLength,
      TextExtractor<? super IN> text) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(text, "text");
    List<String> columns = spec.columns();
    for (String c : List.of(TextTokenizer.INPUT_IDS, TextTokenizer.ATTENTION_MASK)) {
      if (!columns.contains(c)) {
        throw new IllegalArgumentException("model '" + spec.modelName() + "' reads columns " + columns
            + "; a sentence encoder needs '" + c + "'");
      }
    }
    TextTokenizer.fromBytes(tokenizerJson, maxLength).close(); // fail on the client, not in every TaskManager
    return new SentenceEmbeddingModel<>(spec, tokenizerJson.clone(), maxLength, text,
        spec.outputs().get(0).name(), 16, true);
  }

  /** The same model with length buckets {@code width} tokens wide (1: every length its own bucket). */
  public SentenceEmbeddingModel<IN> bucketWidth(int width) {
    if (width < 1) {
      throw new IllegalArgumentException("bucket width must be at least 1, got " + width);
    }
    return new SentenceEmbeddingModel<>(spec, tokenizerJson, maxLength, text, hiddenOutput, width, normalize);
  }

  /** The same model with or without L2 normalization of the embeddings. */
  public SentenceEmbeddingModel<IN> normalize(boolean on) {
    return new SentenceEmbeddingModel<>(spec, tokenizerJson, maxLength, text, hiddenOutput, bucketWidth, on);
  }

  @Override
  public ScoringSpec spec() {
    return spec;
  }

  @Override
  public Runner<IN> open(BufferAllocator allocator) {
    return new EmbeddingRunner(allocator);
  }

  private final class EmbeddingRunner implements Runner<IN> {
    private final BufferAllocator allocator;
    private final TextTokenizer tokenizer;
    private final BatchScorer scorer;

    EmbeddingRunner(BufferAllocator parent) {
      this.tokenizer = TokenizerCache.shared().get(fingerprint, maxLength, () -> tokenizerJson);
      this.allocator = parent.newChildAllocator("flink-sentences-" + spec.artifactId().substring(0, 12), 0,
          Long.MAX_VALUE);
      try {
        this.scorer = BatchScorer.open(spec, parent);
      } catch (RuntimeException | Error e) {
        allocator.close();
        throw e;
      }
    }

    @Override
    public List<Prediction> score(List<IN> records, RecordNamer<? super IN> names, long firstIndex) {
      int n = records.size();
      List<String> texts = new ArrayList<>(n);
      Prediction[] out = new Prediction[n];
      for (int i = 0; i < n; i++) {
        String t;
        String problem = null;
        try {
          t = text.text(records.get(i));
        } catch (RuntimeException e) {
          t = null;
          problem = "reading the text failed: " + e;
        }
        if (t == null) {
          String message = names.name(records.get(i), firstIndex + i) + ": "
              + (problem == null ? "the text is null" : problem);
          if (spec.nullPolicy() == NullPolicy.STRICT) {
            throw new IllegalArgumentException(message + " (null policy STRICT)");
          }
          out[i] = Prediction.failed(message, n);
        }
        texts.add(t);
      }
      Encoded encoded = tokenizer.encode(texts);
      try (TokenBuckets buckets = encoded.bucketed(allocator, bucketWidth)) {
        if (buckets.buckets().isEmpty()) {
          return List.of(out);
        }
        List<VectorSchemaRoot> pooled = new ArrayList<>();
        try {
          for (TokenBuckets.Bucket b : buckets.buckets()) {
            try (VectorSchemaRoot hidden = scorer.score(b.batch())) {
              pooled.add(Pooling.embed(hidden.getVector(spec.outputColumns().get(hiddenOutput)),
                  b.batch().getVector(TextTokenizer.ATTENTION_MASK), EMBEDDING, normalize, allocator));
            }
          }
          try (VectorSchemaRoot merged = buckets.merge(pooled, pooled.get(0).getSchema(), allocator)) {
            FieldVector e = merged.getVector(EMBEDDING);
            for (int i = 0; i < n; i++) {
              if (out[i] == null) {
                out[i] = Prediction.of(Map.of(EMBEDDING, readFloats(e, i)), n);
              }
            }
          }
        } finally {
          pooled.forEach(VectorSchemaRoot::close);
        }
      }
      return List.of(out);
    }

    @Override
    public ScoringMetrics metrics() {
      return scorer.metrics();
    }

    @Override
    public void close() {
      try {
        scorer.close();
      } finally {
        allocator.close();
      }
    }
  }

  private static float[] readFloats(FieldVector v, int row) {
    Object o = OutputValues.read(v, row);
    return (float[]) o;
  }
}
