package dev.nnvm.flink;

import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.scoring.ScoringSpec;
import java.io.Serializable;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;

/**
 * What a micro-batch of records goes through: built on the client (it holds
 * the {@link ScoringSpec} with the compiled artifact's bytes and travels with
 * the job), opened once per subtask into a {@link Runner}. Implementations:
 * {@link TensorModel} (record values into model inputs) and
 * {@link dev.nnvm.flink.text.SentenceEmbeddingModel} (texts through a
 * tokenizer, the encoder and mean pooling).
 *
 * @param <IN> the record type
 */
public interface BatchModel<IN> extends Serializable {
  /** Where models score today, and why (logged when an operator or predict function opens). */
  String DEVICE = "on the CPU (this build has no CUDA target yet; GPUs through Flink's external resources come"
      + " with it)";

  /** The spec the runner scores with. */
  ScoringSpec spec();

  /** Opens a runner for one subtask; its Arrow memory is a child of {@code allocator}. */
  Runner<IN> open(BufferAllocator allocator);

  /** One subtask's scorer over micro-batches. Not thread-safe. */
  interface Runner<IN> extends AutoCloseable {
    /**
     * Scores records; one prediction per record, in order. A record that does not fit the model (a null, a
     * wrong length, a wrong type) is named with {@code names} (record i of the batch is the subtask's record
     * {@code firstIndex + i}): under the spec's
     * {@link dev.nnvm.arrow.NullPolicy#NULL_OUTPUT} it gets a failed prediction saying why, under
     * {@link dev.nnvm.arrow.NullPolicy#STRICT} this throws an {@link IllegalArgumentException} naming it.
     */
    List<Prediction> score(List<IN> records, RecordNamer<? super IN> names, long firstIndex);

    /** The counters of the native runs so far (live). */
    ScoringMetrics metrics();

    @Override
    void close();
  }
}
