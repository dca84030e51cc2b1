package dev.nnvm.compiler.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.HalfFloats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OnnxTensorsTest {
  private static final long[] SHAPE = {2, 3};

  /** Six values per type that reach the type's edges (wrap-around, sign, rounding). */
  static Tensor sample(DType t) {
    switch (t) {
      case FLOAT32: return Tensor.ofFloats(SHAPE, 0f, -1.5f, Float.MAX_VALUE, Float.MIN_VALUE, Float.NaN,
          Float.NEGATIVE_INFINITY);
      case FLOAT16: return Tensor.of(t, SHAPE, new float[] {0f, -2f, 65504f, 5.9604645e-8f, 0.333251953125f,
          Float.POSITIVE_INFINITY});
      case BFLOAT16: return Tensor.of(t, SHAPE, new float[] {0f, -2f, 1.0078125f, 3.3895314e38f,
          HalfFloats.roundToBfloat16(1e-38f), Float.NaN});
      case FLOAT64: return Tensor.ofDoubles(SHAPE, 0, -1e300, Double.MIN_VALUE, Math.PI, Double.NaN,
          Double.POSITIVE_INFINITY);
      case BOOL: return Tensor.ofBools(SHAPE, true, false, false, true, true, false);
      case STRING: return Tensor.ofStrings(SHAPE, "", "a", "grüß", "日本", "x y", "\u0000");
      case INT8: return Tensor.ofLongs(t, SHAPE, -128, 127, 0, -1, 1, 42);
      case UINT8: return Tensor.ofLongs(t, SHAPE, 0, 255, 128, 1, 7, 200);
      case INT16: return Tensor.ofLongs(t, SHAPE, -32768, 32767, 0, -1, 1, 1000);
      case UINT16: return Tensor.ofLongs(t, SHAPE, 0, 65535, 32768, 1, 7, 40000);
      case INT32: return Tensor.ofLongs(t, SHAPE, Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1, 1, 123456);
      case UINT32: return Tensor.ofLongs(t, SHAPE, 0, 4294967295L, 2147483648L, 1, 7, 3000000000L);
      case INT64: return Tensor.ofLongs(t, SHAPE, Long.MIN_VALUE, Long.MAX_VALUE, 0, -1, 1, 1L << 40);
      case UINT64: return Tensor.ofLongs(t, SHAPE, 0, -1L, Long.MIN_VALUE, 1, 7, Long.MAX_VALUE);
      default: throw new IllegalArgumentException(t.toString());
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void protoRoundTripKeepsEveryElementType(DType t) throws IOException {
    Tensor original = sample(t);
    Onnx.Tensor p = OnnxTensors.toProto(original, "w");
    assertEquals("w", p.getName());
    assertEquals(t.onnxCode(), p.getDataType());
    if (t != DType.STRING) {
      assertEquals(original.size() * t.byteSize(), p.getRawData().size(), "raw_data size");
    }
    Tensor back = OnnxTensors.fromProto(Onnx.Tensor.parseFrom(p.toByteArray()), null, "w");
    assertEquals(original, back);
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void scalarsAndEmptyTensorsRoundTrip(DType t) throws IOException {
    Tensor scalar = Tensor.of(t, new long[0], copyFirst(sample(t)));
    Tensor empty = Tensor.of(t, new long[] {0, 3}, Tensor.newStorage(t, 0));
    assertEquals(scalar, OnnxTensors.fromProto(OnnxTensors.toProto(scalar, ""), null, "scalar"));
    assertEquals(empty, OnnxTensors.fromProto(OnnxTensors.toProto(empty, ""), null, "empty"));
  }

  private static Object copyFirst(Tensor t) {
    Object one = Tensor.newStorage(t.dtype(), 1);
    System.arraycopy(t.data(), 0, one, 0, 1);
    return one;
  }

  @Test
  void fileRoundTripKeepsTheName(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    Path f = dir.resolve("input_0.pb");
    OnnxTensors.write(sample(DType.INT64), "ids", f);
    assertEquals("ids", OnnxTensors.readName(f));
    assertEquals(sample(DType.INT64), OnnxTensors.read(f));
  }

  @Test
  void corruptTensorFileIsAModelException(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    Path f = dir.resolve("bad.pb");
    Files.write(f, new byte[] {(byte) 0xff, (byte) 0xff, 0x01});
    ModelException e = assertThrows(ModelException.class, () -> OnnxTensors.read(f));
    assertTrue(e.getMessage().contains("not a valid ONNX TensorProto"), e.getMessage());
  }

  private static Onnx.Tensor.Builder typed(DType t, long... dims) {
    Onnx.Tensor.Builder b = Onnx.Tensor.newBuilder().setDataType(t.onnxCode());
    for (long d : dims) {
      b.addDims(d);
    }
    return b;
  }

  @Test
  void decodesFloatDoubleAndInt64Fields() {
    assertEquals(Tensor.ofFloats(new long[] {2}, 1.5f, -2f),
        OnnxTensors.fromProto(typed(DType.FLOAT32, 2).addFloatData(1.5f).addFloatData(-2f).build(), null, "t"));
    assertEquals(Tensor.ofDoubles(new long[] {2}, 1e-300, -2),
        OnnxTensors.fromProto(typed(DType.FLOAT64, 2).addDoubleData(1e-300).addDoubleData(-2).build(), null, "t"));
    assertEquals(Tensor.ofLongs(DType.INT64, new long[] {2}, Long.MIN_VALUE, 5),
        OnnxTensors.fromProto(typed(DType.INT64, 2).addInt64Data(Long.MIN_VALUE).addInt64Data(5).build(), null, "t"));
  }

  @Test
  void decodesHalfFloatBitsFromInt32Data() {
    // 0x3C00 = 1.0, 0xC000 = -2.0, 0x7BFF = 65504 (largest half), 0x0001 = smallest subnormal.
    Onnx.Tensor f16 = typed(DType.FLOAT16, 4).addInt32Data(0x3C00).addInt32Data(0xC000).addInt32Data(0x7BFF)
        .addInt32Data(0x0001).build();
    assertEquals(Tensor.of(DType.FLOAT16, new long[] {4}, new float[] {1f, -2f, 65504f, 5.9604645e-8f}),
        OnnxTensors.fromProto(f16, null, "t"));
    // bfloat16 keeps the top 16 bits of a float: 0x3F80 = 1.0, 0xC040 = -3.0.
    Onnx.Tensor bf16 = typed(DType.BFLOAT16, 2).addInt32Data(0x3F80).addInt32Data(0xC040).build();
    assertEquals(Tensor.of(DType.BFLOAT16, new long[] {2}, new float[] {1f, -3f}),
        OnnxTensors.fromProto(bf16, null, "t"));
  }

  @Test
  void decodesSmallIntegersAndBoolsFromInt32Data() {
    assertEquals(Tensor.ofLongs(DType.INT8, new long[] {2}, -128, 127),
        OnnxTensors.fromProto(typed(DType.INT8, 2).addInt32Data(-128).addInt32Data(127).build(), null, "t"));
    assertEquals(Tensor.ofLongs(DType.UINT8, new long[] {2}, 255, 0),
        OnnxTensors.fromProto(typed(DType.UINT8, 2).addInt32Data(255).addInt32Data(0).build(), null, "t"));
    assertEquals(Tensor.ofLongs(DType.INT16, new long[] {1}, -32768),
        OnnxTensors.fromProto(typed(DType.INT16, 1).addInt32Data(-32768).build(), null, "t"));
    assertEquals(Tensor.ofLongs(DType.UINT16, new long[] {1}, 65535),
        OnnxTensors.fromProto(typed(DType.UINT16, 1).addInt32Data(65535).build(), null, "t"));
    assertEquals(Tensor.ofLongs(DType.INT32, new long[] {1}, Integer.MIN_VALUE),
        OnnxTensors.fromProto(typed(DType.INT32, 1).addInt32Data(Integer.MIN_VALUE).build(), null, "t"));
    assertEquals(Tensor.ofBools(new long[] {3}, true, false, true),
        OnnxTensors.fromProto(typed(DType.BOOL, 3).addInt32Data(1).addInt32Data(0).addInt32Data(1).build(), null,
            "t"));
  }

  @Test
  void decodesUnsignedFromUint64Data() {
    assertEquals(Tensor.ofLongs(DType.UINT32, new long[] {1}, 4294967295L),
        OnnxTensors.fromProto(typed(DType.UINT32, 1).addUint64Data(4294967295L).build(), null, "t"));
    assertEquals(Tensor.ofLongs(DType.UINT64, new long[] {1}, -1L),
        OnnxTensors.fromProto(typed(DType.UINT64, 1).addUint64Data(-1L).build(), null, "t"));
  }

  @Test
  void decodesStringData() {
    Onnx.Tensor s = typed(DType.STRING, 2).addStringData(ByteString.copyFromUtf8("grüß"))
        .addStringData(ByteString.copyFromUtf8("")).build();
    assertEquals(Tensor.ofStrings(new long[] {2}, "grüß", ""), OnnxTensors.fromProto(s, null, "t"));
  }

  @Test
  void wrongValueCountNamesTheFieldAndTheTensor() {
    ModelException e = assertThrows(ModelException.class,
        () -> OnnxTensors.fromProto(typed(DType.FLOAT32, 3).addFloatData(1f).build(), null, "initializer 'w'"));
    assertEquals("initializer 'w': float_data has 1 values, the shape needs 3", e.getMessage());
    e = assertThrows(ModelException.class, () -> OnnxTensors.fromProto(
        typed(DType.INT32, 2).setRawData(ByteString.copyFrom(new byte[5])).build(), null, "initializer 'w'"));
    assertTrue(e.getMessage().startsWith("initializer 'w': raw_data has 5 bytes"), e.getMessage());
  }

  @Test
  void negativeDimensionIsRefused() {
    ModelException e = assertThrows(ModelException.class,
        () -> OnnxTensors.fromProto(typed(DType.FLOAT32, -1).build(), null, "t"));
    assertTrue(e.getMessage().contains("negative dimension -1"), e.getMessage());
  }

  @Test
  void unsupportedElementTypeIsNamed() {
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> OnnxTensors.fromProto(Onnx.Tensor.newBuilder().setDataType(14).addDims(1).build(), null, "t"));
    assertTrue(e.getMessage().contains("COMPLEX64"), e.getMessage());
  }

  @Test
  void rawBytesAreLittleEndian() {
    Onnx.Tensor p = OnnxTensors.toProto(Tensor.ofLongs(DType.INT32, new long[] {1}, 0x01020304), "");
    assertArrayEquals(new byte[] {4, 3, 2, 1}, p.getRawData().toByteArray());
  }
}
