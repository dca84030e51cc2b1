package dev.nnvm.flink.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.flink.FlinkMetrics;
import dev.nnvm.flink.FlinkTestModels;
import dev.nnvm.flink.TensorModel;
import dev.nnvm.flink.ValueExtractor;
import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.scoring.ScoringSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics the operator and the SQL predict function publish through
 * their metric groups, read back from an in-memory reporter: batch sizes,
 * records, bad records, native runs and time, and that SQL rows were
 * batched (Flink hands them over one at a time).
 */
class MetricsTest {
  private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

  @RegisterExtension
  static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
      .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
      .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

  @TempDir
  Path dir;

  @Test
  @Timeout(60)
  void operatorPublishesBatchMetrics() throws Exception {
    ScoringSpec spec = ScoringSpec.builder(FlinkTestModels.classifier()).build();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    // 30 records, batches of 8, a long max latency: three full batches, then 6 at the end of input; one bad record.
    DataStream<Crop> crops = env.fromSequence(0, 29).map(id -> Crop.of(id, 17, -1, -1)).returns(Crop.class);
    NnvmInference.of(TensorModel.<Crop>of(spec, Map.of("x", (ValueExtractor<Crop>) Crop::input)))
        .batchSize(8).maxLatency(Duration.ofSeconds(30)).name("nnvm-metrics-test")
        .apply(crops, (c, p) -> c.id, TypeInformation.of(Long.class))
        .sinkTo(new DiscardingSink<>());
    JobClient job = env.executeAsync("metrics");
    job.getJobExecutionResult().get();
    Map<String, Metric> m = metrics(job.getJobID(), "nnvm-metrics-test");
    Histogram sizes = (Histogram) m.get(FlinkMetrics.BATCH_SIZE);
    System.out.printf("operator metrics: %d batches, sizes min %d max %d mean %.2f; records %d; bad %d;"
        + " native runs %s, native ms %.1f%n", sizes.getCount(), sizes.getStatistics().getMin(),
        sizes.getStatistics().getMax(), sizes.getStatistics().getMean(), ((Counter) m.get(FlinkMetrics.RECORDS))
            .getCount(), ((Counter) m.get(FlinkMetrics.BAD_RECORDS)).getCount(),
        ((Gauge<?>) m.get(ScoringMetrics.BATCHES)).getValue(),
        ((Long) ((Gauge<?>) m.get(ScoringMetrics.NATIVE_NANOS)).getValue()) / 1e6);
    assertEquals(4, sizes.getCount());
    assertEquals(6, sizes.getStatistics().getMin());
    assertEquals(8, sizes.getStatistics().getMax());
    assertEquals(30, ((Counter) m.get(FlinkMetrics.RECORDS)).getCount());
    assertEquals(1, ((Counter) m.get(FlinkMetrics.BAD_RECORDS)).getCount());
    assertEquals(4L, ((Gauge<?>) m.get(ScoringMetrics.BATCHES)).getValue(), "one native run per batch");
    assertEquals(30L, ((Gauge<?>) m.get(ScoringMetrics.ROWS)).getValue());
    assertTrue((Long) ((Gauge<?>) m.get(ScoringMetrics.NATIVE_NANOS)).getValue() > 0);
    assertEquals(0, ((Gauge<?>) m.get(FlinkMetrics.QUEUE_LENGTH)).getValue(), "nothing left queued");
    assertTrue(m.containsKey(FlinkMetrics.BATCH_LATENCY_MS) && m.containsKey(FlinkMetrics.RECORDS_PER_SECOND)
        && m.containsKey(FlinkMetrics.SCORE_MS) && m.containsKey(ScoringMetrics.MODEL_LOADS), m.keySet().toString());
  }

  @Test
  @Timeout(60)
  void sqlRowsAreScoredInBatches() throws Exception {
    Path onnx = FlinkTestModels.classifierFile(dir);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    StreamTableEnvironment t = StreamTableEnvironment.create(env);
    t.getConfig().set("table.exec.async-ml-predict.max-concurrent-operations", "32");
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 32; id++) {
      float[] x = FlinkTestModels.crop(id);
      Float[] boxed = new Float[x.length];
      for (int i = 0; i < x.length; i++) {
        boxed[i] = x[i];
      }
      rows.add(Row.of(id, boxed));
    }
    t.createTemporaryView("crops", t.fromDataStream(env.fromData(rows, Types.ROW_NAMED(new String[] {"id", "image"},
        Types.LONG, Types.OBJECT_ARRAY(Types.FLOAT)))));
    t.executeSql("CREATE MODEL cls INPUT (image ARRAY<FLOAT>) OUTPUT (probs ARRAY<FLOAT>) WITH ('provider' = 'nnvm',"
        + " 'path' = '" + onnx + "', 'input-shape.x' = '[N, 3, 48, 192]', 'batch-size' = '16', 'max-latency' = '200 ms')");
    TableResult result = t.executeSql("SELECT id, probs FROM ML_PREDICT(TABLE crops, MODEL cls, DESCRIPTOR(image),"
        + " MAP['async', 'true'])");
    int n = 0;
    try (CloseableIterator<Row> it = result.collect()) {
      while (it.hasNext()) {
        it.next();
        n++;
      }
    }
    assertEquals(32, n);
    JobID job = result.getJobClient().orElseThrow().getJobID();
    Histogram sizes = null;
    for (Map.Entry<String, Metric> e : REPORTER.findMetrics(job, FlinkMetrics.BATCH_SIZE).entrySet()) {
      sizes = (Histogram) e.getValue();
    }
    assertTrue(sizes != null, "the predict function publishes " + FlinkMetrics.BATCH_SIZE);
    System.out.printf("ML_PREDICT: 32 rows in %d batches, largest %d%n", sizes.getCount(),
        sizes.getStatistics().getMax());
    // Flink's default bound on rows in flight is 10; raised to 32 above, batches fill to 'batch-size' = 16.
    assertTrue(sizes.getStatistics().getMax() > 10, "rows handed over one at a time are scored together");
    assertTrue(sizes.getCount() < 32);
  }

  private static Map<String, Metric> metrics(JobID job, String operator) {
    var groups = REPORTER.findOperatorMetricGroups(job, operator);
    assertFalse(groups.isEmpty(), "operator " + operator + " has a metric group");
    return REPORTER.getMetricsByGroup(groups.get(0));
  }
}
