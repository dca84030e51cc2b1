package dev.nnvm.flink;

import java.io.Serializable;

/**
 * The value one column of the model's input takes from a record: a primitive
 * array of the row's elements (flat, row-major) or a boxed scalar; null for a
 * missing value. See {@link RecordColumns} for the types each input accepts.
 *
 * @param <IN> the record type
 */
@FunctionalInterface
public interface ValueExtractor<IN> extends Serializable {
  Object value(IN record);
}
