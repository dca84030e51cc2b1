package dev.nnvm.flink;

import dev.nnvm.scoring.ScoringMetrics;
import java.util.function.IntSupplier;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The metrics of one scoring subtask (operator or SQL predict function),
 * registered on its metric group under the names both connectors share
 * ({@link ScoringMetrics}) plus the micro-batching ones:
 *
 * <ul>
 *   <li>{@code nnvm.batchSize} (histogram): records per micro-batch;</li>
 *   <li>{@code nnvm.batchLatencyMs} (histogram): from the first record of a batch arriving to its results being
 *       emitted (the wait for the batch to fill plus scoring);</li>
 *   <li>{@code nnvm.scoreMs} (histogram): scoring one batch (conversion, native run, reading outputs);</li>
 *   <li>{@code nnvm.recordsPerSecond} (meter) and {@code nnvm.records} (counter): records scored;</li>
 *   <li>{@code nnvm.queueLength} (gauge): records waiting for the next flush;</li>
 *   <li>{@code nnvm.badRecords} (counter): records that did not fit the model (null predictions);</li>
 *   <li>{@code nnvm.inFlightBatches} (gauge, DataStream operator only): batches handed to the scoring pool and
 *       not yet emitted (always 0 in the ordered mode);</li>
 *   <li>{@code nnvm.batches}, {@code nnvm.rows}, {@code nnvm.nativeNanos}, {@code nnvm.bytesCopied},
 *       {@code nnvm.modelLoads}, {@code nnvm.loadNanos} (gauges over the scorer's counters): native runs, rows
 *       through the scorer, time in native code, bytes copied into the model, loads this subtask made (0 when
 *       another slot of the TaskManager had loaded the model).</li>
 * </ul>
 */
public final class FlinkMetrics {
  public static final String BATCH_SIZE = "nnvm.batchSize";
  public static final String BATCH_LATENCY_MS = "nnvm.batchLatencyMs";
  public static final String SCORE_MS = "nnvm.scoreMs";
  public static final String RECORDS_PER_SECOND = "nnvm.recordsPerSecond";
  public static final String RECORDS = "nnvm.records";
  public static final String QUEUE_LENGTH = "nnvm.queueLength";
  public static final String BAD_RECORDS = "nnvm.badRecords";
  /** Gauge of the DataStream operator's unordered mode: batches being scored and not yet emitted. */
  public static final String IN_FLIGHT_BATCHES = "nnvm.inFlightBatches";

  /** Samples kept by each histogram. */
  private static final int WINDOW = 1024;

  private final Histogram batchSize;
  private final Histogram batchLatency;
  private final Histogram scoreMs;
  private final Counter records;
  private final Meter recordsPerSecond;
  private final Counter badRecords;
  private volatile ScoringMetrics scoring = new ScoringMetrics();

  private FlinkMetrics(MetricGroup group, IntSupplier queueLength) {
    this.batchSize = group.histogram(BATCH_SIZE, new DescriptiveStatisticsHistogram(WINDOW));
    this.batchLatency = group.histogram(BATCH_LATENCY_MS, new DescriptiveStatisticsHistogram(WINDOW));
    this.scoreMs = group.histogram(SCORE_MS, new DescriptiveStatisticsHistogram(WINDOW));
    this.records = group.counter(RECORDS);
    this.recordsPerSecond = group.meter(RECORDS_PER_SECOND, new MeterView(records));
    this.badRecords = group.counter(BAD_RECORDS);
    group.gauge(QUEUE_LENGTH, (Gauge<Integer>) queueLength::getAsInt);
    group.gauge(ScoringMetrics.BATCHES, (Gauge<Long>) () -> scoring.batches());
    group.gauge(ScoringMetrics.ROWS, (Gauge<Long>) () -> scoring.rows());
    group.gauge(ScoringMetrics.NATIVE_NANOS, (Gauge<Long>) () -> scoring.nativeNanos());
    group.gauge(ScoringMetrics.BYTES_COPIED, (Gauge<Long>) () -> scoring.bytesCopied());
    group.gauge(ScoringMetrics.MODEL_LOADS, (Gauge<Long>) () -> scoring.modelLoads());
    group.gauge(ScoringMetrics.LOAD_NANOS, (Gauge<Long>) () -> scoring.loadNanos());
  }

  /** Registers the metrics on {@code group}; {@code queueLength} is read when a reporter asks. */
  public static FlinkMetrics register(MetricGroup group, IntSupplier queueLength) {
    return new FlinkMetrics(group, queueLength);
  }

  /** Follows a scorer's counters (the gauges read them; they are only ever written by the scoring thread). */
  public void follow(ScoringMetrics metrics) {
    this.scoring = metrics;
  }

  /** Records one flushed batch: its size, records that did not fit, latency since its first record, scoring time. */
  public void batch(int size, int bad, long latencyNanos, long scoreNanos) {
    batchSize.update(size);
    batchLatency.update(latencyNanos / 1_000_000);
    scoreMs.update(scoreNanos / 1_000_000);
    records.inc(size);
    badRecords.inc(bad);
  }

  Histogram batchSizes() {
    return batchSize;
  }
}
