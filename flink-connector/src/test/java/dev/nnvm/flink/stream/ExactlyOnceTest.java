package dev.nnvm.flink.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.flink.FlinkTestModels;
import dev.nnvm.flink.TensorModel;
import dev.nnvm.flink.ValueExtractor;
import dev.nnvm.scoring.ScoringSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Exactly-once through the inference operator: checkpoints every 100 ms, a
 * failure injected downstream of the operator after the first completed
 * checkpoint, a restart from that checkpoint, and a two-phase sink whose
 * committed output must hold every record exactly once, equal to a clean run
 * of the same job (and to ONNX Runtime); in the ordered and the unordered mode.
 */
class ExactlyOnceTest {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
      .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  private static final int N = 160;
  static final AtomicBoolean FAIL = new AtomicBoolean();
  static final AtomicBoolean FAILED = new AtomicBoolean();
  static final AtomicInteger CHECKPOINTS = new AtomicInteger();
  static final AtomicInteger COMMITTED_BEFORE_FAILURE = new AtomicInteger();
  static final AtomicInteger CHECKPOINTS_BEFORE_FAILURE = new AtomicInteger();

  @Test
  @Timeout(120)
  void failureMidStreamCommitsEveryRecordOnce() throws Exception {
    failureMidStream(false);
  }

  /** The unordered mode: batches in flight on the scoring pool are drained before each barrier. */
  @Test
  @Timeout(120)
  void unorderedFailureMidStreamCommitsEveryRecordOnce() throws Exception {
    failureMidStream(true);
  }

  private static void failureMidStream(boolean unordered) throws Exception {
    System.out.println("crops seed " + FlinkTestModels.SEED + (unordered ? ", unordered mode (3 batches in flight)"
        : ", ordered mode"));
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();
    String output = spec.outputs().get(0).name();

    Map<Long, Scored> clean = run(spec, output, false, unordered);
    assertEquals(N, clean.size());

    Map<Long, Scored> recovered = run(spec, output, true, unordered);
    assertTrue(FAILED.get(), "the failure was injected");
    System.out.printf("failure injected after %d checkpoint notifications (both subtasks) with %d committed"
        + " batches; after recovery %d committed batches%n", CHECKPOINTS_BEFORE_FAILURE.get(), COMMITTED_BEFORE_FAILURE.get(),
        CommittingCollectSink.COMMITTED.size());
    assertTrue(COMMITTED_BEFORE_FAILURE.get() >= 1, "some output was committed before the failure");
    List<Long> missing = new ArrayList<>(clean.keySet());
    missing.removeAll(recovered.keySet());
    assertTrue(missing.isEmpty(), "records lost across the failure: " + missing);
    assertEquals(clean.keySet(), recovered.keySet());
    List<float[]> want = new ArrayList<>();
    List<float[]> got = new ArrayList<>();
    for (long id = 0; id < N; id++) {
      assertArrayEquals(clean.get(id).probs, recovered.get(id).probs, 1e-6f, "record " + id + " as in the clean run");
      want.add(FlinkTestModels.crop(id));
      got.add(recovered.get(id).probs);
    }
    double maxAbs = FlinkTestModels.compare("committed output after a failure", FlinkTestModels.ortClassifier(want),
        got.toArray(new float[0][]));
    assertTrue(maxAbs < 1e-4, "max abs error " + maxAbs);
  }

  /** Runs the job; returns the committed results by record id, failing if any record was committed twice. */
  private static Map<Long, Scored> run(ScoringSpec spec, String output, boolean fail, boolean unordered)
      throws Exception {
    CommittingCollectSink.COMMITTED.clear();
    FAIL.set(fail);
    FAILED.set(false);
    CHECKPOINTS.set(0);
    COMMITTED_BEFORE_FAILURE.set(0);
    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
    env.setParallelism(2);
    env.enableCheckpointing(100);
    DataStream<Crop> crops = env.fromSequence(0, N - 1).map(id -> {
      Thread.sleep(8); // about 0.7 s of input per subtask: several checkpoints happen mid-stream
      return Crop.of(id, -1, -1, -1);
    }).returns(Crop.class);
    NnvmInference<Crop> inference = NnvmInference.of(TensorModel.<Crop>of(spec,
            Map.of("x", (ValueExtractor<Crop>) Crop::input)))
        .batchSize(16).maxLatency(Duration.ofMillis(30));
    if (unordered) {
      inference.unordered(3);
    }
    inference.apply(crops, (c, p) -> Scored.of(c, p, output), TypeInformation.of(Scored.class))
        .map(new FailOnce()).returns(Scored.class)
        .sinkTo(new CommittingCollectSink());
    long t0 = System.nanoTime();
    env.execute(fail ? "exactly-once with a failure" : "clean run");
    System.out.printf("%s: %.0f ms, %d committed batches%n", fail ? "run with a failure" : "clean run",
        (System.nanoTime() - t0) / 1e6, CommittingCollectSink.COMMITTED.size());
    Map<Long, Scored> byId = new HashMap<>();
    for (List<Scored> batch : CommittingCollectSink.COMMITTED.values()) {
      for (Scored s : batch) {
        Scored previous = byId.put(s.id, s);
        assertTrue(previous == null, "record " + s.id + " was committed twice");
      }
    }
    return byId;
  }

  /** Throws once, at the first record it sees after the sink committed output (a checkpoint completed). */
  static final class FailOnce extends RichMapFunction<Scored, Scored> implements CheckpointListener {
    @Override
    public Scored map(Scored value) {
      if (FAIL.get() && !CommittingCollectSink.COMMITTED.isEmpty() && FAILED.compareAndSet(false, true)) {
        COMMITTED_BEFORE_FAILURE.set(CommittingCollectSink.COMMITTED.size());
        CHECKPOINTS_BEFORE_FAILURE.set(CHECKPOINTS.get());
        throw new IllegalStateException("injected failure at record " + value.id);
      }
      return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      CHECKPOINTS.incrementAndGet();
    }
  }
}
