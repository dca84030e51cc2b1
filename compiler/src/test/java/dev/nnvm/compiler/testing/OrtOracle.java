package dev.nnvm.compiler.testing;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.google.protobuf.ByteString;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime as the reference oracle (test scope only): runs a serialized
 * model on heap tensors and returns heap tensors.
 */
public final class OrtOracle implements AutoCloseable {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;

  public OrtOracle(byte[] model) throws OrtException {
    this(model, 1);
  }

  public OrtOracle(byte[] model, int threads) throws OrtException {
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    opts.setIntraOpNumThreads(threads);
    opts.setInterOpNumThreads(1);
    this.session = env.createSession(model, opts);
  }

  /** Runs a model once; convenience for single checks. */
  public static Map<String, Tensor> run(byte[] model, Map<String, Tensor> inputs) throws OrtException {
    try (OrtOracle o = new OrtOracle(model)) {
      return o.run(inputs);
    }
  }

  /** True when ONNX Runtime's Java API can carry tensors of this element type. */
  public static boolean supports(DType t) {
    return ortType(t) != null;
  }

  private static OnnxJavaType ortType(DType t) {
    switch (t) {
      case FLOAT32: return OnnxJavaType.FLOAT;
      case FLOAT64: return OnnxJavaType.DOUBLE;
      case FLOAT16: return OnnxJavaType.FLOAT16;
      case BFLOAT16: return OnnxJavaType.BFLOAT16;
      case INT8: return OnnxJavaType.INT8;
      case UINT8: return OnnxJavaType.UINT8;
      case INT16: return OnnxJavaType.INT16;
      case INT32: return OnnxJavaType.INT32;
      case INT64: return OnnxJavaType.INT64;
      case BOOL: return OnnxJavaType.BOOL;
      case STRING: return OnnxJavaType.STRING;
      default: return null;
    }
  }

  private static DType fromOrtType(OnnxJavaType t) {
    for (DType d : DType.values()) {
      if (ortType(d) == t) {
        return d;
      }
    }
    throw new IllegalArgumentException("ONNX Runtime returned an unsupported element type " + t);
  }

  public Map<String, Tensor> run(Map<String, Tensor> inputs) throws OrtException {
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try {
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        feeds.put(e.getKey(), toOrt(e.getValue()));
      }
      Map<String, Tensor> out = new LinkedHashMap<>();
      try (OrtSession.Result r = session.run(feeds)) {
        for (Map.Entry<String, OnnxValue> e : r) {
          out.put(e.getKey(), fromOrt((OnnxTensor) e.getValue()));
        }
      }
      return out;
    } finally {
      for (OnnxTensor t : feeds.values()) {
        t.close();
      }
    }
  }

  private OnnxTensor toOrt(Tensor t) throws OrtException {
    OnnxJavaType type = ortType(t.dtype());
    if (type == null) {
      throw new IllegalArgumentException("ONNX Runtime Java cannot carry " + t.dtype() + " tensors");
    }
    if (t.dtype() == DType.STRING) {
      return OnnxTensor.createTensor(env, t.strings(), t.shape());
    }
    ByteString raw = OnnxTensors.toProto(t, "").getRawData();
    ByteBuffer buf = ByteBuffer.allocateDirect(raw.size()).order(ByteOrder.nativeOrder());
    raw.copyTo(buf);
    buf.flip();
    return OnnxTensor.createTensor(env, buf, t.shape(), type);
  }

  private static Tensor fromOrt(OnnxTensor t) throws OrtException {
    TensorInfo info = t.getInfo();
    long[] shape = info.getShape();
    DType dtype = fromOrtType(info.type);
    if (dtype == DType.STRING) {
      String[] flat = flattenStrings(t.getValue());
      return Tensor.ofStrings(shape, flat);
    }
    ByteBuffer bytes = t.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    Onnx.Tensor.Builder p = Onnx.Tensor.newBuilder().setDataType(dtype.onnxCode()).setRawData(ByteString.copyFrom(bytes));
    for (long d : shape) {
      p.addDims(d);
    }
    return OnnxTensors.fromProto(p.build(), null, "ONNX Runtime output");
  }

  private static String[] flattenStrings(Object value) {
    List<String> out = new ArrayList<>();
    flatten(value, out);
    return out.toArray(new String[0]);
  }

  private static void flatten(Object v, List<String> out) {
    if (v instanceof String) {
      out.add((String) v);
    } else if (v instanceof Object[]) {
      for (Object o : (Object[]) v) {
        flatten(o, out);
      }
    }
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
