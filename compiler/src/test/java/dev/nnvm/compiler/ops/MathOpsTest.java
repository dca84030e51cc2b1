package dev.nnvm.compiler.ops;

import static dev.nnvm.compiler.ops.ElementwiseChecks.assertInferError;
import static dev.nnvm.compiler.ops.ElementwiseChecks.assertLongs;
import static dev.nnvm.compiler.ops.ElementwiseChecks.eval;
import static dev.nnvm.compiler.ops.ElementwiseChecks.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MathOpsTest {
  /** Each floating unary function on inputs from its domain, in f32 and f64 where ONNX Runtime has the kernel. */
  @ParameterizedTest
  @CsvSource({
      "Exp, -3, 3, true", "Log, 0.01, 5, true", "Sqrt, 0, 4, true", "Reciprocal, 0.1, 2, true",
      "Sin, -4, 4, true", "Cos, -4, 4, false", "Tan, -1.2, 1.2, false", "Asin, -1, 1, false",
      "Acos, -1, 1, false", "Atan, -5, 5, false", "Sinh, -3, 3, false", "Cosh, -3, 3, false",
      "Asinh, -5, 5, false", "Acosh, 1, 5, false", "Atanh, -0.99, 0.99, false", "Erf, -4, 4, false",
      "Floor, -5, 5, true", "Ceil, -5, 5, true", "Round, -5, 5, true"})
  void floatingFunctions(String op, double lo, double hi, boolean withF64) {
    OpTester t = OpTester.op(op).opset(13);
    t.input("x", t.random().uniform(DType.FLOAT32, lo, hi, 3, 4)).check();
    if (withF64) {
      OpTester d = OpTester.op(op).opset(13);
      d.input("x", d.random().uniform(DType.FLOAT64, lo, hi, 2, 3, 4)).check();
    }
  }

  @Test
  void halfPrecision() {
    OpTester t = OpTester.op("Exp").tolerance(2e-3, 1e-3);
    t.input("x", t.random().uniform(DType.FLOAT16, -2, 2, 5, 6)).check();
    OpTester s = OpTester.op("Sqrt").tolerance(2e-3, 1e-3);
    s.input("x", s.random().uniform(DType.FLOAT16, 0, 4, 7)).check();
  }

  @Test
  void roundIsHalfToEven() {
    Tensor x = Tensor.ofFloats(new long[] {8}, -2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.4999998f, 3.5000002f);
    OpTester.op("Round").opset(11).input("x", x).check();
    assertArrayEquals(new float[] {-2, -2, -0f, 0, 2, 2, 2, 4}, eval("Round", x).floats());
  }

  @Test
  void erfIsAccurateInTheTails() {
    OpTester t = OpTester.op("Erf");
    t.input("x", Tensor.ofFloats(new long[] {6}, -7f, -3.2f, 1e-6f, 0.3f, 2.9f, 5.99f)).check();
    assertEquals(0.8427007929497149, MathFunctions.erf(1), 1e-15);
    assertEquals(-0.9999779095030014, MathFunctions.erf(-3), 1e-15);
  }

  @ParameterizedTest
  @ValueSource(strings = {"f32", "f64", "i8", "i16", "i32", "i64"})
  void absNegSignOnSignedTypes(String type) {
    DType t = DType.parse(type);
    for (String op : new String[] {"Abs", "Neg", "Sign"}) {
      if (op.equals("Neg") && (t == DType.INT16)) {
        continue;
      }
      OpTester.op(op).opset(13).input("x", t, 4, 5).check();
    }
  }

  @Test
  void absAndSignOnUnsignedTypes() {
    OpTester.op("Abs").opset(13).input("x", DType.UINT8, 3, 3).check();
    OpTester.op("Sign").opset(13).input("x", DType.UINT8, 3, 3).check();
    assertLongs(eval("Abs", longs(DType.UINT64, -1L, 5)), DType.UINT64, -1L, 5);
    assertLongs(eval("Sign", longs(DType.UINT64, -1L, 0, 7)), DType.UINT64, 1, 0, 1);
    assertLongs(eval("Sign", longs(DType.UINT32, 0xffffffffL, 0)), DType.UINT32, 1, 0);
  }

  @Test
  void integerNegationWrapsAround() {
    assertLongs(eval("Abs", longs(DType.INT8, -128, -3)), DType.INT8, -128, 3);
    assertLongs(eval("Neg", longs(DType.INT8, -128, 127)), DType.INT8, -128, -127);
    assertLongs(eval("Neg", longs(DType.INT64, Long.MIN_VALUE, 1)), DType.INT64, Long.MIN_VALUE, -1);
  }

  @Test
  void isNanAndIsInf() {
    float nan = Float.NaN;
    float inf = Float.POSITIVE_INFINITY;
    Tensor x = Tensor.ofFloats(new long[] {2, 3}, nan, inf, -inf, 0f, -1.5f, 3f);
    OpTester.op("IsNaN").opset(13).input("x", x).check();
    OpTester.op("IsInf").opset(10).input("x", x).check();
    OpTester.op("IsInf").opset(10).input("x", x).attr("detect_negative", 0L).check();
    OpTester.op("IsInf").opset(10).input("x", x).attr("detect_positive", 0L).check();
    Tensor d = Tensor.ofDoubles(new long[] {3}, Double.NaN, Double.NEGATIVE_INFINITY, 1);
    OpTester.op("IsNaN").opset(13).input("x", d).check();
    OpTester.op("IsInf").opset(10).input("x", d).check();
  }

  @Test
  void notAndBitwiseNot() {
    OpTester.op("Not").input("x", DType.BOOL, 3, 4).check();
    OpTester.op("BitwiseNot").opset(18).input("x", DType.INT32, 3, 4).check();
    OpTester.op("BitwiseNot").opset(18).input("x", DType.UINT8, 5).check();
    OpTester.op("BitwiseNot").opset(18).input("x", DType.INT64, 2, 2).check();
    assertLongs(eval("BitwiseNot", longs(DType.UINT16, 0, 0xffff, 1)), DType.UINT16, 0xffff, 0, 0xfffe);
    assertLongs(eval("BitwiseNot", longs(DType.UINT64, 0, -1L)), DType.UINT64, -1L, 0);
  }

  @Test
  void symbolicShapesPassThrough() {
    assertEquals("f32[N, 3]", ElementwiseChecks.infer("Exp", "f32[N, 3]").toString());
    assertEquals("bool[N, seq]", ElementwiseChecks.infer("IsNaN", "f16[N, seq]").toString());
  }

  @Test
  void rejectsUnsupportedElementTypes() {
    assertInferError("i32", "Exp", 13, Map.of(), "i32[2]");
    assertInferError("u8", "Neg", 13, Map.of(), "u8[2]");
    assertInferError("f32", "Not", 13, Map.of(), "f32[2]");
    assertInferError("f32", "BitwiseNot", 18, Map.of(), "f32[2]");
  }
}
