package dev.nnvm.spark;

import dev.nnvm.scoring.ScoringMetrics;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.util.LongAccumulator;

/**
 * The scoring counters as Spark accumulators, registered under the names of
 * {@link ScoringMetrics} ({@code nnvm.batches}, {@code nnvm.rows},
 * {@code nnvm.nativeNanos}, {@code nnvm.bytesCopied}, {@code nnvm.modelLoads},
 * {@code nnvm.loadNanos}), so they show in the Spark UI's stage pages and in
 * the event log. Created on the driver, shipped with the tasks (small);
 * tasks {@link #add} their scorer's counters when they end, and the driver
 * reads the sums with {@link #value()} after an action.
 */
public final class SparkMetrics implements Serializable {
  private static final long serialVersionUID = 1L;

  private final LongAccumulator batches;
  private final LongAccumulator rows;
  private final LongAccumulator nativeNanos;
  private final LongAccumulator bytesCopied;
  private final LongAccumulator modelLoads;
  private final LongAccumulator loadNanos;

  private SparkMetrics(SparkContext sc) {
    batches = sc.longAccumulator(ScoringMetrics.BATCHES);
    rows = sc.longAccumulator(ScoringMetrics.ROWS);
    nativeNanos = sc.longAccumulator(ScoringMetrics.NATIVE_NANOS);
    bytesCopied = sc.longAccumulator(ScoringMetrics.BYTES_COPIED);
    modelLoads = sc.longAccumulator(ScoringMetrics.MODEL_LOADS);
    loadNanos = sc.longAccumulator(ScoringMetrics.LOAD_NANOS);
  }

  /** New accumulators, registered with {@code sc} by name (call on the driver). */
  public static SparkMetrics register(SparkContext sc) {
    return new SparkMetrics(sc);
  }

  /** Adds a task's counters (call on an executor, once per task). */
  public void add(ScoringMetrics m) {
    batches.add(m.batches());
    rows.add(m.rows());
    nativeNanos.add(m.nativeNanos());
    bytesCopied.add(m.bytesCopied());
    modelLoads.add(m.modelLoads());
    loadNanos.add(m.loadNanos());
  }

  /** The sums so far (on the driver, after an action). */
  public ScoringMetrics value() {
    return ScoringMetrics.of(batches.value(), rows.value(), nativeNanos.value(), bytesCopied.value(),
        modelLoads.value(), loadNanos.value());
  }

  /** The sums by metric name. */
  public Map<String, Long> asMap() {
    Map<String, Long> out = new LinkedHashMap<>();
    out.put(ScoringMetrics.BATCHES, batches.value());
    out.put(ScoringMetrics.ROWS, rows.value());
    out.put(ScoringMetrics.NATIVE_NANOS, nativeNanos.value());
    out.put(ScoringMetrics.BYTES_COPIED, bytesCopied.value());
    out.put(ScoringMetrics.MODEL_LOADS, modelLoads.value());
    out.put(ScoringMetrics.LOAD_NANOS, loadNanos.value());
    return out;
  }

  @Override
  public String toString() {
    return "SparkMetrics" + asMap();
  }
}
