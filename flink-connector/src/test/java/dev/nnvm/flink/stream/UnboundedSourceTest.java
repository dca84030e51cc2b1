package dev.nnvm.flink.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource.NumberSequenceSplit;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
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
 * An unbounded source (it declares {@link Boundedness#CONTINUOUS_UNBOUNDED}
 * and never ends by itself) scored with the PP-OCR direction classifier: a
 * burst of 37 crops (two full batches of 16 and a partial one of 5), then the
 * source goes quiet until the test has seen all 37 results, which can only
 * happen if the max-latency timer flushed the partial batch (there is no end
 * of input to do it); then a trickle of 20 records a second, each flushed by
 * the timer, until the test has seen 60 results, and the job, still running,
 * is cancelled. Every result matches ONNX Runtime.
 */
class UnboundedSourceTest {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
      .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

  private static final int BURST = 37;
  private static final int N = 60;
  private static final int BATCH = 16;
  /** Results the test has read so far (the source paces itself by it). */
  static final AtomicInteger SEEN = new AtomicInteger();
  /** Records the source has emitted. */
  static final AtomicLong EMITTED = new AtomicLong();

  @Test
  @Timeout(60)
  void timerFlushesWithoutEndOfInputAndResultsMatchOnnxRuntime() throws Exception {
    System.out.println("crops seed " + FlinkTestModels.SEED);
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();
    String output = spec.outputs().get(0).name();
    SEEN.set(0);
    EMITTED.set(0);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    UnboundedSource<Crop> source = new UnboundedSource<>(new DataGeneratorSource<>(id -> {
      EMITTED.incrementAndGet();
      return Crop.of(id, -1, -1, -1);
    }, Long.MAX_VALUE, new Pacing(), TypeInformation.of(Crop.class)));
    DataStream<Crop> crops = env.fromSource(source, WatermarkStrategy.noWatermarks(), "unbounded crops");
    CloseableIterator<Scored> results = NnvmInference.of(TensorModel.<Crop>of(spec,
            Map.of("x", (ValueExtractor<Crop>) Crop::input)))
        .batchSize(BATCH).maxLatency(Duration.ofMillis(40))
        .apply(crops, (c, p) -> Scored.of(c, p, output), TypeInformation.of(Scored.class))
        .collectAsync();
    JobClient job = env.executeAsync("unbounded source");
    Map<Long, Scored> byId = new HashMap<>();
    long emittedAtBurstEnd = -1;
    long burstMaxWait = 0;
    try {
      while (byId.size() < N && results.hasNext()) {
        Scored s = results.next();
        assertNull(byId.put(s.id, s), "crop " + s.id + " came out twice");
        if (byId.size() == BURST) {
          // Only the burst was emitted: its last 5 records came out without more input and without end of input.
          emittedAtBurstEnd = EMITTED.get();
          for (long id = 0; id < BURST; id++) {
            assertTrue(byId.containsKey(id), "burst record " + id);
            if (id >= 2 * BATCH) {
              burstMaxWait = Math.max(burstMaxWait, byId.get(id).scoredMillis - byId.get(id).createdMillis);
            }
          }
        }
        SEEN.set(byId.size());
      }
      JobStatus status = job.getJobStatus().get();
      System.out.printf("saw %d results with the job %s; %d records emitted so far (%d when the burst's results"
          + " were in)%n", byId.size(), status, EMITTED.get(), emittedAtBurstEnd);
      assertEquals(JobStatus.RUNNING, status, "the job never ends by itself");
    } finally {
      job.cancel().get(30, TimeUnit.SECONDS);
      results.close();
    }
    assertEquals(BURST, emittedAtBurstEnd, "the source waited for the burst's results");
    assertEquals(N, byId.size());

    List<float[]> want = new ArrayList<>();
    List<float[]> got = new ArrayList<>();
    int maxBatch = 0;
    int partialBatches = 0;
    for (long id = 0; id < N; id++) {
      Scored s = byId.get(id);
      assertTrue(s != null, "crop " + id + " came out");
      assertNull(s.error, s.error);
      want.add(FlinkTestModels.crop(id));
      got.add(s.probs);
      maxBatch = Math.max(maxBatch, s.batchSize);
      if (s.batchSize < BATCH) {
        partialBatches++;
      }
    }
    System.out.printf("batch sizes: largest %d; %d of %d records in partial (timer-flushed) batches; the burst's"
        + " partial batch waited %d ms at most (max latency 40 ms)%n", maxBatch, partialBatches, N, burstMaxWait);
    assertEquals(BATCH, byId.get(0L).batchSize, "the burst filled a batch");
    assertEquals(BURST - 2 * BATCH, byId.get((long) BURST - 1).batchSize, "the burst's tail: a partial batch");
    for (long id = BURST; id < N; id++) {
      assertTrue(byId.get(id).batchSize <= 2, "the trickle is flushed by the timer: crop " + id + " in a batch of "
          + byId.get(id).batchSize);
    }
    double maxAbs = FlinkTestModels.compare("unbounded source (batch 16, max latency 40 ms)",
        FlinkTestModels.ortClassifier(want), got.toArray(new float[0][]));
    assertTrue(maxAbs < 1e-4, "max abs error " + maxAbs);
  }

  /**
   * The burst as fast as the reader asks, then nothing until the test has seen the burst's results, then 20
   * records a second until the test has seen N results, then nothing (the source is idle, not finished).
   * Futures complete on a timer thread, never blocking the task thread (which also runs the operator's timers).
   */
  static final class Pacing implements RateLimiterStrategy<NumberSequenceSplit> {
    private static final long serialVersionUID = 1L;

    @Override
    public RateLimiter<NumberSequenceSplit> createRateLimiter(int parallelism) {
      return new RateLimiter<>() {
        private long permits;

        @Override
        public CompletionStage<Void> acquire(int requestSize) {
          long n = permits;
          permits += requestSize;
          if (n < BURST) {
            return CompletableFuture.completedFuture(null);
          }
          return waitFor(n);
        }

        private CompletableFuture<Void> waitFor(long n) {
          // Polls every 50 ms: that is also the trickle's pace once the burst has been seen.
          return CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS))
              .thenCompose(v -> SEEN.get() >= BURST && SEEN.get() < N ? CompletableFuture.completedFuture(null)
                  : waitFor(n));
        }
      };
    }
  }
}
