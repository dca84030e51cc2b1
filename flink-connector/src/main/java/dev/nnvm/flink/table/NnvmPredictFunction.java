package dev.nnvm.flink.table;

import dev.nnvm.flink.FlinkMetrics;
import dev.nnvm.flink.Prediction;
import java.util.Collection;
import java.util.List;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;

/**
 * The synchronous predict function: one native run per row (Flink calls it
 * row by row). Used when ML_PREDICT's config says {@code 'async' = 'false'};
 * the asynchronous {@link NnvmAsyncPredictFunction} batches rows and is what
 * the planner picks otherwise.
 */
public final class NnvmPredictFunction extends PredictFunction {
  private static final long serialVersionUID = 1L;

  private final NnvmModelProvider.Plan plan;
  private transient PredictRunner runner;
  private transient FlinkMetrics metrics;

  NnvmPredictFunction(NnvmModelProvider.Plan plan) {
    this.plan = plan;
  }

  @Override
  public void open(FunctionContext context) throws Exception {
    super.open(context);
    runner = new PredictRunner(plan, context.getTaskInfo().getIndexOfThisSubtask());
    metrics = FlinkMetrics.register(context.getMetricGroup(), () -> 0);
    runner.follow(metrics);
  }

  @Override
  public Collection<RowData> predict(RowData inputRow) {
    long t0 = System.nanoTime();
    List<Prediction> p = runner.score(List.<Object[]>of(runner.values(inputRow)));
    long nanos = System.nanoTime() - t0;
    metrics.batch(1, p.get(0).isNull() ? 1 : 0, nanos, nanos);
    return List.of(runner.row(p.get(0)));
  }

  @Override
  public void close() throws Exception {
    if (runner != null) {
      runner.close();
      runner = null;
    }
    super.close();
  }
}
