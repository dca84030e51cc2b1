package dev.nnvm.spark.job;

import dev.nnvm.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nnvm-spark score}: any model the compiler takes, columns (or a generated data set) in, outputs out. */
@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Score a data set (or a generated one) with a model and write the outputs.",
    footer = {"", "Examples:",
        "  nnvm-spark score -m cls.onnx -i images.parquet -o scores.parquet --map pixels=x",
        "  nnvm-spark score -m model.onnx --generate 100000 --output-column y=score"})
class ScoreCommand extends JobCommand {
  @Option(names = "--map", paramLabel = "COLUMN=INPUT",
      description = "Feeds model input INPUT from column COLUMN (default: columns named as the inputs); repeatable.")
  Map<String, String> inputMap = new LinkedHashMap<>();

  @Option(names = "--output-column", paramLabel = "OUTPUT=COLUMN",
      description = "Writes model output OUTPUT to column COLUMN (default: named as the output); repeatable.")
  Map<String, String> outputMap = new LinkedHashMap<>();

  @Option(names = "--keep-inputs", description = "Also write the columns that fed the model (dropped by default).")
  boolean keepInputs;

  @Option(names = "--generate", paramLabel = "ROWS",
      description = "Without --input: score this many generated rows shaped like the model's inputs.")
  Long generate;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
      description = "Seed of the generated data (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--int-range", paramLabel = "LOW:HIGH", defaultValue = "0:1",
      description = "Range of generated integer inputs, both ends included (default: ${DEFAULT-VALUE}).")
  String intRange;

  @Override
  String commandName() {
    return "score";
  }

  @Override
  Dataset<Row> defaultInput(SparkSession spark, CompiledArtifact artifact) {
    if (generate == null) {
      throw new JobException("give the input data with --input PATH, or --generate ROWS for a generated data set");
    }
    if (generate < 1) {
      throw new JobException("--generate must be at least 1, got " + generate);
    }
    String[] range = intRange.split(":");
    long low;
    long high;
    try {
      low = Long.parseLong(range[0].trim());
      high = Long.parseLong(range[range.length - 1].trim());
    } catch (NumberFormatException e) {
      throw new JobException("--int-range takes LOW:HIGH, got '" + intRange + "'");
    }
    if (range.length != 2 || high < low) {
      throw new JobException("--int-range takes LOW:HIGH with LOW <= HIGH, got '" + intRange + "'");
    }
    int parts = partitions != null ? partitions : spark.sparkContext().defaultParallelism();
    out.printf("== generating %d rows (seed %d) shaped like the inputs %s%n", generate, seed,
        artifact.manifest.inputs());
    reportData.put("generatedRows", generate);
    reportData.put("seed", seed);
    return GeneratedData.generate(spark, artifact.manifest.inputs(), dims, generate, parts, seed, low, high);
  }

  @Override
  Dataset<Row> score(SparkSession spark, Dataset<Row> input, CompiledArtifact artifact) {
    return ConnectorStages.score(spark, input, artifact, inputMap, outputMap, !keepInputs, this);
  }

  /** The columns holding the model's outputs, in output order. */
  List<String> outputColumns(CompiledArtifact artifact) {
    List<String> cols = new ArrayList<>();
    for (TensorSpec o : artifact.manifest.outputs()) {
      cols.add(outputMap.getOrDefault(o.name(), o.name()));
    }
    return cols;
  }

  /** The columns that fed the model. */
  List<String> inputColumns(CompiledArtifact artifact) {
    Map<String, String> byInput = new LinkedHashMap<>();
    inputMap.forEach((column, in) -> byInput.put(in, column));
    List<String> cols = new ArrayList<>();
    for (TensorSpec i : artifact.manifest.inputs()) {
      cols.add(byInput.getOrDefault(i.name(), i.name()));
    }
    return cols;
  }

  @Override
  List<String> resultColumns(Dataset<Row> scored, Dataset<Row> input, CompiledArtifact artifact) {
    List<String> inputs = inputColumns(artifact);
    List<String> keep = new ArrayList<>();
    for (String c : input.columns()) {
      if (keepInputs || !inputs.contains(c)) {
        keep.add(c);
      }
    }
    for (String c : outputColumns(artifact)) {
      if (!keep.contains(c)) {
        keep.add(c);
      }
    }
    return keep;
  }
}
