package dev.nnvm.compiler.ops;

import static dev.nnvm.compiler.ops.ElementwiseChecks.assertInferError;
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
import org.junit.jupiter.params.provider.ValueSource;

class ComparisonOpsTest {
  @ParameterizedTest
  @ValueSource(strings = {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"})
  void comparisonsBroadcast(String op) {
    for (DType t : new DType[] {DType.FLOAT32, DType.INT32, DType.INT64, DType.FLOAT64}) {
      OpTester.op(op).opset(16).input("a", t, 2, 3, 4).input("b", t, 3, 1).check();
      OpTester.op(op).opset(16).input("a", t, 4).input("b", t).check();
    }
    OpTester.op(op).opset(16).input("a", DType.INT8, 2, 3).input("b", DType.INT8, 3).check();
    OpTester.op(op).opset(16).input("a", DType.UINT8, 2, 3).input("b", DType.UINT8, 2, 1).check();
  }

  @Test
  void floatComparisonsTieAndNaN() {
    Tensor a = Tensor.ofFloats(new long[] {5}, 1f, Float.NaN, -0f, 2f, Float.NaN);
    Tensor b = Tensor.ofFloats(new long[] {5}, 1f, 1f, 0f, Float.NEGATIVE_INFINITY, Float.NaN);
    for (String op : new String[] {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"}) {
      OpTester.op(op).opset(16).input("a", a).input("b", b).check();
    }
  }

  @Test
  void equalOnBoolAndString() {
    OpTester.op("Equal").opset(19).input("a", DType.BOOL, 3, 4).input("b", DType.BOOL, 4).check();
    Tensor s = Tensor.ofStrings(new long[] {2, 2}, "a", "bc", "", "x");
    Tensor t = Tensor.ofStrings(new long[] {2}, "a", "x");
    OpTester.op("Equal").opset(19).input("a", s).input("b", t).check();
  }

  @Test
  void unsignedOrder() {
    Tensor lt = eval("Less", longs(DType.UINT64, -1L, 1), longs(DType.UINT64, 1, -1L));
    assertArrayEquals(new boolean[] {false, true}, lt.bools());
    Tensor ge = eval("GreaterOrEqual", longs(DType.UINT32, 0xffffffffL, 0), longs(DType.UINT32, 0, 0));
    assertArrayEquals(new boolean[] {true, true}, ge.bools());
  }

  @Test
  void booleanLogic() {
    for (String op : new String[] {"And", "Or", "Xor"}) {
      OpTester.op(op).input("a", DType.BOOL, 2, 3, 4).input("b", DType.BOOL, 3, 4).check();
      OpTester.op(op).input("a", DType.BOOL, 3, 1).input("b", DType.BOOL, 1, 5).check();
      OpTester.op(op).input("a", DType.BOOL).input("b", DType.BOOL, 2).check();
    }
  }

  @Test
  void typeRules() {
    assertEquals("bool[N, 3]", ElementwiseChecks.infer("Less", "f32[N, 1]", "f32[3]").toString());
    assertEquals("bool[N, seq]", ElementwiseChecks.infer("And", "bool[N, seq]", "bool[]").toString());
    assertInferError("same element type", "Equal", 19, Map.of(), "f32[2]", "i64[2]");
    assertInferError("bool", "Less", 16, Map.of(), "bool[2]", "bool[2]");
    assertInferError("f32", "And", 7, Map.of(), "f32[2]", "bool[2]");
    assertInferError("cannot be broadcast", "Greater", 16, Map.of(), "f32[2]", "f32[3]");
  }
}
