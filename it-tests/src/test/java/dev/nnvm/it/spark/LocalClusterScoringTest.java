package dev.nnvm.it.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.spark.NnvmModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorAdded;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NnvmModel} on {@code local-cluster[2,1,1024]}: two executors, each
 * a separate JVM started by an in-process standalone master and worker,
 * with the driver's class path (see /work/shared/DESIGN.md for the settings
 * that make this work from Maven artifacts).
 *
 * <ol>
 *   <li>The model is loaded exactly once per executor JVM whatever the
 *       number of partitions and tasks (16, then 24 more in a second job):
 *       the {@code nnvm.modelLoads} accumulator equals the number of JVMs
 *       that ran scoring tasks (their process ids travel with the rows), and
 *       a follow-up job reads {@link ModelCache#shared()} on every executor.</li>
 *   <li>Killing an executor mid-job (a task halts its JVM once, guarded by a
 *       marker file) still gives complete output, identical to a clean run.</li>
 *   <li>A task that throws on its first attempt is retried and the output is
 *       identical to a clean run.</li>
 * </ol>
 * A small dense model (y = Relu(xW + b), checked against exact math) keeps
 * these fast; each test compiles its own variant, so each has an artifact no
 * executor loaded before. The tests run in order: the first one counts
 * every load of the fresh executor JVMs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LocalClusterScoringTest {
  private static final long SEED = SparkIt.seed(20261210L);
  private static SparkSession spark;
  private static final ExecutorEvents EXECUTORS = new ExecutorEvents();
  private static final SparkIt.JobCounter JOBS = new SparkIt.JobCounter();
  @TempDir
  static Path dir;

  /** Executors added and removed, as the driver saw them. */
  static final class ExecutorEvents extends SparkListener {
    final AtomicInteger added = new AtomicInteger();
    final AtomicInteger removed = new AtomicInteger();
    final List<String> removedReasons = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public void onExecutorAdded(SparkListenerExecutorAdded e) {
      added.incrementAndGet();
    }

    @Override
    public void onExecutorRemoved(SparkListenerExecutorRemoved e) {
      removed.incrementAndGet();
      removedReasons.add(e.executorId() + ": " + e.reason());
    }
  }

  @BeforeAll
  static void start() {
    long t0 = System.nanoTime();
    String opens = "--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED";
    spark = SparkSession.builder().master("local-cluster[2,1,1024]").appName("LocalClusterScoringTest")
        .config("spark.ui.enabled", "false")
        .config("spark.executor.extraClassPath", System.getProperty("java.class.path"))
        .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
        .config("spark.executorEnv.SPARK_SQL_TESTING", "1")
        .config("spark.executorEnv.SPARK_LOCAL_IP", "127.0.0.1")
        .config("spark.executor.extraJavaOptions", opens)
        .config("spark.cores.max", "2")
        .config("spark.scheduler.minRegisteredResourcesRatio", "1.0")
        .config("spark.scheduler.maxRegisteredResourcesWaitingTime", "60s")
        .config("spark.task.maxFailures", "4")
        .getOrCreate();
    spark.sparkContext().addSparkListener(EXECUTORS);
    spark.sparkContext().addSparkListener(JOBS);
    System.out.printf("local-cluster[2,1,1024] up in %.1f s, seed %d%n", (System.nanoTime() - t0) / 1e9, SEED);
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  /**
   * id, pid of the JVM that made the row (the same task scores it), features (16 floats, from (seed, id)).
   * {@code fault} runs on every row before it is handed on, on the executors.
   */
  private static Dataset<Row> features(int rows, int partitions, RowFault fault) {
    StructType schema = new StructType().add("id", DataTypes.LongType, false).add("pid", DataTypes.LongType, false)
        .add("executor", DataTypes.StringType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    long seed = SEED;
    JavaRDD<Row> rdd = spark.range(0, rows, 1, partitions).toJavaRDD().map(id -> {
      fault.at(id);
      return RowFactory.create(id, ProcessHandle.current().pid(), SparkEnv.get().executorId(),
          SparkIt.floats(seed, id, SparkIt.DENSE_IN));
    });
    return spark.createDataFrame(rdd, schema);
  }

  /** A fault to inject at a row (serializable: it runs on the executors). */
  @FunctionalInterface
  interface RowFault extends java.io.Serializable {
    void at(long id) throws Exception;
  }

  private static NnvmModel dense(byte[] artifact) {
    return new NnvmModel().setArtifact(artifact).setInputCol("features", "x").setOutputCol("y", "scores")
        .setBatchSize(40);
  }

  /** Scores and collects id -> scores, checking every row against exact math; the pids that scored go in pids. */
  private static Map<Long, float[]> score(NnvmModel model, int variant, int rows, int partitions, RowFault fault,
      Set<Long> pids) {
    List<Row> out = model.transform(features(rows, partitions, fault)).select("id", "pid", "scores").collectAsList();
    Map<Long, float[]> byId = new HashMap<>();
    double maxAbs = 0;
    for (Row r : out) {
      long id = r.getLong(0);
      pids.add(r.getLong(1));
      float[] got = SparkIt.floats(r, "scores");
      double[] want = SparkIt.denseExpected(variant, SparkIt.floats(SEED, id, SparkIt.DENSE_IN));
      for (int j = 0; j < want.length; j++) {
        maxAbs = Math.max(maxAbs, Math.abs(got[j] - want[j]));
        assertEquals(want[j], got[j], 1e-5 + 1e-5 * Math.abs(want[j]), "id " + id + " output " + j);
      }
      assertTrue(byId.put(id, got) == null, "row " + id + " came back twice");
    }
    assertEquals(rows, byId.size(), "every row came back");
    System.out.printf("  %d rows from %d executor JVMs %s, max abs err vs exact math %.3g%n", rows, pids.size(), pids,
        maxAbs);
    return byId;
  }

  private static void assertIdentical(Map<Long, float[]> clean, Map<Long, float[]> other, String what) {
    assertEquals(clean.keySet(), other.keySet(), what + ": the same rows");
    for (Map.Entry<Long, float[]> e : clean.entrySet()) {
      assertArrayEquals(e.getValue(), other.get(e.getKey()), what + ": row " + e.getKey() + " bit for bit");
    }
  }

  /** (pid, executor id, ModelCache.shared().loadCount(), loaded models) from every executor JVM this job reaches. */
  private static Map<Long, long[]> cacheStateOnExecutors(int tasks) {
    List<long[]> seen = spark.range(0, tasks, 1, tasks).toJavaRDD().map(i -> {
      Thread.sleep(150); // keep each task long enough that both executors take some
      ModelCache c = ModelCache.shared();
      return new long[] {ProcessHandle.current().pid(), Long.parseLong(SparkEnv.get().executorId()), c.loadCount(),
          c.loadedModels()};
    }).collect();
    Map<Long, long[]> byPid = new HashMap<>();
    for (long[] s : seen) {
      byPid.put(s[0], s);
    }
    return byPid;
  }

  @Test
  @Order(1)
  void theModelIsLoadedOncePerExecutorJvm() {
    byte[] artifact = SparkIt.dense(1);
    NnvmModel model = dense(artifact);
    Set<Long> pids = new HashSet<>();
    long t0 = System.nanoTime();
    // A short pause per partition so both executors take tasks (one could otherwise run all 16).
    score(model, 1, 4000, 16, id -> {
      if (id % 250 == 0) {
        Thread.sleep(100);
      }
    }, pids);
    Map<String, Long> first = model.lastMetrics().asMap();
    score(model, 1, 2400, 24, id -> { }, pids);
    Map<String, Long> second = model.lastMetrics().asMap();
    System.out.printf("16 + 24 partitions on local-cluster in %.1f s; metrics %s then %s%n",
        (System.nanoTime() - t0) / 1e9, first, second);
    assertEquals(2, pids.size(), "both executor JVMs ran scoring tasks: " + pids);
    assertTrue(!pids.contains(ProcessHandle.current().pid()), "executors are not the driver's JVM");
    assertEquals((long) pids.size(), first.get(ScoringMetrics.MODEL_LOADS) + second.get(ScoringMetrics.MODEL_LOADS),
        "one load per executor JVM over 40 tasks");
    assertEquals(4000L, first.get(ScoringMetrics.ROWS));
    assertEquals(2400L, second.get(ScoringMetrics.ROWS));

    Map<Long, long[]> state = cacheStateOnExecutors(24);
    for (long pid : pids) {
      for (int tries = 0; tries < 3 && !state.containsKey(pid); tries++) {
        state.putAll(cacheStateOnExecutors(24));
      }
      long[] s = state.get(pid);
      assertTrue(s != null, "the follow-up job reached executor JVM " + pid);
      System.out.printf("  executor %d (pid %d): ModelCache.shared().loadCount() = %d, loaded models %d%n", s[1], pid,
          s[2], s[3]);
      assertEquals(1, s[2], "executor " + s[1] + " (pid " + pid + ") loaded the model once");
    }
  }

  @Test
  @Order(2)
  void killingAnExecutorMidJobGivesCompleteIdenticalOutput() throws Exception {
    byte[] artifact = SparkIt.dense(2);
    Set<Long> cleanPids = new HashSet<>();
    Map<Long, float[]> clean = score(dense(artifact), 2, 3000, 12, id -> { }, cleanPids);

    Path marker = dir.resolve("killed-executor");
    String markerPath = marker.toString();
    int removedBefore = EXECUTORS.removed.get();
    JOBS.reset();
    long t0 = System.nanoTime();
    Set<Long> pids = new HashSet<>();
    // Row 1337 is in partition 5 (250 rows each); batches of 40 rows, so earlier batches of that task were scored
    // when its JVM halts. The marker makes it happen once: the retried task finds it and goes on.
    Map<Long, float[]> afterKill = score(dense(artifact), 2, 3000, 12, id -> {
      if (id == 1337) {
        try {
          Files.write(Path.of(markerPath), Long.toString(ProcessHandle.current().pid())
              .getBytes(StandardCharsets.UTF_8), java.nio.file.StandardOpenOption.CREATE_NEW);
        } catch (FileAlreadyExistsException again) {
          return;
        }
        Runtime.getRuntime().halt(37);
      }
    }, pids);
    double seconds = (System.nanoTime() - t0) / 1e9;
    SparkIt.settle(spark.sparkContext());
    assertTrue(Files.exists(marker), "an executor was halted");
    long killedPid = Long.parseLong(Files.readString(marker).trim());
    System.out.printf("killed executor JVM %d mid-job; job finished in %.1f s; failed tasks %s; executors removed %s%n",
        killedPid, seconds, JOBS.failures, EXECUTORS.removedReasons);
    assertTrue(EXECUTORS.removed.get() > removedBefore, "the driver saw the executor go");
    assertTrue(JOBS.failedTasks.get() >= 1, "a task attempt failed with its executor");
    assertIdentical(clean, afterKill, "after an executor was killed");
    assertTrue(ProcessHandle.of(killedPid).map(p -> !p.isAlive()).orElse(true), "pid " + killedPid + " is gone");
  }

  @Test
  @Order(3)
  void aFailedTaskIsRetriedAndTheOutputIsIdentical() throws Exception {
    byte[] artifact = SparkIt.dense(3);
    Map<Long, float[]> clean = score(dense(artifact), 3, 2000, 8, id -> { }, new HashSet<>());
    JOBS.reset();
    // Partition 3 (rows 750..999) throws on its first attempt after 120 rows (3 batches scored).
    Map<Long, float[]> retried = score(dense(artifact), 3, 2000, 8, id -> {
      if (id == 870 && TaskContext.get().attemptNumber() == 0) {
        throw new IllegalStateException("injected failure in partition " + TaskContext.get().partitionId()
            + ", attempt 0");
      }
    }, new HashSet<>());
    SparkIt.settle(spark.sparkContext());
    System.out.println("failed task attempts: " + JOBS.failures);
    assertEquals(1, JOBS.failedTasks.get(), "exactly one attempt failed");
    assertTrue(JOBS.failures.peek().contains("injected failure"), JOBS.failures.toString());
    assertIdentical(clean, retried, "after a task retry");
    assertNotEquals(0, clean.size());
  }
}
