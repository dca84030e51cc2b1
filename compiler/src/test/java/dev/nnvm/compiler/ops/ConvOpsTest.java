package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Conv and ConvTranspose against ONNX Runtime. */
class ConvOpsTest {
  private static OpTester conv(long[] x, long[] w) {
    return OpTester.op("Conv").input("x", DType.FLOAT32, x).input("w", DType.FLOAT32, w);
  }

  private static OpTester convT(long[] x, long[] w) {
    return OpTester.op("ConvTranspose").input("x", DType.FLOAT32, x).input("w", DType.FLOAT32, w);
  }

  private static long[] s(long... dims) {
    return dims;
  }

  @Test
  void conv2d() {
    conv(s(2, 3, 7, 8), s(4, 3, 3, 3)).check();
    conv(s(1, 3, 7, 8), s(4, 3, 3, 3)).input("b", DType.FLOAT32, 4).attr("pads", 1L, 1L, 1L, 1L).check();
    conv(s(1, 3, 9, 10), s(5, 3, 3, 2)).attr("strides", 2L, 3L).attr("pads", 0L, 1L, 2L, 1L).check();
    conv(s(1, 2, 9, 10), s(3, 2, 3, 3)).attr("dilations", 2L, 1L).attr("pads", 2L, 1L, 2L, 1L).check();
    conv(s(1, 4, 6, 6), s(6, 2, 3, 3)).attr("group", 2L).attr("kernel_shape", 3L, 3L).check();
    conv(s(2, 4, 6, 6), s(4, 1, 3, 3)).attr("group", 4L).attr("pads", 1L, 1L, 1L, 1L).check();
    conv(s(1, 8, 5, 6), s(16, 8, 1, 1)).input("b", DType.FLOAT32, 16).check();
    conv(s(1, 8, 5, 6), s(4, 8, 1, 1)).attr("strides", 2L, 2L).check();
  }

  @Test
  void conv2dAutoPad() {
    for (String pad : new String[] {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
      conv(s(1, 3, 7, 8), s(2, 3, 4, 3)).attr("auto_pad", pad).check();
      conv(s(1, 3, 7, 8), s(2, 3, 3, 4)).attr("auto_pad", pad).attr("strides", 2L, 2L).check();
    }
  }

  @Test
  void conv1dAnd3d() {
    conv(s(2, 3, 11), s(4, 3, 3)).attr("strides", new long[] {2L}).attr("pads", 1L, 2L).check();
    conv(s(1, 2, 5, 6, 7), s(3, 2, 2, 3, 3)).attr("pads", 1L, 0L, 1L, 0L, 1L, 1L).check();
    conv(s(1, 4, 5, 6, 7), s(4, 2, 3, 3, 3)).attr("group", 2L).attr("strides", 2L, 1L, 2L).check();
  }

  @Test
  void convElementTypes() {
    RandomTensors random = new RandomTensors();
    Tensor x = random.of(DType.FLOAT64, 1, 2, 5, 5);
    Tensor w = random.of(DType.FLOAT64, 3, 2, 3, 3);
    Tensor viaFloat = OpTester.op("Conv").input("x", x.cast(DType.FLOAT32)).input("w", w.cast(DType.FLOAT32))
        .check().get("out");
    Tensor direct = ReferenceEvaluator.standard()
        .run(OpTester.op("Conv").input("x", x).input("w", w).graph(), Map.of("x", x, "w", w)).get("out");
    assertEquals(DType.FLOAT64, direct.dtype());
    Comparison.assertClose("Conv f64 (ORT has no f64 Conv kernel)", viaFloat.cast(DType.FLOAT64), direct, 1e-4, 1e-5);
    OpTester.op("Conv").input("x", DType.FLOAT16, 1, 2, 5, 5).input("w", DType.FLOAT16, 3, 2, 3, 3)
        .tolerance(1e-2, 1e-2).check();
    conv(s(1, 2, 6, 6), s(3, 2, 3, 3)).opset(7).check();
  }

  @Test
  void convTranspose() {
    convT(s(1, 3, 4, 5), s(3, 2, 3, 3)).check();
    convT(s(2, 3, 4, 5), s(3, 2, 3, 3)).input("b", DType.FLOAT32, 2).attr("strides", 2L, 2L).check();
    convT(s(1, 3, 4, 5), s(3, 2, 3, 3)).attr("strides", 2L, 3L).attr("pads", 1L, 0L, 1L, 2L).check();
    convT(s(1, 3, 4, 5), s(3, 2, 3, 3)).attr("strides", 2L, 2L).attr("output_padding", 1L, 1L).check();
    convT(s(1, 3, 4, 5), s(3, 2, 3, 2)).attr("dilations", 2L, 2L).check();
    convT(s(1, 4, 4, 5), s(4, 3, 3, 3)).attr("group", 2L).check();
    convT(s(1, 3, 4, 5), s(3, 2, 3, 3)).attr("strides", 3L, 2L).attr("output_shape", 12L, 11L).check();
    convT(s(1, 3, 7), s(3, 2, 3)).attr("strides", new long[] {2L}).check();
    convT(s(1, 2, 3, 4, 3), s(2, 2, 2, 2, 2)).attr("strides", 2L, 1L, 2L).check();
  }

  @Test
  void convTransposeAutoPad() {
    for (String pad : new String[] {"SAME_UPPER", "SAME_LOWER", "VALID"}) {
      convT(s(1, 2, 4, 5), s(2, 3, 3, 3)).attr("auto_pad", pad).attr("strides", 2L, 2L).check();
      convT(s(1, 2, 4, 5), s(2, 3, 4, 4)).attr("auto_pad", pad).attr("strides", 2L, 2L).check();
    }
  }

  @Test
  void symbolicBatchKeepsItsName() {
    Graph g = Graph.builder("g").opset("", 17)
        .input("x", TensorType.parse("f32[N, 3, 8, 8]"))
        .input("w", TensorType.parse("f32[4, 3, 3, 3]"))
        .node(Node.of("conv", "Conv", List.of("x", "w"), List.of("y")))
        .output("y", TensorType.unknownShape(DType.FLOAT32))
        .build();
    assertTrue(TypeInference.infer(g).valueTypes().get("y").toString().equals("f32[N, 4, 6, 6]"),
        TypeInference.infer(g).valueTypes().toString());
  }

  @Test
  void errorsNameTheNode() {
    Map<String, OpTester> bad = Map.of(
        "channel mismatch", conv(s(1, 3, 5, 5), s(4, 2, 3, 3)),
        "rank of W", conv(s(1, 3, 5, 5), s(4, 3, 3)),
        "rank of X", conv(s(3, 5), s(4, 3)),
        "group", conv(s(1, 4, 5, 5), s(3, 2, 3, 3)).attr("group", 2L),
        "kernel too big", conv(s(1, 3, 2, 2), s(4, 3, 3, 3)),
        "pads length", conv(s(1, 3, 5, 5), s(4, 3, 3, 3)).attr("pads", 1L, 1L),
        "transpose channels", convT(s(1, 3, 4, 4), s(2, 2, 3, 3)));
    bad.forEach((what, t) -> {
      ModelException e = assertThrows(ModelException.class, t::graph, what);
      assertTrue(e.getMessage().startsWith("Conv 'node'") || e.getMessage().startsWith("ConvTranspose 'node'"),
          what + ": " + e.getMessage());
    });
  }
}
