package dev.nnvm.flink.stream;

import dev.nnvm.flink.BatchModel;
import dev.nnvm.flink.RecordNamer;
import dev.nnvm.flink.ResultMapper;
import java.time.Duration;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

/**
 * The DataStream entry point: scores a stream with a compiled model in
 * micro-batches ({@link InferenceOperator}).
 *
 * <pre>{@code
 * byte[] artifact = ModelArtifacts.load("cls.onnx", Map.of("x", "[N, 3, 48, 192]"));  // on the client, once
 * ScoringSpec spec = ScoringSpec.builder(artifact).build();
 * DataStream<Scored> out = NnvmInference.of(TensorModel.<Crop>of(spec, Map.of("x", c -> c.pixels)))
 *     .batchSize(32)                         // records per micro-batch
 *     .maxLatency(Duration.ofMillis(20))     // the most a record waits for its batch to fill
 *     .recordNamer((c, i) -> "crop " + c.id) // how bad records are named in errors and logs
 *     .apply(crops, (c, p) -> new Scored(c.id, p.floats("softmax_0.tmp_0")), TypeInformation.of(Scored.class));
 * }</pre>
 *
 * @param <IN> the input record type
 */
public final class NnvmInference<IN> {
  /** Default max latency: a record waits at most this long for its batch to fill. */
  public static final Duration DEFAULT_MAX_LATENCY = Duration.ofMillis(50);

  private final BatchModel<IN> model;
  private int batchSize;
  private Duration maxLatency = DEFAULT_MAX_LATENCY;
  private RecordNamer<? super IN> namer = RecordNamer.byPosition();
  private InferenceOperator.OutputMode mode = InferenceOperator.OutputMode.ORDERED;
  private int maxInFlight = 1;
  private String name;

  private NnvmInference(BatchModel<IN> model) {
    this.model = Objects.requireNonNull(model, "model");
    this.batchSize = model.spec().batchSize();
    this.name = "nnvm-inference[" + model.spec().modelName() + "]";
  }

  /** Scoring with {@code model}; batch size defaults to the spec's batch size. */
  public static <IN> NnvmInference<IN> of(BatchModel<IN> model) {
    return new NnvmInference<>(model);
  }

  /** Records per micro-batch: larger batches raise throughput, and under low rates the timer flushes first. */
  public NnvmInference<IN> batchSize(int records) {
    if (records < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1, got " + records);
    }
    this.batchSize = records;
    return this;
  }

  /** The most a record waits for its batch to fill before the batch is scored anyway (0: no batching). */
  public NnvmInference<IN> maxLatency(Duration latency) {
    if (latency.isNegative()) {
      throw new IllegalArgumentException("maxLatency must not be negative, got " + latency);
    }
    this.maxLatency = latency;
    return this;
  }

  /** Results in input order, one batch scored at a time on the task thread (the default). */
  public NnvmInference<IN> ordered() {
    this.mode = InferenceOperator.OutputMode.ORDERED;
    this.maxInFlight = 1;
    return this;
  }

  /**
   * Results as batches finish: up to {@code maxInFlightBatches} batches are scored at once on a pool owned by
   * the operator (one thread each) while the task thread fills the next batch. Records of one batch stay in
   * order; batches may overtake each other. Checkpoints and watermarks still wait for every batch in flight.
   */
  public NnvmInference<IN> unordered(int maxInFlightBatches) {
    if (maxInFlightBatches < 1) {
      throw new IllegalArgumentException("maxInFlightBatches must be at least 1, got " + maxInFlightBatches);
    }
    this.mode = InferenceOperator.OutputMode.UNORDERED;
    this.maxInFlight = maxInFlightBatches;
    return this;
  }

  /** How bad records are named in errors and logs (default: position in the subtask and toString). */
  public NnvmInference<IN> recordNamer(RecordNamer<? super IN> namer) {
    this.namer = Objects.requireNonNull(namer, "namer");
    return this;
  }

  /** The operator's name in the job graph. */
  public NnvmInference<IN> name(String name) {
    this.name = Objects.requireNonNull(name, "name");
    return this;
  }

  /** The operator this builder describes (for tests and custom topologies). */
  public <OUT> InferenceOperator<IN, OUT> operator(ResultMapper<? super IN, OUT> mapper) {
    return new InferenceOperator<>(model, mapper, namer, batchSize, maxLatency.toMillis(), mode, maxInFlight);
  }

  /** Appends the scoring operator to {@code input}; each output record is {@code mapper(record, prediction)}. */
  public <OUT> SingleOutputStreamOperator<OUT> apply(DataStream<IN> input, ResultMapper<? super IN, OUT> mapper,
      TypeInformation<OUT> outputType) {
    return input.transform(name, outputType, operator(mapper));
  }
}
