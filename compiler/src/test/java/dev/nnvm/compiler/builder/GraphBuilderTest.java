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
  void opsetBelowMinimumIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new GraphBuilder("g", 11));
  }
}
