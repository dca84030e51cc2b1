package dev.nnvm.compiler.builder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.text.GraphPrinter;
import dev.nnvm.runtime.DType;
import org.junit.jupiter.api.Test;

class GraphBuilderTest {
  @Test
  void buildsTypedGraphWithGeneratedNames() {
    GraphBuilder b = new GraphBuilder("g");
    Value x = b.input("x", DType.FLOAT32, "N", 3);
    Value bias = b.constant("bias", Tensor.ofFloats(new long[] {3}, 1f, 2f, 3f));
    Value a = b.add(x, bias);
    Value r = b.relu(a);
    Value s = b.add(r, a);
    assertEquals(TensorType.parse("f32[N, 3]"), s.type());
    b.output("y", s);
    Graph g = b.build();
    assertEquals("graph g(%x: f32[N, 3]) -> (%y: f32[N, 3]) opset(ai.onnx=17) {\n"
        + "  const %bias: f32[3] = dense<[1.0, 2.0, 3.0]>\n"
        + "  %add_0 = Add(%x, %bias) {name = \"add_0\"} : f32[N, 3]\n"
        + "  %relu_0 = Relu(%add_0) {name = \"relu_0\"} : f32[N, 3]\n"
        + "  %y = Add(%relu_0, %add_0) {name = \"add_1\"} : f32[N, 3]\n"
        + "  return %y\n"
        + "}\n", GraphPrinter.print(g));
    assertEquals(g, GraphParser.parse(GraphPrinter.print(g)));
  }

  @Test
  void generatedNamesAvoidUserNames() {
    GraphBuilder b = new GraphBuilder("g");
    Value x = b.input("relu_0", DType.FLOAT32, 2);
    Value r = b.relu(x);
    assertEquals("relu_1", r.name());
    b.output("relu_0_out", r);
    assertEquals("relu_0_out", b.build().nodes().get(0).output(0));
  }

  @Test
  void mistakesFailAtTheCallNamingTheNode() {
    GraphBuilder b = new GraphBuilder("g");
    Value x = b.input("x", DType.FLOAT32, 2);
    Value i = b.input("i", DType.INT64, 2);
    ModelException e = assertThrows(ModelException.class, () -> b.add(x, i));
    assertEquals("Add 'add_0': inputs 0 and 1 must have the same element type, got f32 and i64", e.getMessage());
    Value other = new GraphBuilder("h").input("z", DType.FLOAT32, 2);
    assertThrows(IllegalArgumentException.class, () -> b.relu(other));
    assertThrows(IllegalArgumentException.class, () -> b.input("x", DType.FLOAT32, 2));
    assertThrows(IllegalArgumentException.class, () -> b.input("bad", DType.FLOAT32, 2.5));
    assertEquals("graph 'g' has no outputs; call output(name, value)",
        assertThrows(ModelException.class, b::build).getMessage());
  }

  @Test
  void inputsConstantsAndRepeatedOutputsGoThroughIdentity() {
    GraphBuilder b = new GraphBuilder("g");
    Value x = b.input("x", DType.FLOAT32, "N");
    Value r = b.relu(x);
    b.output("y", r).output("y2", r).output("x_copy", x).output("c", b.scalar(DType.INT64, 3));
    Graph g = b.build();
    assertEquals("graph g(%x: f32[N]) -> (%y: f32[N], %y2: f32[N], %x_copy: f32[N], %c: i64[]) opset(ai.onnx=17) {\n"
        + "  const %const_0: i64[] = dense<[3]>\n"
        + "  %y = Relu(%x) {name = \"relu_0\"} : f32[N]\n"
        + "  %y2 = Identity(%y) {name = \"identity_0\"} : f32[N]\n"
        + "  %x_copy = Identity(%x) {name = \"identity_1\"} : f32[N]\n"
        + "  %c = Identity(%const_0) {name = \"identity_2\"} : i64[]\n"
        + "  return %y, %y2, %x_copy, %c\n"
        + "}\n", GraphPrinter.print(g));
  }

  @Test
  void genericOperatorsWithSeveralOutputs() {
    GraphBuilder b = new GraphBuilder("g");
    Value x = b.input("x", DType.FLOAT32, "N", 6);
    java.util.List<Value> parts = b.op("", "Split", java.util.List.of(x, b.ints(2, 4)),
        java.util.Map.of("axis", dev.nnvm.compiler.ir.Attribute.ofInt(1)), 2);
    assertEquals(TensorType.parse("f32[N, 2]"), parts.get(0).type());
    assertEquals(TensorType.parse("f32[N, 4]"), parts.get(1).type());
    b.output("a", parts.get(0)).output("b", parts.get(1));
    Graph g = b.build();
    assertEquals(java.util.List.of("a", "b"), g.nodes().get(0).outputs());
  }

  @Test
  void unknownOperatorsFailNamingTheNode() {
    GraphBuilder b = new GraphBuilder("g");
    Value x = b.input("x", DType.FLOAT32, 2);
    ModelException e = assertThrows(ModelException.class,
        () -> b.op("com.example", "Frob", java.util.List.of(x), java.util.Map.of(), 1));
    assertEquals("com.example.Frob 'frob_0': operator com.example.Frob is not supported",
        e.getMessage().substring(0, e.getMessage().indexOf(" (")));
  }

  @Test
  void opsetBelowMinimumIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new GraphBuilder("g", 11));
  }
}
