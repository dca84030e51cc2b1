package dev.nnvm.spark.job;

import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ScoringSpec;
import dev.nnvm.scoring.text.Encoded;
import dev.nnvm.scoring.text.Pooling;
import dev.nnvm.scoring.text.TextTokenizer;
import dev.nnvm.scoring.text.TokenizerCache;
import dev.nnvm.spark.SparkArrow;
import dev.nnvm.spark.SparkMetrics;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The executor side of {@code embed}, one partition at a time, all in Arrow: a chunk of texts is tokenized in one
 * call ({@link TextTokenizer}, built once per executor JVM from the broadcast tokenizer.json), ordered by token
 * count and cut into runs of at most the spec's batch size, each run padded only to its own longest row and scored
 * by a {@link BatchScorer} (one model run per call; the model is loaded once per executor JVM), the first output
 * mean-pooled over the attention mask and L2-normalized straight from the output vectors ({@link Pooling#embed}),
 * and the vectors put back in row order. Rows come out as the input row plus a {@code float[]} embedding (null for
 * a null text).
 *
 * <p>This fuses the tokenizer, model and pooling stages so that no per-token array ever becomes a Spark value:
 * {@code [seq, 384]} hidden states per sentence as nested Spark arrays would cost more than the model's run. The
 * scorer, the Arrow memory and the task's counters are released when the rows run out or, at the latest, when the
 * task ends.
 */
final class EmbeddingPartitions implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Broadcast<ScoringSpec> spec;
  private final Broadcast<byte[]> tokenizerJson;
  private final String fingerprint;
  private final int maxLength;
  private final int textIndex;
  private final int chunkRows;
  private final boolean normalize;
  private final String hiddenOutput;
  private final SparkMetrics metrics;

  EmbeddingPartitions(Broadcast<ScoringSpec> spec, Broadcast<byte[]> tokenizerJson, String fingerprint, int maxLength,
      int textIndex, int chunkRows, boolean normalize, String hiddenOutput, SparkMetrics metrics) {
    this.spec = spec;
    this.tokenizerJson = tokenizerJson;
    this.fingerprint = fingerprint;
    this.maxLength = maxLength;
    this.textIndex = textIndex;
    this.chunkRows = chunkRows;
    this.normalize = normalize;
    this.hiddenOutput = hiddenOutput;
    this.metrics = metrics;
  }

  Iterator<Row> apply(Iterator<Row> rows) {
    return new Embedded(rows);
  }

  /**
   * The non-null rows of {@code encoded} in runs for the model: ordered by token count and cut into runs of at
   * most {@code batchSize} rows, so that each run, padded to its own longest row, carries little padding (rows of
   * a run differ by the few tokens that separate neighbours in the sorted order), and the scorer gets exactly one
   * model run per call.
   */
  static List<int[]> runs(Encoded encoded, int batchSize) {
    List<Integer> rows = new ArrayList<>();
    for (int r = 0; r < encoded.size(); r++) {
      if (!encoded.isNull(r)) {
        rows.add(r);
      }
    }
    rows.sort(java.util.Comparator.comparingInt(encoded::length));
    List<int[]> out = new ArrayList<>();
    for (int start = 0; start < rows.size(); start += batchSize) {
      out.add(rows.subList(start, Math.min(rows.size(), start + batchSize)).stream().mapToInt(Integer::intValue)
          .toArray());
    }
    return out;
  }

  private final class Embedded implements Iterator<Row> {
    private final Iterator<Row> rows;
    private final TextTokenizer tokenizer;
    private BufferAllocator allocator;
    private BatchScorer scorer;
    private List<Row> chunk = List.of();
    private float[][] vectors;
    private int next;
    private boolean closed;

    Embedded(Iterator<Row> rows) {
      this.rows = rows;
      this.tokenizer = TokenizerCache.shared().get(fingerprint, maxLength, tokenizerJson::value);
      TaskContext task = TaskContext.get();
      if (task != null) {
        task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) t -> close());
      }
    }

    @Override
    public boolean hasNext() {
      if (next < chunk.size()) {
        return true;
      }
      if (closed || !rows.hasNext()) {
        close();
        return false;
      }
      embedNextChunk();
      return true;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Row r = chunk.get(next);
      Object[] values = new Object[r.length() + 1];
      for (int i = 0; i < r.length(); i++) {
        values[i] = r.get(i);
      }
      values[r.length()] = vectors[next];
      next++;
      return RowFactory.create(values);
    }

    private void embedNextChunk() {
      if (scorer == null) {
        allocator = SparkArrow.rootAllocator().newChildAllocator("nnvm-embed-" + Thread.currentThread().getId(), 0,
            Long.MAX_VALUE);
        scorer = BatchScorer.open(spec.value(), allocator);
      }
      List<Row> batch = new ArrayList<>(chunkRows);
      List<String> texts = new ArrayList<>(chunkRows);
      while (batch.size() < chunkRows && rows.hasNext()) {
        Row r = rows.next();
        batch.add(r);
        texts.add(r.isNullAt(textIndex) ? null : r.getString(textIndex));
      }
      float[][] out = new float[batch.size()][];
      Encoded encoded = tokenizer.encode(texts);
      for (int[] run : runs(encoded, spec.value().batchSize())) {
        int longest = 0;
        for (int r : run) {
          longest = Math.max(longest, encoded.length(r));
        }
        try (VectorSchemaRoot in = encoded.toArrow(allocator, run, longest);
            VectorSchemaRoot hidden = scorer.score(in);
            VectorSchemaRoot pooled = Pooling.embed(hidden.getVector(hiddenOutput),
                in.getVector(TextTokenizer.ATTENTION_MASK), "embedding", normalize, allocator)) {
          FixedSizeListVector list = (FixedSizeListVector) pooled.getVector(0);
          Float4Vector values = (Float4Vector) list.getDataVector();
          int dim = list.getListSize();
          for (int i = 0; i < run.length; i++) {
            if (list.isNull(i)) {
              continue;
            }
            float[] v = new float[dim];
            for (int d = 0; d < dim; d++) {
              v[d] = values.get(i * dim + d);
            }
            out[run[i]] = v;
          }
        }
      }
      chunk = batch;
      vectors = out;
      next = 0;
    }

    private void close() {
      if (closed) {
        return;
      }
      closed = true;
      if (scorer != null) {
        if (metrics != null) {
          metrics.add(scorer.metrics());
        }
        try {
          scorer.close();
        } finally {
          allocator.close();
        }
      }
    }
  }
}
