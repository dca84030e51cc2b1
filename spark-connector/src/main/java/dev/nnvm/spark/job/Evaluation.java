package dev.nnvm.spark.job;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.api.java.function.ReduceFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * Evaluates scored rows: the prediction column (a vector of class scores, or any vector for a comparison;
 * nested arrays are flattened row-major) against an integer label column (accuracy, top-k) and/or a reference
 * vector column (MSE, max abs error, cosine). One pass over the rows, partial sums per partition, merged on the
 * driver; the columns and their types are checked first, on the driver.
 */
final class Evaluation implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String prediction;
  private final String label;
  private final String reference;
  private final int topK;

  /**
   * @param prediction the scored column to evaluate
   * @param label the integer class column, or null
   * @param reference the reference vector column, or null
   */
  Evaluation(String prediction, String label, String reference, int topK) {
    if (label == null && reference == null) {
      throw new JobException("evaluate needs --label-column or --reference-column (or both)");
    }
    this.prediction = prediction;
    this.label = label;
    this.reference = reference;
    this.topK = topK;
  }

  /** Checks the columns of {@code rows}, listing every problem at once. */
  void validate(StructType schema) {
    List<String> problems = new ArrayList<>();
    List<String> names = Arrays.asList(schema.fieldNames());
    check(problems, names, schema, prediction, "prediction", true);
    if (label != null) {
      check(problems, names, schema, label, "label", false);
    }
    if (reference != null) {
      check(problems, names, schema, reference, "reference", true);
    }
    if (!problems.isEmpty()) {
      throw new JobException("cannot evaluate: " + String.join("; ", problems) + " (columns: " + names + ")");
    }
  }

  private static void check(List<String> problems, List<String> names, StructType schema, String column,
      String role, boolean vector) {
    if (!names.contains(column)) {
      problems.add(role + " column '" + column + "' is missing");
      return;
    }
    DataType t = schema.apply(column).dataType();
    DataType e = t;
    while (e instanceof ArrayType) {
      e = ((ArrayType) e).elementType();
    }
    if (!(e instanceof NumericType)) {
      problems.add(role + " column '" + column + "' is " + t.simpleString() + ", not numeric");
    } else if (vector && !(t instanceof ArrayType)) {
      problems.add(role + " column '" + column + "' is " + t.simpleString() + ", not an array");
    } else if (!vector && t instanceof ArrayType) {
      problems.add(role + " column '" + column + "' is " + t.simpleString() + ", not an integer class");
    }
  }

  /** Evaluates every row of {@code rows}. */
  EvaluationMetrics run(Dataset<Row> rows) {
    validate(rows.schema());
    int p = rows.schema().fieldIndex(prediction);
    int l = label == null ? -1 : rows.schema().fieldIndex(label);
    int r = reference == null ? -1 : rows.schema().fieldIndex(reference);
    int k = topK;
    MapPartitionsFunction<Row, EvaluationMetrics> partial = it -> {
      EvaluationMetrics m = new EvaluationMetrics(k);
      while (it.hasNext()) {
        Row row = it.next();
        if (row.isNullAt(p) || (l >= 0 && row.isNullAt(l)) || (r >= 0 && row.isNullAt(r))) {
          m.addNullRow();
          continue;
        }
        float[] predicted = floats(row.get(p));
        if (l >= 0) {
          m.addClassified(predicted, ((Number) row.get(l)).longValue());
        }
        if (r >= 0) {
          m.addCompared(predicted, floats(row.get(r)));
        }
      }
      return List.of(m).iterator();
    };
    ReduceFunction<EvaluationMetrics> merge = EvaluationMetrics::merge;
    return rows.mapPartitions(partial, Encoders.javaSerialization(EvaluationMetrics.class)).reduce(merge);
  }

  /** A row's array value (a Scala Seq or Java List, nested or not), flattened row-major to floats. */
  static float[] floats(Object value) {
    List<Number> flat = new ArrayList<>();
    flatten(value, flat);
    float[] out = new float[flat.size()];
    for (int i = 0; i < out.length; i++) {
      Number n = flat.get(i);
      if (n == null) {
        throw new JobException("a vector holds a null element at index " + i);
      }
      out[i] = n.floatValue();
    }
    return out;
  }

  private static void flatten(Object value, List<Number> into) {
    if (value instanceof Number || value == null) {
      into.add((Number) value);
    } else if (value instanceof scala.collection.Iterable) {
      scala.collection.Iterator<?> it = ((scala.collection.Iterable<?>) value).iterator();
      while (it.hasNext()) {
        flatten(it.next(), into);
      }
    } else if (value instanceof Iterable) {
      for (Iterator<?> it = ((Iterable<?>) value).iterator(); it.hasNext(); ) {
        flatten(it.next(), into);
      }
    } else if (value instanceof float[]) {
      for (float f : (float[]) value) {
        into.add(f);
      }
    } else {
      throw new JobException("cannot read a vector from a " + value.getClass().getName());
    }
  }
}
