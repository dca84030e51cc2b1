package dev.nnvm.flink.table;

import dev.nnvm.scoring.ScoringSpec;
import java.io.Serializable;
import java.util.List;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;
import org.apache.flink.table.types.logical.LogicalType;

/**
 * The runtime side of a {@code provider = 'nnvm'} model: an asynchronous
 * predict function that gathers rows into batches (the planner prefers it)
 * and a synchronous one that scores each row alone (for {@code 'async' =
 * 'false'}). Both carry the {@link Plan}, whose spec holds the compiled
 * artifact's bytes.
 */
public final class NnvmModelProvider implements AsyncPredictRuntimeProvider, PredictRuntimeProvider {
  /**
   * Everything the predict functions need, checked when the statement is planned.
   *
   * @param inputColumns the model's INPUT columns (the spec's input columns), in order
   * @param inputTypes their logical types
   * @param outputColumns the model's OUTPUT columns (the spec's output columns), in order
   * @param outputTypes their logical types
   */
  public record Plan(ScoringSpec spec, String modelName, List<String> inputColumns, List<LogicalType> inputTypes,
      List<String> outputColumns, List<LogicalType> outputTypes, int batchSize, long maxLatencyMillis)
      implements Serializable {
    public Plan {
      inputColumns = List.copyOf(inputColumns);
      inputTypes = List.copyOf(inputTypes);
      outputColumns = List.copyOf(outputColumns);
      outputTypes = List.copyOf(outputTypes);
    }
  }

  private final Plan plan;

  public NnvmModelProvider(Plan plan) {
    this.plan = plan;
  }

  public Plan plan() {
    return plan;
  }

  @Override
  public AsyncPredictFunction createAsyncPredictFunction(ModelProvider.Context context) {
    return new NnvmAsyncPredictFunction(plan);
  }

  @Override
  public PredictFunction createPredictFunction(ModelProvider.Context context) {
    return new NnvmPredictFunction(plan);
  }

  @Override
  public ModelProvider copy() {
    return new NnvmModelProvider(plan);
  }
}
