package dev.nnvm.flink.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.flink.FlinkTestModels;
import dev.nnvm.flink.TensorModel;
import dev.nnvm.flink.ValueExtractor;
import dev.nnvm.scoring.ScoringSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator's unordered mode: batches overlap on the operator's scoring
 * pool, results come back through the mailbox. Its outputs, as a multiset,
 * equal the ordered mode's and ONNX Runtime's (bad records included); batches
 * really are scored at once on pool threads while results are emitted on the
 * task thread; STRICT still fails the job naming the record. (Exactly-once
 * across a failure: {@link ExactlyOnceTest}.)
 */
class UnorderedInferenceTest {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
      .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  private static final int N = 64;
  private static final long NULL_ID = 5;
  private static final long SHORT_ID = 22;
  private static final long DOUBLE_ID = 47;

  /** Threads that ran the extractors (scoring) and the mapper (emission). */
  static final Set<String> SCORING_THREADS = ConcurrentHashMap.newKeySet();
  static final Set<String> EMITTING_THREADS = ConcurrentHashMap.newKeySet();
  static final AtomicInteger ACTIVE = new AtomicInteger();
  static final AtomicInteger MAX_ACTIVE = new AtomicInteger();

  @Test
  @Timeout(90)
  void unorderedOutputsEqualOrderedAndOnnxRuntime() throws Exception {
    System.out.println("crops seed " + FlinkTestModels.SEED);
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();
    String output = spec.outputs().get(0).name();

    Map<Long, Scored> ordered = run(spec, output, false);
    Map<Long, Scored> unordered = run(spec, output, true);
    assertEquals(N, ordered.size());
    assertEquals(ordered.keySet(), unordered.keySet(), "the same records come out, each once");

    List<float[]> good = new ArrayList<>();
    List<float[]> got = new ArrayList<>();
    for (long id = 0; id < N; id++) {
      Scored o = ordered.get(id);
      Scored u = unordered.get(id);
      if (id == NULL_ID || id == SHORT_ID || id == DOUBLE_ID) {
        assertNull(u.probs, "crop " + id + " is bad");
        assertNotNull(u.error);
        assertEquals(o.error, u.error, "the same error in both modes");
        assertTrue(u.error.startsWith("crop " + id + ": column 'x'"), u.error);
        continue;
      }
      assertNull(u.error, u.error);
      assertArrayEquals(o.probs, u.probs, 1e-6f, "crop " + id + ": unordered as ordered");
      good.add(FlinkTestModels.crop(id));
      got.add(u.probs);
    }
    double maxAbs = FlinkTestModels.compare("unordered mode (parallelism 2, batch 8, 3 in flight)",
        FlinkTestModels.ortClassifier(good), got.toArray(new float[0][]));
    assertTrue(maxAbs < 1e-4, "max abs error " + maxAbs);
  }

  @Test
  @Timeout(60)
  void batchesOverlapOnThePoolAndResultsLeaveOnTheTaskThread() throws Exception {
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();
    String output = spec.outputs().get(0).name();
    SCORING_THREADS.clear();
    EMITTING_THREADS.clear();
    ACTIVE.set(0);
    MAX_ACTIVE.set(0);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    int n = 48;
    DataStream<Crop> crops = env.fromSequence(0, n - 1).map(id -> Crop.of(id, -1, -1, -1)).returns(Crop.class);
    // A slow extractor (3 ms per record, 24 ms per batch of 8) keeps a batch on the pool while the task thread
    // fills the next one: with one subtask, two extractions at once can only be two batches in flight.
    ValueExtractor<Crop> slow = c -> {
      int now = ACTIVE.incrementAndGet();
      MAX_ACTIVE.accumulateAndGet(now, Math::max);
      SCORING_THREADS.add(Thread.currentThread().getName());
      try {
        Thread.sleep(3);
        return c.input();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      } finally {
        ACTIVE.decrementAndGet();
      }
    };
    List<Scored> results = NnvmInference.of(TensorModel.<Crop>of(spec, Map.of("x", slow)))
        .batchSize(8).maxLatency(Duration.ofMillis(500)).unordered(3)
        .apply(crops, (c, p) -> {
          EMITTING_THREADS.add(Thread.currentThread().getName());
          return Scored.of(c, p, output);
        }, TypeInformation.of(Scored.class))
        .executeAndCollect(n + 1);
    assertEquals(n, results.size());
    results.sort(Comparator.comparingLong(s -> s.id));
    List<float[]> want = new ArrayList<>();
    List<float[]> got = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      assertEquals(i, results.get(i).id);
      want.add(FlinkTestModels.crop(i));
      got.add(results.get(i).probs);
    }
    double maxAbs = FlinkTestModels.compare("unordered, overlapping batches (parallelism 1)",
        FlinkTestModels.ortClassifier(want), got.toArray(new float[0][]));
    assertTrue(maxAbs < 1e-4, "max abs error " + maxAbs);
    System.out.printf("batches scored at once: at most %d (limit 3); scoring threads %s; emitting threads %s%n",
        MAX_ACTIVE.get(), SCORING_THREADS, EMITTING_THREADS);
    assertTrue(MAX_ACTIVE.get() >= 2, "batches overlapped: " + MAX_ACTIVE.get());
    assertTrue(MAX_ACTIVE.get() <= 3, "at most maxInFlight batches at once: " + MAX_ACTIVE.get());
    assertTrue(SCORING_THREADS.size() >= 2 && SCORING_THREADS.size() <= 3, "pool threads " + SCORING_THREADS);
    assertTrue(SCORING_THREADS.stream().allMatch(t -> t.contains("-scoring-")), SCORING_THREADS.toString());
    assertTrue(EMITTING_THREADS.stream().noneMatch(t -> t.contains("-scoring-")),
        "results are emitted on the task thread: " + EMITTING_THREADS);
  }

  @Test
  @Timeout(60)
  void strictPolicyFailsTheJobFromThePool() throws Exception {
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).nullPolicy(NullPolicy.STRICT).build();
    String output = spec.outputs().get(0).name();
    String message = JobFailures.message(3, () -> {
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.setParallelism(1);
      DataStream<Crop> crops = env.fromSequence(10, 25).map(id -> Crop.of(id, -1, 19, -1)).returns(Crop.class);
      NnvmInference.of(TensorModel.<Crop>of(spec, Map.of("x", (ValueExtractor<Crop>) Crop::input)))
          .batchSize(4).unordered(2).recordNamer((c, i) -> "crop " + c.id)
          .apply(crops, (c, p) -> Scored.of(c, p, output), TypeInformation.of(Scored.class))
          .sinkTo(new DiscardingSink<>());
      // The job's own failure (a collect sink could report its fetch failing first).
      env.executeAsync("strict").getJobExecutionResult().get();
    }, IllegalArgumentException.class);
    System.out.println("STRICT, unordered: " + message);
    assertTrue(message.startsWith("crop 19: column 'x' has 100 elements"), message);
  }

  /** Scores N crops (three bad) with parallelism 2, batches of 8; results by id, failing on a duplicate. */
  private static Map<Long, Scored> run(ScoringSpec spec, String output, boolean unordered) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    DataStream<Crop> crops = env.fromSequence(0, N - 1)
        .map(id -> Crop.of(id, NULL_ID, SHORT_ID, DOUBLE_ID)).returns(Crop.class);
    NnvmInference<Crop> inference = NnvmInference.of(TensorModel.<Crop>of(spec,
            Map.of("x", (ValueExtractor<Crop>) Crop::input)))
        .batchSize(8).maxLatency(Duration.ofMillis(50)).recordNamer((c, i) -> "crop " + c.id);
    if (unordered) {
      inference.unordered(3);
    }
    long t0 = System.nanoTime();
    List<Scored> results = Collections.synchronizedList(new ArrayList<>(
        inference.apply(crops, (c, p) -> Scored.of(c, p, output), TypeInformation.of(Scored.class))
            .executeAndCollect(N + 1)));
    System.out.printf("%s: %d crops in %.0f ms%n", unordered ? "unordered" : "ordered", results.size(),
        (System.nanoTime() - t0) / 1e6);
    Map<Long, Scored> byId = new HashMap<>();
    for (Scored s : results) {
      assertNull(byId.put(s.id, s), "crop " + s.id + " came out twice");
    }
    return byId;
  }
}
