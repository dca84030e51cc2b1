package dev.nnvm.runtime;

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
 * with an owner the tensor closes that owner when it is closed. Closing is
 * idempotent; a closed tensor refuses to hand out its address.
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

  /** The address of the first element. */
  public long address() {
    if (closed) {
      throw new IllegalStateException("tensor is closed");
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
