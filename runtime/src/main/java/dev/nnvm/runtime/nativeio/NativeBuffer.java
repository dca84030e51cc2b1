package dev.nnvm.runtime.nativeio;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A block of native memory owned by whoever holds this object, handed out by
 * a {@link NativeAllocator}. Closing it gives the memory back and updates the
 * allocator's accounting; closing twice is safe, and a closed buffer refuses
 * to hand out its address.
 */
public final class NativeBuffer implements AutoCloseable {
  private final NativeAllocator allocator;
  private final long id;
  private final long address;
  private final long size;
  private final int alignment;
  private final String purpose;
  private final AtomicBoolean closed = new AtomicBoolean();

  NativeBuffer(NativeAllocator allocator, long id, long address, long size, int alignment, String purpose) {
    this.allocator = allocator;
    this.id = id;
    this.address = address;
    this.size = size;
    this.alignment = alignment;
    this.purpose = purpose;
  }

  /** The address of the first byte. */
  public long address() {
    if (closed.get()) {
      throw new IllegalStateException(describe() + " is closed");
    }
    return address;
  }

  long rawAddress() {
    return address;
  }

  /** Bytes in this buffer. */
  public long size() {
    return size;
  }

  /** The alignment the address was allocated with (a power of two). */
  public int alignment() {
    return alignment;
  }

  /** What the memory is for, as given at allocation; null when none was given. */
  public String purpose() {
    return purpose;
  }

  public NativeAllocator allocator() {
    return allocator;
  }

  public boolean isClosed() {
    return closed.get();
  }

  /** Sets every byte to {@code value}. */
  public void fill(byte value) {
    Natives.fill(address(), size, value);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      allocator.free(this);
    }
  }

  /** {@code buffer #3 of 64 bytes from 'root/model' (f32[4, 4] tensor)}. */
  String describe() {
    return "buffer #" + id + " of " + size + " bytes from '" + allocator.path() + "'"
        + (purpose == null ? "" : " (" + purpose + ")");
  }

  @Override
  public String toString() {
    return describe() + " @0x" + Long.toHexString(address) + (closed.get() ? " (closed)" : "");
  }
}
