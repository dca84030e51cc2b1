package dev.nnvm.flink.table;

import dev.nnvm.arrow.NullPolicy;
import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * The options of {@code CREATE MODEL ... WITH ('provider' = 'nnvm', ...)}.
 * Besides these, {@code 'input-shape.<input>' = '[N, 3, 48, 192]'} specializes
 * an ONNX input's shape for compiling and {@code 'dim.<symbol>' = '128'} fixes
 * a symbolic dimension for scoring.
 */
public final class NnvmModelOptions {
  private NnvmModelOptions() {}

  /** Prefix of the per-input compile shapes. */
  public static final String INPUT_SHAPE_PREFIX = "input-shape.";
  /** Prefix of the dimension bindings. */
  public static final String DIM_PREFIX = "dim.";

  public static final ConfigOption<String> PATH = ConfigOptions.key("path").stringType().noDefaultValue()
      .withDescription("The model: an ONNX file (compiled when the statement is planned, on the client, through the"
          + " artifact cache) or a compiled .nnvm artifact. A local path of the machine that plans the query; the"
          + " compiled bytes travel with the job.");

  public static final ConfigOption<Integer> BATCH_SIZE = ConfigOptions.key("batch-size").intType().defaultValue(32)
      .withDescription("Rows gathered into one native run. Flink hands a predict function one row at a time; the"
          + " asynchronous function queues them and scores the queue when it holds this many rows or the oldest has"
          + " waited 'max-latency'. Flink bounds the rows in flight per subtask with"
          + " table.exec.async-ml-predict.max-concurrent-operations (default 10): set it to at least this value, or"
          + " batches stop at that bound.");

  public static final ConfigOption<Duration> MAX_LATENCY = ConfigOptions.key("max-latency").durationType()
      .defaultValue(Duration.ofMillis(20))
      .withDescription("The most a row waits for its batch to fill before the batch is scored anyway.");

  public static final ConfigOption<Integer> THREADS = ConfigOptions.key("threads").intType().defaultValue(1)
      .withDescription("Threads of one native run (per subtask).");

  public static final ConfigOption<NullPolicy> NULL_POLICY = ConfigOptions.key("null-policy")
      .enumType(NullPolicy.class).defaultValue(NullPolicy.NULL_OUTPUT)
      .withDescription("A row with a null or misfit feature (wrong array length, a null element): NULL_OUTPUT gives"
          + " it null predictions and logs it; STRICT fails the query naming the row and column.");
}
