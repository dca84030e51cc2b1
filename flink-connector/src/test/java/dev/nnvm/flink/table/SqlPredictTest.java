package dev.nnvm.flink.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.flink.FlinkTestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * SQL text through a TableEnvironment on a MiniCluster: {@code CREATE MODEL
 * ... WITH ('provider' = 'nnvm', ...)} over the PP-OCR direction classifier's
 * ONNX file (compiled when the statement is planned) and {@code SELECT ...
 * FROM ML_PREDICT(TABLE crops, MODEL cls, DESCRIPTOR(image))}; the
 * predictions equal ONNX Runtime's, bad rows get null predictions.
 */
class SqlPredictTest {
  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
      .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  private static final int N = 24;
  private static final long NULL_ID = 5;
  private static final long SHORT_ID = 11;

  @TempDir
  Path dir;

  private StreamTableEnvironment tableEnv() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    StreamTableEnvironment t = StreamTableEnvironment.create(env);
    // TableEnvironment.executeSql does not take SET (the SQL client does): the same option through the config.
    t.getConfig().set("table.exec.async-ml-predict.max-concurrent-operations", "16");
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < N; id++) {
      rows.add(Row.of(id, id == NULL_ID ? null : id == SHORT_ID ? boxed(new float[7]) : boxed(FlinkTestModels.crop(id))));
    }
    DataStream<Row> crops = env.fromData(rows, Types.ROW_NAMED(new String[] {"id", "image"}, Types.LONG,
        Types.OBJECT_ARRAY(Types.FLOAT)));
    t.createTemporaryView("crops", t.fromDataStream(crops));
    return t;
  }

  private static Float[] boxed(float[] x) {
    Float[] out = new Float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i];
    }
    return out;
  }

  @Test
  @Timeout(120)
  void createModelAndMlPredictMatchOnnxRuntime() throws Exception {
    System.out.println("crops seed " + FlinkTestModels.SEED);
    Path onnx = FlinkTestModels.classifierFile(dir);
    StreamTableEnvironment t = tableEnv();
    t.executeSql("CREATE MODEL cls\n"
        + "  INPUT (image ARRAY<FLOAT>)\n"
        + "  OUTPUT (probs ARRAY<FLOAT>)\n"
        + "  WITH ('provider' = 'nnvm', 'path' = '" + onnx + "', 'input-shape.x' = '[N, 3, 48, 192]',\n"
        + "        'batch-size' = '8', 'max-latency' = '20 ms')");
    long t0 = System.nanoTime();
    TableResult result = t.executeSql("SELECT id, probs FROM ML_PREDICT(TABLE crops, MODEL cls, DESCRIPTOR(image),"
        + " MAP['async', 'true'])");
    Map<Long, Float[]> byId = new TreeMap<>();
    try (CloseableIterator<Row> it = result.collect()) {
      while (it.hasNext()) {
        Row r = it.next();
        assertNull(byId.put((Long) r.getField("id"), (Float[]) r.getField("probs")), "one row per input row");
      }
    }
    System.out.printf("ML_PREDICT over %d rows in %.0f ms (planning, compiling or the artifact cache, the job)%n",
        byId.size(), (System.nanoTime() - t0) / 1e6);
    assertEquals(N, byId.size());
    List<float[]> want = new ArrayList<>();
    List<float[]> got = new ArrayList<>();
    for (long id = 0; id < N; id++) {
      Float[] p = byId.get(id);
      if (id == NULL_ID || id == SHORT_ID) {
        assertNull(p, "row " + id + " does not fit the model: null prediction");
        continue;
      }
      assertNotNull(p, "row " + id);
      float[] f = new float[p.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = p[i];
      }
      want.add(FlinkTestModels.crop(id));
      got.add(f);
    }
    double maxAbs = FlinkTestModels.compare("ML_PREDICT with provider nnvm (batch 8, parallelism 2)",
        FlinkTestModels.ortClassifier(want), got.toArray(new float[0][]));
    assertTrue(maxAbs < 1e-4, "max abs error " + maxAbs);
  }

  @Test
  @Timeout(60)
  void columnsThatDoNotFitTheModelAreRefusedWhenPlanned() throws Exception {
    Path onnx = FlinkTestModels.classifierFile(dir);
    StreamTableEnvironment t = tableEnv();
    t.executeSql("CREATE MODEL bad INPUT (image ARRAY<DOUBLE>) OUTPUT (probs ARRAY<INT>)"
        + " WITH ('provider' = 'nnvm', 'path' = '" + onnx + "', 'input-shape.x' = '[N, 3, 48, 192]')");
    Exception e = assertThrows(Exception.class, () -> t.executeSql(
        "SELECT id, probs FROM ML_PREDICT(TABLE crops, MODEL bad, DESCRIPTOR(image))").await());
    String message = ExceptionUtils.stringifyException(e);
    System.out.println("refused: " + ExceptionUtils.findThrowable(e, IllegalArgumentException.class)
        .map(Throwable::getMessage).orElse(e.toString()));
    assertTrue(message.contains("INPUT column 'image' is ARRAY<DOUBLE>, whose f64 elements do not convert"
        + " losslessly"), message);
    assertTrue(message.contains("OUTPUT column 'probs' is ARRAY<INT>"), message);
  }
}
