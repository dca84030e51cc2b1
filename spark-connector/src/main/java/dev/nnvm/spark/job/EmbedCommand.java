package dev.nnvm.spark.job;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code nnvm-spark embed}: text in, sentence embeddings out, with an ONNX Runtime agreement check. */
@Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Embed text with a BERT-style encoder (its ONNX file and tokenizer.json): tokenize, run the"
        + " compiled model, mean-pool and normalize.",
    footer = {"", "Example:",
        "  nnvm-spark embed -m all-minilm-l6-v2.onnx -t tokenizer.json -i sentences.txt -o embeddings.parquet \\",
        "      --master 'local[2]' --check-onnxruntime 64"})
class EmbedCommand extends JobCommand {
  @Mixin
  TextOptions text = new TextOptions();

  @Option(names = "--reference-column", paramLabel = "COLUMN",
      description = "A column of reference embeddings: report MSE and cosine similarity against it.")
  String referenceColumn;

  @Option(names = "--check-onnxruntime", paramLabel = "ROWS", defaultValue = "0",
      description = "Embed this many of the results again with ONNX Runtime on the driver and report the"
          + " agreement (needs onnxruntime on the driver's class path; bin/nnvm-spark puts it there).")
  int checkRows;

  @Override
  String commandName() {
    return "embed";
  }

  void checkTokenizer() {
    if (text.tokenizer == null) {
      throw new JobException("give the model's tokenizer.json with --tokenizer FILE");
    }
    if (!Files.isRegularFile(text.tokenizer)) {
      throw new JobException("tokenizer file not found: " + text.tokenizer);
    }
    if (text.maxLength < 2) {
      throw new JobException("--max-length must be at least 2, got " + text.maxLength);
    }
  }

  @Override
  Dataset<Row> prepare(SparkSession spark, Dataset<Row> input) {
    checkTokenizer();
    return TextPreparation.prepare(input, text);
  }

  @Override
  Dataset<Row> score(SparkSession spark, Dataset<Row> input, CompiledArtifact artifact) {
    return ConnectorStages.embed(spark, input, artifact, text, this);
  }

  @Override
  List<String> resultColumns(Dataset<Row> scored, Dataset<Row> input, CompiledArtifact artifact) {
    List<String> keep = new ArrayList<>(List.of(input.columns()));
    keep.add(text.embeddingColumn);
    return keep;
  }

  @Override
  Evaluation evaluation() {
    return referenceColumn == null ? null : new Evaluation(text.embeddingColumn, null, referenceColumn, 1);
  }

  @Override
  void afterScoring(SparkSession spark, Dataset<Row> results, CompiledArtifact artifact) throws Exception {
    if (checkRows <= 0) {
      return;
    }
    if (CompiledArtifact.isArtifact(model)) {
      out.println("== ONNX Runtime check skipped: it needs the ONNX file, and the model given is a .nnvm artifact");
      return;
    }
    if (!OnnxRuntimeCheck.available()) {
      out.println("== ONNX Runtime check skipped: onnxruntime is not on the driver's class path"
          + " (bin/nnvm-spark adds it; with spark-submit pass its jar in --driver-class-path)");
      return;
    }
    List<Row> sample = results.select(text.textColumn, text.embeddingColumn).limit(checkRows).collectAsList();
    List<String> texts = new ArrayList<>();
    List<float[]> ours = new ArrayList<>();
    for (Row r : sample) {
      if (!r.isNullAt(0) && !r.isNullAt(1)) {
        texts.add(r.getString(0));
        ours.add(Evaluation.floats(r.get(1)));
      }
    }
    out.printf(Locale.ROOT, "== checking %d embedded rows against ONNX Runtime (on the driver, one row at a time)%n",
        texts.size());
    long start = System.nanoTime();
    EvaluationMetrics m = OnnxRuntimeCheck.compareEmbeddings(model, text.tokenizer, text.maxLength, texts, ours,
        !text.noNormalize, threadsPerTask(spark));
    out.printf(Locale.ROOT, "   agreement with ONNX Runtime over %d rows: cosine similarity min %.7f mean %.7f,"
        + " max abs error %.3g, MSE %.3g (%.1f s)%n", m.comparedRows(), m.minCosine(), m.meanCosine(),
        m.maxAbsError(), m.meanSquaredError(), (System.nanoTime() - start) / 1e9);
    Map<String, Object> agreement = new LinkedHashMap<>(m.toMap());
    reportData.put("onnxRuntimeAgreement", agreement);
  }
}
