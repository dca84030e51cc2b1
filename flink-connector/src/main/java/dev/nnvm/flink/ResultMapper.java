package dev.nnvm.flink;

import java.io.Serializable;

/**
 * Builds an output record from an input record and its {@link Prediction}
 * (called on the task thread, in input order).
 *
 * @param <IN> the input record type
 * @param <OUT> the output record type
 */
@FunctionalInterface
public interface ResultMapper<IN, OUT> extends Serializable {
  OUT map(IN record, Prediction prediction);
}
