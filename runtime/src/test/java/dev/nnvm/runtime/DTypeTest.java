package dev.nnvm.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DTypeTest {
  /** The TensorProto.DataType codes of the ONNX format, written out independently of the enum. */
  private static final Map<Integer, DType> ONNX_CODES = Map.ofEntries(
      Map.entry(1, DType.FLOAT32), Map.entry(2, DType.UINT8), Map.entry(3, DType.INT8),
      Map.entry(4, DType.UINT16), Map.entry(5, DType.INT16), Map.entry(6, DType.INT32),
      Map.entry(7, DType.INT64), Map.entry(8, DType.STRING), Map.entry(9, DType.BOOL),
      Map.entry(10, DType.FLOAT16), Map.entry(11, DType.FLOAT64), Map.entry(12, DType.UINT32),
      Map.entry(13, DType.UINT64), Map.entry(16, DType.BFLOAT16));

  @Test
  void onnxCodesMapBothWays() {
    assertEquals(ONNX_CODES.size(), DType.values().length, "every type has an ONNX code");
    ONNX_CODES.forEach((code, type) -> {
      assertEquals(type, DType.fromOnnx(code));
      assertEquals(code, type.onnxCode());
      assertEquals(type.name(), DType.onnxName(code));
    });
  }

  @Test
  void unsupportedOnnxCodesAreNamedInTheError() {
    Map<Integer, String> unsupported = Map.of(0, "UNDEFINED", 14, "COMPLEX64", 15, "COMPLEX128",
        17, "FLOAT8E4M3FN", 19, "FLOAT8E5M2", 21, "UINT4", 22, "INT4", 23, "FLOAT4E2M1", 99, "code 99");
    unsupported.forEach((code, name) -> {
      assertEquals(name, DType.onnxName(code));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.fromOnnx(code));
      assertTrue(e.getMessage().contains(name) && e.getMessage().contains(Integer.toString(code)), e.getMessage());
    });
  }

  @Test
  void parsesShortNamesEnumNamesAndAliasesCaseInsensitively() {
    Set<String> shortNames = new HashSet<>();
    for (DType t : DType.values()) {
      assertTrue(shortNames.add(t.shortName()), "short names are distinct");
      assertEquals(t, DType.parse(t.shortName()));
      assertEquals(t, DType.parse(t.shortName().toUpperCase()));
      assertEquals(t, DType.parse(t.name()));
      assertEquals(t, DType.parse(t.name().toLowerCase()));
      assertEquals(t.shortName(), t.toString());
    }
    assertEquals(DType.FLOAT32, DType.parse("Float"));
    assertEquals(DType.FLOAT64, DType.parse("DOUBLE"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.parse("f8"));
    assertTrue(e.getMessage().contains("'f8'"), e.getMessage());
  }

  @Test
  void sizesMatchTheFormats() {
    Map<DType, Integer> bytes = Map.ofEntries(
        Map.entry(DType.FLOAT32, 4), Map.entry(DType.UINT8, 1), Map.entry(DType.INT8, 1),
        Map.entry(DType.UINT16, 2), Map.entry(DType.INT16, 2), Map.entry(DType.INT32, 4),
        Map.entry(DType.INT64, 8), Map.entry(DType.STRING, 0), Map.entry(DType.BOOL, 1),
        Map.entry(DType.FLOAT16, 2), Map.entry(DType.FLOAT64, 8), Map.entry(DType.UINT32, 4),
        Map.entry(DType.UINT64, 8), Map.entry(DType.BFLOAT16, 2));
    bytes.forEach((t, n) -> {
      assertEquals(n, t.byteSize(), t::name);
      assertEquals(8 * n, t.bits(), t::name);
    });
  }

  @Test
  void classificationPartitionsTheTypes() {
    Set<DType> floats = EnumSet.of(DType.FLOAT16, DType.BFLOAT16, DType.FLOAT32, DType.FLOAT64);
    Set<DType> signedInts = EnumSet.of(DType.INT8, DType.INT16, DType.INT32, DType.INT64);
    Set<DType> unsignedInts = EnumSet.of(DType.UINT8, DType.UINT16, DType.UINT32, DType.UINT64);
    for (DType t : DType.values()) {
      assertEquals(floats.contains(t), t.isFloatingPoint(), t::name);
      assertEquals(signedInts.contains(t) || unsignedInts.contains(t), t.isInteger(), t::name);
      assertEquals(t.isFloatingPoint() || t.isInteger(), t.isNumeric(), t::name);
      assertEquals(floats.contains(t) || signedInts.contains(t), t.isSigned(), t::name);
    }
    assertFalse(DType.BOOL.isNumeric());
    assertFalse(DType.STRING.isNumeric());
  }
}
