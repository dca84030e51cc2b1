package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.HalfFloats;
import dev.nnvm.runtime.NativeTensor;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float2Vector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;

/** Reading and writing numbers in leaf vectors and tensors, for the tests' fake executors and checks. */
final class TestData {
  private TestData() {}

  /** The element types the tests cover: every one with an Arrow column type that Spark and Flink produce. */
  static final DType[] TYPES = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.INT8, DType.INT16, DType.INT32,
      DType.INT64, DType.UINT8, DType.BOOL};

  /** A value of {@code t} that differs per index and is exact in every type. */
  static double value(DType t, long i) {
    if (t == DType.BOOL) {
      return i % 3 == 1 ? 1 : 0;
    }
    if (t == DType.UINT8) {
      return (i * 7 + 3) % 256;
    }
    if (!t.isSigned() || t == DType.INT8) {
      return (i * 5 + 1) % 120 - 60;
    }
    return t.isFloatingPoint() ? (i % 97) * 0.25 - 7.5 : (i * 37 + 11) % 2000 - 1000;
  }

  /** The innermost vector of a column (through lists and extension types). */
  static FieldVector leaf(FieldVector v) {
    while (true) {
      if (v instanceof ExtensionTypeVector) {
        v = (FieldVector) ((ExtensionTypeVector<?>) v).getUnderlyingVector();
      } else if (v instanceof FixedSizeListVector) {
        v = ((FixedSizeListVector) v).getDataVector();
      } else if (v instanceof ListVector) {
        v = ((ListVector) v).getDataVector();
      } else {
        return v;
      }
    }
  }

  static void set(FieldVector leaf, int i, double x) {
    if (leaf instanceof Float4Vector) {
      ((Float4Vector) leaf).setSafe(i, (float) x);
    } else if (leaf instanceof Float8Vector) {
      ((Float8Vector) leaf).setSafe(i, x);
    } else if (leaf instanceof Float2Vector) {
      ((Float2Vector) leaf).setSafe(i, HalfFloats.floatToHalf((float) x));
    } else if (leaf instanceof TinyIntVector) {
      ((TinyIntVector) leaf).setSafe(i, (int) x);
    } else if (leaf instanceof SmallIntVector) {
      ((SmallIntVector) leaf).setSafe(i, (int) x);
    } else if (leaf instanceof IntVector) {
      ((IntVector) leaf).setSafe(i, (int) x);
    } else if (leaf instanceof BigIntVector) {
      ((BigIntVector) leaf).setSafe(i, (long) x);
    } else if (leaf instanceof UInt1Vector) {
      ((UInt1Vector) leaf).setSafe(i, (int) x);
    } else if (leaf instanceof BitVector) {
      ((BitVector) leaf).setSafe(i, (int) x);
    } else {
      throw new IllegalArgumentException(leaf.getClass().getName());
    }
  }

  static double get(FieldVector leaf, int i) {
    if (leaf instanceof Float2Vector) {
      return HalfFloats.halfToFloat(((Float2Vector) leaf).get(i));
    }
    if (leaf instanceof UInt1Vector) {
      return ((UInt1Vector) leaf).get(i) & 0xFF;
    }
    if (leaf instanceof BitVector) {
      return ((BitVector) leaf).get(i);
    }
    return ((Number) leaf.getObject(i)).doubleValue();
  }

  /** Element {@code i} (flat, row-major) of a tensor. */
  static double get(NativeTensor t, long i) {
    long at = t.address() + i * t.dtype().byteSize();
    switch (t.dtype()) {
      case FLOAT32: return Float.intBitsToFloat(MemoryUtil.getInt(at));
      case FLOAT64: return Double.longBitsToDouble(MemoryUtil.getLong(at));
      case FLOAT16: return HalfFloats.halfToFloat(MemoryUtil.getShort(at));
      case INT8: return MemoryUtil.getByte(at);
      case UINT8: case BOOL: return MemoryUtil.getByte(at) & 0xFF;
      case INT16: return MemoryUtil.getShort(at);
      case INT32: return MemoryUtil.getInt(at);
      case INT64: return MemoryUtil.getLong(at);
      default: throw new IllegalArgumentException(t.dtype().toString());
    }
  }

  /** Writes element {@code i} of a tensor, as an executor would. */
  static void set(NativeTensor t, long i, double x) {
    long at = t.address() + i * t.dtype().byteSize();
    switch (t.dtype()) {
      case FLOAT32: MemoryUtil.putInt(at, Float.floatToRawIntBits((float) x)); return;
      case FLOAT64: MemoryUtil.putLong(at, Double.doubleToRawLongBits(x)); return;
      case FLOAT16: MemoryUtil.putShort(at, HalfFloats.floatToHalf((float) x)); return;
      case INT8: case UINT8: case BOOL: MemoryUtil.putByte(at, (byte) (long) x); return;
      case INT16: MemoryUtil.putShort(at, (short) (long) x); return;
      case INT32: MemoryUtil.putInt(at, (int) (long) x); return;
      case INT64: MemoryUtil.putLong(at, (long) x); return;
      default: throw new IllegalArgumentException(t.dtype().toString());
    }
  }
}
