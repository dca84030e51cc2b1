package dev.nnvm.spark.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.nnvm.arrow.NullPolicy;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import picocli.CommandLine.Option;

/**
 * What the three commands share: the Spark session (local mode on every core unless {@code --master} or
 * {@code spark-submit} says otherwise), compiling the model on the driver, reading or generating the input,
 * writing the results, evaluating them, and the report (stdout lines, and JSON with {@code --report}).
 *
 * <p>Timing: the scoring phase is the Spark action that scores every row (the write, or the evaluation pass
 * when nothing is written), from its start to its end, so rows/s include reading, tokenizing, Arrow
 * conversion, the native runs and writing; "native" is the time the tasks spent in the compiled model, as
 * the connector's {@code nnvm.nativeNanos} accumulator reports it (summed over tasks, so up to cores x wall).
 */
abstract class JobCommand implements Callable<Integer> {
  @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL",
      description = "The model: an ONNX file (.onnx, compiled on the driver through the artifact cache) or a"
          + " compiled artifact (.nnvm).")
  Path model;

  @Option(names = {"-i", "--input"}, paramLabel = "PATH",
      description = "Input data: Parquet, CSV (header row), JSON lines, text (a row per line, .gz read"
          + " transparently) or TSV; a file or a directory.")
  String input;

  @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "AUTO",
      description = "Input format: ${COMPLETION-CANDIDATES} (default: by the file name; a directory is Parquet).")
  InputData.Format format;

  @Option(names = {"-o", "--output"}, paramLabel = "PATH",
      description = "Where to write the results (a Spark output directory). Without it the results are scored"
          + " and evaluated but not kept.")
  String output;

  @Option(names = "--output-format", paramLabel = "FORMAT",
      description = "parquet or json (default: json when the output path ends in .json, else parquet).")
  String outputFormat;

  @Option(names = "--overwrite", description = "Replace the output if it exists.")
  boolean overwrite;

  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master (default: the one spark-submit sets, else local[*], this machine's cores).")
  String master;

  @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting; repeatable.")
  Map<String, String> conf = new LinkedHashMap<>();

  @Option(names = "--partitions", paramLabel = "N",
      description = "Partitions to score in (default: the input's, raised to Spark's default parallelism).")
  Integer partitions;

  @Option(names = "--batch-size", paramLabel = "ROWS", defaultValue = "64",
      description = "Rows per native run (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--threads", paramLabel = "N",
      description = "Threads per task for the native run (default: spark.task.cpus, 1), so that tasks on every"
          + " core do not oversubscribe the machine.")
  Integer threads;

  @Option(names = "--limit", paramLabel = "ROWS", description = "Score at most this many rows of the input.")
  Long limit;

  @Option(names = "--dim", paramLabel = "SYMBOL=SIZE",
      description = "Binds a symbolic dimension of the model (e.g. --dim sequence_length=128); repeatable.")
  Map<String, Long> dims = new LinkedHashMap<>();

  @Option(names = "--null-policy", paramLabel = "POLICY", defaultValue = "NULL_OUTPUT",
      description = "Rows with a null input: NULL_OUTPUT (their outputs are null) or STRICT (the job fails"
          + " naming the row). Default: ${DEFAULT-VALUE}.")
  NullPolicy nullPolicy;

  @Option(names = "--opt-level", paramLabel = "N", defaultValue = "2",
      description = "Compiler optimization level for ONNX models (default: ${DEFAULT-VALUE}).")
  int optLevel;

  @Option(names = "--input-shape", paramLabel = "INPUT=SHAPE",
      description = "Specializes an ONNX input when compiling, e.g. --input-shape 'x=[N, 3, 48, 192]' (symbols stay"
          + " symbolic); repeatable.")
  Map<String, String> inputShapes = new LinkedHashMap<>();

  @Option(names = "--cache", paramLabel = "DIR",
      description = "Artifact cache directory (default: ~/.cache/nnvm); 'none' compiles without a cache.")
  String cache;

  @Option(names = "--report", paramLabel = "FILE", description = "Also write the report as JSON to this file.")
  Path report;

  @Option(names = "--app-name", paramLabel = "NAME", defaultValue = "nnvm-spark",
      description = "Spark application name (default: ${DEFAULT-VALUE}).")
  String appName;

  @Option(names = {"-v", "--verbose"}, description = "Spark's own log lines, and stack traces on errors.")
  boolean verbose;

  @Option(names = "--reader-batch-rows", paramLabel = "ROWS",
      description = "Rows per Parquet/ORC reader batch; 0 keeps Spark's setting (default: sized to about 8 MiB of"
          + " the model's input per batch when its rows are wider than 64 KiB, else Spark's 4096).")
  Integer readerBatchRows;

  /** Model input bytes per row above which the job shrinks Spark's columnar reader batches. */
  static final long WIDE_ROW_BYTES = 64 << 10;
  /** About how much input a shrunk reader batch holds. */
  static final long READER_BATCH_BYTES = 8 << 20;
  private static final String[] READER_BATCH_CONFS = {
      "spark.sql.parquet.columnarReaderBatchSize", "spark.sql.orc.columnarReaderBatchSize"};

  /** Whether this command created the Spark session (and so stops it). */
  private boolean ownsSession;

  /** Where the job's lines go (System.out; tests may swap it). */
  PrintStream out = System.out;

  /** The report, filled in as the job runs; written as JSON at the end. */
  final Map<String, Object> reportData = new LinkedHashMap<>();

  /** The command's name in the report. */
  abstract String commandName();

  /** The scored frame: the prepared input with the model's outputs (and pooled embedding) added. */
  abstract Dataset<Row> score(SparkSession spark, Dataset<Row> input, CompiledArtifact artifact);

  /** Columns of the scored frame that are written (the rest, e.g. token ids, are dropped). */
  abstract List<String> resultColumns(Dataset<Row> scored, Dataset<Row> input, CompiledArtifact artifact);

  /** Evaluation of the results (null when the command has nothing to evaluate). */
  Evaluation evaluation() {
    return null;
  }

  /** Checks that run on the driver after scoring (the ONNX Runtime agreement of embed); adds to the report. */
  void afterScoring(SparkSession spark, Dataset<Row> results, CompiledArtifact artifact) throws Exception {}

  /** The input when {@code --input} is not given (score and evaluate generate one); by default an error. */
  Dataset<Row> defaultInput(SparkSession spark, CompiledArtifact artifact) {
    throw new JobException("give the input data with --input PATH");
  }

  /** Prepares the input before scoring (embed splits sentences); by default unchanged. */
  Dataset<Row> prepare(SparkSession spark, Dataset<Row> input) {
    return input;
  }

  /** Threads per task: the option, else spark.task.cpus. */
  int threadsPerTask(SparkSession spark) {
    if (threads != null) {
      if (threads < 1) {
        throw new JobException("--threads must be at least 1, got " + threads);
      }
      return threads;
    }
    return Integer.parseInt(spark.conf().get("spark.task.cpus", "1"));
  }

  @Override
  public final Integer call() throws Exception {
    if (batchSize < 1) {
      throw new JobException("--batch-size must be at least 1, got " + batchSize);
    }
    if (limit != null && limit < 1) {
      throw new JobException("--limit must be at least 1, got " + limit);
    }
    if (input != null && !input.contains("://") && !Files.exists(Path.of(input))) {
      throw new JobException("input not found: " + input);
    }
    if (!Files.isRegularFile(model)) {
      throw new JobException("model file not found: " + model);
    }
    if (output != null && !overwrite && !output.contains("://") && Files.exists(Path.of(output))) {
      throw new JobException("output " + output + " exists; pass --overwrite to replace it");
    }
    long jobStart = System.nanoTime();
    SparkSession spark = session();
    Map<String, String> restoreConf = new LinkedHashMap<>();
    StageProgress progress = new StageProgress(out, 5_000);
    spark.sparkContext().addSparkListener(progress);
    try {
      reportData.put("command", commandName());
      reportData.put("model", model.toString());
      reportData.put("master", spark.sparkContext().master());
      reportData.put("defaultParallelism", spark.sparkContext().defaultParallelism());
      reportData.put("sparkVersion", spark.version());
      out.printf(Locale.ROOT, "== nnvm-spark %s: %s on %s (Spark %s, %d task slots)%n", commandName(),
          model.getFileName(), spark.sparkContext().master(), spark.version(),
          spark.sparkContext().defaultParallelism());

      out.println("== compiling the model on the driver");
      Path cacheDir = cache == null ? CompiledArtifact.defaultCacheDirectory()
          : "none".equals(cache) ? null : Path.of(cache);
      CompiledArtifact artifact = CompiledArtifact.of(model, optLevel, inputShapes, cacheDir, out);
      out.println("   " + artifact.summary);
      reportData.put("compileSeconds", artifact.nanos / 1e9);
      reportData.put("compileCached", artifact.cached);
      reportData.put("artifactBytes", artifact.bytes.length);

      sizeReaderBatches(spark, artifact, restoreConf);
      spark.sparkContext().setCallSite("read " + (input == null ? "generated rows" : input));
      Dataset<Row> in = input == null ? defaultInput(spark, artifact) : InputData.read(spark, input, format);
      int inputPartitions = in.rdd().getNumPartitions();
      in = prepare(spark, in);
      if (limit != null) {
        in = in.limit(Math.toIntExact(Math.min(limit, Integer.MAX_VALUE)));
      }
      if (partitions != null && partitions < 1) {
        throw new JobException("--partitions must be at least 1, got " + partitions);
      }
      int parallelism = spark.sparkContext().defaultParallelism();
      int want = partitions != null ? partitions : Math.max(parallelism, inputPartitions);
      if (limit != null || inputPartitions < want) {
        // A limit leaves one partition, and a gzip'ed text file is one: spread the rows over the task slots.
        in = in.repartition(want);
      } else if (inputPartitions > want) {
        in = in.coalesce(want);   // fewer partitions without a shuffle of the data
      }
      reportData.put("partitions", want);
      reportData.put("batchSize", batchSize);
      reportData.put("threadsPerTask", threadsPerTask(spark));

      spark.sparkContext().setCallSite(commandName() + ": plan and check the first row");
      Dataset<Row> scored = score(spark, in, artifact);
      List<String> keep = resultColumns(scored, in, artifact);
      // Quoted: model outputs are often named like "softmax_0.tmp_0", which unquoted would be a struct field.
      Dataset<Row> results = scored.select(keep.stream().map(c -> functions.col("`" + c.replace("`", "``") + "`"))
          .toArray(Column[]::new));

      Evaluation evaluation = evaluation();
      if (evaluation != null) {
        evaluation.validate(results.schema());   // a missing or mistyped column fails before any task runs
      }
      progress.resetTotals();
      long rows;
      long scoreStart = System.nanoTime();
      EvaluationMetrics metrics = null;
      spark.sparkContext().setCallSite(commandName() + ": score" + (output != null ? " and write" : ""));
      if (output != null) {
        out.printf(Locale.ROOT, "== scoring %s and writing %s%n", input == null ? "the generated rows" : input, output);
        String fmt = outputFormat != null ? outputFormat.toLowerCase(Locale.ROOT)
            : output.toLowerCase(Locale.ROOT).endsWith(".json") ? "json" : "parquet";
        DataFrameWriter<Row> w = results.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists);
        switch (fmt) {
          case "parquet": w.parquet(output); break;
          case "json": w.json(output); break;
          default: throw new JobException("--output-format must be parquet or json, got " + outputFormat);
        }
        long scoreNanos = System.nanoTime() - scoreStart;
        Dataset<Row> written = "json".equals(fmt) ? spark.read().schema(results.schema()).json(output)
            : spark.read().parquet(output);
        rows = written.count();
        timing(rows, scoreNanos, progress);
        results = written;
        if (evaluation != null) {
          spark.sparkContext().setCallSite(commandName() + ": evaluate the written results");
          out.println("== evaluating the written results");
          metrics = evaluation.run(results);
        }
      } else {
        out.printf(Locale.ROOT, "== scoring %s (no --output: results are not kept)%n",
            input == null ? "the generated rows" : input);
        if (evaluation != null) {
          metrics = evaluation.run(results);
          rows = Math.max(metrics.classifiedRows(), metrics.comparedRows()) + metrics.nullRows();
        } else {
          rows = countAll(results);
        }
        timing(rows, System.nanoTime() - scoreStart, progress);
      }
      if (metrics != null) {
        out.println("   " + metrics);
        reportData.put("metrics", metrics.toMap());
      }
      spark.sparkContext().setCallSite(commandName() + ": checks");
      afterScoring(spark, results, artifact);
      spark.sparkContext().clearCallSite();
      double total = (System.nanoTime() - jobStart) / 1e9;
      reportData.put("jobSeconds", total);
      out.printf(Locale.ROOT, "== done in %.1f s%n", total);
      if (report != null) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(report.toFile(), reportData);
      }
      return 0;
    } finally {
      restoreConf.forEach((k, v) -> {
        if (v == null) {
          spark.conf().unset(k);
        } else {
          spark.conf().set(k, v);
        }
      });
      spark.sparkContext().removeSparkListener(progress);
      if (ownsSession) {
        spark.stop();
      }
    }
  }

  /**
   * Spark's Parquet and ORC readers decode 4096 rows per columnar batch: with 110 KB images that is 450 MB a task
   * holds on the heap, and decoding the image column took 4-5x longer than in batches of 64 rows (measured on
   * 4000 PP-OCR crops). When the model's input rows are wide, the batches are sized to about 8 MiB of input for
   * the job's reads (the session's values are put back when the job ends).
   */
  private void sizeReaderBatches(SparkSession spark, CompiledArtifact artifact, Map<String, String> restore) {
    long rowBytes = 0;
    for (dev.nnvm.runtime.TensorSpec in : artifact.manifest.inputs()) {
      dev.nnvm.runtime.Shape shape = in.shape();
      if (!shape.hasRank() || shape.rank() == 0) {
        continue;
      }
      long elements = 1;
      for (int d = 1; d < shape.rank(); d++) {
        dev.nnvm.runtime.Dim dim = shape.dims().get(d);
        Long size = dim.isStatic() ? Long.valueOf(dim.value()) : dim.isSymbolic() ? dims.get(dim.symbol()) : null;
        elements *= size == null ? 1 : size;   // an unbound dimension counts 1: token rows stay narrow
      }
      rowBytes += elements * Math.max(1, in.dtype().byteSize());
    }
    int rows;
    if (readerBatchRows != null) {
      if (readerBatchRows < 0) {
        throw new JobException("--reader-batch-rows must be 0 (Spark's setting) or more, got " + readerBatchRows);
      }
      rows = readerBatchRows;
    } else {
      rows = autoReaderBatchRows(rowBytes);
    }
    reportData.put("inputBytesPerRow", rowBytes);
    if (rows == 0) {
      return;
    }
    for (String key : READER_BATCH_CONFS) {
      restore.put(key, spark.conf().getOption(key).getOrElse(() -> null));
      spark.conf().set(key, Integer.toString(rows));
    }
    reportData.put("readerBatchRows", rows);
    out.printf(Locale.ROOT, "   Parquet/ORC reader batches of %d rows (the model reads %.1f KB per row)%n", rows,
        rowBytes / 1024.0);
  }

  /** Reader batch rows for model input rows of {@code rowBytes}: 0 (Spark's setting) unless they are wide. */
  static int autoReaderBatchRows(long rowBytes) {
    return rowBytes > WIDE_ROW_BYTES ? (int) Math.max(16, Math.min(4096, READER_BATCH_BYTES / rowBytes)) : 0;
  }

  /** Every row materialized with every result column (so the model runs), counted. */
  private static long countAll(Dataset<Row> results) {
    FlatMapFunction<java.util.Iterator<Row>, Long> countRows = rows -> {
      long n = 0;
      while (rows.hasNext()) {
        Row r = rows.next();
        for (int i = 0; i < r.length(); i++) {
          r.get(i);
        }
        n++;
      }
      return List.of(n).iterator();
    };
    return results.mapPartitions(countRows::call, Encoders.LONG()).reduce((org.apache.spark.api.java.function
        .ReduceFunction<Long>) Long::sum);
  }

  private void timing(long rows, long nanos, StageProgress progress) {
    double seconds = nanos / 1e9;
    Map<String, Long> nnvm = progress.nnvmTotals();
    reportData.put("rows", rows);
    reportData.put("scoreSeconds", seconds);
    reportData.put("rowsPerSecond", rows / seconds);
    reportData.put("nnvmCounters", nnvm);
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "   %d rows in %.1f s: %.1f rows/s", rows,
        seconds, rows / seconds));
    Long nativeNanos = nnvm.get("nnvm.nativeNanos");
    if (nativeNanos != null) {
      reportData.put("nativeSeconds", nativeNanos / 1e9);
      sb.append(String.format(Locale.ROOT, "; in native code %.1f s (summed over tasks)", nativeNanos / 1e9));
    }
    Long loads = nnvm.get("nnvm.modelLoads");
    if (loads != null) {
      sb.append(", model loads ").append(loads);
    }
    out.println(sb);
  }

  /** The session: spark-submit's when it set a master, else a local one (or the --master given). */
  SparkSession session() {
    SparkConf sc = new SparkConf();
    boolean submitted = sc.contains("spark.master");
    SparkSession.Builder b = SparkSession.builder().appName(appName);
    if (master != null) {
      b = b.master(master);
    } else if (!submitted) {
      b = b.master("local[*]");
    }
    for (Map.Entry<String, String> e : conf.entrySet()) {
      b = b.config(e.getKey(), e.getValue());
    }
    ownsSession = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
    SparkSession spark = b.getOrCreate();
    if (!verbose && ownsSession) {
      spark.sparkContext().setLogLevel("WARN");
    }
    return spark;
  }
}
