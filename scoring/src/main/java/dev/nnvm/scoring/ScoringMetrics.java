package dev.nnvm.scoring;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counters of one scorer, or summed across scorers with {@link #add}: batches
 * run, rows scored, nanoseconds spent in native code, bytes copied to feed
 * the model (inputs the bridge could not bind in place, plus whatever an
 * engine adapter reports with {@link #addBytesCopied}), model loads and the
 * nanoseconds they took.
 *
 * <p>The constant names are the metric names both connectors publish (Spark
 * accumulators, Flink metric groups), so dashboards read the same names
 * whichever engine ran. Not thread-safe: a scorer belongs to one task.
 */
public final class ScoringMetrics {
  public static final String BATCHES = "nnvm.batches";
  public static final String ROWS = "nnvm.rows";
  public static final String NATIVE_NANOS = "nnvm.nativeNanos";
  public static final String BYTES_COPIED = "nnvm.bytesCopied";
  public static final String MODEL_LOADS = "nnvm.modelLoads";
  /** Nanoseconds spent loading models (not in the contract's original list; published by the connectors too). */
  public static final String LOAD_NANOS = "nnvm.loadNanos";

  private long batches;
  private long rows;
  private long nativeNanos;
  private long bytesCopied;
  private long modelLoads;
  private long loadNanos;

  /** Counters with the given values (an engine's sums read back from its accumulators). */
  public static ScoringMetrics of(long batches, long rows, long nativeNanos, long bytesCopied, long modelLoads,
      long loadNanos) {
    ScoringMetrics m = new ScoringMetrics();
    m.batches = batches;
    m.rows = rows;
    m.nativeNanos = nativeNanos;
    m.bytesCopied = bytesCopied;
    m.modelLoads = modelLoads;
    m.loadNanos = loadNanos;
    return m;
  }

  /** Native runs made (one per chunk of at most {@code batchSize} rows). */
  public long batches() {
    return batches;
  }

  /** Rows that went through a scorer, null rows included. */
  public long rows() {
    return rows;
  }

  /** Nanoseconds inside the model's native call. */
  public long nativeNanos() {
    return nativeNanos;
  }

  /** Bytes copied on the way into the model. */
  public long bytesCopied() {
    return bytesCopied;
  }

  /** Models this scorer's task had to load (0 when the per-JVM cache already held it). */
  public long modelLoads() {
    return modelLoads;
  }

  /** Nanoseconds those loads took. */
  public long loadNanos() {
    return loadNanos;
  }

  /** Records one native run over {@code rowCount} rows. */
  public void addBatch(long rowCount, long nanos) {
    batches++;
    rows += rowCount;
    nativeNanos += nanos;
  }

  /** Rows that passed through without a native run (a chunk whose rows were all null). */
  public void addRows(long rowCount) {
    rows += rowCount;
  }

  public void addBytesCopied(long bytes) {
    bytesCopied += bytes;
  }

  public void addModelLoad(long nanos) {
    modelLoads++;
    loadNanos += nanos;
  }

  /** Adds every counter of {@code other} to this one. */
  public ScoringMetrics add(ScoringMetrics other) {
    batches += other.batches;
    rows += other.rows;
    nativeNanos += other.nativeNanos;
    bytesCopied += other.bytesCopied;
    modelLoads += other.modelLoads;
    loadNanos += other.loadNanos;
    return this;
  }

  /** A copy of the counters now. */
  public ScoringMetrics snapshot() {
    return new ScoringMetrics().add(this);
  }

  /** The counters by their published names, in a fixed order. */
  public Map<String, Long> asMap() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put(BATCHES, batches);
    m.put(ROWS, rows);
    m.put(NATIVE_NANOS, nativeNanos);
    m.put(BYTES_COPIED, bytesCopied);
    m.put(MODEL_LOADS, modelLoads);
    m.put(LOAD_NANOS, loadNanos);
    return m;
  }

  @Override
  public String toString() {
    return "ScoringMetrics" + asMap();
  }
}
