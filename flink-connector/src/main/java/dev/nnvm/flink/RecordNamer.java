package dev.nnvm.flink;

import java.io.Serializable;

/**
 * How errors and logs name a record: by default its position in the subtask's
 * input and the start of its {@code toString()}; give one that returns the
 * record's key or id so a bad record can be found upstream.
 *
 * @param <IN> the record type
 */
@FunctionalInterface
public interface RecordNamer<IN> extends Serializable {
  /** A short name of {@code record}, the {@code index}-th record this subtask has seen (from 0). */
  String name(IN record, long index);

  /** "record #index (start of toString)". */
  static <T> RecordNamer<T> byPosition() {
    return (record, index) -> {
      String s = String.valueOf(record);
      return "record #" + index + " (" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + ")";
    };
  }
}
