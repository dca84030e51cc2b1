package dev.nnvm.compiler.frontend.onnx;

import com.google.protobuf.ByteString;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.Dim;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes the graph IR as an ONNX model, so graphs built with the Java API can
 * be run by other ONNX tools (and checked against ONNX Runtime in tests).
 */
public final class OnnxExporter {
  /** The ONNX IR version written; opset imports come from the graph. */
  public static final long IR_VERSION = 8;

  private OnnxExporter() {}

  public static byte[] toBytes(Graph g) {
    return toProto(g).toByteArray();
  }

  public static void write(Graph g, Path file) throws IOException {
    Files.write(file, toBytes(g));
  }

  public static Onnx.Model toProto(Graph g) {
    Onnx.Model.Builder m = Onnx.Model.newBuilder().setIrVersion(IR_VERSION).setProducerName("nnvm");
    Map<String, Integer> opsets = g.opsets().isEmpty() ? Map.of("", 17) : g.opsets();
    for (Map.Entry<String, Integer> e : opsets.entrySet()) {
      m.addOpsetImport(Onnx.OpsetId.newBuilder().setDomain(e.getKey()).setVersion(e.getValue()));
    }
    return m.setGraph(graph(g)).build();
  }

  private static Onnx.Graph graph(Graph g) {
    Onnx.Graph.Builder b = Onnx.Graph.newBuilder().setName(g.name());
    for (ValueInfo v : g.inputs()) {
      b.addInput(valueInfo(v.name(), v.type()));
    }
    for (Map.Entry<String, Tensor> c : g.constants().entrySet()) {
      b.addInitializer(OnnxTensors.toProto(c.getValue(), c.getKey()));
    }
    for (Node n : g.nodes()) {
      b.addNode(node(n));
    }
    for (ValueInfo v : g.outputs()) {
      b.addOutput(valueInfo(v.name(), v.type()));
    }
    for (Map.Entry<String, TensorType> e : g.valueTypes().entrySet()) {
      b.addValueInfo(valueInfo(e.getKey(), e.getValue()));
    }
    return b.build();
  }

  static Onnx.ValueInfo valueInfo(String name, TensorType t) {
    Onnx.Type.TensorType.Builder tt = Onnx.Type.TensorType.newBuilder().setElemType(t.dtype().onnxCode());
    if (t.shape().hasRank()) {
      Onnx.Shape.Builder s = Onnx.Shape.newBuilder();
      for (Dim d : t.shape().dims()) {
        Onnx.Shape.Dim.Builder db = Onnx.Shape.Dim.newBuilder();
        if (d.isStatic()) {
          db.setDimValue(d.value());
        } else if (d.isSymbolic()) {
          db.setDimParam(d.symbol());
        }
        s.addDim(db);
      }
      tt.setShape(s);
    }
    return Onnx.ValueInfo.newBuilder().setName(name).setType(Onnx.Type.newBuilder().setTensorType(tt)).build();
  }

  private static Onnx.Node node(Node n) {
    Onnx.Node.Builder b = Onnx.Node.newBuilder().setName(n.name()).setOpType(n.opType()).setDomain(n.domain())
        .addAllInput(n.inputs()).addAllOutput(n.outputs());
    for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) {
      b.addAttribute(attribute(e.getKey(), e.getValue()));
    }
    return b.build();
  }

  private static Onnx.Attribute attribute(String name, Attribute a) {
    Onnx.Attribute.Builder b = Onnx.Attribute.newBuilder().setName(name);
    switch (a.kind()) {
      case FLOAT: return b.setType(Onnx.Attribute.Kind.FLOAT).setF(a.asFloat()).build();
      case INT: return b.setType(Onnx.Attribute.Kind.INT).setI(a.asInt()).build();
      case STRING: return b.setType(Onnx.Attribute.Kind.STRING).setS(ByteString.copyFromUtf8(a.asString())).build();
      case TENSOR: return b.setType(Onnx.Attribute.Kind.TENSOR).setT(OnnxTensors.toProto(a.asTensor(), "")).build();
      case GRAPH: return b.setType(Onnx.Attribute.Kind.GRAPH).setG(graph(a.asGraph())).build();
      case FLOATS:
        b.setType(Onnx.Attribute.Kind.FLOATS);
        for (float f : a.asFloats()) {
          b.addFloats(f);
        }
        return b.build();
      case INTS:
        b.setType(Onnx.Attribute.Kind.INTS);
        for (long i : a.asInts()) {
          b.addInts(i);
        }
        return b.build();
      case STRINGS:
        b.setType(Onnx.Attribute.Kind.STRINGS);
        a.asStrings().forEach(s -> b.addStrings(ByteString.copyFromUtf8(s)));
        return b.build();
      case TENSORS:
        b.setType(Onnx.Attribute.Kind.TENSORS);
        a.asTensors().forEach(t -> b.addTensors(OnnxTensors.toProto(t, "")));
        return b.build();
      case GRAPHS:
        b.setType(Onnx.Attribute.Kind.GRAPHS);
        a.asGraphs().forEach(g -> b.addGraphs(graph(g)));
        return b.build();
      default:
        throw new IllegalStateException("unknown attribute kind " + a.kind());
    }
  }
}
