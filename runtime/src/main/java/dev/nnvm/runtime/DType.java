package dev.nnvm.runtime;

import java.util.Locale;

/**
 * Element types of tensors, with their ONNX type codes and storage sizes.
 *
 * <p>The short names ({@code f32}, {@code i64}, ...) are the spelling used by
 * the text form of the IR, the command line and error messages.
 */
public enum DType {
  FLOAT32(1, 4, "f32"),
  UINT8(2, 1, "u8"),
  INT8(3, 1, "i8"),
  UINT16(4, 2, "u16"),
  INT16(5, 2, "i16"),
  INT32(6, 4, "i32"),
  INT64(7, 8, "i64"),
  STRING(8, 0, "string"),
  BOOL(9, 1, "bool"),
  FLOAT16(10, 2, "f16"),
  FLOAT64(11, 8, "f64"),
  UINT32(12, 4, "u32"),
  UINT64(13, 8, "u64"),
  BFLOAT16(16, 2, "bf16");

  private final int onnxCode;
  private final int byteSize;
  private final String shortName;

  DType(int onnxCode, int byteSize, String shortName) {
    this.onnxCode = onnxCode;
    this.byteSize = byteSize;
    this.shortName = shortName;
  }

  /** The {@code TensorProto.DataType} code of this type. */
  public int onnxCode() {
    return onnxCode;
  }

  /** Bytes per element in a dense buffer; 0 for {@link #STRING}, which has no fixed size. */
  public int byteSize() {
    return byteSize;
  }

  public String shortName() {
    return shortName;
  }

  public boolean isFloatingPoint() {
    return this == FLOAT32 || this == FLOAT64 || this == FLOAT16 || this == BFLOAT16;
  }

  public boolean isInteger() {
    switch (this) {
      case UINT8: case INT8: case UINT16: case INT16: case INT32: case INT64: case UINT32: case UINT64:
        return true;
      default:
        return false;
    }
  }

  public boolean isSigned() {
    return this == INT8 || this == INT16 || this == INT32 || this == INT64 || isFloatingPoint();
  }

  public boolean isNumeric() {
    return isFloatingPoint() || isInteger();
  }

  /** Number of value bits of an integer type (8 for u8 and i8, ...). */
  public int bits() {
    return byteSize * 8;
  }

  /**
   * The element type with this ONNX code.
   *
   * @throws IllegalArgumentException naming the code when the type is not supported
   */
  public static DType fromOnnx(int code) {
    for (DType t : values()) {
      if (t.onnxCode == code) {
        return t;
      }
    }
    throw new IllegalArgumentException("unsupported ONNX element type " + code + " (" + onnxName(code) + ")");
  }

  /** The ONNX name of a type code, also for codes this project does not support. */
  public static String onnxName(int code) {
    switch (code) {
      case 0: return "UNDEFINED";
      case 14: return "COMPLEX64";
      case 15: return "COMPLEX128";
      case 17: return "FLOAT8E4M3FN";
      case 18: return "FLOAT8E4M3FNUZ";
      case 19: return "FLOAT8E5M2";
      case 20: return "FLOAT8E5M2FNUZ";
      case 21: return "UINT4";
      case 22: return "INT4";
      case 23: return "FLOAT4E2M1";
      default:
        for (DType t : values()) {
          if (t.onnxCode == code) {
            return t.name();
          }
        }
        return "code " + code;
    }
  }

  /** Parses a short name ({@code f32}) or an enum name ({@code FLOAT32}), case-insensitive. */
  public static DType parse(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    for (DType t : values()) {
      if (t.shortName.equals(lower) || t.name().toLowerCase(Locale.ROOT).equals(lower)) {
        return t;
      }
    }
    if (lower.equals("float")) {
      return FLOAT32;
    }
    if (lower.equals("double")) {
      return FLOAT64;
    }
    throw new IllegalArgumentException("unknown element type '" + name + "'");
  }

  @Override
  public String toString() {
    return shortName;
  }
}
