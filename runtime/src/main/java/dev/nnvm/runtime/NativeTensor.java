package dev.nnvm.runtime;

import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.runtime.nativeio.NativeBuffer;
import dev.nnvm.runtime.nativeio.NativeMemory;
import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.Objects;

/**
 * A dense, row-major tensor in native (off-heap) memory: an address, a byte
 * size, an element type and a concrete shape. This is what executors read
 * inputs from and write outputs to, without copies: the memory may belong to
 * an Arrow vector, to a pool of the runtime, or to the caller.
 *
 * <p>Factories say who owns the memory: {@code wrap(...)} without an owner
 * borrows it (the caller keeps it alive for as long as the tensor is used),
 * with an owner the tensor closes that owner when it is closed, and
 * {@code allocate(...)} owns fresh memory from a {@link NativeAllocator}.
 * Closing is idempotent; a closed tensor refuses to hand out its address.
 *
 * <p>{@code copyFrom}/{@code copyTo} move the elements between the tensor and
 * a Java array of the matching primitive type (see {@link #arrayClass}): the
 * 16-bit floats travel as their bits in a {@code short[]}, unsigned integers
 * and booleans as the signed type of the same width. Types and sizes are
 * checked before any native call.
 */
public final class NativeTensor implements AutoCloseable {
  private final long address;
  private final long byteSize;
  private final DType dtype;
  private final long[] shape;
  private final AutoCloseable owner;
  private volatile boolean closed;

  private NativeTensor(long address, long byteSize, DType dtype, long[] shape, AutoCloseable owner) {
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    if (dtype == DType.STRING) {
      throw new IllegalArgumentException("string tensors have no native layout");
    }
    this.shape = shape.clone();
    long need = Math.multiplyExact(elementCount(this.shape), (long) dtype.byteSize());
    if (byteSize < need) {
      throw new IllegalArgumentException("a " + dtype + Shape.toString(shape) + " tensor needs " + need
          + " bytes, the memory has " + byteSize);
    }
    if (address == 0 && need > 0) {
      throw new IllegalArgumentException("null address for a non-empty tensor");
    }
    this.address = address;
    this.byteSize = byteSize;
    this.owner = owner;
  }

  /** Borrows memory the caller owns and keeps alive while the tensor is in use. */
  public static NativeTensor wrap(long address, long byteSize, DType dtype, long... shape) {
    return new NativeTensor(address, byteSize, dtype, shape, null);
  }

  /** Takes the memory together with its owner, which is closed when this tensor is closed. */
  public static NativeTensor wrap(long address, long byteSize, DType dtype, long[] shape, AutoCloseable owner) {
    return new NativeTensor(address, byteSize, dtype, shape, Objects.requireNonNull(owner, "owner"));
  }

  /**
   * A new tensor in uninitialized memory from {@code allocator}, aligned to
   * {@value NativeAllocator#DEFAULT_ALIGNMENT} bytes; the tensor owns the
   * memory and gives it back when closed.
   */
  public static NativeTensor allocate(NativeAllocator allocator, DType dtype, long... shape) {
    Objects.requireNonNull(allocator, "allocator");
    Objects.requireNonNull(dtype, "dtype");
    if (dtype == DType.STRING) {
      throw new IllegalArgumentException("string tensors have no native layout");
    }
    long bytes = Math.multiplyExact(elementCount(shape), (long) dtype.byteSize());
    NativeBuffer buffer = allocator.allocate(bytes, NativeAllocator.DEFAULT_ALIGNMENT,
        dtype.shortName() + Shape.toString(shape) + " tensor");
    try {
      return new NativeTensor(buffer.address(), bytes, dtype, shape, buffer);
    } catch (RuntimeException e) {
      buffer.close();
      throw e;
    }
  }

  /**
   * The Java array type that holds elements of {@code dtype} in copies:
   * {@code byte[]} for i8, u8 and bool, {@code short[]} for i16, u16, f16 and
   * bf16 (f16/bf16 as bits, see {@link HalfFloats}), {@code int[]} for i32 and
   * u32, {@code long[]} for i64 and u64, {@code float[]} for f32 and
   * {@code double[]} for f64.
   */
  public static Class<?> arrayClass(DType dtype) {
    switch (dtype) {
      case INT8: case UINT8: case BOOL:
        return byte[].class;
      case INT16: case UINT16: case FLOAT16: case BFLOAT16:
        return short[].class;
      case INT32: case UINT32:
        return int[].class;
      case INT64: case UINT64:
        return long[].class;
      case FLOAT32:
        return float[].class;
      case FLOAT64:
        return double[].class;
      default:
        throw new IllegalArgumentException(dtype + " tensors have no native layout");
    }
  }

  /** The element count of a shape; every dimension must be non-negative. */
  public static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Copies every element from {@code src}, whose length must equal the element count. */
  public void copyFrom(byte[] src) {
    NativeMemory.copyFromArray(src, 0, checkArray(src, 0, true, "copy from"), address());
  }

  /** Copies every element from {@code src}, starting at index {@code offset}. */
  public void copyFrom(byte[] src, int offset) {
    NativeMemory.copyFromArray(src, offset, checkArray(src, offset, false, "copy from"), address());
  }

  /** Copies every element into {@code dst}, whose length must equal the element count. */
  public void copyTo(byte[] dst) {
    int count = checkArray(dst, 0, true, "copy into");
    NativeMemory.copyToArray(address(), dst, 0, count);
  }

  /** Copies every element into {@code dst}, starting at index {@code offset}. */
  public void copyTo(byte[] dst, int offset) {
    int count = checkArray(dst, offset, false, "copy into");
    NativeMemory.copyToArray(address(), dst, offset, count);
  }

  /** Copies every element from {@code src}, whose length must equal the element count. */
  public void copyFrom(short[] src) {
    NativeMemory.copyFromArray(src, 0, checkArray(src, 0, true, "copy from"), address());
  }

  /** Copies every element from {@code src}, starting at index {@code offset}. */
  public void copyFrom(short[] src, int offset) {
    NativeMemory.copyFromArray(src, offset, checkArray(src, offset, false, "copy from"), address());
  }

  /** Copies every element into {@code dst}, whose length must equal the element count. */
  public void copyTo(short[] dst) {
    int count = checkArray(dst, 0, true, "copy into");
    NativeMemory.copyToArray(address(), dst, 0, count);
  }

  /** Copies every element into {@code dst}, starting at index {@code offset}. */
  public void copyTo(short[] dst, int offset) {
    int count = checkArray(dst, offset, false, "copy into");
    NativeMemory.copyToArray(address(), dst, offset, count);
  }

  /** Copies every element from {@code src}, whose length must equal the element count. */
  public void copyFrom(int[] src) {
    NativeMemory.copyFromArray(src, 0, checkArray(src, 0, true, "copy from"), address());
  }

  /** Copies every element from {@code src}, starting at index {@code offset}. */
  public void copyFrom(int[] src, int offset) {
    NativeMemory.copyFromArray(src, offset, checkArray(src, offset, false, "copy from"), address());
  }

  /** Copies every element into {@code dst}, whose length must equal the element count. */
  public void copyTo(int[] dst) {
    int count = checkArray(dst, 0, true, "copy into");
    NativeMemory.copyToArray(address(), dst, 0, count);
  }

  /** Copies every element into {@code dst}, starting at index {@code offset}. */
  public void copyTo(int[] dst, int offset) {
    int count = checkArray(dst, offset, false, "copy into");
    NativeMemory.copyToArray(address(), dst, offset, count);
  }

  /** Copies every element from {@code src}, whose length must equal the element count. */
  public void copyFrom(long[] src) {
    NativeMemory.copyFromArray(src, 0, checkArray(src, 0, true, "copy from"), address());
  }

  /** Copies every element from {@code src}, starting at index {@code offset}. */
  public void copyFrom(long[] src, int offset) {
    NativeMemory.copyFromArray(src, offset, checkArray(src, offset, false, "copy from"), address());
  }

  /** Copies every element into {@code dst}, whose length must equal the element count. */
  public void copyTo(long[] dst) {
    int count = checkArray(dst, 0, true, "copy into");
    NativeMemory.copyToArray(address(), dst, 0, count);
  }

  /** Copies every element into {@code dst}, starting at index {@code offset}. */
  public void copyTo(long[] dst, int offset) {
    int count = checkArray(dst, offset, false, "copy into");
    NativeMemory.copyToArray(address(), dst, offset, count);
  }

  /** Copies every element from {@code src}, whose length must equal the element count. */
  public void copyFrom(float[] src) {
    NativeMemory.copyFromArray(src, 0, checkArray(src, 0, true, "copy from"), address());
  }

  /** Copies every element from {@code src}, starting at index {@code offset}. */
  public void copyFrom(float[] src, int offset) {
    NativeMemory.copyFromArray(src, offset, checkArray(src, offset, false, "copy from"), address());
  }

  /** Copies every element into {@code dst}, whose length must equal the element count. */
  public void copyTo(float[] dst) {
    int count = checkArray(dst, 0, true, "copy into");
    NativeMemory.copyToArray(address(), dst, 0, count);
  }

  /** Copies every element into {@code dst}, starting at index {@code offset}. */
  public void copyTo(float[] dst, int offset) {
    int count = checkArray(dst, offset, false, "copy into");
    NativeMemory.copyToArray(address(), dst, offset, count);
  }

  /** Copies every element from {@code src}, whose length must equal the element count. */
  public void copyFrom(double[] src) {
    NativeMemory.copyFromArray(src, 0, checkArray(src, 0, true, "copy from"), address());
  }

  /** Copies every element from {@code src}, starting at index {@code offset}. */
  public void copyFrom(double[] src, int offset) {
    NativeMemory.copyFromArray(src, offset, checkArray(src, offset, false, "copy from"), address());
  }

  /** Copies every element into {@code dst}, whose length must equal the element count. */
  public void copyTo(double[] dst) {
    int count = checkArray(dst, 0, true, "copy into");
    NativeMemory.copyToArray(address(), dst, 0, count);
  }

  /** Copies every element into {@code dst}, starting at index {@code offset}. */
  public void copyTo(double[] dst, int offset) {
    int count = checkArray(dst, offset, false, "copy into");
    NativeMemory.copyToArray(address(), dst, offset, count);
  }

  /** Checks the array's type against the dtype and its size against the element count; returns the count. */
  private int checkArray(Object array, int offset, boolean exact, String verb) {
    Objects.requireNonNull(array, "array");
    Class<?> expected = arrayClass(dtype);
    String tensor = dtype.shortName() + Shape.toString(shape);
    if (array.getClass() != expected) {
      throw new IllegalArgumentException("cannot " + verb + " a " + array.getClass().getSimpleName() + " with tensor "
          + tensor + ": " + dtype + " elements travel in a " + expected.getSimpleName());
    }
    if (closed) {
      throw new IllegalStateException("cannot " + verb + " a " + expected.getSimpleName() + " with tensor " + tensor
          + ": the tensor is closed");
    }
    long count = elementCount();
    int length = Array.getLength(array);
    if (exact ? length != count : offset < 0 || offset > length || length - offset < count) {
      throw new IllegalArgumentException("cannot " + verb + " a " + expected.getSimpleName() + " of length " + length
          + (exact ? "" : " from offset " + offset) + " with tensor " + tensor + ": it has " + count + " elements");
    }
    return (int) count;
  }

  /** The address of the first element. */
  public long address() {
    if (closed) {
      throw new IllegalStateException("tensor " + dtype.shortName() + Shape.toString(shape) + " is closed");
    }
    return address;
  }

  /** Bytes of memory behind the address (at least the tensor's data size). */
  public long byteSize() {
    return byteSize;
  }

  /** Bytes the elements take: element count times element size. */
  public long dataSize() {
    return elementCount() * dtype.byteSize();
  }

  public DType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public long elementCount() {
    return elementCount(shape);
  }

  public boolean isClosed() {
    return closed;
  }

  /** True when this tensor owns (and will close) its memory. */
  public boolean ownsMemory() {
    return owner != null;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (owner != null) {
      try {
        owner.close();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("closing the memory of a tensor failed", e);
      }
    }
  }

  @Override
  public String toString() {
    return dtype.shortName() + Shape.toString(shape) + " @0x" + Long.toHexString(address) + (closed ? " (closed)" : "");
  }
}
