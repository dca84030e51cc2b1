package dev.nnvm.flink;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.runtime.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** The models the Flink tests score, ONNX Runtime as their oracle, and deterministic test inputs. */
public final class FlinkTestModels {
  /** PaddleOCR feeds the direction classifier 3x48x192 crops. */
  public static final int CROP_ELEMENTS = 3 * 48 * 192;
  public static final String CLS_RESOURCE = "/models/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  /** The seed of every random crop (printed by the tests that use it). */
  public static final long SEED = Long.getLong("nnvm.test.seed", 20261206L);

  private static byte[] classifier;

  private FlinkTestModels() {}

  public static byte[] resource(String name) throws IOException {
    try (InputStream in = FlinkTestModels.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException(name + " is not on the test class path (is its model jar a test dependency?)");
      }
      return in.readAllBytes();
    }
  }

  /** The classifier ONNX file written to {@code dir} (for the SQL 'path' option and {@link ModelArtifacts}). */
  public static Path classifierFile(Path dir) throws IOException {
    Path p = dir.resolve("cls.onnx");
    Files.write(p, resource(CLS_RESOURCE));
    return p;
  }

  /** The direction classifier compiled for [N, 3, 48, 192] through the user's artifact cache (client side). */
  public static synchronized byte[] classifier() throws IOException {
    if (classifier == null) {
      long t0 = System.nanoTime();
      classifier = ModelCompiler.create().withCache(ArtifactCache.defaultDirectory())
          .compile(resource(CLS_RESOURCE), null, "ch_ppocr_mobile_v2.0_cls_infer",
              CompileOptions.defaults().withInputShape("x", Shape.parse("[N, 3, 48, 192]")))
          .bytes();
      System.out.printf("direction classifier compiled (or read from the artifact cache) in %.0f ms%n",
          (System.nanoTime() - t0) / 1e6);
    }
    return classifier;
  }

  /** The pixels of crop {@code id}: values in [-1, 1) (PaddleOCR's normalized range), a function of SEED and id. */
  public static float[] crop(long id) {
    SplittableRandom r = new SplittableRandom(SEED * 1_000_003L + id);
    float[] x = new float[CROP_ELEMENTS];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return x;
  }

  /** ONNX Runtime's classifier probabilities for the crops, one row each, in order. */
  public static float[][] ortClassifier(List<float[]> crops) throws IOException, OrtException {
    int n = crops.size();
    FloatBuffer data = FloatBuffer.allocate(n * CROP_ELEMENTS);
    crops.forEach(data::put);
    data.flip();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(1);
      try (OrtSession session = env.createSession(resource(CLS_RESOURCE), opts);
          OnnxTensor x = OnnxTensor.createTensor(env, data, new long[] {n, 3, 48, 192});
          OrtSession.Result res = session.run(Map.of("x", x))) {
        FloatBuffer out = ((OnnxTensor) res.get(0)).getFloatBuffer();
        int k = out.remaining() / n;
        float[][] rows = new float[n][k];
        for (int i = 0; i < n; i++) {
          out.get(rows[i]);
        }
        return rows;
      }
    }
  }

  /** Max abs and max rel error of {@code got} against {@code want}, printed with a label; returns max abs. */
  public static double compare(String label, float[][] want, float[][] got) {
    double maxAbs = 0;
    double maxRel = 0;
    for (int i = 0; i < want.length; i++) {
      if (want[i].length != got[i].length) {
        throw new AssertionError(label + ": row " + i + " has " + got[i].length + " values, expected "
            + want[i].length);
      }
      for (int j = 0; j < want[i].length; j++) {
        double d = Math.abs(want[i][j] - got[i][j]);
        maxAbs = Math.max(maxAbs, d);
        maxRel = Math.max(maxRel, d / Math.max(Math.abs(want[i][j]), 1e-6));
      }
    }
    System.out.printf("%s: %d rows vs ONNX Runtime: max abs error %.3g, max rel error %.3g%n", label, want.length,
        maxAbs, maxRel);
    return maxAbs;
  }
}
