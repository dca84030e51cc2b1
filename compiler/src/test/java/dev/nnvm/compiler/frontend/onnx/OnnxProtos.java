package dev.nnvm.compiler.frontend.onnx;

import com.google.protobuf.ByteString;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.runtime.DType;
import java.util.List;

/** Small builders for ONNX messages in importer tests. */
final class OnnxProtos {
  private OnnxProtos() {}

  static Onnx.ValueInfo tensorInfo(String name, DType t, long... dims) {
    Onnx.Shape.Builder s = Onnx.Shape.newBuilder();
    for (long d : dims) {
      s.addDim(Onnx.Shape.Dim.newBuilder().setDimValue(d));
    }
    return Onnx.ValueInfo.newBuilder().setName(name).setType(Onnx.Type.newBuilder()
        .setTensorType(Onnx.Type.TensorType.newBuilder().setElemType(t.onnxCode()).setShape(s))).build();
  }

  static Onnx.Node node(String name, String op, List<String> inputs, List<String> outputs,
      Onnx.Attribute... attributes) {
    return Onnx.Node.newBuilder().setName(name).setOpType(op).addAllInput(inputs).addAllOutput(outputs)
        .addAllAttribute(List.of(attributes)).build();
  }

  static Onnx.Attribute intAttr(String name, long v) {
    return Onnx.Attribute.newBuilder().setName(name).setType(Onnx.Attribute.Kind.INT).setI(v).build();
  }

  static Onnx.Attribute floatAttr(String name, float v) {
    return Onnx.Attribute.newBuilder().setName(name).setType(Onnx.Attribute.Kind.FLOAT).setF(v).build();
  }

  static Onnx.Attribute stringAttr(String name, String v) {
    return Onnx.Attribute.newBuilder().setName(name).setType(Onnx.Attribute.Kind.STRING)
        .setS(ByteString.copyFromUtf8(v)).build();
  }

  static Onnx.Attribute tensorAttr(String name, Onnx.Tensor t) {
    return Onnx.Attribute.newBuilder().setName(name).setType(Onnx.Attribute.Kind.TENSOR).setT(t).build();
  }

  static Onnx.Attribute graphAttr(String name, Onnx.Graph g) {
    return Onnx.Attribute.newBuilder().setName(name).setType(Onnx.Attribute.Kind.GRAPH).setG(g).build();
  }

  static Onnx.Model model(int opset, Onnx.Graph graph) {
    return Onnx.Model.newBuilder().setIrVersion(8)
        .addOpsetImport(Onnx.OpsetId.newBuilder().setDomain("").setVersion(opset)).setGraph(graph).build();
  }

  /** y = Add(x, w) with w an initializer: the smallest model with a weight. */
  static Onnx.Model addModel(Onnx.Tensor weight) {
    Onnx.Graph g = Onnx.Graph.newBuilder().setName("g")
        .addInput(tensorInfo("x", DType.FLOAT32, 2))
        .addInitializer(weight)
        .addNode(node("add", "Add", List.of("x", weight.getName()), List.of("y")))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2))
        .build();
    return model(17, g);
  }
}
