package dev.nnvm.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.arrow.SchemaMismatchException;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.scoring.ScoringSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ML transformer end to end in Spark local[2]: the PP-OCR direction
 * classifier over a 20k-row DataFrame against ONNX Runtime on a sample,
 * null rows per policy, Pipeline save/load, errors on the driver before any
 * scoring task, and one model load per JVM however many partitions.
 */
class NnvmModelTest {
  private static final long SEED = 20261207L;
  private static SparkSession spark;
  private static byte[] dense;
  @TempDir
  static Path dir;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[2]").appName("NnvmModelTest")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    dense = SparkTestModels.dense();
    System.out.println("NnvmModelTest seed " + SEED);
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  private static org.apache.spark.sql.classic.SparkSession classic() {
    return (org.apache.spark.sql.classic.SparkSession) spark;
  }

  /** id bigint, features array<float> (16 per row); rows with id % nullEvery == 0 have a null features value. */
  private static Dataset<Row> features(int rows, int partitions, int nullEvery) {
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), true);
    long seed = SEED;
    JavaRDD<InternalRow> rdd = classic().range(0, rows, 1, partitions).queryExecution().toRdd().toJavaRDD()
        .map(r -> {
          long id = r.getLong(0);
          Object f = nullEvery > 0 && id % nullEvery == 0 ? null
              : UnsafeArrayData.fromPrimitiveArray(SparkTestModels.features(seed, id));
          return (InternalRow) new GenericInternalRow(new Object[] {id, f});
        });
    return classic().internalCreateDataFrame(rdd.rdd(), schema, false);
  }

  /** id bigint, image array<float> (3x48x192 flat per row); every 97th row is null. */
  private static Dataset<Row> images(int rows, int partitions) {
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("image", DataTypes.createArrayType(DataTypes.FloatType, false), true);
    long seed = SEED;
    JavaRDD<InternalRow> rdd = classic().range(0, rows, 1, partitions).queryExecution().toRdd().toJavaRDD()
        .map(r -> {
          long id = r.getLong(0);
          Object image = id % 97 == 3 ? null : UnsafeArrayData.fromPrimitiveArray(SparkTestModels.image(seed, id));
          return (InternalRow) new GenericInternalRow(new Object[] {id, image});
        });
    return classic().internalCreateDataFrame(rdd.rdd(), schema, false);
  }

  private static float[] floats(Row r, String column) {
    List<Object> list = r.getList(r.fieldIndex(column));
    float[] v = new float[list.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (Float) list.get(i);
    }
    return v;
  }

  @Test
  void directionClassifierOverADataFrameMatchesOnnxRuntime() throws Exception {
    Path onnx = SparkTestModels.classifierFile(dir);
    int rows = 20_000;
    NnvmModel model = new NnvmModel().setModelPath(onnx.toString()).setInputShape("x", "[N, 3, 48, 192]")
        .setInputCol("image", "x").setBatchSize(128);
    long t0 = System.nanoTime();
    ScoringSpec spec = model.spec();
    long compileMs = (System.nanoTime() - t0) / 1_000_000;
    String output = spec.outputs().get(0).name();
    model.setOutputCol(output, "probs");
    ModelCache.shared().evictIdle();
    int loadsBefore = ModelCache.shared().loadCount();
    Dataset<Row> scored = model.transform(images(rows, 8));
    assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false), scored.schema().apply("probs").dataType());
    long t1 = System.nanoTime();
    List<Row> result = scored.select("id", "probs").collectAsList();
    double seconds = (System.nanoTime() - t1) / 1e9;
    assertEquals(rows, result.size());
    assertEquals(1, ModelCache.shared().loadCount() - loadsBefore, "one load in this JVM for 8 partitions");
    ScoringMetrics m = model.lastMetrics().value();
    System.out.printf("direction classifier: %d rows in %.2f s = %.0f rows/s on local[2] (driver compile or cache"
        + " %d ms); metrics %s%n", rows, seconds, rows / seconds, compileMs, model.lastMetrics().asMap());
    assertEquals(rows, m.rows());
    assertEquals(1, m.modelLoads());
    assertTrue(m.batches() >= rows / 128 && m.batches() <= rows / 128 + 8, "batches " + m.batches());
    assertTrue(m.nativeNanos() > 0);
    assertTrue(m.bytesCopied() >= (rows - rows / 97 - 1) * (long) SparkTestModels.CLS_ELEMENTS * 4);

    Map<Long, Row> byId = new HashMap<>();
    for (Row r : result) {
      byId.put(r.getLong(0), r);
    }
    List<Long> sample = new ArrayList<>();
    for (long id = 1; id < rows; id += 331) {
      if (id % 97 != 3) {
        sample.add(id);
      }
    }
    float[] x = new float[sample.size() * SparkTestModels.CLS_ELEMENTS];
    for (int i = 0; i < sample.size(); i++) {
      System.arraycopy(SparkTestModels.image(SEED, sample.get(i)), 0, x, i * SparkTestModels.CLS_ELEMENTS,
          SparkTestModels.CLS_ELEMENTS);
    }
    float[] want = SparkTestModels.ort(onnx, "x", x, new long[] {sample.size(), 3, 48, 192});
    int k = want.length / sample.size();
    double maxAbs = 0;
    double maxRel = 0;
    for (int i = 0; i < sample.size(); i++) {
      float[] got = floats(byId.get(sample.get(i)), "probs");
      assertEquals(k, got.length);
      for (int j = 0; j < k; j++) {
        double w = want[i * k + j];
        double err = Math.abs(got[j] - w);
        maxAbs = Math.max(maxAbs, err);
        maxRel = Math.max(maxRel, err / Math.max(1e-3, Math.abs(w)));
        assertEquals(w, got[j], 1e-4 + 1e-3 * Math.abs(w), "id " + sample.get(i) + " class " + j);
      }
    }
    System.out.printf("direction classifier vs ONNX Runtime on %d sampled rows: max abs %.3g, max rel %.3g%n",
        sample.size(), maxAbs, maxRel);
    int nulls = 0;
    for (long id = 3; id < rows; id += 97) {
      assertTrue(byId.get(id).isNullAt(1), "row " + id + " has a null image, so null probabilities");
      nulls++;
    }
    assertTrue(nulls > 200);
  }

  private NnvmModel denseModel() {
    return new NnvmModel().setArtifact(dense).setInputCol("features", "x").setOutputCol("y", "scores")
        .setBatchSize(50);
  }

  @Test
  void nullRowsFollowThePolicy() {
    Dataset<Row> data = features(1000, 3, 10);
    List<Row> out = denseModel().transform(data).orderBy("id").collectAsList();
    assertEquals(1000, out.size());
    double maxAbs = 0;
    for (Row r : out) {
      long id = r.getLong(0);
      if (id % 10 == 0) {
        assertTrue(r.isNullAt(r.fieldIndex("scores")), "row " + id);
        continue;
      }
      double[] want = SparkTestModels.denseExpected(SparkTestModels.features(SEED, id));
      float[] got = floats(r, "scores");
      for (int j = 0; j < want.length; j++) {
        maxAbs = Math.max(maxAbs, Math.abs(got[j] - want[j]));
        assertEquals(want[j], got[j], 1e-5 + 1e-5 * Math.abs(want[j]), "id " + id + " element " + j);
      }
    }
    System.out.printf("dense model vs exact math over 1000 rows (100 null): max abs %.3g%n", maxAbs);
    // A null element inside an array makes its row null too (arrays built by SQL, so they may hold nulls).
    Dataset<Row> sql = spark.sql("SELECT id, transform(sequence(1, 16), i -> IF(id = 2 AND i = 5, NULL,"
        + " CAST(i * (id + 1) / 64 AS FLOAT))) AS features FROM range(0, 6, 1, 2)");
    List<Row> fromSql = denseModel().transform(sql).orderBy("id").collectAsList();
    for (Row r : fromSql) {
      long id = r.getLong(0);
      if (id == 2) {
        assertTrue(r.isNullAt(2), "row 2 holds a null element");
        continue;
      }
      float[] x = new float[SparkTestModels.FEATURES];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) ((i + 1) * (id + 1) / 64.0);
      }
      double[] want = SparkTestModels.denseExpected(x);
      float[] got = floats(r, "scores");
      for (int j = 0; j < want.length; j++) {
        assertEquals(want[j], got[j], 1e-5 + 1e-5 * Math.abs(want[j]), "id " + id + " element " + j);
      }
    }
    NnvmModel strict = denseModel().setNullPolicy(NullPolicy.STRICT);
    Exception e = assertThrows(Exception.class, () -> strict.transform(features(100, 2, 10)).collectAsList());
    String message = rootMessage(e);
    System.out.println("STRICT: " + message);
    assertTrue(message.contains("column 'features'") && message.contains("null policy STRICT"), message);
  }

  /**
   * dropInputCols: the column that fed the model leaves the output (schema and rows), the others stay in input
   * order with their values, the scores equal the model kept with every column.
   */
  @Test
  void dropInputColsLeavesTheFeedingColumnOut() {
    Dataset<Row> data = features(300, 3, 10).selectExpr("id", "features", "CAST(id * 7 AS STRING) AS tag");
    NnvmModel dropping = denseModel().setDropInputCols(true);
    StructType schema = dropping.transformSchema(data.schema());
    assertEquals(List.of("id", "tag", "scores"), List.of(schema.fieldNames()));
    Dataset<Row> dropped = dropping.transform(data);
    assertEquals(schema, dropped.schema());
    Map<Long, Row> all = new HashMap<>();
    for (Row r : denseModel().transform(data).collectAsList()) {
      all.put(r.getLong(0), r);
    }
    List<Row> rows = dropped.collectAsList();
    assertEquals(300, rows.size());
    for (Row r : rows) {
      long id = r.getLong(0);
      assertEquals(Long.toString(id * 7), r.getString(1), "row " + id + " keeps its tag");
      Row full = all.get(id);
      if (id % 10 == 0) {
        assertTrue(r.isNullAt(2) && full.isNullAt(full.fieldIndex("scores")), "row " + id + " is null");
      } else {
        assertArrayEquals(floats(full, "scores"), floats(r, "scores"), "row " + id);
      }
    }
    // Only the model's columns: the outputs alone.
    assertEquals(List.of("scores"), List.of(dropping.transform(data.select("features")).schema().fieldNames()));
    assertEquals(300, dropping.transform(data.select("features")).count());
  }

  private static String rootMessage(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(t.getMessage()).append(" | ");
    }
    return sb.toString();
  }

  @Test
  void pipelineSaveAndLoadGiveIdenticalOutput() throws Exception {
    Path artifact = dir.resolve("dense.nnvm");
    Files.write(artifact, dense);
    NnvmModel stage = new NnvmModel().setModelPath(artifact.toString()).setInputCol("features", "x")
        .setOutputCol("y", "scores").setBatchSize(7);
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {stage});
    Dataset<Row> data = features(300, 2, 13);
    PipelineModel fitted = pipeline.fit(data);
    List<Row> before = fitted.transform(data).orderBy("id").collectAsList();
    String saved = dir.resolve("pipeline").toString();
    fitted.write().overwrite().save(saved);
    Files.delete(artifact); // the saved pipeline must not need the original file
    PipelineModel loaded = PipelineModel.load(saved);
    NnvmModel again = (NnvmModel) loaded.stages()[0];
    assertEquals(7, again.getOrDefault(again.batchSize()));
    assertEquals(stage.uid(), again.uid());
    List<Row> after = loaded.transform(data).orderBy("id").collectAsList();
    assertEquals(before.size(), after.size());
    for (int i = 0; i < before.size(); i++) {
      assertEquals(before.get(i).getLong(0), after.get(i).getLong(0));
      if (before.get(i).isNullAt(2)) {
        assertTrue(after.get(i).isNullAt(2));
      } else {
        assertArrayEquals(floats(before.get(i), "scores"), floats(after.get(i), "scores"), "row " + i);
      }
    }
    // The transformer alone round-trips too.
    String single = dir.resolve("single").toString();
    stage.setArtifact(dense).write().overwrite().save(single);
    NnvmModel one = NnvmModel.load(single);
    assertArrayEquals(dense, one.artifact());
    List<Row> third = one.transform(data).orderBy("id").collectAsList();
    assertEquals(before.toString(), third.toString());
  }

  @Test
  void badInputIsRefusedOnTheDriverBeforeAnyTask() throws Exception {
    NnvmModel model = denseModel();
    StructType wrong = new StructType().add("id", DataTypes.LongType)
        .add("features", DataTypes.createArrayType(DataTypes.DoubleType))
        .add("scores", DataTypes.FloatType);
    SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> model.transformSchema(wrong));
    System.out.println(e.getMessage());
    assertEquals(2, e.problems().size(), e.getMessage());
    assertTrue(e.getMessage().contains("wrong element type") && e.getMessage().contains("'scores'"), e.getMessage());

    StructType missing = new StructType().add("id", DataTypes.LongType)
        .add("f", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)))
        .add("name", DataTypes.StringType);
    NnvmModel two = denseModel().setInputCol("name", "x");
    e = assertThrows(SchemaMismatchException.class, () -> two.transformSchema(missing));
    assertTrue(e.getMessage().contains("column 'name'") && e.getMessage().contains("string"), e.getMessage());
    NnvmModel three = denseModel().setInputCol("nope", "x");
    e = assertThrows(SchemaMismatchException.class, () -> three.transformSchema(missing));
    assertTrue(e.getMessage().contains("missing column 'nope'"), e.getMessage());

    // Wrong per-row length: found in the first row, on the driver, when transform is called.
    Dataset<Row> shortRows = spark.sql("SELECT id, array(cast(1 as float), cast(2 as float)) AS features"
        + " FROM range(10)");
    IllegalArgumentException len = assertThrows(IllegalArgumentException.class, () -> denseModel().transform(shortRows));
    System.out.println(len.getMessage());
    assertTrue(len.getMessage().contains("row 0 of column 'features' has 2 elements")
        && len.getMessage().contains("needs 16"), len.getMessage());

    Path corrupt = dir.resolve("corrupt.nnvm");
    byte[] flipped = dense.clone();
    flipped[flipped.length / 2] ^= 0x21;
    Files.write(corrupt, flipped);
    IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
        () -> new NnvmModel().setModelPath(corrupt.toString()).transformSchema(wrong));
    System.out.println(c.getMessage());
    assertTrue(c.getMessage().contains("corrupt NNVM artifact"), c.getMessage());

    Path text = dir.resolve("notes.onnx");
    Files.write(text, "these are not the weights you are looking for".getBytes(StandardCharsets.UTF_8));
    IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
        () -> new NnvmModel().setModelPath(text.toString()).transformSchema(wrong));
    System.out.println(n.getMessage());
    assertTrue(n.getMessage().contains("neither an NNVM artifact") && n.getMessage().contains("notes.onnx"),
        n.getMessage());

    IllegalArgumentException cuda = assertThrows(IllegalArgumentException.class,
        () -> denseModel().setDevice("cuda").spec());
    assertTrue(cuda.getMessage().contains("device 'cuda'"), cuda.getMessage());
    assertNotNull(denseModel().setDevice("auto").spec());
  }

  @Test
  void theModelIsLoadedOncePerJvmAcrossManyPartitions() {
    NnvmModel model = denseModel();
    ModelCache.shared().evictIdle();
    int before = ModelCache.shared().loadCount();
    long rows = model.transform(features(4000, 16, 0)).filter("scores is not null").count();
    assertEquals(4000, rows);
    assertEquals(1, ModelCache.shared().loadCount() - before, "16 partitions, 16 tasks, one load");
    Map<String, Long> m = model.lastMetrics().asMap();
    System.out.println("16 partitions: " + m);
    assertEquals(1L, m.get(ScoringMetrics.MODEL_LOADS));
    assertEquals(4000L, m.get(ScoringMetrics.ROWS));
    // A second job with the model still cached loads nothing.
    model.transform(features(500, 4, 0)).count();
    assertEquals(1, ModelCache.shared().loadCount() - before);
    assertEquals(0L, model.lastMetrics().asMap().get(ScoringMetrics.MODEL_LOADS));
    assertEquals(0, SparkArrow.rootAllocator().getAllocatedMemory(), "every task freed its Arrow memory");
  }
}
