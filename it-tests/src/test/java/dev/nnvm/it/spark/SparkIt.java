package dev.nnvm.it.spark;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.text.GraphParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;

/**
 * What the Spark integration tests share: per-row data that any JVM
 * regenerates from (seed, row id) alone, so rows are made on the executors
 * and the driver rebuilds only the sampled ones for ONNX Runtime; small
 * compiled models with exact expected values; model files copied out of
 * their jars; ONNX Runtime as the oracle; a listener counting jobs and tasks.
 */
final class SparkIt {
  /** The direction classifier's per-row input: 3x48x192 floats. */
  static final int CLS_ELEMENTS = 3 * 48 * 192;
  static final int DENSE_IN = 16;
  static final int DENSE_OUT = 8;

  private SparkIt() {}

  /** A fixed seed, or -Dnnvm.it.seed to reproduce a printed one. */
  static long seed(long fallback) {
    return Long.getLong("nnvm.it.seed", fallback);
  }

  /** {@code n} floats in [-1, 1) (PaddleOCR's normalized pixel range), a function of (seed, id) only. */
  static float[] floats(long seed, long id, int n) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }

  /** A deterministic weight; {@code variant} changes every value, so each variant is a different artifact. */
  static float weight(int variant, int i, double scale) {
    return (float) (scale * Math.cos(i * 0.37 + 0.1 + 0.011 * variant));
  }

  /** y = Relu(x W + b), x f32[N, 16], y f32[N, 8], compiled for this host from the graph text format. */
  static byte[] dense(int variant) {
    StringBuilder w = new StringBuilder();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < DENSE_IN * DENSE_OUT; i++) {
      w.append(i == 0 ? "" : ", ").append(weight(variant, i, 0.3));
    }
    for (int i = 0; i < DENSE_OUT; i++) {
      b.append(i == 0 ? "" : ", ").append(weight(variant, 1000 + i, 0.1));
    }
    String text = "graph dense(%x: f32[N, 16]) -> (%y: f32[N, 8]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[16, 8] = dense<[" + w + "]>\n  const %b: f32[8] = dense<[" + b + "]>\n"
        + "  %m = MatMul(%x, %w)\n  %a = Add(%m, %b)\n  %y = Relu(%a)\n  return %y\n}\n";
    return ModelCompiler.create().compile(GraphParser.parse(text), CompileOptions.defaults()).bytes();
  }

  /** The dense model's outputs in double precision. */
  static double[] denseExpected(int variant, float[] x) {
    double[] y = new double[DENSE_OUT];
    for (int j = 0; j < DENSE_OUT; j++) {
      double s = weight(variant, 1000 + j, 0.1);
      for (int k = 0; k < DENSE_IN; k++) {
        s += (double) x[k] * weight(variant, k * DENSE_OUT + j, 0.3);
      }
      y[j] = Math.max(0, s);
    }
    return y;
  }

  /** Copies class path resource {@code name} (a model in a test jar) into {@code dir}. */
  static Path resourceFile(String name, Path dir) throws IOException {
    Path file = dir.resolve(name.substring(name.lastIndexOf('/') + 1));
    if (Files.exists(file)) {
      return file;
    }
    try (InputStream in = SparkIt.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("resource " + name + " is not on the test class path (is its model jar a dependency?)");
      }
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  static Path classifier(Path dir) throws IOException {
    return resourceFile("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx", dir);
  }

  /** ONNX Runtime (all optimizations, 2 threads) on f32/i64 inputs; the first output, flattened. */
  static float[] ort(Path onnx, Map<String, OnnxTensorSource> inputs) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(2);
      try (OrtSession session = env.createSession(onnx.toString(), opts)) {
        Map<String, OnnxTensor> feeds = new java.util.HashMap<>();
        try {
          for (Map.Entry<String, OnnxTensorSource> e : inputs.entrySet()) {
            feeds.put(e.getKey(), e.getValue().create(env));
          }
          try (OrtSession.Result r = session.run(feeds)) {
            FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] v = new float[b.remaining()];
            b.get(v);
            return v;
          }
        } finally {
          for (OnnxTensor t : feeds.values()) {
            t.close();
          }
        }
      }
    }
  }

  /** Builds an ONNX Runtime tensor inside {@link #ort}'s environment. */
  @FunctionalInterface
  interface OnnxTensorSource {
    OnnxTensor create(OrtEnvironment env) throws OrtException;
  }

  static float[] floats(Row r, String column) {
    List<Object> list = r.getList(r.fieldIndex(column));
    float[] v = new float[list.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (Float) list.get(i);
    }
    return v;
  }

  static long[] longs(Row r, String column) {
    List<Object> list = r.getList(r.fieldIndex(column));
    long[] v = new long[list.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = (Long) list.get(i);
    }
    return v;
  }

  /** Every message of a cause chain, so a test can look for the connector's words under Spark's wrapping. */
  static String messages(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append(" | ");
    }
    return sb.toString();
  }

  /** Counts job starts and the task attempts (failed ones too) of those jobs; read them after {@link #settle}. */
  static final class JobCounter extends SparkListener {
    final AtomicInteger jobs = new AtomicInteger();
    final AtomicInteger tasks = new AtomicInteger();
    final AtomicInteger failedTasks = new AtomicInteger();
    final java.util.concurrent.ConcurrentLinkedQueue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** Stages of the jobs started since the last reset: a task of an earlier job ending late is not counted. */
    final java.util.Set<Integer> stages = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @Override
    public void onJobStart(SparkListenerJobStart start) {
      jobs.incrementAndGet();
      scala.jdk.javaapi.CollectionConverters.asJava(start.stageIds()).forEach(id -> stages.add((Integer) id));
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      if (!stages.contains(end.stageId())) {
        return;
      }
      tasks.incrementAndGet();
      if (!end.taskInfo().successful()) {
        failedTasks.incrementAndGet();
        failures.add(end.reason() instanceof org.apache.spark.TaskFailedReason
            ? ((org.apache.spark.TaskFailedReason) end.reason()).toErrorString() : end.reason().toString());
      }
    }

    void reset() {
      stages.clear();
      jobs.set(0);
      tasks.set(0);
      failedTasks.set(0);
      failures.clear();
    }
  }

  /** Waits until the listener bus delivered every event posted so far (events reach listeners asynchronously). */
  static void settle(SparkContext sc) throws java.util.concurrent.TimeoutException {
    sc.listenerBus().waitUntilEmpty(30_000);
  }
}
