package dev.nnvm.flink;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The model's outputs for one record, handed to a {@link ResultMapper} with
 * the record: by output column, a primitive array of the row's elements
 * (row-major: {@code float[]} for f32 outputs, {@code double[]},
 * {@code long[]}, {@code int[]}, {@code short[]}, {@code byte[]},
 * {@code boolean[]}) or a boxed scalar for an {@code [N]} output.
 *
 * <p>A record the model could not score (a null or misfit value under the
 * lenient null policy) has no outputs: {@link #isNull()} is true and
 * {@link #error()} says why, naming the record and the column. A record with
 * a null input value is null with error "... is null".
 */
public final class Prediction {
  private final Map<String, Object> outputs;
  private final String error;
  private final int batchSize;

  private Prediction(Map<String, Object> outputs, String error, int batchSize) {
    this.outputs = outputs;
    this.error = error;
    this.batchSize = batchSize;
  }

  /** Outputs of a scored record. */
  public static Prediction of(Map<String, Object> outputs, int batchSize) {
    return new Prediction(Collections.unmodifiableMap(new LinkedHashMap<>(outputs)), null, batchSize);
  }

  /** A record that was not scored, and why. */
  public static Prediction failed(String error, int batchSize) {
    return new Prediction(Map.of(), Objects.requireNonNull(error, "error"), batchSize);
  }

  /** True when the record was not scored (see {@link #error()}). */
  public boolean isNull() {
    return error != null;
  }

  /** Why the record was not scored, naming the record and the column; null when it was. */
  public String error() {
    return error;
  }

  /** Records in the micro-batch this record was scored in (for tests and tuning). */
  public int batchSize() {
    return batchSize;
  }

  /** The outputs by column (empty when {@link #isNull()}). */
  public Map<String, Object> outputs() {
    return outputs;
  }

  /** An output's value: a primitive array or a boxed scalar; null when the record was not scored. */
  public Object value(String column) {
    if (error != null) {
      return null;
    }
    Object v = outputs.get(column);
    if (v == null && !outputs.containsKey(column)) {
      throw new IllegalArgumentException("no output column '" + column + "'; the outputs are " + outputs.keySet());
    }
    return v;
  }

  /** A float output ({@code float[]}; a scalar comes back as one element); null when not scored. */
  public float[] floats(String column) {
    Object v = value(column);
    if (v == null || v instanceof float[]) {
      return (float[]) v;
    }
    if (v instanceof Float f) {
      return new float[] {f};
    }
    throw new IllegalArgumentException("output column '" + column + "' holds " + v.getClass().getSimpleName()
        + ", not f32");
  }

  /** An int64 output ({@code long[]}; a scalar as one element); null when not scored. */
  public long[] longs(String column) {
    Object v = value(column);
    if (v == null || v instanceof long[]) {
      return (long[]) v;
    }
    if (v instanceof Long l) {
      return new long[] {l};
    }
    throw new IllegalArgumentException("output column '" + column + "' holds " + v.getClass().getSimpleName()
        + ", not i64");
  }

  @Override
  public String toString() {
    return error != null ? "Prediction[null: " + error + "]" : "Prediction" + outputs.keySet();
  }
}
