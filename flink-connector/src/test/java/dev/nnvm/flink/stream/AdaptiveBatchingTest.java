package dev.nnvm.flink.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.flink.FlinkMetrics;
import dev.nnvm.flink.FlinkTestModels;
import dev.nnvm.flink.TensorModel;
import dev.nnvm.flink.ValueExtractor;
import dev.nnvm.scoring.ScoringSpec;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource.NumberSequenceSplit;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.HistogramStatistics;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Adaptive batching, read from the operator's {@code nnvm.batchSize}
 * histogram: the same operator settings (batch size 32, max latency 20 ms)
 * under a rate-controlled source give batches of one record at a low rate
 * (the timer flushes each record before the next arrives, so latency stays
 * bounded) and full batches of 32 when the source offers more than the
 * model can score (throughput). A middle rate gives batches in between,
 * about rate x max latency. The numbers are in the README.
 */
class AdaptiveBatchingTest {
  private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
      .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
      .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

  private static final int BATCH = 32;
  private static final Duration MAX_LATENCY = Duration.ofMillis(20);

  @Test
  @Timeout(90)
  void smallBatchesAtLowRatesFullBatchesUnderLoad() throws Exception {
    System.out.println("crops seed " + FlinkTestModels.SEED);
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();

    // 20 records/s: 50 ms between records, more than the 20 ms timer plus a one-record batch's compute.
    Stats low = run(spec, "low", 20, 30);
    // 200 records/s: about rate x max latency = 4 records per batch (plus what arrives while a batch is scored).
    Stats mid = run(spec, "mid", 200, 200);
    // 20000 records/s: far above what one core scores (about 400-500 crops/s), so batches fill before the timer.
    Stats high = run(spec, "high", 20_000, 320);

    System.out.println("regime | offered rate | batches | batch size p50 / mean / max | batch latency p50 / p99 ms"
        + " | score ms p50");
    for (Stats s : new Stats[] {low, mid, high}) {
      System.out.println(s);
    }
    // Low rate: latency bound. Each record is its own batch (a second one may slip in on a loaded machine).
    assertTrue(low.sizes.getMax() <= 2, "low rate: largest batch " + low.sizes.getMax());
    assertTrue(low.sizes.getMean() <= 1.25, "low rate: mean batch " + low.sizes.getMean());
    assertTrue(low.latency.getQuantile(0.5) < 20 + 200, "low rate: a record waits about the max latency, p50 "
        + low.latency.getQuantile(0.5) + " ms");
    // Under load: throughput. Batches fill to the configured maximum.
    assertEquals(BATCH, high.sizes.getMax());
    assertEquals(BATCH, high.sizes.getQuantile(0.5), "under load the median batch is full");
    assertTrue(high.sizes.getMean() >= 0.9 * BATCH, "under load: mean batch " + high.sizes.getMean());
    // In between: larger than at the low rate, smaller than under load.
    assertTrue(mid.sizes.getMean() > low.sizes.getMean() && mid.sizes.getMean() < high.sizes.getMean(),
        "mid rate: mean batch " + mid.sizes.getMean());
  }

  /** Scores {@code n} crops offered at {@code perSecond}; returns the operator's histograms. */
  private static Stats run(ScoringSpec spec, String name, double perSecond, int n) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    DataGeneratorSource<Crop> source = new DataGeneratorSource<>(id -> Crop.of(id, -1, -1, -1), n,
        perSecond >= 10_000 ? RateLimiterStrategy.noOp() : new SteadyRate(perSecond), TypeInformation.of(Crop.class));
    DataStream<Crop> crops = env.fromSource(source, WatermarkStrategy.noWatermarks(), "crops at " + perSecond + "/s");
    String operator = "nnvm-adaptive-" + name;
    NnvmInference.of(TensorModel.<Crop>of(spec, Map.of("x", (ValueExtractor<Crop>) Crop::input)))
        .batchSize(BATCH).maxLatency(MAX_LATENCY).name(operator)
        .apply(crops, (c, p) -> c.id, TypeInformation.of(Long.class))
        .sinkTo(new DiscardingSink<>());
    long t0 = System.nanoTime();
    JobClient job = env.executeAsync(operator);
    job.getJobExecutionResult().get();
    double seconds = (System.nanoTime() - t0) / 1e9;
    Map<String, Metric> m = metrics(job.getJobID(), operator);
    assertEquals(n, ((Counter) m.get(FlinkMetrics.RECORDS)).getCount(), name + ": every record scored");
    return new Stats(name, perSecond, n / seconds, ((Histogram) m.get(FlinkMetrics.BATCH_SIZE)).getStatistics(),
        ((Histogram) m.get(FlinkMetrics.BATCH_LATENCY_MS)).getStatistics(),
        ((Histogram) m.get(FlinkMetrics.SCORE_MS)).getStatistics(), ((Histogram) m.get(FlinkMetrics.BATCH_SIZE)).getCount());
  }

  /**
   * One record every 1/rate seconds, without bursts: Flink's {@code perSecond} limiter (Guava's) saves up to a
   * second of permits while the task is busy (the first batch, cold), then lets them all through at once, which
   * makes a burst out of a low rate. This one only ever waits, on a timer thread (never blocking the task).
   */
  static final class SteadyRate implements RateLimiterStrategy<NumberSequenceSplit> {
    private static final long serialVersionUID = 1L;
    private final double perSecond;

    SteadyRate(double perSecond) {
      this.perSecond = perSecond;
    }

    @Override
    public RateLimiter<NumberSequenceSplit> createRateLimiter(int parallelism) {
      long intervalNanos = (long) (1e9 * parallelism / perSecond);
      return new RateLimiter<>() {
        private long last = System.nanoTime() - intervalNanos;

        @Override
        public CompletionStage<Void> acquire(int requestSize) {
          long now = System.nanoTime();
          long due = Math.max(now, last + intervalNanos * requestSize);
          last = due;
          return due <= now ? CompletableFuture.completedFuture(null) : CompletableFuture.runAsync(() -> {},
              CompletableFuture.delayedExecutor(due - now, TimeUnit.NANOSECONDS));
        }
      };
    }
  }

  private static Map<String, Metric> metrics(JobID job, String operator) {
    var groups = REPORTER.findOperatorMetricGroups(job, operator);
    assertFalse(groups.isEmpty(), "operator " + operator + " has a metric group");
    return REPORTER.getMetricsByGroup(groups.get(0));
  }

  private record Stats(String name, double offered, double achieved, HistogramStatistics sizes,
      HistogramStatistics latency, HistogramStatistics score, long batches) {
    @Override
    public String toString() {
      return String.format("%-4s | %6.0f/s (job %5.0f/s incl. start-up) | %3d | %4.0f / %5.1f / %2d | %4.0f / %4.0f"
          + " | %4.0f", name, offered, achieved, batches, sizes.getQuantile(0.5), sizes.getMean(), sizes.getMax(),
          latency.getQuantile(0.5), latency.getQuantile(0.99), score.getQuantile(0.5));
    }
  }
}
