package dev.nnvm.compiler.frontend.onnx;

import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.intAttr;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.model;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.node;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.tensorInfo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LegacyOpsetUpgradeTest {
  private static Graph addGraph(long[] a, long[] b, Map<String, Attribute> attrs) {
    return Graph.builder("g").opset("", 6)
        .input("a", TensorType.of(DType.FLOAT32, a)).input("b", TensorType.of(DType.FLOAT32, b))
        .node(new Node("add", "Add", "", List.of("a", "b"), List.of("y"), attrs))
        .output("y", TensorType.unknownShape(DType.FLOAT32)).build();
  }

  @Test
  void suffixBroadcastJustLosesTheAttributes() {
    Graph g = addGraph(new long[] {2, 3, 4}, new long[] {3, 4},
        Map.of("broadcast", Attribute.ofInt(1), "axis", Attribute.ofInt(1)));
    Graph up = LegacyOpsetUpgrade.apply(g);
    assertEquals(List.of(new Node("add", "Add", "", List.of("a", "b"), List.of("y"), Map.of())), up.nodes());
    assertEquals(g, addGraph(new long[] {2, 3, 4}, new long[] {3, 4},
        Map.of("broadcast", Attribute.ofInt(1), "axis", Attribute.ofInt(1))), "the input graph is unchanged");
  }

  @Test
  void broadcastAtAnEarlierAxisUnsqueezesTheSecondInput() {
    Graph up = LegacyOpsetUpgrade.apply(addGraph(new long[] {2, 3, 4, 5}, new long[] {3},
        Map.of("broadcast", Attribute.ofInt(1), "axis", Attribute.ofInt(1))));
    assertEquals(List.of(
        new Node("add/legacy_broadcast", "Unsqueeze", "", List.of("b"), List.of("b/aligned_for/add"),
            Map.of("axes", Attribute.ofInts(1, 2))),
        new Node("add", "Add", "", List.of("a", "b/aligned_for/add"), List.of("y"), Map.of())), up.nodes());
  }

  @Test
  void unknownRanksLeaveTheNodeForTheUnsupportedReport() {
    Graph g = Graph.builder("g").opset("", 6)
        .input("a", TensorType.unknownShape(DType.FLOAT32)).input("b", TensorType.of(DType.FLOAT32, 3))
        .node(new Node("add", "Add", "", List.of("a", "b"), List.of("y"),
            Map.of("broadcast", Attribute.ofInt(1), "axis", Attribute.ofInt(1))))
        .output("y", TensorType.unknownShape(DType.FLOAT32)).build();
    assertSame(g, LegacyOpsetUpgrade.apply(g));
  }

  @Test
  void batchNormInferenceFlagAndGemmBroadcastGo() {
    Node bn = new Node("bn", "BatchNormalization", "", List.of("x", "s", "b", "m", "v"), List.of("y"),
        Map.of("is_test", Attribute.ofInt(1), "epsilon", Attribute.ofFloat(1e-5f)));
    Node training = bn.withName("train").withAttributes(Map.of("is_test", Attribute.ofInt(0)));
    Node gemm = new Node("fc", "Gemm", "", List.of("x", "w", "c"), List.of("z"),
        Map.of("broadcast", Attribute.ofInt(1), "transB", Attribute.ofInt(1)));
    Graph g = Graph.builder("g").opset("", 6).node(bn).node(training).node(gemm).build();
    assertEquals(List.of(bn.withAttributes(Map.of("epsilon", Attribute.ofFloat(1e-5f))), training,
        gemm.withAttributes(Map.of("transB", Attribute.ofInt(1)))), LegacyOpsetUpgrade.apply(g).nodes());
  }

  @Test
  void importerUpgradesOpset6ModelsOnly() {
    Onnx.Graph graph = Onnx.Graph.newBuilder().setName("g")
        .addInput(tensorInfo("a", DType.FLOAT32, 2, 2)).addInput(tensorInfo("b", DType.FLOAT32, 2))
        .addNode(node("add", "Add", List.of("a", "b"), List.of("y"), intAttr("broadcast", 1)))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2, 2)).build();
    OnnxImporter importer = new OnnxImporter(OpRegistry.standard());
    Graph g = importer.read(model(6, graph).toByteArray(), null, "model");
    Tensor out = ReferenceEvaluator.standard().run(g, Map.of("a", Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4),
        "b", Tensor.ofFloats(new long[] {2}, 10, 20))).get("y");
    assertEquals(Tensor.ofFloats(new long[] {2, 2}, 11, 22, 13, 24), out);
    String msg = assertThrows(UnsupportedModelException.class,
        () -> importer.read(model(7, graph).toByteArray(), null, "model")).getMessage();
    assertTrue(msg.contains("attribute 'broadcast' is not supported"), msg);
  }
}
