package dev.nnvm.spark.job;

import java.nio.file.Files;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code nnvm-spark evaluate}: score (or, with {@code --tokenizer}, embed) and report accuracy / top-k against a
 * label column and/or MSE / cosine similarity against a reference column.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Score or embed, then evaluate: accuracy and top-k against integer labels, MSE and cosine"
        + " similarity against reference vectors.",
    footer = {"", "Examples:",
        "  nnvm-spark evaluate -m cls.onnx -i labelled.parquet --map pixels=x --label-column label --top-k 2",
        "  nnvm-spark evaluate -m encoder.onnx -t tokenizer.json -i pairs.parquet --reference-column expected"})
class EvaluateCommand extends ScoreCommand {
  @Mixin
  TextOptions text = new TextOptions();

  @Option(names = "--label-column", paramLabel = "COLUMN", description = "Integer class labels (0-based).")
  String labelColumn;

  @Option(names = "--reference-column", paramLabel = "COLUMN", description = "Reference vectors, one per row.")
  String referenceColumn;

  @Option(names = "--prediction-column", paramLabel = "COLUMN",
      description = "The scored column to evaluate (default: the embedding with --tokenizer, else the first"
          + " output's column).")
  String predictionColumn;

  @Option(names = "--top-k", paramLabel = "K", defaultValue = "5",
      description = "The k of the top-k accuracy (default: ${DEFAULT-VALUE}).")
  int topK;

  private String prediction;

  @Override
  String commandName() {
    return "evaluate";
  }

  private boolean textMode() {
    return text.tokenizer != null;
  }

  @Override
  Dataset<Row> prepare(SparkSession spark, Dataset<Row> input) {
    if (!textMode()) {
      return input;
    }
    if (!Files.isRegularFile(text.tokenizer)) {
      throw new JobException("tokenizer file not found: " + text.tokenizer);
    }
    return TextPreparation.prepare(input, text);
  }

  @Override
  Dataset<Row> score(SparkSession spark, Dataset<Row> input, CompiledArtifact artifact) {
    if (topK < 1) {
      throw new JobException("--top-k must be at least 1, got " + topK);
    }
    prediction = predictionColumn != null ? predictionColumn
        : textMode() ? text.embeddingColumn : outputColumns(artifact).get(0);
    new Evaluation(prediction, labelColumn, referenceColumn, topK);   // fails early without label or reference
    return textMode() ? ConnectorStages.embed(spark, input, artifact, text, this) : super.score(spark, input, artifact);
  }

  @Override
  List<String> resultColumns(Dataset<Row> scored, Dataset<Row> input, CompiledArtifact artifact) {
    if (textMode()) {
      List<String> keep = new java.util.ArrayList<>(List.of(input.columns()));
      keep.add(text.embeddingColumn);
      return keep;
    }
    return super.resultColumns(scored, input, artifact);
  }

  @Override
  Evaluation evaluation() {
    return new Evaluation(prediction, labelColumn, referenceColumn, topK);
  }
}
