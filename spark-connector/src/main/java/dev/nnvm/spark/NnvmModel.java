package dev.nnvm.spark;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.scoring.ScoringSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * A Spark ML {@link Transformer} that scores a DataFrame with a model
 * compiled by NNVM: the input columns are kept and one column per model
 * output is added ({@code array<float>} for a vector, a scalar for an
 * {@code [N]} output).
 *
 * <pre>{@code
 * NnvmModel cls = new NnvmModel()
 *     .setModelPath("ch_ppocr_mobile_v2.0_cls_infer.onnx")   // or a compiled .nnvm
 *     .setInputShape("x", "[N, 3, 48, 192]")                   // specialize the ONNX input (optional)
 *     .setInputCol("image", "x")                               // column image feeds model input x
 *     .setOutputCol("softmax_0.tmp_0", "probs")
 *     .setBatchSize(64);
 * Dataset<Row> scored = cls.transform(images);
 * cls.write().overwrite().save("/models/cls");                // the artifact is saved beside the metadata
 * NnvmModel again = NnvmModel.load("/models/cls");
 * }</pre>
 *
 * <p>How it runs: the model is compiled once on the driver (through the
 * artifact cache) when first needed; {@link #transformSchema} checks the
 * DataFrame against it and reports every problem in one error; the first
 * row is checked on the driver too (row lengths are not part of a Spark
 * schema); the spec with the artifact is broadcast once; each task writes
 * its rows into a reused Arrow batch, scores it with an executor of its own
 * on the model its JVM loaded once ({@link PartitionScorer}), and counts
 * batches, rows, native time and bytes copied in accumulators
 * ({@link #lastMetrics()}).
 *
 * <p>Params: model path (or artifact bytes), input column to model input
 * mapping (default: same names), output to column mapping (default: the
 * output names), batch size (256), threads per task (0: {@code spark.task.cpus}),
 * device ({@code cpu}; {@code cuda} is refused until the CUDA target lands;
 * {@code auto} runs on the CPU and logs why), null policy
 * ({@code NULL_OUTPUT}: rows with a null input get null outputs; {@code STRICT}:
 * the job fails naming the row), dimension bindings ({@code seq=128}), ONNX
 * input shapes, and whether the first row is checked on the driver.
 */
public class NnvmModel extends Transformer implements MLWritable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(NnvmModel.class);
  /** The file the artifact is saved in, beside Spark's metadata. */
  public static final String ARTIFACT_FILE = "artifact.nnvm";

  private final String uid;
  private final Param<String> modelPath;
  private final StringArrayParam inputCols;
  private final StringArrayParam outputCols;
  private final IntParam batchSize;
  private final IntParam threads;
  private final Param<String> device;
  private final Param<String> nullPolicy;
  private final StringArrayParam dims;
  private final StringArrayParam inputShapes;
  private final BooleanParam checkFirstRow;
  private final BooleanParam dropInputCols;

  /** Set from bytes, from a saved model, or by compiling {@link #modelPath()} on the driver. */
  private transient byte[] artifact;
  private transient String artifactSource;
  private transient ScoringSpec spec;
  private transient String specKey;
  private transient Broadcast<ScoringSpec> broadcast;
  private transient SparkMetrics lastMetrics;

  public NnvmModel() {
    this(Identifiable$.MODULE$.randomUID("nnvm"));
  }

  public NnvmModel(String uid) {
    this.uid = uid;
    modelPath = new Param<>(this, "modelPath", "an ONNX model (compiled on the driver) or a compiled .nnvm file");
    inputCols = new StringArrayParam(this, "inputCols",
        "column=input pairs: which column feeds which model input (default: the column named like the input)");
    outputCols = new StringArrayParam(this, "outputCols",
        "output=column pairs: which column each model output becomes (default: the output's name)");
    batchSize = new IntParam(this, "batchSize", "rows per native run (at least 1)");
    threads = new IntParam(this, "threads", "threads per task for the native run; 0 means spark.task.cpus");
    device = new Param<>(this, "device", "cpu, cuda or auto (cuda is not available yet; auto picks cpu)");
    nullPolicy = new Param<>(this, "nullPolicy",
        "NULL_OUTPUT (rows with a null input get null outputs) or STRICT (fail naming the row)");
    dims = new StringArrayParam(this, "dims", "symbol=size pairs fixing symbolic dimensions, e.g. seq=128");
    inputShapes = new StringArrayParam(this, "inputShapes",
        "input=shape pairs to specialize an ONNX model's inputs when compiling, e.g. x=[N, 3, 48, 192]");
    checkFirstRow = new BooleanParam(this, "checkFirstRow",
        "check the first row's array lengths on the driver before the scoring job");
    setDefault(inputCols, new String[0]);
    setDefault(outputCols, new String[0]);
    setDefault(batchSize, 256);
    setDefault(threads, 0);
    setDefault(device, "cpu");
    setDefault(nullPolicy, NullPolicy.NULL_OUTPUT.name());
    setDefault(dims, new String[0]);
    setDefault(inputShapes, new String[0]);
    dropInputCols = new BooleanParam(this, "dropInputCols",
        "leave the columns that feed the model out of the output (they are then never copied)");
    setDefault(checkFirstRow, true);
    setDefault(dropInputCols, false);
  }

  @Override
  public String uid() {
    return uid;
  }

  // Param accessors: Spark finds params through public no-argument methods returning a Param.

  public Param<String> modelPath() {
    return modelPath;
  }

  public StringArrayParam inputCols() {
    return inputCols;
  }

  public StringArrayParam outputCols() {
    return outputCols;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public IntParam threads() {
    return threads;
  }

  public Param<String> device() {
    return device;
  }

  public Param<String> nullPolicy() {
    return nullPolicy;
  }

  public StringArrayParam dims() {
    return dims;
  }

  public StringArrayParam inputShapes() {
    return inputShapes;
  }

  public BooleanParam dropInputCols() {
    return dropInputCols;
  }

  public BooleanParam checkFirstRow() {
    return checkFirstRow;
  }

  public NnvmModel setModelPath(String path) {
    set(modelPath, path);
    artifact = null;
    return this;
  }

  /** Uses compiled artifact bytes directly (no file; they are saved with the model). */
  public NnvmModel setArtifact(byte[] bytes) {
    ScoringSpec.builder(bytes); // verifies the bytes now, on the driver
    this.artifact = bytes.clone();
    this.artifactSource = "artifact bytes";
    return this;
  }

  /** Same as {@link #setArtifact(byte[])}. */
  public NnvmModel setModelBytes(byte[] bytes) {
    return setArtifact(bytes);
  }

  /** Feeds model input {@code input} from column {@code column}. */
  public NnvmModel setInputCol(String column, String input) {
    set(inputCols, put(getOrDefault(inputCols), input, column, true));
    return this;
  }

  /** Writes model output {@code output} into column {@code column}. */
  public NnvmModel setOutputCol(String output, String column) {
    set(outputCols, put(getOrDefault(outputCols), output, column, false));
    return this;
  }

  public NnvmModel setBatchSize(int rows) {
    set(batchSize, rows);
    return this;
  }

  /** Threads per task for the native run; 0 (the default) takes {@code spark.task.cpus}. */
  public NnvmModel setThreads(int n) {
    set(threads, n);
    return this;
  }

  /** {@code cpu}, {@code cuda} or {@code auto}. */
  public NnvmModel setDevice(String name) {
    set(device, name);
    return this;
  }

  public NnvmModel setNullPolicy(NullPolicy policy) {
    set(nullPolicy, policy.name());
    return this;
  }

  /** {@code NULL_OUTPUT} or {@code STRICT} (checked when the spec is built). */
  public NnvmModel setNullPolicy(String policy) {
    set(nullPolicy, policy);
    return this;
  }

  /** Fixes symbolic dimension {@code symbol} to {@code size} for scoring. */
  public NnvmModel setDim(String symbol, long size) {
    set(dims, put(getOrDefault(dims), symbol, Long.toString(size), false));
    return this;
  }

  /** Specializes ONNX input {@code input} to {@code shape} (e.g. {@code [N, 3, 48, 192]}) when compiling. */
  public NnvmModel setInputShape(String input, String shape) {
    set(inputShapes, put(getOrDefault(inputShapes), input, shape, false));
    artifact = artifactSource != null && artifactSource.equals("artifact bytes") ? artifact : null;
    return this;
  }

  /**
   * Leaves the columns that feed the model out of the output: {@code transform} then copies only the other
   * columns of each row (an image or token column stays where it was read).
   */
  public NnvmModel setDropInputCols(boolean drop) {
    set(dropInputCols, drop);
    return this;
  }

  public NnvmModel setCheckFirstRow(boolean check) {
    set(checkFirstRow, check);
    return this;
  }

  /**
   * Sets {@code key=value} in a pair list. For inputs the pair is stored
   * {@code column=input} and keyed by the input, so remapping an input
   * replaces its column.
   */
  private static String[] put(String[] pairs, String key, String value, boolean valueFirst) {
    List<String> out = new ArrayList<>();
    for (String p : pairs) {
      String[] kv = p.split("=", 2);
      String k = valueFirst ? kv[1] : kv[0];
      if (!k.equals(key)) {
        out.add(p);
      }
    }
    out.add(valueFirst ? value + "=" + key : key + "=" + value);
    return out.toArray(new String[0]);
  }

  private static Map<String, String> pairs(String[] pairs, String what) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String p : pairs) {
      int eq = p.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(what + ": expected name=value, got '" + p + "'");
      }
      m.put(p.substring(0, eq).trim(), p.substring(eq + 1).trim());
    }
    return m;
  }

  /** The artifact bytes: set, loaded, or compiled from {@link #modelPath()} on the driver (once). */
  public synchronized byte[] artifact() {
    if (artifact == null) {
      if (!isDefined(modelPath)) {
        throw new IllegalArgumentException("NnvmModel " + uid + ": no model; call setModelPath(...) or setArtifact(...)");
      }
      NnvmModels.Compiled c = NnvmModels.compile(getOrDefault(modelPath), pairs(getOrDefault(inputShapes),
          "inputShapes"));
      artifact = c.artifact();
      artifactSource = c.source();
    }
    return artifact;
  }

  /**
   * The scoring spec these params describe, built (and checked against the
   * model) on the driver; cached until a param changes.
   *
   * @throws IllegalArgumentException for a bad device, null policy, mapping or dimension (all problems together)
   */
  public synchronized ScoringSpec spec() {
    byte[] bytes = artifact();
    String key = System.identityHashCode(bytes) + "|" + extractParamMap();
    if (spec != null && key.equals(specKey)) {
      return spec;
    }
    String dev = getOrDefault(device).toLowerCase(Locale.ROOT);
    switch (dev) {
      case "cpu":
        break;
      case "auto":
        LOG.info("device 'auto': scoring on the CPU (this build has no CUDA target yet)");
        break;
      case "cuda":
        throw new IllegalArgumentException("device 'cuda' is not available: this build of NNVM compiles for the CPU"
            + " only (the CUDA target has not landed); use device 'cpu' or 'auto'");
      default:
        throw new IllegalArgumentException("device '" + getOrDefault(device) + "': expected cpu, cuda or auto");
    }
    NullPolicy policy;
    try {
      policy = NullPolicy.valueOf(getOrDefault(nullPolicy).toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("null policy '" + getOrDefault(nullPolicy) + "': expected one of "
          + Arrays.toString(NullPolicy.values()), e);
    }
    ScoringSpec.Builder b = ScoringSpec.builder(bytes).nullPolicy(policy).batchSize((Integer) getOrDefault(batchSize))
        .threads(resolveThreads());
    pairs(getOrDefault(inputCols), "inputCols").forEach(b::mapInput);
    pairs(getOrDefault(outputCols), "outputCols").forEach(b::mapOutput);
    for (Map.Entry<String, String> e : pairs(getOrDefault(dims), "dims").entrySet()) {
      try {
        b.dim(e.getKey(), Long.parseLong(e.getValue()));
      } catch (NumberFormatException ex) {
        throw new IllegalArgumentException("dimension '" + e.getKey() + "': '" + e.getValue() + "' is not a size", ex);
      }
    }
    spec = b.build();
    specKey = key;
    broadcast = null;
    return spec;
  }

  private int resolveThreads() {
    int t = (Integer) getOrDefault(threads);
    if (t > 0) {
      return t;
    }
    SparkSession session = SparkSession.getActiveSession().getOrElse(() -> null);
    if (session == null) {
      return 1;
    }
    return session.sparkContext().getConf().getInt("spark.task.cpus", 1);
  }

  /** The spec broadcast to the executors, once per spec and SparkContext. */
  public synchronized Broadcast<ScoringSpec> broadcastSpec(SparkContext sc) {
    ScoringSpec s = spec();
    if (broadcast == null || !broadcast.isValid()) {
      broadcast = JavaSparkContext.fromSparkContext(sc).broadcast(s);
    }
    return broadcast;
  }

  /** The accumulators of the last {@link #transform} (their values are complete once an action ran). */
  public SparkMetrics lastMetrics() {
    return lastMetrics;
  }

  /**
   * The input schema plus one column per model output.
   *
   * @throws dev.nnvm.arrow.SchemaMismatchException listing every problem (missing column, wrong type, wrong
   *     nesting, an output column that already exists), on the driver
   */
  @Override
  public StructType transformSchema(StructType schema) {
    SparkArrow plan = SparkArrow.plan(spec(), schema);
    StructType out = new StructType();
    for (int i : keptColumns(plan, schema)) {
      out = out.add(schema.fields()[i]);
    }
    for (org.apache.spark.sql.types.StructField f : plan.outputSchema().fields()) {
      out = out.add(f);
    }
    return out;
  }

  /** The input columns {@code transform} keeps: all, or (dropInputCols) those that do not feed the model. */
  private int[] keptColumns(SparkArrow plan, StructType schema) {
    boolean drop = (Boolean) getOrDefault(dropInputCols);
    List<String> feeding = plan.columns();
    return java.util.stream.IntStream.range(0, schema.size())
        .filter(i -> !drop || !feeding.contains(schema.fields()[i].name())).toArray();
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType schema = dataset.schema();
    transformSchema(schema);
    ScoringSpec s = spec();
    if ((Boolean) getOrDefault(checkFirstRow)) {
      checkFirstRow(dataset, s);
    }
    org.apache.spark.sql.classic.SparkSession session = classic(dataset.sparkSession());
    SparkContext sc = session.sparkContext();
    Broadcast<ScoringSpec> bc = broadcastSpec(sc);
    SparkMetrics metrics = SparkMetrics.register(sc);
    lastMetrics = metrics;
    int[] kept = keptColumns(SparkArrow.plan(s, schema), schema);
    PartitionScorer scorer = new PartitionScorer(bc, schema, kept.length == schema.size() ? null : kept, metrics);
    RDD<InternalRow> rows = dataset.queryExecution().toRdd().toJavaRDD()
        .mapPartitions(it -> scorer.apply(it)).rdd();
    return session.internalCreateDataFrame(rows, scorer.resultSchema(), false);
  }

  /** Writes the first row of the model's columns into a scratch batch on the driver: bad lengths fail here. */
  private static void checkFirstRow(Dataset<?> dataset, ScoringSpec s) {
    SparkArrow plan = SparkArrow.plan(s, dataset.schema());
    org.apache.spark.sql.Column[] cols = plan.columns().stream().map(org.apache.spark.sql.functions::col)
        .toArray(org.apache.spark.sql.Column[]::new);
    Dataset<Row> firstRows = dataset.select(cols).limit(1);
    // executeCollect on the CollectLimit plan reads partitions until it has a row (executeTake on it would
    // shuffle every partition into one first).
    InternalRow[] first = (InternalRow[]) firstRows.queryExecution().executedPlan().executeCollect();
    if (first.length == 0) {
      return;
    }
    SparkArrow projected = SparkArrow.plan(s, firstRows.schema());
    try (org.apache.arrow.memory.BufferAllocator a =
            SparkArrow.rootAllocator().newChildAllocator("nnvm-first-row", 0, Long.MAX_VALUE);
        SparkArrow.RowWriter w = projected.newWriter(a, 1)) {
      w.reset(0);
      w.write(first[0]);
    }
  }

  private static org.apache.spark.sql.classic.SparkSession classic(SparkSession session) {
    if (session instanceof org.apache.spark.sql.classic.SparkSession) {
      return (org.apache.spark.sql.classic.SparkSession) session;
    }
    throw new UnsupportedOperationException("NnvmModel runs on a classic SparkSession (on the driver or a Spark"
        + " Connect server), not on a Spark Connect client session");
  }

  @Override
  public NnvmModel copy(ParamMap extra) {
    NnvmModel that = new NnvmModel(uid);
    copyValues(that, extra);
    that.artifact = artifact;
    that.artifactSource = artifactSource;
    return that;
  }

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  /** A reader for saved models (Spark's Pipeline loading calls this by reflection). */
  public static MLReader<NnvmModel> read() {
    return new Reader();
  }

  /** Loads a model saved with {@code write().save(path)}. */
  public static NnvmModel load(String path) {
    return read().load(path);
  }

  @Override
  public String toString() {
    return "NnvmModel[" + uid + ", " + (artifactSource != null ? artifactSource
        : isDefined(modelPath) ? getOrDefault(modelPath) : "no model") + "]";
  }

  /** Saves Spark's params metadata plus the artifact's bytes in {@value #ARTIFACT_FILE}. */
  private static final class Writer extends MLWriter {
    private final NnvmModel model;

    Writer(NnvmModel model) {
      this.model = model;
    }

    @Override
    public void saveImpl(String path) {
      byte[] bytes = model.artifact();
      DefaultParamsWriter$.MODULE$.saveMetadata(model, path, sparkSession());
      Path file = new Path(path, ARTIFACT_FILE);
      try {
        FileSystem fs = file.getFileSystem(hadoopConf(sparkSession()));
        try (OutputStream out = fs.create(file, true)) {
          out.write(bytes);
        }
      } catch (IOException e) {
        throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
      }
    }
  }

  private static Configuration hadoopConf(SparkSession session) {
    return session.sparkContext().hadoopConfiguration();
  }

  /** Reads the params and the artifact; the artifact is verified as it is read. */
  private static final class Reader extends MLReader<NnvmModel> {
    @Override
    public NnvmModel load(String path) {
      DefaultParamsReader.Metadata metadata =
          DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(), NnvmModel.class.getName());
      NnvmModel model = new NnvmModel(metadata.uid());
      metadata.getAndSetParams(model, Option.empty());
      Path file = new Path(path, ARTIFACT_FILE);
      byte[] bytes;
      try {
        FileSystem fs = file.getFileSystem(hadoopConf(sparkSession()));
        try (InputStream in = fs.open(file)) {
          bytes = in.readAllBytes();
        }
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read the saved artifact " + file + ": " + e.getMessage(), e);
      }
      try {
        ScoringSpec.builder(bytes);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the saved artifact " + file + " is corrupt: " + e.getMessage(), e);
      }
      model.artifact = bytes;
      model.artifactSource = file.toString();
      return model;
    }
  }
}
