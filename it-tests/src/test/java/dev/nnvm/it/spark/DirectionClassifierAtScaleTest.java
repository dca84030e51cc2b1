package dev.nnvm.it.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.spark.NnvmModel;
import dev.nnvm.spark.SparkArrow;
import java.io.Serializable;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
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
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PP-OCR mobile v2.0 direction classifier ({@code x: f32[N, 3, 48, 192]})
 * over a large DataFrame in Spark local[2] through {@link NnvmModel}, against
 * ONNX Runtime on a deterministic sample.
 *
 * <p>The images (27,648 floats each, about 108 KiB) are generated on the
 * executors from (seed, row id) by a map over {@code range}, so the
 * DataFrame is never materialized on the driver; the driver regenerates only
 * the sampled rows for ONNX Runtime. One pass over the scored rows, on the
 * executors, checks every row (not null, two probabilities summing to 1, ids
 * consecutive within each partition, so input order is kept) and returns only
 * per-partition counts and the sample.
 *
 * <p>Size: 100,000 rows, as issue 17 asks. Measured on 2026-12-06 on the
 * 2-vCPU development machine: quiet (load average 0.4), 100,000 rows scored
 * in 44 s (2,267 rows/s, 69.5 s of native time over the two tasks; class
 * 47 s, max abs error 1.2e-6); under other builds' load (5-7) the same took
 * 119-128 s. The cost is the model's native time, not Spark.
 * {@code -Dnnvm.it.clsRows=N} runs another size.
 */
class DirectionClassifierAtScaleTest {
  private static final int ROWS = Integer.getInteger("nnvm.it.clsRows", 100_000);
  private static final int PARTITIONS = 8;
  /** About 100 sampled rows whatever the size: ids with id % stride == 7. */
  private static final int SAMPLES = 100;
  private static final long SEED = SparkIt.seed(20261208L);
  /** fp32 through a small CNN into a softmax: summation order differs from ONNX Runtime (as in OcrModelsTest). */
  private static final double RTOL = 1e-3;
  private static final double ATOL = 1e-4;

  private static SparkSession spark;
  @TempDir
  static Path dir;

  @BeforeAll
  static void start() {
    spark = SparkSession.builder().master("local[2]").appName("DirectionClassifierAtScaleTest")
        .config("spark.ui.enabled", "false").getOrCreate();
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** id bigint, image array<float> (3x48x192 flat), made on the executors; nothing is collected. */
  private static Dataset<Row> images(long seed, int rows, int partitions) {
    org.apache.spark.sql.classic.SparkSession classic = (org.apache.spark.sql.classic.SparkSession) spark;
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("image", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    JavaRDD<InternalRow> rdd = classic.range(0, rows, 1, partitions).queryExecution().toRdd().toJavaRDD()
        .map(r -> {
          long id = r.getLong(0);
          return (InternalRow) new GenericInternalRow(new Object[] {id,
              UnsafeArrayData.fromPrimitiveArray(SparkIt.floats(seed, id, SparkIt.CLS_ELEMENTS))});
        });
    return classic.internalCreateDataFrame(rdd.rdd(), schema, false);
  }

  /** What one partition's check returns: counts, id range, and its sampled rows. */
  static final class PartitionCheck implements Serializable {
    private static final long serialVersionUID = 1L;
    int partition;
    long rows;
    long firstId = -1;
    long lastId = -1;
    long outOfOrder;
    long nulls;
    long badRows;
    double maxSumError;
    final List<long[]> sampleIds = new ArrayList<>();
    final List<float[]> sampleProbs = new ArrayList<>();
  }

  private static Iterator<PartitionCheck> check(int partition, Iterator<Row> rows, long stride) {
    PartitionCheck c = new PartitionCheck();
    c.partition = partition;
    while (rows.hasNext()) {
      Row r = rows.next();
      long id = r.getLong(0);
      if (c.firstId < 0) {
        c.firstId = id;
      } else if (id != c.lastId + 1) {
        c.outOfOrder++;
      }
      c.lastId = id;
      c.rows++;
      if (r.isNullAt(1)) {
        c.nulls++;
        continue;
      }
      float[] p = SparkIt.floats(r, "probs");
      double sum = 0;
      boolean finite = p.length == 2;
      for (float v : p) {
        finite &= Float.isFinite(v) && v >= 0 && v <= 1;
        sum += v;
      }
      if (!finite) {
        c.badRows++;
      }
      c.maxSumError = Math.max(c.maxSumError, Math.abs(sum - 1));
      if (id % stride == 7) {
        c.sampleIds.add(new long[] {id});
        c.sampleProbs.add(p);
      }
    }
    return List.of(c).iterator();
  }

  @Test
  @Timeout(600)
  void largeDataFrameMatchesOnnxRuntimeOnASample() throws Exception {
    Path onnx = SparkIt.classifier(dir);
    System.out.printf("DirectionClassifierAtScaleTest: %d rows, %d partitions, seed %d%n", ROWS, PARTITIONS, SEED);
    NnvmModel model = new NnvmModel().setModelPath(onnx.toString()).setInputShape("x", "[N, 3, 48, 192]")
        .setInputCol("image", "x").setBatchSize(128);
    long t0 = System.nanoTime();
    String output = model.spec().outputs().get(0).name();
    long compileMs = (System.nanoTime() - t0) / 1_000_000;
    model.setOutputCol(output, "probs");
    ModelCache.shared().evictIdle();
    int loadsBefore = ModelCache.shared().loadCount();

    long stride = Math.max(1, ROWS / SAMPLES);
    long t1 = System.nanoTime();
    Dataset<Row> scored = model.transform(images(SEED, ROWS, PARTITIONS)).select("id", "probs");
    List<PartitionCheck> checks = scored.toJavaRDD()
        .mapPartitionsWithIndex((p, it) -> check(p, it, stride), true).collect();
    double seconds = (System.nanoTime() - t1) / 1e9;
    ScoringMetrics m = model.lastMetrics().value();
    System.out.printf("direction classifier: %d rows in %.1f s = %.0f rows/s on local[2] (compile or cache hit %d"
        + " ms; native %.1f s over both tasks); metrics %s%n", ROWS, seconds, ROWS / seconds, compileMs,
        m.nativeNanos() / 1e9, model.lastMetrics().asMap());

    // Every row came back once, in order, with two probabilities summing to 1.
    checks = new ArrayList<>(checks);
    checks.sort((a, b) -> Integer.compare(a.partition, b.partition));
    assertEquals(PARTITIONS, checks.size());
    long total = 0;
    long expectNext = 0;
    double maxSumError = 0;
    List<Long> ids = new ArrayList<>();
    List<float[]> probs = new ArrayList<>();
    for (PartitionCheck c : checks) {
      total += c.rows;
      assertEquals(0, c.nulls, "partition " + c.partition + ": null outputs");
      assertEquals(0, c.badRows, "partition " + c.partition + ": rows without two probabilities in [0, 1]");
      assertEquals(0, c.outOfOrder, "partition " + c.partition + ": ids not consecutive (order lost)");
      assertEquals(expectNext, c.firstId, "partition " + c.partition + " starts where the previous one ended");
      expectNext = c.lastId + 1;
      maxSumError = Math.max(maxSumError, c.maxSumError);
      c.sampleIds.forEach(a -> ids.add(a[0]));
      probs.addAll(c.sampleProbs);
    }
    assertEquals(ROWS, total);
    assertEquals(ROWS, expectNext);
    assertTrue(maxSumError < 1e-5, "softmax rows sum to 1 within " + maxSumError);
    assertEquals(ROWS, m.rows());
    assertEquals(1, m.modelLoads(), "one load in this JVM for " + PARTITIONS + " partitions");
    assertEquals(1, ModelCache.shared().loadCount() - loadsBefore);
    assertEquals(0, SparkArrow.rootAllocator().getAllocatedMemory(), "every task freed its Arrow memory");

    // The sample against ONNX Runtime on the same regenerated rows.
    assertEquals((ROWS - 7 + stride - 1) / stride, ids.size(), "sampled ids " + ids);
    float[] x = new float[ids.size() * SparkIt.CLS_ELEMENTS];
    for (int i = 0; i < ids.size(); i++) {
      System.arraycopy(SparkIt.floats(SEED, ids.get(i), SparkIt.CLS_ELEMENTS), 0, x, i * SparkIt.CLS_ELEMENTS,
          SparkIt.CLS_ELEMENTS);
    }
    long[] shape = {ids.size(), 3, 48, 192};
    long t2 = System.nanoTime();
    float[] want = SparkIt.ort(onnx, Map.of("x", env -> OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape)));
    System.out.printf("ONNX Runtime (2 threads, session included) on the %d sampled rows: %.0f ms%n", ids.size(),
        (System.nanoTime() - t2) / 1e6);
    assertEquals(ids.size() * 2, want.length);
    double maxAbs = 0;
    double maxRel = 0;
    int agreeOnClass = 0;
    for (int i = 0; i < ids.size(); i++) {
      float[] got = probs.get(i);
      for (int j = 0; j < 2; j++) {
        double w = want[i * 2 + j];
        double err = Math.abs(got[j] - w);
        maxAbs = Math.max(maxAbs, err);
        if (Math.abs(w) > ATOL) {
          maxRel = Math.max(maxRel, err / Math.abs(w));
        }
        assertEquals(w, got[j], ATOL + RTOL * Math.abs(w), "id " + ids.get(i) + " class " + j);
      }
      agreeOnClass += (got[0] > got[1]) == (want[i * 2] > want[i * 2 + 1]) ? 1 : 0;
    }
    System.out.printf("direction classifier vs ONNX Runtime on %d sampled rows (every %d-th): max abs err %.3g,"
        + " max rel err %.3g, same class %d/%d, softmax sum error %.2g over all %d rows%n", ids.size(), stride, maxAbs,
        maxRel, agreeOnClass, ids.size(), maxSumError, ROWS);
  }
}
