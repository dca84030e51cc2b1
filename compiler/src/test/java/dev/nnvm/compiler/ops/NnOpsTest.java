package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** MatMul, Gemm and Dropout against ONNX Runtime. */
class NnOpsTest {
  @Test
  void matMulShapes() {
    OpTester.op("MatMul").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 4, 5).check();
    OpTester.op("MatMul").input("a", DType.FLOAT32, 2, 3, 4).input("b", DType.FLOAT32, 4, 5).check();
    OpTester.op("MatMul").input("a", DType.FLOAT32, 2, 1, 3, 4).input("b", DType.FLOAT32, 5, 4, 6).check();
    OpTester.op("MatMul").input("a", DType.FLOAT32, 4).input("b", DType.FLOAT32, 2, 4, 3).check();
    OpTester.op("MatMul").input("a", DType.FLOAT32, 2, 3, 4).input("b", DType.FLOAT32, 4).check();
    OpTester.op("MatMul").input("a", DType.FLOAT32, 4).input("b", DType.FLOAT32, 4).check();
    OpTester.op("MatMul").input("a", DType.FLOAT32, 1, 0, 3).input("b", DType.FLOAT32, 3, 2).check();
  }

  @Test
  void matMulElementTypes() {
    OpTester.op("MatMul").input("a", DType.FLOAT64, 3, 7).input("b", DType.FLOAT64, 7, 2).check();
    OpTester.op("MatMul").input("a", DType.FLOAT16, 3, 7).input("b", DType.FLOAT16, 7, 2).tolerance(1e-2, 1e-2).check();
    OpTester.op("MatMul").input("a", DType.INT32, 2, 3, 4).input("b", DType.INT32, 4, 2).check();
    OpTester.op("MatMul").input("a", DType.INT64, 3, 4).input("b", DType.INT64, 4, 2).check();
    OpTester.op("MatMul").opset(9).input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 4, 2).check();
  }

  @Test
  void matMulUnsigned64IsExact() {
    Tensor a = Tensor.ofLongs(DType.UINT64, new long[] {1, 2}, -1L, 2L);
    Tensor b = Tensor.ofLongs(DType.UINT64, new long[] {2, 1}, 3L, 4L);
    Map<String, Tensor> out = ReferenceEvaluator.standard().run(
        OpTester.op("MatMul").input("a", a).input("b", b).graph(), Map.of("a", a, "b", b));
    assertArrayEquals(new long[] {-3L + 8L}, out.get("out").longs());
  }

  private static String inferred(String op, String a, String b, Map<String, Attribute> attrs) {
    Graph g = Graph.builder("g").opset("", 17)
        .input("a", TensorType.parse(a)).input("b", TensorType.parse(b))
        .node(new Node("n", op, "", List.of("a", "b"), List.of("y"), attrs))
        .output("y", TensorType.unknownShape(DType.FLOAT32))
        .build();
    return TypeInference.infer(g).valueTypes().get("y").toString();
  }

  @Test
  void symbolicDimensionsSurvive() {
    assertEquals("f32[N, seq, 32]", inferred("MatMul", "f32[N, seq, 64]", "f32[64, 32]", Map.of()));
    assertEquals("f32[N, 4, seq, seq]", inferred("MatMul", "f32[N, 4, seq, 8]", "f32[N, 4, 8, seq]", Map.of()));
    assertEquals("f32[N]", inferred("MatMul", "f32[N, 8]", "f32[8]", Map.of()));
    assertEquals("f32[N, 10]", inferred("Gemm", "f32[N, 8]", "f32[10, 8]", Map.of("transB", Attribute.ofInt(1))));
  }

  @Test
  void matMulErrorsNameTheNode() {
    ModelException e = assertThrows(ModelException.class,
        () -> OpTester.op("MatMul").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 5, 2).graph());
    assertTrue(e.getMessage().startsWith("MatMul 'node'"), e.getMessage());
    assertThrows(ModelException.class,
        () -> OpTester.op("MatMul").input("a", DType.FLOAT32, 2, 3, 4).input("b", DType.FLOAT32, 3, 4, 2).graph());
    assertThrows(ModelException.class,
        () -> OpTester.op("MatMul").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT64, 4, 2).graph());
  }

  @Test
  void gemmAttributes() {
    OpTester.op("Gemm").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 4, 5).check();
    OpTester.op("Gemm").input("a", DType.FLOAT32, 4, 3).input("b", DType.FLOAT32, 5, 4)
        .input("c", DType.FLOAT32, 3, 5).attr("transA", 1L).attr("transB", 1L).check();
    OpTester.op("Gemm").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 4, 5)
        .input("c", DType.FLOAT32, 5).attr("alpha", 0.5f).attr("beta", 2f).check();
    OpTester.op("Gemm").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 4, 5)
        .input("c", DType.FLOAT32, 3, 1).check();
    OpTester.op("Gemm").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 4, 5)
        .input("c", DType.FLOAT32).attr("beta", -1f).check();
    OpTester.op("Gemm").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 5, 4).attr("transB", 1L)
        .constant("c", new RandomTensors().of(DType.FLOAT32, 1, 5)).check();
    OpTester.op("Gemm").opset(7).input("a", DType.FLOAT32, 2, 4).input("b", DType.FLOAT32, 4, 3)
        .input("c", DType.FLOAT32, 2, 3).check();
  }

  @Test
  void gemmElementTypes() {
    OpTester.op("Gemm").input("a", DType.FLOAT64, 3, 4).input("b", DType.FLOAT64, 4, 5).input("c", DType.FLOAT64, 5)
        .check();
    OpTester.op("Gemm").input("a", DType.FLOAT16, 3, 4).input("b", DType.FLOAT16, 4, 5).tolerance(1e-2, 1e-2).check();
  }

  /** ORT has no integer Gemm kernel: exact math on a small case. */
  @Test
  void gemmIntegersAreExact() {
    Tensor a = Tensor.ofLongs(DType.INT32, new long[] {2, 2}, 1, 2, 3, 4);
    Tensor b = Tensor.ofLongs(DType.INT32, new long[] {2, 2}, 5, 6, 7, 8);
    Tensor c = Tensor.ofLongs(DType.INT32, new long[] {2}, 1, -1);
    OpTester t = OpTester.op("Gemm").input("a", a).input("b", b).input("c", c).attr("transB", 1L)
        .attr("alpha", 2f).attr("beta", 3f);
    Map<String, Tensor> out = ReferenceEvaluator.standard().run(t.graph(), Map.of("a", a, "b", b, "c", c));
    assertArrayEquals(new long[] {2 * 17 + 3, 2 * 23 - 3, 2 * 39 + 3, 2 * 53 - 3}, out.get("out").longs());
  }

  @Test
  void gemmErrorsNameTheNode() {
    ModelException e = assertThrows(ModelException.class,
        () -> OpTester.op("Gemm").input("a", DType.FLOAT32, 3, 4).input("b", DType.FLOAT32, 3, 5).graph());
    assertTrue(e.getMessage().startsWith("Gemm 'node'"), e.getMessage());
    assertThrows(ModelException.class,
        () -> OpTester.op("Gemm").input("a", DType.FLOAT32, 3, 4, 1).input("b", DType.FLOAT32, 4, 5).graph());
    assertThrows(ModelException.class, () -> OpTester.op("Gemm").input("a", DType.FLOAT32, 3, 4)
        .input("b", DType.FLOAT32, 4, 5).input("c", DType.FLOAT32, 2, 5).graph());
  }

  @Test
  void dropoutIsIdentityInInference() {
    OpTester.op("Dropout").input("x", DType.FLOAT32, 3, 4).check();
    OpTester.op("Dropout").input("x", DType.FLOAT32, 3, 4).outputs("out", "mask").check();
    OpTester.op("Dropout").opset(7).input("x", DType.FLOAT32, 3, 4).attr("ratio", 0.2f).check();
    OpTester.op("Dropout").opset(10).input("x", DType.FLOAT32, 3, 4).check();
    OpTester.op("Dropout").opset(13).input("x", DType.FLOAT32, 2, 5)
        .constant("r", Tensor.scalarFloat(0.3f)).outputs("out", "mask").check();
    OpTester.op("Dropout").opset(13).input("x", DType.FLOAT32, 2, 5).constant("r", Tensor.scalarFloat(0f))
        .constant("t", Tensor.ofBools(new long[0], true)).outputs("out", "mask").check();
  }

  /** Before opset 12 ONNX leaves the inference mask undefined (ORT fills it with false); ours keeps every element. */
  @Test
  void dropoutMaskBeforeOpset12KeepsEverything() {
    Tensor x = new RandomTensors().of(DType.FLOAT32, 2, 3);
    Map<String, Tensor> out = ReferenceEvaluator.standard().run(
        OpTester.op("Dropout").opset(10).input("x", x).outputs("out", "mask").graph(), Map.of("x", x));
    assertArrayEquals(new boolean[] {true, true, true, true, true, true}, out.get("mask").bools());
    assertEquals(x, out.get("out"));
  }

  @Test
  void trainingDropoutIsUnsupported() {
    Tensor x = new RandomTensors().of(DType.FLOAT32, 2, 3);
    OpTester t = OpTester.op("Dropout").opset(13).input("x", x).constant("r", Tensor.scalarFloat(0.5f))
        .constant("t", Tensor.ofBools(new long[0], true));
    ModelException e = assertThrows(UnsupportedModelException.class,
        () -> ReferenceEvaluator.standard().run(t.graph(), Map.of("x", x)));
    assertTrue(e.getMessage().startsWith("Dropout 'node'"), e.getMessage());
  }
}
