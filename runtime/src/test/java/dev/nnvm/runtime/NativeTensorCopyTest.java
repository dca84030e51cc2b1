package dev.nnvm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.runtime.nativeio.NativeMemory;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NativeTensorCopyTest {
  private NativeAllocator allocator;

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("tensors");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  @Test
  void everyNumericTypeRoundTripsThroughItsArrayType() throws Exception {
    Random random = new Random(42);
    for (DType dtype : DType.values()) {
      if (dtype == DType.STRING) {
        continue;
      }
      try (NativeTensor t = NativeTensor.allocate(allocator, dtype, 3, 5)) {
        assertEquals(0, t.address() % NativeAllocator.DEFAULT_ALIGNMENT);
        assertEquals(15L * dtype.byteSize(), allocator.allocatedBytes());
        Class<?> arrayClass = NativeTensor.arrayClass(dtype);
        Object in = Array.newInstance(arrayClass.getComponentType(), 15);
        byte[] bits = new byte[15 * dtype.byteSize()];
        random.nextBytes(bits);
        ByteBuffer source = ByteBuffer.wrap(bits).order(ByteOrder.nativeOrder());
        for (int i = 0; i < 15; i++) {
          switch (dtype.byteSize()) {
            case 1: Array.setByte(in, i, source.get()); break;
            case 2: Array.setShort(in, i, source.getShort()); break;
            case 4:
              if (dtype == DType.FLOAT32) {
                Array.setFloat(in, i, Float.intBitsToFloat(source.getInt()));
              } else {
                Array.setInt(in, i, source.getInt());
              }
              break;
            default:
              if (dtype == DType.FLOAT64) {
                Array.setDouble(in, i, Double.longBitsToDouble(source.getLong()));
              } else {
                Array.setLong(in, i, source.getLong());
              }
          }
        }
        NativeTensor.class.getMethod("copyFrom", arrayClass).invoke(t, in);
        Object out = Array.newInstance(arrayClass.getComponentType(), 15);
        NativeTensor.class.getMethod("copyTo", arrayClass).invoke(t, out);
        assertEquals(bitsText(in), bitsText(out), dtype + " round trip");
        try (NativeTensor raw = NativeTensor.wrap(t.address(), t.byteSize(), DType.UINT8, bits.length)) {
          byte[] memory = new byte[bits.length];
          raw.copyTo(memory);
          assertArrayEquals(nativeBytes(in), memory, dtype + " lies in memory in native byte order");
        }
      }
    }
    assertEquals(0, allocator.allocatedBytes());
  }

  /** The bytes of a primitive array's elements in native byte order. */
  private static byte[] nativeBytes(Object array) {
    int n = Array.getLength(array);
    ByteBuffer b = ByteBuffer.allocate(n * NativeMemory.elementSize(array.getClass())).order(ByteOrder.nativeOrder());
    for (int i = 0; i < n; i++) {
      Object v = Array.get(array, i);
      if (v instanceof Byte) {
        b.put((Byte) v);
      } else if (v instanceof Short) {
        b.putShort((Short) v);
      } else if (v instanceof Integer) {
        b.putInt((Integer) v);
      } else if (v instanceof Long) {
        b.putLong((Long) v);
      } else if (v instanceof Float) {
        b.putInt(Float.floatToRawIntBits((Float) v));
      } else {
        b.putLong(Double.doubleToRawLongBits((Double) v));
      }
    }
    return b.array();
  }

  /** A canonical text of an array's bits (float NaN payloads included). */
  private static String bitsText(Object array) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Array.getLength(array); i++) {
      Object v = Array.get(array, i);
      if (v instanceof Float) {
        v = Float.floatToRawIntBits((Float) v);
      } else if (v instanceof Double) {
        v = Double.doubleToRawLongBits((Double) v);
      }
      sb.append(v).append(',');
    }
    return sb.toString();
  }

  @Test
  void halfFloatsTravelAsBits() {
    float[] values = {0f, -0f, 1f, -2.5f, 65504f, 6.1035156e-5f, Float.POSITIVE_INFINITY, 1f / 3};
    short[] half = new short[values.length];
    short[] brain = new short[values.length];
    for (int i = 0; i < values.length; i++) {
      half[i] = HalfFloats.floatToHalf(values[i]);
      brain[i] = HalfFloats.floatToBfloat16(values[i]);
    }
    try (NativeTensor h = NativeTensor.allocate(allocator, DType.FLOAT16, values.length);
        NativeTensor b = NativeTensor.allocate(allocator, DType.BFLOAT16, 2, values.length / 2)) {
      h.copyFrom(half);
      b.copyFrom(brain);
      short[] backHalf = new short[values.length];
      short[] backBrain = new short[values.length];
      h.copyTo(backHalf);
      b.copyTo(backBrain);
      assertArrayEquals(half, backHalf);
      assertArrayEquals(brain, backBrain);
      assertEquals(1f / 3, HalfFloats.bfloat16ToFloat(backBrain[7]), 1e-2f);
      assertEquals(65504f, HalfFloats.halfToFloat(backHalf[4]));
    }
  }

  @Test
  void offsetsSelectWhereInTheArrayTheElementsAre() {
    try (NativeTensor t = NativeTensor.allocate(allocator, DType.INT64, 2, 2)) {
      t.copyFrom(new long[] {9, 9, 1, 2, 3, 4, 9}, 2);
      long[] out = {7, 7, 7, 7, 7, 7};
      t.copyTo(out, 1);
      assertArrayEquals(new long[] {7, 1, 2, 3, 4, 7}, out);
    }
  }

  @Test
  void wrongTypesSizesAndClosedTensorsAreRefused() {
    NativeTensor t = NativeTensor.allocate(allocator, DType.INT32, 2, 3);
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[6]));
    assertEquals("cannot copy from a float[] with tensor i32[2, 3]: i32 elements travel in a int[]",
        type.getMessage());
    IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new int[7]));
    assertEquals("cannot copy from a int[] of length 7 with tensor i32[2, 3]: it has 6 elements", size.getMessage());
    IllegalArgumentException offset = assertThrows(IllegalArgumentException.class, () -> t.copyTo(new int[8], 3));
    assertEquals("cannot copy into a int[] of length 8 from offset 3 with tensor i32[2, 3]: it has 6 elements",
        offset.getMessage());
    assertThrows(IllegalArgumentException.class, () -> t.copyTo(new int[8], -1));
    assertThrows(NullPointerException.class, () -> t.copyTo((int[]) null));
    t.close();
    t.close();
    IllegalStateException closed = assertThrows(IllegalStateException.class, () -> t.copyTo(new int[6]));
    assertEquals("cannot copy into a int[] with tensor i32[2, 3]: the tensor is closed", closed.getMessage());
    assertEquals(0, allocator.allocatedBytes());
    assertThrows(IllegalArgumentException.class, () -> NativeTensor.allocate(allocator, DType.STRING, 2));
    assertThrows(IllegalArgumentException.class, () -> NativeTensor.allocate(allocator, DType.FLOAT32, 2, -1));
    assertEquals(0, allocator.openBuffers());
  }

  @Test
  void emptyTensorsCopyNothing() {
    try (NativeTensor t = NativeTensor.allocate(allocator, DType.FLOAT64, 0, 4)) {
      t.copyFrom(new double[0]);
      t.copyTo(new double[0]);
      assertEquals(0, t.dataSize());
    }
  }

  @Test
  void allocatedTensorsShowUpInLeakReports() {
    NativeAllocator child = allocator.newChild("model");
    NativeTensor t = NativeTensor.allocate(child, DType.FLOAT32, 4, 4);
    IllegalStateException leak = assertThrows(IllegalStateException.class, child::close);
    assertTrue(leak.getMessage().contains("of 64 bytes from 'tensors/model' (f32[4, 4] tensor)"), leak.getMessage());
    t.close();
    assertEquals(0, allocator.openChildren());
  }
}
