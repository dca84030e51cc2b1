package dev.nnvm.it;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import ai.onnxruntime.TensorInfo;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ONNX Runtime for the real-model tests, with a choice of graph optimization
 * level: the full level fuses quantized sub-graphs into kernels that round
 * differently from the ONNX operators they replace, so a faithful comparison
 * of a quantized model needs the basic level. The real models here take
 * f32 or i64 inputs and give f32 outputs, the only types this runner carries.
 */
final class OrtRunner {
  private OrtRunner() {}

  static Map<String, Tensor> run(byte[] model, Map<String, Tensor> inputs, OptLevel level) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(level);
      opts.setIntraOpNumThreads(2);
      try (OrtSession session = env.createSession(model, opts)) {
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
          feeds.put(e.getKey(), toOrt(env, e.getKey(), e.getValue()));
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (OrtSession.Result r = session.run(feeds)) {
          for (Map.Entry<String, OnnxValue> e : r) {
            out.put(e.getKey(), fromOrt(e.getKey(), (OnnxTensor) e.getValue()));
          }
        }
        return out;
      }
    } finally {
      for (OnnxTensor t : feeds.values()) {
        t.close();
      }
    }
  }

  private static OnnxTensor toOrt(OrtEnvironment env, String name, Tensor t) throws OrtException {
    switch (t.dtype()) {
      case FLOAT32: return OnnxTensor.createTensor(env, FloatBuffer.wrap(t.floats()), t.shape());
      case INT64: return OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs()), t.shape());
      default: throw new IllegalArgumentException("input '" + name + "': " + t.dtype() + " is not carried");
    }
  }

  private static Tensor fromOrt(String name, OnnxTensor t) throws OrtException {
    TensorInfo info = t.getInfo();
    if (info.type != ai.onnxruntime.OnnxJavaType.FLOAT) {
      throw new IllegalArgumentException("output '" + name + "': " + info.type + " is not carried");
    }
    FloatBuffer b = t.getFloatBuffer();
    float[] v = new float[b.remaining()];
    b.get(v);
    return Tensor.of(DType.FLOAT32, info.getShape(), v);
  }
}
