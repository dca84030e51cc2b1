package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuantOpsTest {
  private final RandomTensors random = new RandomTensors();

  private static Tensor scalar(DType t, long v) {
    return Tensor.scalarLong(t, v);
  }

  @Test
  void quantizePerTensor() {
    for (DType t : new DType[] {DType.UINT8, DType.INT8, DType.INT16}) {
      long zp = t == DType.UINT8 ? 7 : -3;
      OpTester q = OpTester.op("QuantizeLinear").opset(21).input("x", random.uniform(DType.FLOAT32, -3, 3, 4, 6))
          .constant("s", Tensor.scalarFloat(0.02f)).constant("zp", scalar(t, zp));
      q.check();
    }
    OpTester.op("QuantizeLinear").opset(13).input("x", random.uniform(DType.FLOAT32, -3, 3, 4, 6))
        .constant("s", Tensor.scalarFloat(0.05f)).check();
  }

  @Test
  void quantizeRoundsHalfToEven() {
    Tensor x = Tensor.ofFloats(new long[] {6}, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300f);
    Map<String, Tensor> out = OpTester.op("QuantizeLinear").opset(13).input("x", x)
        .constant("s", Tensor.scalarFloat(1f)).constant("zp", scalar(DType.INT8, 0)).check();
    assertEquals(Tensor.ofLongs(DType.INT8, new long[] {6}, 0, 2, 2, 0, -2, 127), out.get("out"));
  }

  @Test
  void quantizeAndDequantizeUint16Exactly() {
    Tensor x = Tensor.ofFloats(new long[] {5}, -1f, 0f, 2.5f, 100f, 1e9f);
    Map<String, Tensor> q = ReferenceEvaluator.standard().run(OpTester.op("QuantizeLinear").opset(21)
        .input("x", x).constant("s", Tensor.scalarFloat(0.5f)).constant("zp", scalar(DType.UINT16, 10)).graph(),
        Map.of("x", x));
    Tensor y = Tensor.ofLongs(DType.UINT16, new long[] {5}, 8, 10, 15, 210, 65535);
    assertEquals(y, q.get("out"));
    Map<String, Tensor> d = ReferenceEvaluator.standard().run(OpTester.op("DequantizeLinear").opset(21)
        .input("y", y).constant("s", Tensor.scalarFloat(0.5f)).constant("zp", scalar(DType.UINT16, 10)).graph(),
        Map.of("y", y));
    assertEquals(Tensor.ofFloats(new long[] {5}, -1f, 0f, 2.5f, 100f, 32762.5f), d.get("out"));
  }

  @Test
  void quantizePerAxis() {
    OpTester.op("QuantizeLinear").opset(13).input("x", random.uniform(DType.FLOAT32, -2, 2, 2, 3, 4))
        .constant("s", Tensor.ofFloats(new long[] {3}, 0.01f, 0.02f, 0.05f))
        .constant("zp", Tensor.ofLongs(DType.UINT8, new long[] {3}, 100, 128, 90)).check();
    OpTester.op("QuantizeLinear").opset(13).input("x", random.uniform(DType.FLOAT32, -2, 2, 2, 3, 4))
        .constant("s", Tensor.ofFloats(new long[] {4}, 0.01f, 0.02f, 0.05f, 0.03f))
        .constant("zp", Tensor.ofLongs(DType.INT8, new long[] {4}, 1, 0, -1, 2)).attr("axis", -1L).check();
  }

  @Test
  void dequantize() {
    OpTester.op("DequantizeLinear").opset(13).input("x", DType.UINT8, 3, 4).constant("s", Tensor.scalarFloat(0.1f))
        .constant("zp", scalar(DType.UINT8, 3)).check();
    OpTester.op("DequantizeLinear").opset(13).input("x", DType.INT8, 3, 4).constant("s", Tensor.scalarFloat(0.1f))
        .check();
    OpTester.op("DequantizeLinear").opset(13).input("x", DType.INT32, 3, 4).constant("s", Tensor.scalarFloat(0.25f))
        .check();
    OpTester.op("DequantizeLinear").opset(13).input("x", DType.INT8, 2, 3, 4)
        .constant("s", Tensor.ofFloats(new long[] {3}, 0.1f, 0.2f, 0.3f))
        .constant("zp", Tensor.ofLongs(DType.INT8, new long[] {3}, 1, -2, 0)).check();
    OpTester.op("DequantizeLinear").opset(21).input("x", DType.INT16, 3, 4).constant("s", Tensor.scalarFloat(0.5f))
        .constant("zp", scalar(DType.INT16, -4)).check();
  }

  @Test
  void blockedQuantizationIsUnsupported() {
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> OpTester.op("DequantizeLinear")
        .opset(21).input("x", DType.INT8, 4, 4).constant("s", Tensor.ofFloats(new long[] {4, 2}, new float[8]))
        .attr("axis", 1L).attr("block_size", 2L).graph());
    assertTrue(e.getMessage().contains("DequantizeLinear 'node'"), e.getMessage());
  }

  @Test
  void dynamicQuantize() {
    OpTester.op("DynamicQuantizeLinear").opset(11).outputs("y", "s", "zp").input("x", DType.FLOAT32, 5, 7).check();
    OpTester.op("DynamicQuantizeLinear").opset(11).outputs("y", "s", "zp")
        .input("x", random.uniform(DType.FLOAT32, 0.5, 3, 4, 4)).check();
    OpTester.op("DynamicQuantizeLinear").opset(11).outputs("y", "s", "zp")
        .input("x", random.uniform(DType.FLOAT32, -6, -1, 9)).check();
    OpTester.op("DynamicQuantizeLinear").opset(11).outputs("y", "s", "zp")
        .input("x", Tensor.zeros(DType.FLOAT32, new long[] {3})).check();
    for (float hi : new float[] {1f, 3f, 0.7f}) {
      OpTester.op("DynamicQuantizeLinear").opset(11).outputs("y", "s", "zp")
          .input("x", Tensor.ofFloats(new long[] {4}, -hi, hi, hi / 2, -hi / 4)).check();
    }
  }

  @Test
  void matMulInteger() {
    OpTester.op("MatMulInteger").opset(10).input("a", random.ints(DType.UINT8, 0, 256, 4, 6))
        .input("b", random.ints(DType.INT8, -128, 128, 6, 5)).input("az", scalar(DType.UINT8, 130))
        .input("bz", scalar(DType.INT8, 0)).check();
    OpTester.op("MatMulInteger").opset(10).input("a", random.ints(DType.UINT8, 0, 256, 2, 3, 4, 6))
        .input("b", random.ints(DType.UINT8, 0, 256, 6, 5)).check();
    OpTester.op("MatMulInteger").opset(10).input("a", random.ints(DType.INT8, -128, 128, 3, 6))
        .input("b", random.ints(DType.INT8, -128, 128, 6, 4))
        .constant("az", scalar(DType.INT8, -5))
        .constant("bz", Tensor.ofLongs(DType.INT8, new long[] {4}, 1, 2, 3, 4)).check();
    OpTester.op("MatMulInteger").opset(10).input("a", random.ints(DType.UINT8, 0, 256, 6))
        .input("b", random.ints(DType.INT8, -128, 128, 2, 6, 3)).check();
  }

  /**
   * The pattern of dynamically quantized transformers (all-MiniLM-L6-v2):
   * DynamicQuantizeLinear on activations feeding MatMulInteger with int8
   * weights; both outputs must be bit-exact against ONNX Runtime.
   */
  @Test
  void dynamicQuantizeFeedingMatMulIntegerIsExact() throws Exception {
    for (DType wt : new DType[] {DType.INT8, DType.UINT8}) {
      Tensor w = wt == DType.INT8 ? random.ints(wt, -128, 128, 384, 64) : random.ints(wt, 0, 256, 384, 64);
      Tensor wz = scalar(wt, wt == DType.INT8 ? 0 : 128);
      Graph g = Graph.builder("qmatmul").opset("", 13)
          .input("x", TensorType.of(DType.FLOAT32, 1, 16, 384))
          .constant("w", w)
          .constant("wz", wz)
          .node(Node.of("dq", "DynamicQuantizeLinear", List.of("x"), List.of("xq", "xs", "xz")))
          .node(Node.of("mm", "MatMulInteger", List.of("xq", "w", "xz", "wz"), List.of("y")))
          .output("xq", TensorType.of(DType.UINT8, 1, 16, 384))
          .output("xs", TensorType.of(DType.FLOAT32))
          .output("xz", TensorType.of(DType.UINT8))
          .output("y", TensorType.of(DType.INT32, 1, 16, 64))
          .build();
      Map<String, Tensor> feeds = Map.of("x", random.uniform(DType.FLOAT32, -4, 6, 1, 16, 384));
      Map<String, Tensor> ours = ReferenceEvaluator.standard().run(g, feeds);
      Map<String, Tensor> theirs = OrtOracle.run(OnnxExporter.toBytes(g), feeds);
      for (String o : List.of("xq", "xs", "xz", "y")) {
        assertEquals(theirs.get(o), ours.get(o), o + " (seed " + random.seed() + ")");
      }
    }
  }

  @Test
  void qLinearMatMul() {
    OpTester.op("QLinearMatMul").opset(10).input("a", random.ints(DType.UINT8, 0, 256, 3, 4, 8))
        .constant("as", Tensor.scalarFloat(0.02f)).constant("az", scalar(DType.UINT8, 120))
        .input("b", random.ints(DType.UINT8, 0, 256, 8, 5)).constant("bs", Tensor.scalarFloat(0.01f))
        .constant("bz", scalar(DType.UINT8, 128)).constant("ys", Tensor.scalarFloat(0.15f))
        .constant("yz", scalar(DType.UINT8, 125)).check();
    OpTester.op("QLinearMatMul").opset(10).input("a", random.ints(DType.INT8, -128, 128, 4, 8))
        .constant("as", Tensor.scalarFloat(0.02f)).constant("az", scalar(DType.INT8, 1))
        .input("b", random.ints(DType.INT8, -128, 128, 8, 5)).constant("bs", Tensor.scalarFloat(0.01f))
        .constant("bz", scalar(DType.INT8, 0)).constant("ys", Tensor.scalarFloat(0.2f))
        .constant("yz", scalar(DType.INT8, -3)).check();
  }

  @Test
  void convInteger() {
    OpTester.op("ConvInteger").opset(10).input("x", random.ints(DType.UINT8, 0, 256, 1, 3, 7, 6))
        .input("w", random.ints(DType.UINT8, 0, 256, 4, 3, 3, 3)).constant("xz", scalar(DType.UINT8, 100))
        .check();
    OpTester.op("ConvInteger").opset(10).input("x", random.ints(DType.UINT8, 0, 256, 2, 4, 7, 6))
        .input("w", random.ints(DType.UINT8, 0, 256, 4, 2, 3, 2)).constant("xz", scalar(DType.UINT8, 3))
        .constant("wz", scalar(DType.UINT8, 5))
        .attr("group", 2L).attr("pads", 1L, 0L, 1L, 1L).attr("strides", 2L, 1L).attr("dilations", 1L, 2L).check();
    OpTester.op("ConvInteger").opset(10).input("x", random.ints(DType.UINT8, 0, 256, 1, 2, 9))
        .input("w", random.ints(DType.UINT8, 0, 256, 3, 2, 4)).attr("auto_pad", "SAME_UPPER").check();
  }

  @Test
  void qLinearConv() {
    OpTester.op("QLinearConv").opset(10).input("x", random.ints(DType.UINT8, 0, 256, 1, 3, 7, 6))
        .constant("xs", Tensor.scalarFloat(0.02f)).constant("xz", scalar(DType.UINT8, 128))
        .input("w", random.ints(DType.UINT8, 0, 256, 4, 3, 3, 3)).constant("ws", Tensor.scalarFloat(0.01f))
        .constant("wz", scalar(DType.UINT8, 128)).constant("ys", Tensor.scalarFloat(0.3f))
        .constant("yz", scalar(DType.UINT8, 120)).attr("pads", 1L, 1L, 1L, 1L).check();
    OpTester.op("QLinearConv").opset(10).input("x", random.ints(DType.INT8, -128, 128, 1, 2, 6, 6))
        .constant("xs", Tensor.scalarFloat(0.02f)).constant("xz", scalar(DType.INT8, 0))
        .input("w", random.ints(DType.INT8, -128, 128, 3, 2, 3, 3))
        .constant("ws", Tensor.ofFloats(new long[] {3}, 0.01f, 0.02f, 0.005f))
        .constant("wz", Tensor.ofLongs(DType.INT8, new long[] {3}, 0, 0, 0)).constant("ys", Tensor.scalarFloat(0.25f))
        .constant("yz", scalar(DType.INT8, -2)).constant("b", Tensor.ofLongs(DType.INT32, new long[] {3}, 100, -50, 7))
        .attr("strides", 2L, 2L).check();
  }

  @Test
  void matMulIntegerRejectsMismatchedInner() {
    ModelException e = assertThrows(ModelException.class, () -> OpTester.op("MatMulInteger").opset(10)
        .input("a", DType.UINT8, 3, 4).input("b", DType.UINT8, 5, 2).graph());
    assertTrue(e.getMessage().contains("MatMulInteger 'node'"), e.getMessage());
  }
}
