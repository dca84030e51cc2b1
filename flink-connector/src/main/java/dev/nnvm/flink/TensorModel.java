package dev.nnvm.flink;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.scoring.ScoringSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * Records to model inputs through one {@link ValueExtractor} per input
 * column, scored by a {@link BatchScorer} (the model comes from the
 * TaskManager's {@link dev.nnvm.scoring.ModelCache}, loaded once per JVM).
 *
 * <pre>{@code
 * TensorModel<Crop> model = TensorModel.of(spec, Map.of("x", crop -> crop.pixels));
 * }</pre>
 *
 * @param <IN> the record type
 */
public final class TensorModel<IN> implements BatchModel<IN> {
  private static final long serialVersionUID = 1L;

  private final ScoringSpec spec;
  private final List<ValueExtractor<? super IN>> extractors;

  private TensorModel(ScoringSpec spec, List<ValueExtractor<? super IN>> extractors) {
    this.spec = spec;
    this.extractors = extractors;
  }

  /**
   * A model fed by {@code extractors}, one per column the spec reads (its {@code inputColumns()}, by default
   * the model's input names).
   *
   * @throws IllegalArgumentException naming the columns missing or unknown
   */
  public static <IN> TensorModel<IN> of(ScoringSpec spec, Map<String, ? extends ValueExtractor<? super IN>> extractors) {
    Objects.requireNonNull(spec, "spec");
    RecordColumns columns = RecordColumns.of(spec);
    List<String> missing = new ArrayList<>(columns.columns());
    missing.removeAll(extractors.keySet());
    List<String> unknown = new ArrayList<>(extractors.keySet());
    unknown.removeAll(columns.columns());
    if (!missing.isEmpty() || !unknown.isEmpty()) {
      throw new IllegalArgumentException("model '" + spec.modelName() + "' reads columns " + columns.columns()
          + (missing.isEmpty() ? "" : "; no extractor for " + missing)
          + (unknown.isEmpty() ? "" : "; extractors for columns it does not read: " + unknown));
    }
    List<ValueExtractor<? super IN>> ordered = new ArrayList<>();
    for (String c : columns.columns()) {
      ordered.add(Objects.requireNonNull(extractors.get(c), c));
    }
    return new TensorModel<>(spec, ordered);
  }

  @Override
  public ScoringSpec spec() {
    return spec;
  }

  @Override
  public Runner<IN> open(BufferAllocator allocator) {
    return new TensorRunner<>(spec, extractors, allocator);
  }

  @Override
  public String toString() {
    return "TensorModel[" + spec + "]";
  }

  private static final class TensorRunner<IN> implements Runner<IN> {
    private final ScoringSpec spec;
    private final List<ValueExtractor<? super IN>> extractors;
    private final RecordColumns columns;
    private final BufferAllocator allocator;
    private final BatchScorer scorer;
    /** The input batch, refilled for every call (its buffers are sized by the first one). */
    private RecordColumns.Batch batch;

    TensorRunner(ScoringSpec spec, List<ValueExtractor<? super IN>> extractors, BufferAllocator parent) {
      this.spec = spec;
      this.extractors = extractors;
      this.columns = RecordColumns.of(spec);
      this.allocator = parent.newChildAllocator("flink-records-" + spec.artifactId().substring(0, 12), 0,
          Long.MAX_VALUE);
      BatchScorer s;
      try {
        s = BatchScorer.open(spec, parent);
        s.validate(columns.schema());
      } catch (RuntimeException | Error e) {
        allocator.close();
        throw e;
      }
      this.scorer = s;
    }

    @Override
    public List<Prediction> score(List<IN> records, RecordNamer<? super IN> names, long firstIndex) {
      int n = records.size();
      List<Object[]> rows = new ArrayList<>(n);
      Prediction[] out = new Prediction[n];
      int scored = 0;
      for (int i = 0; i < n; i++) {
        IN record = records.get(i);
        Object[] values = new Object[extractors.size()];
        String problem = null;
        for (int c = 0; c < values.length && problem == null; c++) {
          try {
            values[c] = extractors.get(c).value(record);
          } catch (IllegalArgumentException e) {
            problem = "column '" + columns.columns().get(c) + "' " + e.getMessage();
          } catch (RuntimeException e) {
            problem = "reading column '" + columns.columns().get(c) + "' failed: " + e;
          }
        }
        if (problem == null) {
          problem = columns.check(values);
        }
        if (problem != null) {
          String message = names.name(record, firstIndex + i) + ": " + problem;
          if (spec.nullPolicy() == NullPolicy.STRICT) {
            throw new IllegalArgumentException(message + " (null policy STRICT; NULL_OUTPUT scores the other"
                + " records and gives this one a null prediction)");
          }
          out[i] = Prediction.failed(message, n);
          rows.add(null);
        } else {
          rows.add(values);
          scored++;
        }
      }
      if (scored > 0) {
        if (batch == null) {
          batch = columns.newBatch(allocator);
        }
        try (VectorSchemaRoot result = scorer.score(batch.fill(rows))) {
          List<FieldVector> vectors = result.getFieldVectors();
          for (int i = 0; i < n; i++) {
            if (out[i] == null) {
              Map<String, Object> values = new LinkedHashMap<>();
              for (FieldVector v : vectors) {
                values.put(v.getName(), OutputValues.read(v, i));
              }
              out[i] = Prediction.of(values, n);
            }
          }
        }
      }
      return List.of(out);
    }

    @Override
    public ScoringMetrics metrics() {
      return scorer.metrics();
    }

    @Override
    public void close() {
      try {
        if (batch != null) {
          batch.close();
        }
        scorer.close();
      } finally {
        allocator.close();
      }
    }
  }
}
