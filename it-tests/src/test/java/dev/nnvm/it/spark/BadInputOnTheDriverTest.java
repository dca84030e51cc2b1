package dev.nnvm.it.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.SchemaMismatchException;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.spark.NnvmModel;
import dev.nnvm.spark.text.NnvmPooling;
import dev.nnvm.spark.text.NnvmTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input is refused on the driver, with a message naming the column, row,
 * input or file, before any scoring task runs, in Spark local[2]. A
 * {@link org.apache.spark.scheduler.SparkListener} counts the jobs each case
 * submits: none, except the first-row probe of {@link NnvmModel} (row lengths
 * are not part of a Spark schema, so the driver reads one row; over a
 * distributed source that read is a one-task job, over local data no job at
 * all). No case may load the model: this class's artifact is compiled here,
 * so a scoring task anywhere in this JVM would raise
 * {@link ModelCache#loadCount()}.
 */
class BadInputOnTheDriverTest {
  private static final long SEED = SparkIt.seed(20261211L);
  private static final int VARIANT = 11;
  private static SparkSession spark;
  private static byte[] artifact;
  private static final SparkIt.JobCounter JOBS = new SparkIt.JobCounter();
  private static int loadsBefore;
  @TempDir
  static Path dir;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[2]").appName("BadInputOnTheDriverTest")
        .config("spark.ui.enabled", "false").getOrCreate();
    spark.sparkContext().addSparkListener(JOBS);
    artifact = SparkIt.dense(VARIANT);
    loadsBefore = ModelCache.shared().loadCount();
    System.out.println("BadInputOnTheDriverTest seed " + SEED);
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  @BeforeEach
  void resetCounts() throws Exception {
    SparkIt.settle(spark.sparkContext());
    JOBS.reset();
  }

  @AfterEach
  void noModelWasLoaded() {
    assertEquals(loadsBefore, ModelCache.shared().loadCount(), "a scoring task ran and loaded the model");
  }

  private static NnvmModel dense() {
    return new NnvmModel().setArtifact(artifact).setInputCol("features", "x").setOutputCol("y", "scores");
  }

  /** id bigint, features of the given type over range(rows) in 4 partitions, made lazily (no job yet). */
  private static Dataset<Row> distributed(String featuresSql, int rows) {
    return spark.sql("SELECT id, " + featuresSql + " AS features FROM range(0, " + rows + ", 1, 4)");
  }

  /** Runs {@code call}, which must throw {@code type}; prints the message and checks that no job was submitted. */
  private static <T extends Throwable> String refused(Class<T> type, Executable call, int maxJobs, String... words)
      throws Exception {
    return refused(type, call, maxJobs, maxJobs, words);
  }

  private static <T extends Throwable> String refused(Class<T> type, Executable call, int maxJobs, int maxTasks,
      String... words) throws Exception {
    T e = assertThrows(type, call);
    SparkIt.settle(spark.sparkContext());
    String message = e.getMessage();
    System.out.println(type.getSimpleName() + ": " + message + " [jobs " + JOBS.jobs.get() + ", tasks "
        + JOBS.tasks.get() + "]");
    for (String w : words) {
      assertTrue(message.contains(w), "'" + w + "' in: " + message);
    }
    assertTrue(JOBS.jobs.get() <= maxJobs, JOBS.jobs.get() + " job(s) submitted, at most " + maxJobs + " allowed");
    assertTrue(JOBS.tasks.get() <= maxTasks, JOBS.tasks.get() + " task(s) ran, at most " + maxTasks + " allowed");
    return message;
  }

  @Test
  void missingColumn() throws Exception {
    Dataset<Row> df = distributed("array(cast(1 as float))", 100);
    refused(SchemaMismatchException.class, () -> dense().setInputCol("pixels", "x").transform(df), 0,
        "missing column 'pixels'");
    // transformSchema alone (what a Pipeline calls first) gives the same error, every problem at once.
    StructType two = new StructType().add("id", DataTypes.LongType).add("scores", DataTypes.FloatType);
    SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> dense().transformSchema(two));
    System.out.println("two problems: " + e.getMessage());
    assertEquals(2, e.problems().size(), e.getMessage());
    assertTrue(e.getMessage().contains("'features'") && e.getMessage().contains("'scores'"), e.getMessage());
    SparkIt.settle(spark.sparkContext());
    assertEquals(0, JOBS.jobs.get());
  }

  @Test
  void wrongType() throws Exception {
    // double into an f32 input is lossy: refused (cast it); a string column cannot feed a tensor at all.
    refused(SchemaMismatchException.class,
        () -> dense().transform(distributed("transform(sequence(1, 16), i -> cast(i as double))", 100)), 0,
        "column 'features'", "f64", "without loss");
    refused(SchemaMismatchException.class, () -> dense().transform(distributed("cast(id as string)", 100)), 0,
        "'features'", "string");
    // A nesting that fits neither a flat nor a rank-deep row.
    refused(SchemaMismatchException.class, () -> dense().transform(
        distributed("array(array(array(cast(1 as float))))", 100)), 0, "'features'");
  }

  @Test
  void wrongPerRowLengthInTheFirstRow() throws Exception {
    // Local rows: the driver reads the first one without a job.
    StructType schema = new StructType().add("id", DataTypes.LongType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType));
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 50; id++) {
      float[] f = SparkIt.floats(SEED, id, 5);
      List<Float> boxed = new ArrayList<>();
      for (float v : f) {
        boxed.add(v);
      }
      rows.add(RowFactory.create(id, boxed));
    }
    Dataset<Row> local = spark.createDataFrame(rows, schema);
    refused(IllegalArgumentException.class, () -> dense().transform(local), 0,
        "row 0 of column 'features' has 5 elements", "needs 16");
    // A distributed source (4 partitions): the probe is one job of one task (the first partition holds a row),
    // and nothing is scored.
    refused(IllegalArgumentException.class,
        () -> dense().transform(distributed("transform(sequence(1, 3), i -> cast(i as float))", 1000)), 1, 1,
        "row 0 of column 'features' has 3 elements", "needs 16");
  }

  @Test
  void wrongLengthInALaterRowFailsItsTaskNamingTheRow() throws Exception {
    // Not a driver-side case (only the first row is checked there): every row is checked again on the executors,
    // and the job fails with the column, the row and the input named. Row 700 is row 200 of partition 2.
    Dataset<Row> df = distributed("IF(id = 700, array(cast(1 as float)),"
        + " transform(sequence(1, 16), i -> cast(i * 0.01 as float)))", 1000);
    // Another variant of the model: this class's own artifact must stay unloaded for the other cases' check.
    NnvmModel model = new NnvmModel().setArtifact(SparkIt.dense(VARIANT + 1)).setInputCol("features", "x")
        .setOutputCol("y", "scores");
    Dataset<Row> scored = model.transform(df);
    Exception e = assertThrows(Exception.class, () -> scored.collectAsList());
    String all = SparkIt.messages(e);
    System.out.println("row 700: " + all.substring(0, Math.min(all.length(), 600)));
    assertTrue(all.contains("partition 2, row 200 of column 'features' has 1 elements") && all.contains("needs 16"),
        all);
    // That job ran scoring tasks, so the model was loaded; keep the per-test load check meaningful.
    loadsBefore = ModelCache.shared().loadCount();
  }

  @Test
  void corruptArtifact() throws Exception {
    byte[] flipped = artifact.clone();
    flipped[flipped.length / 2] ^= 0x21;
    Path corrupt = dir.resolve("corrupt.nnvm");
    Files.write(corrupt, flipped);
    Dataset<Row> df = distributed("transform(sequence(1, 16), i -> cast(i as float))", 100);
    refused(IllegalArgumentException.class, () -> new NnvmModel().setModelPath(corrupt.toString())
        .setInputCol("features", "x").transform(df), 0, "corrupt.nnvm", "corrupt NNVM artifact");
    Path truncated = dir.resolve("truncated.nnvm");
    Files.write(truncated, Arrays.copyOf(artifact, artifact.length / 3));
    refused(IllegalArgumentException.class, () -> new NnvmModel().setModelPath(truncated.toString())
        .setInputCol("features", "x").transform(df), 0, "truncated.nnvm");
    // Bytes handed over directly are verified when they are set.
    refused(IllegalArgumentException.class, () -> new NnvmModel().setArtifact(flipped), 0, "not a valid NNVM artifact");
  }

  @Test
  void modelFileThatIsNotOnnx() throws Exception {
    Dataset<Row> df = distributed("transform(sequence(1, 16), i -> cast(i as float))", 100);
    Path text = dir.resolve("notes.onnx");
    Files.write(text, "these are not the weights you are looking for\n".getBytes(StandardCharsets.UTF_8));
    refused(IllegalArgumentException.class, () -> new NnvmModel().setModelPath(text.toString())
        .setInputCol("features", "x").transform(df), 0, "notes.onnx", "neither an NNVM artifact");
    // The first 4 KiB of a real ONNX file: a protobuf cut mid-message.
    byte[] onnx = Files.readAllBytes(SparkIt.classifier(dir));
    Path cut = dir.resolve("cut.onnx");
    Files.write(cut, Arrays.copyOf(onnx, 4096));
    refused(IllegalArgumentException.class, () -> new NnvmModel().setModelPath(cut.toString())
        .setInputCol("features", "x").transform(df), 0, "cut.onnx");
    Path missing = dir.resolve("no-such-model.onnx");
    refused(IllegalArgumentException.class, () -> new NnvmModel().setModelPath(missing.toString())
        .setInputCol("features", "x").transform(df), 0, "no-such-model.onnx", "does not exist");
  }

  @Test
  void textStagesRefuseBadInputOnTheDriver() throws Exception {
    Path notJson = dir.resolve("tokenizer.json");
    Files.write(notJson, Arrays.copyOf(artifact, 256));
    refused(IllegalArgumentException.class, () -> new NnvmTokenizer().setTokenizerFile(notJson.toString()), 0,
        "tokenizer.json");
    byte[] json = Files.readAllBytes(SparkIt.resourceFile("/all-minilm-l6-v2-tokenizer.json", dir));
    Dataset<Row> numbers = distributed("id * 2", 10);
    refused(IllegalArgumentException.class,
        () -> new NnvmTokenizer().setTokenizerJson(json).setInputCol("features").transform(numbers), 0,
        "'features'", "string");
    refused(IllegalArgumentException.class, () -> new NnvmPooling().transform(numbers), 0, "last_hidden_state");
  }
}
