package dev.nnvm.compiler.ops;

import static dev.nnvm.compiler.ops.ElementwiseChecks.assertInferError;
import static dev.nnvm.compiler.ops.ElementwiseChecks.assertLongs;
import static dev.nnvm.compiler.ops.ElementwiseChecks.eval;
import static dev.nnvm.compiler.ops.ElementwiseChecks.longs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ArithmeticOpsTest {
  private static final long[][][] BROADCASTS = {
      {{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 1}}, {{1, 3, 1}, {2, 1, 5}}, {{5}, {}}, {{}, {}},
      {{0, 3}, {3}}};

  @ParameterizedTest
  @ValueSource(strings = {"Add", "Sub", "Mul"})
  void addSubMulBroadcast(String op) {
    for (long[][] shapes : BROADCASTS) {
      for (DType t : new DType[] {DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64}) {
        OpTester.op(op).opset(14).input("a", t, shapes[0]).input("b", t, shapes[1]).check();
      }
    }
    OpTester.op(op).opset(7).input("a", DType.FLOAT32, 3, 1).input("b", DType.FLOAT32, 1, 4).check();
    OpTester.op(op).opset(14).tolerance(2e-3, 1e-3).input("a", DType.FLOAT16, 2, 3).input("b", DType.FLOAT16, 3)
        .check();
  }

  @Test
  void smallIntegersWrapAround() {
    assertLongs(eval("Add", longs(DType.INT8, 127, -128), longs(DType.INT8, 1, -1)), DType.INT8, -128, 127);
    assertLongs(eval("Add", longs(DType.UINT8, 255, 3), longs(DType.UINT8, 1, 4)), DType.UINT8, 0, 7);
    assertLongs(eval("Sub", longs(DType.UINT16, 0), longs(DType.UINT16, 1)), DType.UINT16, 0xffff);
    assertLongs(eval("Mul", longs(DType.INT32, 0x10000), longs(DType.INT32, 0x10000)), DType.INT32, 0);
    assertLongs(eval("Mul", longs(DType.UINT32, 0xffffffffL), longs(DType.UINT32, 2)), DType.UINT32, 0xfffffffeL);
    assertLongs(eval("Add", longs(DType.UINT64, -1L), longs(DType.UINT64, 2)), DType.UINT64, 1);
    assertLongs(eval("Add", longs(DType.INT64, Long.MAX_VALUE), longs(DType.INT64, 1)), DType.INT64, Long.MIN_VALUE);
  }

  @Test
  void divisionTruncatesIntegers() {
    for (DType t : new DType[] {DType.INT32, DType.INT64}) {
      OpTester d = OpTester.op("Div").opset(14);
      d.input("a", t, 3, 4).input("b", nonZero(d.random(), t, 4)).check();
    }
    OpTester.op("Div").opset(14).input("a", DType.FLOAT32, 2, 3).input("b", DType.FLOAT32, 2, 1).check();
    OpTester.op("Div").opset(14).input("a", DType.FLOAT64, 2, 3).input("b", DType.FLOAT64).check();
    assertLongs(eval("Div", longs(DType.INT32, 7, -7, 7, -7), longs(DType.INT32, 2, 2, -2, -2)),
        DType.INT32, 3, -3, -3, 3);
    assertLongs(eval("Div", longs(DType.UINT64, -2L), longs(DType.UINT64, 2)), DType.UINT64, Long.MAX_VALUE);
    ModelException e = assertThrows(ModelException.class,
        () -> eval("Div", longs(DType.INT32, 1), longs(DType.INT32, 0)));
    assertTrue(e.getMessage().contains("'node'") && e.getMessage().contains("division by zero"), e.getMessage());
  }

  @Test
  void modFollowsDivisorOrDividend() {
    for (DType t : new DType[] {DType.INT32, DType.INT64, DType.INT8, DType.UINT8}) {
      for (long fmod : new long[] {0, 1}) {
        OpTester m = OpTester.op("Mod").opset(13).attr("fmod", fmod);
        m.input("a", m.random().ints(t, t.isSigned() ? -20 : 0, 20, 3, 4)).input("b", nonZero(m.random(), t, 4)).check();
      }
    }
    OpTester f = OpTester.op("Mod").opset(13).attr("fmod", 1L);
    f.input("a", f.random().uniform(DType.FLOAT32, -10, 10, 2, 5)).input("b", nonZeroFloats(f.random(), 5)).check();
    OpTester d = OpTester.op("Mod").opset(13).attr("fmod", 1L);
    d.input("a", d.random().uniform(DType.FLOAT64, -10, 10, 2, 5)).input("b", DType.FLOAT64, 2, 1).check();
    assertLongs(eval("Mod", longs(DType.INT32, 7, -7, 7, -7), longs(DType.INT32, 3, 3, -3, -3)),
        DType.INT32, 1, 2, -2, -1);
    assertLongs(eval("Mod", 13, Map.of("fmod", Attribute.ofInt(1)), longs(DType.INT32, 7, -7, 7, -7),
        longs(DType.INT32, 3, 3, -3, -3)), DType.INT32, 1, -1, 1, -1);
    assertLongs(eval("Mod", longs(DType.UINT64, -1L), longs(DType.UINT64, 10)), DType.UINT64, 5);
    assertInferError("fmod must be 1", "Mod", 13, Map.of(), "f32[2]", "f32[2]");
    assertThrows(UnsupportedModelException.class,
        () -> ElementwiseChecks.infer("Mod", 13, Map.of("fmod", Attribute.ofInt(2)), "i32[2]", "i32[2]"));
  }

  @Test
  void powMixesBaseAndExponentTypes() {
    OpTester p = OpTester.op("Pow").opset(15);
    p.input("x", p.random().uniform(DType.FLOAT32, 0.1, 3, 3, 4)).input("y", DType.FLOAT32, 4).check();
    OpTester.op("Pow").opset(15).input("x", DType.FLOAT32, 3, 4).input("y", Tensor.ofLongs(DType.INT64,
        new long[] {4}, 0, 1, 2, 3)).check();
    OpTester.op("Pow").opset(15).input("x", DType.FLOAT64, 2, 3).input("y", Tensor.ofLongs(DType.INT32,
        new long[] {1}, 3)).check();
    OpTester i = OpTester.op("Pow").opset(15);
    i.input("x", DType.INT64, 3, 4).input("y", i.random().ints(DType.INT64, 0, 5, 4)).check();
    OpTester j = OpTester.op("Pow").opset(15);
    j.input("x", j.random().ints(DType.INT32, 0, 9, 3, 4)).input("y", j.random().uniform(DType.FLOAT32, 0, 3, 3, 1)).check();
    OpTester.op("Pow").opset(7).input("x", Tensor.ofFloats(new long[] {3}, 1, 2, 3))
        .input("y", Tensor.ofFloats(new long[] {3}, 4, 5, 6)).check();
    assertLongs(eval("Pow", longs(DType.INT64, 3, -2, 2), longs(DType.INT64, 40, 3, 64)), DType.INT64,
        -6289078614652622815L, -8, 0);
    assertLongs(eval("Pow", longs(DType.INT32, 2, 1, -1), longs(DType.INT32, -1, -3, -3)), DType.INT32, 0, 1, -1);
    assertEquals("f16[N, 4]", ElementwiseChecks.infer("Pow", "f16[N, 1]", "i64[4]").toString());
  }

  @Test
  void variadicMaxMinSumMean() {
    for (String op : new String[] {"Max", "Min", "Sum", "Mean"}) {
      OpTester.op(op).opset(13).input("a", DType.FLOAT32, 2, 3, 4).input("b", DType.FLOAT32, 3, 1)
          .input("c", DType.FLOAT32, 4).check();
      OpTester.op(op).opset(8).input("a", DType.FLOAT32, 3, 4).check();
      if (!op.equals("Mean")) {
        OpTester.op(op).opset(13).input("a", DType.FLOAT64, 3, 1).input("b", DType.FLOAT64, 1, 2).check();
      }
    }
    Tensor mean = eval("Mean", Tensor.ofDoubles(new long[] {2, 1}, 1, 2), Tensor.ofDoubles(new long[] {2}, 4, 8),
        Tensor.ofDoubles(new long[0], 3));
    assertEquals(java.util.Arrays.toString(new double[] {8.0 / 3, 4, 3, 13.0 / 3}),
        java.util.Arrays.toString(mean.doubles()));
    for (DType t : new DType[] {DType.INT32, DType.INT64}) {
      OpTester.op("Max").opset(13).input("a", t, 2, 3).input("b", t, 3).check();
      OpTester.op("Min").opset(13).input("a", t, 2, 1).input("b", t, 3).input("c", t).check();
    }
    OpTester.op("Max").opset(13).input("a", DType.FLOAT16, 2, 3).input("b", DType.FLOAT16, 3).check();
    assertLongs(eval("Max", longs(DType.INT8, -128, 3), longs(DType.INT8, 5, -4)), DType.INT8, 5, 3);
    assertLongs(eval("Min", longs(DType.UINT8, 255, 3), longs(DType.UINT8, 5, 4)), DType.UINT8, 5, 3);
    assertLongs(eval("Max", longs(DType.UINT64, -1L, 3), longs(DType.UINT64, 5, 4)), DType.UINT64, -1L, 4);
    assertLongs(eval("Min", longs(DType.UINT32, 0xffffffffL, 3), longs(DType.UINT32, 5, 4)), DType.UINT32, 5, 3);
    assertEquals("f32[N, 3, 4]", ElementwiseChecks.infer("Sum", "f32[N, 1, 1]", "f32[3, 1]", "f32[4]").toString());
    assertInferError("same element type", "Max", 13, Map.of(), "f32[2]", "f32[2]", "f64[2]");
    assertInferError("i32", "Mean", 13, Map.of(), "i32[2]");
  }

  @Test
  void bitShiftAndBitwiseLogic() {
    for (String dir : new String[] {"LEFT", "RIGHT"}) {
      OpTester s = OpTester.op("BitShift").opset(11).attr("direction", dir);
      s.input("x", s.random().ints(DType.UINT8, 0, 256, 3, 4)).input("y", s.random().ints(DType.UINT8, 0, 9, 4))
          .check();
    }
    assertLongs(eval("BitShift", 11, Map.of("direction", Attribute.ofString("LEFT")), longs(DType.UINT16, 0xffff, 1, 1),
        longs(DType.UINT16, 4, 15, 16)), DType.UINT16, 0xfff0, 0x8000, 0);
    assertLongs(eval("BitShift", 11, Map.of("direction", Attribute.ofString("RIGHT")), longs(DType.UINT64, -1L),
        longs(DType.UINT64, 60)), DType.UINT64, 15);
    for (String op : new String[] {"BitwiseAnd", "BitwiseOr", "BitwiseXor"}) {
      for (DType t : new DType[] {DType.INT32, DType.UINT8, DType.INT64, DType.INT8}) {
        OpTester b = OpTester.op(op).opset(18);
        b.input("x", b.random().ints(t, t.isSigned() ? -100 : 0, 100, 2, 3)).input("y",
            b.random().ints(t, t.isSigned() ? -100 : 0, 100, 3)).check();
      }
    }
    assertLongs(eval("BitwiseXor", longs(DType.UINT32, 0xffffffffL), longs(DType.UINT32, 1)), DType.UINT32,
        0xfffffffeL);
    assertInferError("f32", "BitwiseAnd", 18, Map.of(), "f32[2]", "f32[2]");
    assertInferError("i32", "BitShift", 11, Map.of("direction", Attribute.ofString("LEFT")), "i32[2]", "i32[2]");
    assertThrows(UnsupportedModelException.class, () -> ElementwiseChecks.infer("BitShift", 11,
        Map.of("direction", Attribute.ofString("UP")), "u8[2]", "u8[2]"));
  }

  @Test
  void symbolicBroadcasting() {
    assertEquals("f32[N, 3, 4]", ElementwiseChecks.infer("Add", "f32[N, 1, 4]", "f32[3, 1]").toString());
    assertEquals("f32[N, seq]", ElementwiseChecks.infer("Mul", "f32[N, seq]", "f32[N, 1]").toString());
    assertEquals("f32[?, 5]", ElementwiseChecks.infer("Sub", "f32[N, 5]", "f32[M, 5]").toString());
    assertEquals("f32?", ElementwiseChecks.infer("Div", "f32?", "f32[3]").toString());
    assertEquals("i64[7, N]", ElementwiseChecks.infer("Add", "i64[1, N]", "i64[7, 1]").toString());
  }

  @Test
  void errorsNameTheNode() {
    assertInferError("same element type", "Add", 14, Map.of(), "f32[2]", "i32[2]");
    assertInferError("cannot be broadcast", "Mul", 14, Map.of(), "f32[2, 3]", "f32[4]");
    assertInferError("bool", "Add", 14, Map.of(), "bool[2]", "bool[2]");
  }

  private static Tensor nonZero(RandomTensors r, DType t, long... shape) {
    Tensor magnitude = r.ints(t, 1, 6, shape);
    long[] v = magnitude.longs().clone();
    for (int i = 0; i < v.length; i++) {
      if (t.isSigned() && r.random().nextBoolean()) {
        v[i] = -v[i];
      }
    }
    return Tensor.ofLongs(t, shape, v);
  }

  private static Tensor nonZeroFloats(RandomTensors r, long... shape) {
    Tensor t = r.uniform(DType.FLOAT32, 0.5, 4, shape);
    float[] v = t.floats().clone();
    for (int i = 0; i < v.length; i++) {
      v[i] = r.random().nextBoolean() ? -v[i] : v[i];
    }
    return Tensor.ofFloats(shape, v);
  }
}
