package dev.nnvm.spark.job;

import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.spark.NnvmModel;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The job's use of the connector: the ML stages it chains for each command. Scoring is always the connector's
 * {@link NnvmModel} (artifact broadcast once, one model load per executor JVM, Arrow batches); text runs
 * through {@link TextStages}, which fuses tokenizing, scoring and pooling per partition on the same pieces.
 */
final class ConnectorStages {
  private ConnectorStages() {}

  /** The NnvmModel for the job's options, from the artifact compiled on the driver. */
  static NnvmModel model(SparkSession spark, CompiledArtifact artifact, JobCommand job) {
    NnvmModel m = new NnvmModel().setArtifact(artifact.bytes).setBatchSize(job.batchSize)
        .setThreads(job.threadsPerTask(spark)).setNullPolicy(job.nullPolicy);
    for (Map.Entry<String, Long> d : job.dims.entrySet()) {
      m = m.setDim(d.getKey(), d.getValue());
    }
    return m;
  }

  /**
   * {@code input} with the model's outputs added (columns mapped per {@code inputMap} / {@code outputMap}),
   * without the columns that fed the model when {@code dropInputs} (they are then never copied).
   */
  static Dataset<Row> score(SparkSession spark, Dataset<Row> input, CompiledArtifact artifact,
      Map<String, String> inputMap, Map<String, String> outputMap, boolean dropInputs, JobCommand job) {
    NnvmModel m = model(spark, artifact, job).setDropInputCols(dropInputs);
    for (Map.Entry<String, String> e : inputMap.entrySet()) {
      m = m.setInputCol(e.getKey(), e.getValue());
    }
    for (TensorSpec o : artifact.manifest.outputs()) {
      m = m.setOutputCol(o.name(), outputMap.getOrDefault(o.name(), o.name()));
    }
    return m.transform(input);
  }

  /** {@code input} with the text column's embedding added (and the token and hidden-state columns). */
  static Dataset<Row> embed(SparkSession spark, Dataset<Row> input, CompiledArtifact artifact, TextOptions text,
      JobCommand job) {
    return TextStages.embed(spark, input, artifact, text, job);
  }
}
