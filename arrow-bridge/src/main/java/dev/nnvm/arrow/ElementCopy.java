package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.HalfFloats;
import org.apache.arrow.memory.util.MemoryUtil;

/**
 * The copy kernels of the bridge, on raw addresses: raw copies when the
 * element types agree, and the lossless widenings it accepts otherwise
 * (a narrower integer into a wider one, f16 into f32, an integer into a
 * float type that holds it exactly). Arrow's bit-packed booleans are read
 * and written bit by bit; a tensor's booleans are one byte each (0 or 1).
 */
final class ElementCopy {
  private ElementCopy() {}

  /** True when every value of {@code from} is exactly a value of {@code to}. */
  static boolean widens(DType from, DType to) {
    if (from == to) {
      return true;
    }
    if (from == DType.BOOL || to == DType.BOOL || !from.isNumeric() || !to.isNumeric()) {
      return false;
    }
    if (from.isInteger() && to.isInteger()) {
      if (from.isSigned() && !to.isSigned()) {
        return false;
      }
      return to.bits() > from.bits() || (to.bits() == from.bits() && from.isSigned() == to.isSigned());
    }
    if (from.isInteger()) {
      int mantissa = to == DType.FLOAT64 ? 53 : to == DType.FLOAT32 ? 24 : to == DType.FLOAT16 ? 11 : 8;
      return from.bits() - (from.isSigned() ? 1 : 0) <= mantissa;
    }
    if (to.isInteger()) {
      return false;
    }
    return from != DType.BFLOAT16 && to != DType.BFLOAT16 && to.byteSize() > from.byteSize();
  }

  /**
   * Copies {@code count} elements starting at element {@code srcIndex} of a
   * buffer at {@code src} holding {@code from} values (bit-packed when
   * {@code srcBits}) to {@code dst}, one element every {@code dstStride}
   * bytes, converting to {@code to} (which {@code from} must widen to).
   */
  static void copy(long src, DType from, boolean srcBits, long srcIndex, long count,
      long dst, long dstStride, DType to) {
    int size = from.byteSize();
    if (from == to && !srcBits) {
      long s = src + srcIndex * size;
      if (dstStride == size) {
        MemoryUtil.copyMemory(s, dst, count * size);
        return;
      }
      switch (size) {
        case 1:
          for (long i = 0; i < count; i++) {
            MemoryUtil.putByte(dst + i * dstStride, MemoryUtil.getByte(s + i));
          }
          return;
        case 2:
          for (long i = 0; i < count; i++) {
            MemoryUtil.putShort(dst + i * dstStride, MemoryUtil.getShort(s + 2 * i));
          }
          return;
        case 4:
          for (long i = 0; i < count; i++) {
            MemoryUtil.putInt(dst + i * dstStride, MemoryUtil.getInt(s + 4 * i));
          }
          return;
        default:
          for (long i = 0; i < count; i++) {
            MemoryUtil.putLong(dst + i * dstStride, MemoryUtil.getLong(s + 8 * i));
          }
          return;
      }
    }
    for (long i = 0; i < count; i++) {
      long index = srcIndex + i;
      long at = dst + i * dstStride;
      if (srcBits) {
        long bit = (MemoryUtil.getByte(src + (index >>> 3)) >>> (index & 7)) & 1;
        writeLong(at, to, bit);
      } else if (from.isFloatingPoint()) {
        writeDouble(at, to, readDouble(src + index * size, from));
      } else {
        writeLong(at, to, readLong(src + index * size, from));
      }
    }
  }

  /** Writes {@code count} copies of {@code value} as {@code to} at {@code dst}, contiguously. */
  static void fill(long dst, long count, DType to, double value) {
    for (long i = 0; i < count; i++) {
      if (to.isFloatingPoint()) {
        writeDouble(dst + i * to.byteSize(), to, value);
      } else {
        writeLong(dst + i * to.byteSize(), to, (long) value);
      }
    }
  }

  /** Packs {@code count} one-byte booleans at {@code src} into bits of {@code bits} from bit {@code bitIndex}. */
  static void packBits(long src, long count, long bits, long bitIndex) {
    for (long i = 0; i < count; i++) {
      long b = bitIndex + i;
      long at = bits + (b >>> 3);
      int mask = 1 << (b & 7);
      byte old = MemoryUtil.getByte(at);
      MemoryUtil.putByte(at, (byte) (MemoryUtil.getByte(src + i) != 0 ? old | mask : old & ~mask));
    }
  }

  private static long readLong(long at, DType t) {
    switch (t) {
      case INT8: return MemoryUtil.getByte(at);
      case UINT8: case BOOL: return MemoryUtil.getByte(at) & 0xFFL;
      case INT16: return MemoryUtil.getShort(at);
      case UINT16: return MemoryUtil.getShort(at) & 0xFFFFL;
      case INT32: return MemoryUtil.getInt(at);
      case UINT32: return MemoryUtil.getInt(at) & 0xFFFFFFFFL;
      default: return MemoryUtil.getLong(at);
    }
  }

  private static double readDouble(long at, DType t) {
    switch (t) {
      case FLOAT16: return HalfFloats.halfToFloat(MemoryUtil.getShort(at));
      case BFLOAT16: return HalfFloats.bfloat16ToFloat(MemoryUtil.getShort(at));
      case FLOAT32: return Float.intBitsToFloat(MemoryUtil.getInt(at));
      default: return Double.longBitsToDouble(MemoryUtil.getLong(at));
    }
  }

  private static void writeLong(long at, DType t, long v) {
    if (t.isFloatingPoint()) {
      writeDouble(at, t, v);
      return;
    }
    switch (t.byteSize()) {
      case 1: MemoryUtil.putByte(at, (byte) v); return;
      case 2: MemoryUtil.putShort(at, (short) v); return;
      case 4: MemoryUtil.putInt(at, (int) v); return;
      default: MemoryUtil.putLong(at, v);
    }
  }

  private static void writeDouble(long at, DType t, double v) {
    switch (t) {
      case FLOAT16: MemoryUtil.putShort(at, HalfFloats.floatToHalf((float) v)); return;
      case BFLOAT16: MemoryUtil.putShort(at, HalfFloats.floatToBfloat16((float) v)); return;
      case FLOAT32: MemoryUtil.putInt(at, Float.floatToRawIntBits((float) v)); return;
      case FLOAT64: MemoryUtil.putLong(at, Double.doubleToRawLongBits(v)); return;
      default: writeLong(at, t, (long) v);
    }
  }
}
