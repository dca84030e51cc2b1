package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import org.junit.jupiter.api.Test;

/** The normalization operators against ONNX Runtime. */
class NormOpsTest {
  private final RandomTensors random = new RandomTensors();

  private Tensor positive(DType t, long... shape) {
    return random.uniform(t, 0.5, 2, shape);
  }

  private OpTester batchNorm(int opset, DType t, long... x) {
    long c = x[1];
    return OpTester.op("BatchNormalization").opset(opset).input("x", t, x)
        .input("scale", t, c).input("b", t, c).input("mean", t, c).input("var", positive(t, c));
  }

  @Test
  void batchNormalizationInference() {
    batchNorm(15, DType.FLOAT32, 2, 3, 4, 5).check();
    batchNorm(15, DType.FLOAT32, 2, 3, 4, 5).attr("epsilon", 1e-2f).check();
    batchNorm(9, DType.FLOAT32, 2, 3, 7).check();
    batchNorm(7, DType.FLOAT32, 2, 3, 4, 4).check();
    batchNorm(14, DType.FLOAT32, 4, 3).check();
    OpTester.op("BatchNormalization").opset(7).attr("spatial", 0L).input("x", DType.FLOAT32, 2, 3, 2, 2)
        .input("scale", DType.FLOAT32, 3, 2, 2).input("b", DType.FLOAT32, 3, 2, 2).input("mean", DType.FLOAT32, 3, 2, 2)
        .input("var", positive(DType.FLOAT32, 3, 2, 2)).check();
    batchNorm(15, DType.FLOAT64, 2, 3, 4, 5).check();
    batchNorm(15, DType.FLOAT16, 2, 3, 4, 5).tolerance(1e-2, 1e-2).check();
  }

  @Test
  void batchNormalizationTraining() {
    batchNorm(15, DType.FLOAT32, 2, 3, 4, 5).attr("training_mode", 1L).outputs("out", "rm", "rv").check();
    batchNorm(15, DType.FLOAT32, 3, 2, 5).attr("training_mode", 1L).attr("momentum", 0.6f)
        .outputs("out", "rm", "rv").check();
  }

  @Test
  void batchNormalizationErrors() {
    ModelException e = assertThrows(ModelException.class, () -> OpTester.op("BatchNormalization")
        .input("x", DType.FLOAT32, 2, 3, 4).input("s", DType.FLOAT32, 4).input("b", DType.FLOAT32, 3)
        .input("m", DType.FLOAT32, 3).input("v", DType.FLOAT32, 3).graph());
    assertTrue(e.getMessage().startsWith("BatchNormalization 'node'"), e.getMessage());
    e = assertThrows(UnsupportedModelException.class, () -> batchNorm(9, DType.FLOAT32, 2, 3, 4)
        .outputs("out", "m", "v", "sm", "sv").graph());
    assertTrue(e.getMessage().startsWith("BatchNormalization 'node'"), e.getMessage());
    e = assertThrows(ModelException.class, () -> batchNorm(15, DType.FLOAT32, 2, 3, 4).attr("training_mode", 1L)
        .outputs("out", "rm").graph());
    assertTrue(e.getMessage().startsWith("BatchNormalization 'node'"), e.getMessage());
  }

  @Test
  void layerNormalization() {
    OpTester.op("LayerNormalization").input("x", DType.FLOAT32, 2, 3, 8).input("s", DType.FLOAT32, 8)
        .input("b", DType.FLOAT32, 8).check();
    OpTester.op("LayerNormalization").input("x", DType.FLOAT32, 2, 3, 4).input("s", DType.FLOAT32, 3, 4)
        .attr("axis", 1L).outputs("out", "mean", "invstd").check();
    OpTester.op("LayerNormalization").input("x", DType.FLOAT32, 2, 3, 4).input("s", DType.FLOAT32, 2, 3, 4)
        .input("b", DType.FLOAT32, 2, 3, 4).attr("axis", 0L).attr("epsilon", 1e-2f).outputs("out", "mean", "invstd").check();
    OpTester.op("LayerNormalization").input("x", DType.FLOAT32, 5, 6).input("s", DType.FLOAT32, 6)
        .attr("axis", -1L).outputs("out", "mean").check();
    OpTester.op("LayerNormalization").input("x", DType.FLOAT64, 3, 5).input("s", DType.FLOAT64, 5)
        .input("b", DType.FLOAT64, 5).check();
    OpTester.op("LayerNormalization").input("x", DType.FLOAT16, 3, 16).input("s", DType.FLOAT16, 16)
        .tolerance(1e-2, 1e-2).check();
  }

  @Test
  void layerNormalizationErrors() {
    ModelException e = assertThrows(ModelException.class, () -> OpTester.op("LayerNormalization")
        .input("x", DType.FLOAT32, 2, 3).input("s", DType.FLOAT32, 3).attr("axis", 2L)
        .outputs("out", "mean").graph());
    assertTrue(e.getMessage().startsWith("LayerNormalization 'node'"), e.getMessage());
  }

  @Test
  void instanceAndGroupNormalization() {
    OpTester.op("InstanceNormalization").input("x", DType.FLOAT32, 2, 3, 4, 5).input("s", DType.FLOAT32, 3)
        .input("b", DType.FLOAT32, 3).check();
    OpTester.op("InstanceNormalization").input("x", DType.FLOAT32, 2, 3, 7).input("s", DType.FLOAT32, 3)
        .input("b", DType.FLOAT32, 3).attr("epsilon", 1e-2f).check();
    OpTester.op("InstanceNormalization").input("x", DType.FLOAT16, 2, 3, 7).input("s", DType.FLOAT16, 3)
        .input("b", DType.FLOAT16, 3).tolerance(1e-2, 1e-2).check();
    OpTester.op("GroupNormalization").opset(21).input("x", DType.FLOAT32, 2, 6, 4, 5).input("s", DType.FLOAT32, 6)
        .input("b", DType.FLOAT32, 6).attr("num_groups", 3L).check();
    OpTester.op("GroupNormalization").opset(21).input("x", DType.FLOAT32, 2, 4, 7).input("s", DType.FLOAT32, 4)
        .input("b", DType.FLOAT32, 4).attr("num_groups", 1L).attr("epsilon", 1e-3f).check();
    ModelException e = assertThrows(ModelException.class, () -> OpTester.op("GroupNormalization").opset(21)
        .input("x", DType.FLOAT32, 2, 6, 4).input("s", DType.FLOAT32, 6).input("b", DType.FLOAT32, 6)
        .attr("num_groups", 4L).graph());
    assertTrue(e.getMessage().startsWith("GroupNormalization 'node'"), e.getMessage());
    e = assertThrows(ModelException.class, () -> OpTester.op("InstanceNormalization")
        .input("x", DType.FLOAT32, 2, 3, 4).input("s", DType.FLOAT32, 4).input("b", DType.FLOAT32, 3).graph());
    assertTrue(e.getMessage().startsWith("InstanceNormalization 'node'"), e.getMessage());
  }

  @Test
  void lpMvnAndLrn() {
    OpTester.op("LpNormalization").input("x", DType.FLOAT32, 3, 4, 5).check();
    OpTester.op("LpNormalization").input("x", DType.FLOAT32, 3, 4, 5).attr("axis", 1L).attr("p", 1L).check();
    OpTester.op("LpNormalization").input("x", DType.FLOAT64, 3, 4).attr("axis", 0L).check();
    OpTester.op("MeanVarianceNormalization").input("x", DType.FLOAT32, 2, 3, 4, 5).check();
    OpTester.op("MeanVarianceNormalization").input("x", DType.FLOAT32, 2, 3, 4).attr("axes", 1L, 2L).check();
    OpTester.op("MeanVarianceNormalization").opset(9).input("x", DType.FLOAT32, 2, 3, 4, 5)
        .attr("axes", new long[] {-1}).check();
    OpTester.op("LRN").input("x", DType.FLOAT32, 2, 6, 4, 5).attr("size", 3L).check();
    OpTester.op("LRN").input("x", DType.FLOAT32, 1, 7, 3, 5).attr("size", 5L).attr("alpha", 0.01f).attr("beta", 0.5f)
        .attr("bias", 2f).check();
    ModelException e = assertThrows(ModelException.class,
        () -> OpTester.op("LpNormalization").input("x", DType.FLOAT32, 3, 4).attr("axis", 3L).graph());
    assertTrue(e.getMessage().startsWith("LpNormalization 'node'"), e.getMessage());
    e = assertThrows(ModelException.class, () -> OpTester.op("LRN").input("x", DType.FLOAT32, 3, 4).graph());
    assertTrue(e.getMessage().startsWith("LRN 'node'"), e.getMessage());
  }
}
