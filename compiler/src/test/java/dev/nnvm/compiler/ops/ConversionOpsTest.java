package dev.nnvm.compiler.ops;

import static dev.nnvm.compiler.ops.ElementwiseChecks.assertInferError;
import static dev.nnvm.compiler.ops.ElementwiseChecks.assertLongs;
import static dev.nnvm.compiler.ops.ElementwiseChecks.eval;
import static dev.nnvm.compiler.ops.ElementwiseChecks.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.runtime.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConversionOpsTest {
  private static final DType[] NUMBERS = {
      DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16, DType.INT8, DType.UINT8, DType.INT16,
      DType.INT32, DType.INT64, DType.BOOL};

  @Test
  void castBetweenEveryPairOrtCanCarry() {
    for (DType from : NUMBERS) {
      for (DType to : NUMBERS) {
        OpTester t = OpTester.op("Cast").opset(19).attr("to", (long) to.onnxCode());
        Tensor x = from.isFloatingPoint() ? t.random().uniform(from, -100, 100, 3, 4)
            : from == DType.BOOL ? t.random().of(from, 3, 4) : t.random().ints(from, from.isSigned() ? -100 : 0, 100, 3, 4);
        t.input("x", x).check();
      }
    }
  }

  @Test
  void castWrapsIntegersAndTruncatesFloats() {
    assertLongs(eval("Cast", 13, Map.of("to", Attribute.ofInt(DType.INT8.onnxCode())), longs(DType.INT64, 200, -129,
        1 << 20)), DType.INT8, -56, 127, 0);
    assertLongs(eval("Cast", 13, Map.of("to", Attribute.ofInt(DType.UINT16.onnxCode())), longs(DType.INT32, -1, 65536)),
        DType.UINT16, 0xffff, 0);
    assertLongs(eval("Cast", 13, Map.of("to", Attribute.ofInt(DType.INT64.onnxCode())), longs(DType.UINT64, -1L)),
        DType.INT64, -1L);
    assertLongs(eval("Cast", 13, Map.of("to", Attribute.ofInt(DType.UINT64.onnxCode())),
        Tensor.ofDoubles(new long[] {2}, 1.8446744073709550e19, -2.7)), DType.UINT64, -2048L, -2L);
    Tensor f = eval("Cast", 13, Map.of("to", Attribute.ofInt(DType.FLOAT32.onnxCode())), longs(DType.UINT64, -1L));
    assertEquals(1.8446744073709552e19f, f.floats()[0]);
    assertLongs(eval("Cast", 13, Map.of("to", Attribute.ofInt(DType.INT32.onnxCode())),
        Tensor.ofFloats(new long[] {3}, 2.9f, -2.9f, 0.5f)), DType.INT32, 2, -2, 0);
  }

  @Test
  void castRoundsToHalfAndBfloat16() {
    OpTester t = OpTester.op("Cast").opset(13).attr("to", (long) DType.FLOAT16.onnxCode());
    t.input("x", t.random().uniform(DType.FLOAT64, -70000, 70000, 50)).check();
    OpTester b = OpTester.op("Cast").opset(13).attr("to", (long) DType.BFLOAT16.onnxCode());
    b.input("x", Tensor.ofFloats(new long[] {4}, 1.00390625f, 1.01171875f, 3.4e38f, -1e-40f)).check();
  }

  @Test
  void castToAndFromStrings() {
    Tensor s = Tensor.ofStrings(new long[] {6}, "1.5", "-3", "INF", "-inf", "NaN", "1e-5");
    OpTester.op("Cast").opset(13).attr("to", (long) DType.FLOAT32.onnxCode()).input("x", s).check();
    OpTester.op("Cast").opset(13).attr("to", (long) DType.FLOAT64.onnxCode()).input("x", s).check();
    Tensor i = Tensor.ofStrings(new long[] {3}, "12", "-7", "+4");
    OpTester.op("Cast").opset(13).attr("to", (long) DType.INT64.onnxCode()).input("x", i).check();
    OpTester.op("Cast").opset(13).attr("to", (long) DType.INT8.onnxCode()).input("x", i).check();
    Tensor f = Tensor.ofFloats(new long[] {8}, 0.1f, -2.5f, 1e-5f, 1.2345678e9f, 100f, Float.NaN,
        Float.NEGATIVE_INFINITY, 0f);
    OpTester.op("Cast").opset(13).attr("to", (long) DType.STRING.onnxCode()).input("x", f).check();
    OpTester.op("Cast").opset(13).attr("to", (long) DType.STRING.onnxCode())
        .input("x", Tensor.ofDoubles(new long[] {6}, 0.1, 1e300, -3, 1.0 / 3, 1.2345678901234568e17, 2.5e-7)).check();
    OpTester.op("Cast").opset(13).attr("to", (long) DType.STRING.onnxCode()).input("x", DType.BOOL, 5).check();
    OpTester.op("Cast").opset(13).attr("to", (long) DType.STRING.onnxCode()).input("x", DType.INT32, 2, 3).check();
    assertArrayEquals(new String[] {"18446744073709551615"},
        eval("Cast", 13, Map.of("to", Attribute.ofInt(DType.STRING.onnxCode())), longs(DType.UINT64, -1L)).strings());
  }

  @Test
  void castLikeTakesTheSecondInputsType() {
    OpTester.op("CastLike").opset(15).input("x", DType.FLOAT32, 3, 4).input("like", DType.INT32, 1).check();
    OpTester.op("CastLike").opset(19).input("x", DType.INT64, 3).input("like", DType.FLOAT16, 2, 2).check();
    assertEquals("f64[N, 3]", ElementwiseChecks.infer("CastLike", 15, Map.of(), "f32[N, 3]", "f64[1]").toString());
  }

  @Test
  void castTypesAndUnsupportedTargets() {
    assertEquals("i8[N, seq]", ElementwiseChecks.infer("Cast", 13,
        Map.of("to", Attribute.ofInt(DType.INT8.onnxCode())), "f32[N, seq]").toString());
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class, () -> ElementwiseChecks.infer("Cast",
        19, Map.of("to", Attribute.ofInt(17)), "f32[2]"));
    assertTrue(e.getMessage().contains("'node'") && e.getMessage().contains("FLOAT8E4M3FN"), e.getMessage());
    assertThrows(UnsupportedModelException.class, () -> ElementwiseChecks.infer("Cast", 21,
        Map.of("to", Attribute.ofInt(22)), "f32[2]"));
  }

  @Test
  void clipWithAttributesBeforeOpset11() {
    OpTester.op("Clip").opset(6 + 1).input("x", DType.FLOAT32, 3, 4).attr("min", -0.5f).attr("max", 0.25f).check();
    OpTester.op("Clip").opset(7).input("x", DType.FLOAT32, 3, 4).attr("max", 0.1f).check();
    OpTester.op("Clip").opset(7).input("x", DType.FLOAT32, 3, 4).check();
  }

  @Test
  void clipWithOptionalInputs() {
    OpTester.op("Clip").opset(13).input("x", DType.FLOAT32, 3, 4).input("min", Tensor.scalarFloat(-0.3f))
        .input("max", Tensor.scalarFloat(0.6f)).check();
    OpTester.op("Clip").opset(13).input("x", DType.FLOAT32, 3, 4).skipInput().input("max", Tensor.scalarFloat(0f))
        .check();
    OpTester.op("Clip").opset(11).input("x", DType.FLOAT32, 3, 4).input("min", Tensor.scalarFloat(0f)).check();
    OpTester.op("Clip").opset(13).input("x", DType.FLOAT64, 5).check();
    OpTester.op("Clip").opset(13).input("x", DType.FLOAT32, 3, 4).constant("min", Tensor.scalarFloat(0.5f))
        .constant("max", Tensor.scalarFloat(-0.5f)).check();
    for (DType t : new DType[] {DType.INT32, DType.INT64, DType.INT8, DType.UINT8}) {
      OpTester.op("Clip").opset(13).input("x", t, 4, 4).input("min", Tensor.scalarLong(t, t.isSigned() ? -2 : 2))
          .input("max", Tensor.scalarLong(t, 4)).check();
    }
    assertLongs(eval("Clip", 13, Map.of(), longs(DType.UINT64, -1L, 3), Tensor.scalarLong(DType.UINT64, 5)),
        DType.UINT64, -1L, 5);
  }

  @Test
  void clipTypeErrors() {
    assertInferError("same element type", "Clip", 13, Map.of(), "f32[2]", "f64[]");
    assertInferError("scalar", "Clip", 13, Map.of(), "f32[2]", "f32[2, 2]");
    assertInferError("bool", "Clip", 13, Map.of(), "bool[2]");
  }

  @Test
  void whereBroadcastsThreeWays() {
    OpTester.op("Where").opset(16).input("c", DType.BOOL, 2, 1, 4).input("x", DType.FLOAT32, 3, 1)
        .input("y", DType.FLOAT32, 4).check();
    OpTester.op("Where").opset(16).input("c", DType.BOOL, 5).input("x", DType.INT64, 2, 5)
        .input("y", DType.INT64).check();
    OpTester.op("Where").opset(16).input("c", DType.BOOL).input("x", DType.UINT8, 3)
        .input("y", DType.UINT8, 2, 1).check();
    OpTester.op("Where").opset(16).input("c", DType.BOOL, 2, 2).input("x", Tensor.ofStrings(new long[] {2}, "a", "b"))
        .input("y", Tensor.ofStrings(new long[] {1}, "z")).check();
    assertTrue(OrtOracle.supports(DType.BOOL));
    assertEquals("f32[N, 3, 4]", ElementwiseChecks.infer("Where", "bool[N, 1, 1]", "f32[3, 1]", "f32[4]").toString());
    assertInferError("bool", "Where", 16, Map.of(), "f32[2]", "f32[2]", "f32[2]");
    assertInferError("same element type", "Where", 16, Map.of(), "bool[2]", "f32[2]", "f64[2]");
  }
}
