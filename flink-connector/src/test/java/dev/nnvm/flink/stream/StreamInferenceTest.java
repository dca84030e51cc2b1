package dev.nnvm.flink.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.flink.FlinkTestModels;
import dev.nnvm.flink.TensorModel;
import dev.nnvm.flink.ValueExtractor;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The inference operator on a MiniCluster (one TaskManager, two slots,
 * parallelism 2) with the PP-OCR direction classifier, compiled once here on
 * the client: results equal ONNX Runtime's, come out in input order per
 * subtask, bad records follow the null policy naming the record, the model
 * is loaded once for both slots, and a slow source is flushed by the timer.
 */
class StreamInferenceTest {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
      .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  /** Record ids per subtask as seen before and after the operator (the operators are chained: same JVM). */
  static final Map<Integer, List<Long>> BEFORE = new ConcurrentHashMap<>();
  static final Map<Integer, List<Long>> AFTER = new ConcurrentHashMap<>();

  private static final int N = 40;
  private static final long NULL_ID = 7;
  private static final long SHORT_ID = 13;
  private static final long DOUBLE_ID = 21;

  @Test
  @Timeout(120)
  void classifierMatchesOnnxRuntimeInInputOrder() throws Exception {
    System.out.println("crops seed " + FlinkTestModels.SEED);
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();
    String output = spec.outputs().get(0).name();
    ModelCache.shared().evictIdle(); // so this job's load is counted here, whatever ran before
    int loadsBefore = ModelCache.shared().loadCount();
    BEFORE.clear();
    AFTER.clear();

    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    DataStream<Crop> crops = env.fromSequence(0, N - 1)
        .map(id -> Crop.of(id, NULL_ID, SHORT_ID, DOUBLE_ID)).returns(Crop.class)
        .map(new Tap<>(true)).returns(Crop.class);
    DataStream<Scored> scored = NnvmInference.of(TensorModel.<Crop>of(spec, Map.of("x", (ValueExtractor<Crop>) Crop::input)))
        .batchSize(8)
        .maxLatency(Duration.ofMillis(50))
        .recordNamer((c, i) -> "crop " + c.id)
        .apply(crops, (c, p) -> Scored.of(c, p, output), TypeInformation.of(Scored.class))
        .map(new Tap<>(false)).returns(Scored.class);
    long t0 = System.nanoTime();
    List<Scored> results = new ArrayList<>(scored.executeAndCollect(N + 1));
    System.out.printf("job: %d crops scored in %.0f ms%n", results.size(), (System.nanoTime() - t0) / 1e6);

    assertEquals(N, results.size(), "every crop comes out once");
    results.sort(Comparator.comparingLong(s -> s.id));
    List<float[]> good = new ArrayList<>();
    List<float[]> got = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      Scored s = results.get(i);
      assertEquals(i, s.id);
      if (i == NULL_ID || i == SHORT_ID || i == DOUBLE_ID) {
        assertNull(s.probs, "crop " + i + " is bad");
        assertNotNull(s.error, "crop " + i + " says why");
        assertTrue(s.error.startsWith("crop " + i + ": column 'x'"), s.error);
      } else {
        assertNull(s.error, s.error);
        good.add(FlinkTestModels.crop(i));
        got.add(s.probs);
      }
      assertTrue(s.batchSize >= 1 && s.batchSize <= 8, "batch size " + s.batchSize);
    }
    assertTrue(results.get((int) NULL_ID).error.contains("is null"), results.get((int) NULL_ID).error);
    assertTrue(results.get((int) SHORT_ID).error.contains("has 100 elements")
        && results.get((int) SHORT_ID).error.contains("27648"), results.get((int) SHORT_ID).error);
    assertTrue(results.get((int) DOUBLE_ID).error.contains("f64"), results.get((int) DOUBLE_ID).error);
    float[][] want = FlinkTestModels.ortClassifier(good);
    double maxAbs = FlinkTestModels.compare("direction classifier on a MiniCluster (parallelism 2, batch 8)", want,
        got.toArray(new float[0][]));
    assertTrue(maxAbs < 1e-4, "max abs error " + maxAbs);

    // Input order: each subtask emits its records in the order they reached the operator.
    assertEquals(BEFORE.keySet(), AFTER.keySet());
    for (Integer subtask : BEFORE.keySet()) {
      assertEquals(BEFORE.get(subtask), AFTER.get(subtask), "subtask " + subtask + " keeps input order");
    }
    int loads = ModelCache.shared().loadCount() - loadsBefore;
    System.out.println("model loads in this JVM for 2 subtasks: " + loads);
    assertEquals(1, loads, "one load per TaskManager JVM for both slots");
    assertTrue(ModelCache.shared().loadedModels() >= 1);
  }

  @Test
  @Timeout(60)
  void strictPolicyFailsTheJobNamingTheRecord() throws Exception {
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).nullPolicy(NullPolicy.STRICT).build();
    String message = JobFailures.message(3, () -> {
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.setParallelism(1);
      DataStream<Crop> crops = env.fromSequence(10, 15).map(id -> Crop.of(id, -1, SHORT_ID, -1)).returns(Crop.class);
      NnvmInference.of(TensorModel.<Crop>of(spec, Map.of("x", (ValueExtractor<Crop>) Crop::input)))
          .batchSize(4).recordNamer((c, i) -> "crop " + c.id)
          .apply(crops, (c, p) -> Scored.of(c, p, "unused"), TypeInformation.of(Scored.class))
          .executeAndCollect(10);
    }, IllegalArgumentException.class);
    System.out.println("STRICT: " + message);
    assertTrue(message.startsWith("crop 13: column 'x' has 100 elements"), message);
  }

  @Test
  @Timeout(60)
  void slowSourceIsFlushedByTheTimer() throws Exception {
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();
    String output = spec.outputs().get(0).name();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    int n = 12;
    // 60 ms between records, batches of 64, max latency 10 ms: without the timer all 12 would wait for the end.
    DataStream<Crop> crops = env.fromSequence(0, n - 1).map(id -> {
      Thread.sleep(60);
      return Crop.of(id, -1, -1, -1);
    }).returns(Crop.class);
    List<Scored> results = NnvmInference.of(TensorModel.<Crop>of(spec, Map.of("x", (ValueExtractor<Crop>) Crop::input)))
        .batchSize(64).maxLatency(Duration.ofMillis(10))
        .apply(crops, (c, p) -> Scored.of(c, p, output), TypeInformation.of(Scored.class))
        .executeAndCollect(n + 1);
    assertEquals(n, results.size());
    long maxWait = 0;
    int maxBatch = 0;
    for (Scored s : results) {
      maxWait = Math.max(maxWait, s.scoredMillis - s.createdMillis);
      maxBatch = Math.max(maxBatch, s.batchSize);
    }
    System.out.printf("slow source (a record every 60 ms, max latency 10 ms, batch size 64): largest batch %d,"
        + " longest wait from record to result %d ms%n", maxBatch, maxWait);
    assertTrue(maxBatch <= 2, "the timer flushes before the next record arrives; largest batch " + maxBatch);
    assertTrue(maxWait < 1000, "records wait about the max latency, not for the end of input: " + maxWait + " ms");
  }

  /**
   * With object reuse on, the map before the operator hands over one Crop object, overwritten in place for every
   * record (Flink allows that then): the operator must keep copies of the records it buffers, or every result of
   * a batch would come from the last record written. Ordered and unordered, results equal ONNX Runtime's per id.
   */
  @Test
  @Timeout(90)
  void objectReuseWithAnUpstreamThatOverwritesItsRecord() throws Exception {
    System.out.println("crops seed " + FlinkTestModels.SEED);
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();
    String output = spec.outputs().get(0).name();
    int n = 20;
    List<float[]> want = new ArrayList<>();
    for (long id = 0; id < n; id++) {
      want.add(FlinkTestModels.crop(id));
    }
    float[][] ort = FlinkTestModels.ortClassifier(want);
    for (boolean unordered : new boolean[] {false, true}) {
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.setParallelism(1);
      env.getConfig().enableObjectReuse();
      DataStream<Crop> crops = env.fromSequence(0, n - 1).map(new ReusingCrop()).returns(Crop.class);
      NnvmInference<Crop> inference = NnvmInference.of(TensorModel.<Crop>of(spec,
          Map.of("x", (ValueExtractor<Crop>) Crop::input))).batchSize(8).maxLatency(Duration.ofMillis(200));
      if (unordered) {
        inference.unordered(2);
      }
      List<Scored> results = new ArrayList<>(inference
          .apply(crops, (c, p) -> Scored.of(c, p, output), TypeInformation.of(Scored.class))
          .executeAndCollect(n + 1));
      assertEquals(n, results.size(), "every crop comes out once");
      results.sort(Comparator.comparingLong(s -> s.id));
      float[][] got = new float[n][];
      for (int i = 0; i < n; i++) {
        assertEquals(i, results.get(i).id, "ids 0.." + (n - 1) + " each once");
        assertNull(results.get(i).error, results.get(i).error);
        got[i] = results.get(i).probs;
      }
      double maxAbs = FlinkTestModels.compare("object reuse, upstream overwriting its record ("
          + (unordered ? "unordered, 2 in flight" : "ordered") + ", batch 8)", ort, got);
      assertTrue(maxAbs < 1e-4, "max abs error " + maxAbs);
    }
  }

  /** Emits the same Crop object for every id, pixels overwritten in place (legal with object reuse). */
  static final class ReusingCrop extends RichMapFunction<Long, Crop> {
    private transient Crop reused;

    @Override
    public Crop map(Long id) {
      if (reused == null) {
        reused = new Crop();
        reused.pixels = new float[FlinkTestModels.crop(0).length];
      }
      reused.id = id;
      reused.createdMillis = System.currentTimeMillis();
      System.arraycopy(FlinkTestModels.crop(id), 0, reused.pixels, 0, reused.pixels.length);
      return reused;
    }
  }

  /** Records the ids a subtask sees, in order. */
  static final class Tap<T> extends RichMapFunction<T, T> {
    private final boolean before;

    Tap(boolean before) {
      this.before = before;
    }

    @Override
    public T map(T value) {
      long id = value instanceof Crop c ? c.id : ((Scored) value).id;
      int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
      (before ? BEFORE : AFTER).computeIfAbsent(subtask, k -> Collections.synchronizedList(new ArrayList<>()))
          .add(id);
      return value;
    }
  }
}
