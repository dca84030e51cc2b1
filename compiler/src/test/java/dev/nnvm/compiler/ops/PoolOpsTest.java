package dev.nnvm.compiler.ops;

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
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** MaxPool, AveragePool, LpPool and the global pools against ONNX Runtime. */
class PoolOpsTest {
  private static OpTester pool(String op, long... x) {
    return OpTester.op(op).input("x", DType.FLOAT32, x);
  }

  @Test
  void maxPool2d() {
    pool("MaxPool", 2, 3, 8, 9).attr("kernel_shape", 2L, 2L).check();
    pool("MaxPool", 1, 3, 8, 9).attr("kernel_shape", 3L, 3L).attr("strides", 2L, 2L).attr("pads", 1L, 1L, 1L, 1L).check();
    pool("MaxPool", 1, 2, 9, 9).attr("kernel_shape", 3L, 2L).attr("strides", 2L, 2L).attr("ceil_mode", 1L).check();
    pool("MaxPool", 1, 2, 9, 10).attr("kernel_shape", 2L, 2L).attr("dilations", 2L, 2L).check();
    pool("MaxPool", 1, 2, 7, 8).attr("kernel_shape", 3L, 3L).attr("strides", 2L, 2L).attr("auto_pad", "SAME_UPPER")
        .check();
    pool("MaxPool", 1, 2, 7, 8).attr("kernel_shape", 2L, 2L).attr("strides", 2L, 2L).attr("auto_pad", "SAME_LOWER")
        .check();
    pool("MaxPool", 1, 2, 7, 8).attr("kernel_shape", 3L, 3L).attr("auto_pad", "VALID").check();
  }

  @Test
  void maxPoolIndices() {
    pool("MaxPool", 2, 3, 6, 7).attr("kernel_shape", 2L, 2L).attr("strides", 2L, 2L).attr("pads", 0L, 0L, 1L, 1L)
        .outputs("out", "indices").check();
    pool("MaxPool", 2, 3, 6, 7).attr("kernel_shape", 3L, 2L).attr("storage_order", 1L)
        .outputs("out", "indices").check();
  }

  /** NaN in a window: compared with ONNX Runtime (and compiled), whatever it does with them. */
  @Test
  void maxPoolWithNaN() {
    float[] x = new float[2 * 8];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.sin(i + 1.0);
    }
    x[1] = Float.NaN;
    x[4] = Float.NaN;
    x[5] = Float.NaN;
    OpTester.op("MaxPool").input("x", Tensor.ofFloats(new long[] {1, 2, 8}, x)).attr("kernel_shape", new long[] {2})
        .attr("strides", new long[] {2}).check();
  }

  @Test
  void maxPoolOtherRanksAndTypes() {
    pool("MaxPool", 2, 3, 11).attr("kernel_shape", new long[] {3}).attr("strides", new long[] {2}).check();
    pool("MaxPool", 1, 2, 5, 6, 7).attr("kernel_shape", 2L, 2L, 3L).check();
    OpTester.op("MaxPool").input("x", DType.FLOAT64, 1, 2, 6, 6).attr("kernel_shape", 2L, 2L).check();
    OpTester.op("MaxPool").input("x", DType.FLOAT16, 1, 2, 6, 6).attr("kernel_shape", 2L, 2L).check();
    OpTester.op("MaxPool").input("x", DType.INT8, 1, 2, 6, 6).attr("kernel_shape", 2L, 2L).check();
    OpTester.op("MaxPool").input("x", DType.UINT8, 1, 2, 6, 6).attr("kernel_shape", 3L, 3L).check();
    pool("MaxPool", 1, 2, 6, 6).opset(8).attr("kernel_shape", 2L, 2L).check();
  }

  @Test
  void averagePool() {
    pool("AveragePool", 2, 3, 8, 9).attr("kernel_shape", 2L, 2L).check();
    pool("AveragePool", 1, 3, 8, 9).attr("kernel_shape", 3L, 3L).attr("strides", 2L, 2L).attr("pads", 1L, 1L, 1L, 1L)
        .check();
    pool("AveragePool", 1, 3, 8, 9).attr("kernel_shape", 3L, 3L).attr("strides", 2L, 2L).attr("pads", 1L, 1L, 1L, 1L)
        .attr("count_include_pad", 1L).check();
    pool("AveragePool", 1, 2, 9, 9).attr("kernel_shape", 3L, 2L).attr("strides", 2L, 2L).attr("ceil_mode", 1L).check();
    pool("AveragePool", 1, 2, 9, 9).attr("kernel_shape", 3L, 3L).attr("strides", 2L, 2L).attr("ceil_mode", 1L)
        .attr("pads", 1L, 1L, 1L, 1L).attr("count_include_pad", 1L).check();
    pool("AveragePool", 1, 2, 7, 8).attr("kernel_shape", 3L, 3L).attr("auto_pad", "SAME_UPPER").check();
    pool("AveragePool", 1, 2, 7, 8).attr("kernel_shape", 2L, 2L).attr("auto_pad", "SAME_LOWER")
        .attr("count_include_pad", 1L).check();
    pool("AveragePool", 2, 3, 11).attr("kernel_shape", new long[] {4}).check();
    pool("AveragePool", 1, 2, 5, 6, 7).attr("kernel_shape", 2L, 3L, 2L).attr("strides", 1L, 2L, 2L).check();
    pool("AveragePool", 1, 2, 9, 10).opset(19).attr("kernel_shape", 2L, 2L).attr("dilations", 2L, 2L).check();
    OpTester.op("AveragePool").input("x", DType.FLOAT16, 1, 2, 6, 6).attr("kernel_shape", 2L, 2L)
        .tolerance(1e-3, 1e-3).check();
  }

  @Test
  void lpPool() {
    pool("LpPool", 1, 3, 8, 9).attr("kernel_shape", 2L, 2L).check();
    pool("LpPool", 1, 3, 8, 9).attr("kernel_shape", 3L, 3L).attr("p", 3L).attr("pads", 1L, 1L, 1L, 1L)
        .attr("strides", 2L, 2L).check();
    pool("LpPool", 1, 3, 8, 9).opset(18).attr("kernel_shape", 2L, 2L).attr("p", 1L).attr("auto_pad", "SAME_UPPER")
        .check();
  }

  @Test
  void globalPools() {
    pool("GlobalAveragePool", 2, 3, 5, 6).check();
    pool("GlobalMaxPool", 2, 3, 5, 6).check();
    pool("GlobalLpPool", 2, 3, 5, 6).check();
    pool("GlobalLpPool", 2, 3, 5).attr("p", 3L).check();
    pool("GlobalAveragePool", 1, 4, 3, 3, 3).check();
    pool("GlobalMaxPool", 1, 4, 7).check();
  }

  /** ORT has no f64 AveragePool or GlobalAveragePool kernels: compare with the f32 result ORT agrees with. */
  @Test
  void averagePoolsInDoubleMatchFloat() {
    Tensor x = new RandomTensors().of(DType.FLOAT64, 1, 2, 6, 7);
    List<Supplier<OpTester>> ops = List.of(
        () -> OpTester.op("AveragePool").attr("kernel_shape", 3L, 3L).attr("pads", 1L, 1L, 1L, 1L),
        () -> OpTester.op("GlobalAveragePool"));
    for (Supplier<OpTester> op : ops) {
      Tensor viaFloat = op.get().input("x", x.cast(DType.FLOAT32)).check().get("out");
      Tensor direct = ReferenceEvaluator.standard().run(op.get().input("x", x).graph(), Map.of("x", x)).get("out");
      assertEquals(DType.FLOAT64, direct.dtype());
      Comparison.assertClose("f64 pool", viaFloat.cast(DType.FLOAT64), direct, 1e-5, 1e-6);
    }
  }

  private static String inferred(String op, String x, Map<String, Attribute> attrs) {
    Graph g = Graph.builder("g").opset("", 17).input("x", TensorType.parse(x))
        .node(new Node("n", op, "", List.of("x"), List.of("y"), attrs))
        .output("y", TensorType.unknownShape(DType.FLOAT32))
        .build();
    return TypeInference.infer(g).valueTypes().get("y").toString();
  }

  @Test
  void symbolicDimensionsSurvive() {
    Map<String, Attribute> k2 = Map.of("kernel_shape", Attribute.ofInts(2, 2), "strides", Attribute.ofInts(2, 2));
    assertEquals("f32[N, C, 4, 5]", inferred("MaxPool", "f32[N, C, 8, 10]", k2));
    assertEquals("f32[N, 3, ?, 5]", inferred("AveragePool", "f32[N, 3, H, 10]", k2));
    assertEquals("f32[N, C, 1, 1]", inferred("GlobalAveragePool", "f32[N, C, H, W]", Map.of()));
  }

  @Test
  void errorsNameTheNode() {
    ModelException e = assertThrows(ModelException.class,
        () -> pool("MaxPool", 1, 3, 8).attr("kernel_shape", 2L, 2L).graph());
    assertTrue(e.getMessage().startsWith("MaxPool 'node'"), e.getMessage());
    e = assertThrows(ModelException.class, () -> pool("AveragePool", 3, 8).attr("kernel_shape", new long[] {2}).graph());
    assertTrue(e.getMessage().startsWith("AveragePool 'node'"), e.getMessage());
    e = assertThrows(ModelException.class, () -> pool("MaxPool", 1, 3, 8, 8).graph());
    assertTrue(e.getMessage().startsWith("MaxPool 'node'"), e.getMessage());
    e = assertThrows(ModelException.class, () -> pool("MaxPool", 1, 3, 2, 2).attr("kernel_shape", 3L, 3L).graph());
    assertTrue(e.getMessage().startsWith("MaxPool 'node'"), e.getMessage());
    e = assertThrows(UnsupportedModelException.class,
        () -> pool("MaxPool", 1, 3, 8, 8).attr("kernel_shape", 2L, 2L).attr("auto_pad", "SAME").graph());
    assertTrue(e.getMessage().startsWith("MaxPool 'node'"), e.getMessage());
    e = assertThrows(ModelException.class, () -> pool("GlobalMaxPool", 3, 8).graph());
    assertTrue(e.getMessage().startsWith("GlobalMaxPool 'node'"), e.getMessage());
  }
}
