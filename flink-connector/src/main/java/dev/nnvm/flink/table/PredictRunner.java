package dev.nnvm.flink.table;

import dev.nnvm.flink.Allocators;
import dev.nnvm.flink.BatchModel;
import dev.nnvm.flink.FlinkMetrics;
import dev.nnvm.flink.Prediction;
import dev.nnvm.flink.RecordNamer;
import dev.nnvm.flink.TensorModel;
import dev.nnvm.flink.ValueExtractor;
import dev.nnvm.scoring.ScoringSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.LogicalType;

/**
 * What both predict functions share: rows of the model's INPUT columns to
 * Java values, a {@link BatchModel.Runner} over them, predictions back to
 * rows of the OUTPUT columns. One per subtask; not thread-safe.
 */
final class PredictRunner implements AutoCloseable {
  private final NnvmModelProvider.Plan plan;
  private final BufferAllocator allocator;
  private final BatchModel.Runner<Object[]> runner;
  private final RecordNamer<Object[]> namer;
  private long seen;

  PredictRunner(NnvmModelProvider.Plan plan, int subtask) {
    this.plan = plan;
    ScoringSpec spec = plan.spec();
    Map<String, ValueExtractor<Object[]>> extractors = new LinkedHashMap<>();
    for (int i = 0; i < plan.inputColumns().size(); i++) {
      int index = i;
      extractors.put(plan.inputColumns().get(i), row -> {
        Object v = row[index];
        if (v instanceof SqlValues.NullElement e) {
          throw new IllegalArgumentException("has a null element at index " + e.index());
        }
        return v;
      });
    }
    String model = plan.modelName();
    this.namer = (row, index) -> "ML_PREDICT row #" + index + " of subtask " + subtask + " (model " + model + ")";
    this.allocator = Allocators.child("nnvm-sql-" + model + "-" + subtask);
    try {
      this.runner = TensorModel.of(spec, extractors).open(allocator);
    } catch (RuntimeException | Error e) {
      allocator.close();
      throw e;
    }
  }

  void follow(FlinkMetrics metrics) {
    metrics.follow(runner.metrics());
  }

  /** The Java values of one input row (copied out of Flink's row). */
  Object[] values(RowData row) {
    List<LogicalType> types = plan.inputTypes();
    Object[] values = new Object[types.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = SqlValues.read(row, i, types.get(i));
    }
    return values;
  }

  /** Scores rows; one prediction each, in order (STRICT throws naming the row). */
  List<Prediction> score(List<Object[]> rows) {
    List<Prediction> out = runner.score(rows, namer, seen);
    seen += rows.size();
    return out;
  }

  /** A prediction as a row of the OUTPUT columns (all null for a row that was not scored). */
  RowData row(Prediction p) {
    List<LogicalType> types = plan.outputTypes();
    GenericRowData row = new GenericRowData(types.size());
    if (!p.isNull()) {
      for (int i = 0; i < types.size(); i++) {
        row.setField(i, SqlValues.write(p.value(plan.outputColumns().get(i)), types.get(i)));
      }
    }
    return row;
  }

  /** Rows as lists of one (what a predict function returns per input row). */
  static List<List<RowData>> singletons(List<RowData> rows) {
    List<List<RowData>> out = new ArrayList<>(rows.size());
    for (RowData r : rows) {
      out.add(List.of(r));
    }
    return out;
  }

  @Override
  public void close() {
    try {
      runner.close();
    } finally {
      allocator.close();
    }
  }
}
