package dev.nnvm.compiler.ops;

import static dev.nnvm.compiler.ops.ElementwiseChecks.assertInferError;
import static dev.nnvm.compiler.ops.ElementwiseChecks.assertLongs;
import static dev.nnvm.compiler.ops.ElementwiseChecks.eval;
import static dev.nnvm.compiler.ops.ElementwiseChecks.longs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ActivationOpsTest {
  /** Activations without attributes, at the opset that introduced their latest form. */
  @ParameterizedTest
  @CsvSource({"Relu, 14", "Sigmoid, 13", "Softplus, 7", "Softsign, 7", "Tanh, 13", "HardSwish, 14", "Mish, 18",
      "Gelu, 20", "Celu, 12", "Elu, 7", "Selu, 7", "LeakyRelu, 16", "HardSigmoid, 7", "ThresholdedRelu, 10",
      "Shrink, 9"})
  void defaultsMatchOnnxRuntime(String op, int opset) {
    OpTester t = OpTester.op(op).opset(opset);
    t.input("x", t.random().uniform(DType.FLOAT32, -6, 6, 4, 7)).check();
  }

  @Test
  void doublePrecision() {
    for (String op : new String[] {"Relu", "Sigmoid", "Tanh", "LeakyRelu"}) {
      OpTester t = OpTester.op(op).opset(16);
      t.input("x", t.random().uniform(DType.FLOAT64, -6, 6, 3, 5)).check();
    }
  }

  @Test
  void attributeVariants() {
    OpTester.op("LeakyRelu").input("x", DType.FLOAT32, 3, 4).attr("alpha", 0.3f).check();
    OpTester.op("Elu").input("x", DType.FLOAT32, 3, 4).attr("alpha", 2.5f).check();
    OpTester.op("Selu").input("x", DType.FLOAT32, 3, 4).attr("alpha", 2f).attr("gamma", 3f).check();
    OpTester.op("Celu").input("x", DType.FLOAT32, 3, 4).attr("alpha", 0.5f).check();
    OpTester.op("HardSigmoid").input("x", DType.FLOAT32, 3, 4).attr("alpha", 0.5f).attr("beta", 0.6f).check();
    OpTester.op("ThresholdedRelu").input("x", DType.FLOAT32, 3, 4).attr("alpha", 0.25f).check();
    OpTester.op("Shrink").input("x", DType.FLOAT32, 3, 4).attr("lambd", 0.3f).attr("bias", 0.1f).check();
    OpTester t = OpTester.op("Gelu").opset(20).attr("approximate", "tanh");
    t.input("x", t.random().uniform(DType.FLOAT32, -5, 5, 10)).check();
  }

  @Test
  void integerActivations() {
    OpTester.op("Relu").opset(14).input("x", DType.INT32, 4, 4).check();
    OpTester.op("Relu").opset(14).input("x", DType.INT8, 4, 4).check();
    OpTester.op("Shrink").input("x", DType.INT8, 4, 4).attr("lambd", 1.5f).attr("bias", 1.5f).check();
    assertLongs(eval("Relu", longs(DType.INT64, Long.MIN_VALUE, -1, 0, 7)), DType.INT64, 0, 0, 0, 7);
  }

  @Test
  void preluBroadcastsTheSlope() {
    OpTester.op("PRelu").opset(16).input("x", DType.FLOAT32, 2, 3, 4).input("slope", DType.FLOAT32, 3, 1).check();
    OpTester.op("PRelu").opset(16).input("x", DType.FLOAT32, 2, 3, 4).input("slope", DType.FLOAT32, 4).check();
    OpTester.op("PRelu").opset(9).input("x", DType.FLOAT32, 2, 3).input("slope", DType.FLOAT32, 1).check();
    OpTester.op("PRelu").opset(16).input("x", DType.INT32, 2, 5).input("slope", DType.INT32, 5).check();
    OpTester.op("PRelu").opset(16).input("x", DType.FLOAT64, 2, 5).input("slope", DType.FLOAT64, 2, 1).check();
  }

  @Test
  void halfPrecisionRelu() {
    OpTester.op("Relu").opset(14).input("x", DType.FLOAT16, 3, 4).check();
    OpTester.op("Sigmoid").opset(13).tolerance(2e-3, 1e-3).input("x", DType.FLOAT16, 3, 4).check();
  }

  @Test
  void typesAndAttributes() {
    assertEquals("f32[N, 3]", ElementwiseChecks.infer("Sigmoid", "f32[N, 3]").toString());
    assertEquals("f32[N, 3, 4]", ElementwiseChecks.infer("PRelu", "f32[N, 3, 4]", "f32[3, 1]").toString());
    assertInferError("i32", "Sigmoid", 13, Map.of(), "i32[2]");
    assertInferError("same element type", "PRelu", 16, Map.of(), "f32[2]", "f64[2]");
    assertInferError("cannot be broadcast", "PRelu", 16, Map.of(), "f32[2, 3]", "f32[4]");
    assertThrows(UnsupportedModelException.class,
        () -> ElementwiseChecks.infer("Gelu", 20, Map.of("approximate", Attribute.ofString("erf")), "f32[2]"));
  }
}
