package dev.nnvm.runtime.nativeio;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A named allocator of native memory with a byte limit and accounting, in a
 * tree: a root per process or executor, a child per model or task. Memory a
 * child hands out counts against the child and every ancestor, and each of
 * them enforces its own limit.
 *
 * <p>Closing an allocator that still has open buffers or open children fails
 * loudly, naming what is still open; the allocator refuses new allocations
 * from then on and leaves its parent (whose close then fails too) only once
 * everything it handed out is closed. Closing an allocator whose buffers and
 * children are all closed is quiet, and so is closing it twice.
 *
 * <p>Thread-safe: the whole tree shares one lock, held only for accounting,
 * never across a native call.
 */
public final class NativeAllocator implements AutoCloseable {
  /** The alignment of {@link #allocate(long)}: a cache line, and the widest vector (AVX-512). */
  public static final int DEFAULT_ALIGNMENT = 64;

  private static final int LISTED = 10;

  private final String name;
  private final NativeAllocator parent;
  private final long limit;
  private final Object lock;
  private final Set<NativeBuffer> buffers = new LinkedHashSet<>();
  private final Set<NativeAllocator> children = new LinkedHashSet<>();
  private long allocated;
  private long peak;
  private long nextBufferId;
  private boolean closed;

  private NativeAllocator(String name, NativeAllocator parent, long limit) {
    this.name = Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.indexOf('/') >= 0) {
      throw new IllegalArgumentException("allocator name must be non-empty and without '/', got '" + name + "'");
    }
    if (limit < 0) {
      throw new IllegalArgumentException("allocator '" + name + "': negative limit " + limit);
    }
    this.parent = parent;
    this.limit = limit;
    this.lock = parent == null ? new Object() : parent.lock;
  }

  /** A new root allocator that may hand out at most {@code limit} bytes at once. */
  public static NativeAllocator newRoot(String name, long limit) {
    NativeLoader.ensureLoaded();
    return new NativeAllocator(name, null, limit);
  }

  /** A new root allocator without a limit of its own. */
  public static NativeAllocator newRoot(String name) {
    return newRoot(name, Long.MAX_VALUE);
  }

  /** A child allocator whose buffers count against this one and its ancestors too. */
  public NativeAllocator newChild(String childName, long childLimit) {
    NativeAllocator child = new NativeAllocator(childName, this, childLimit);
    synchronized (lock) {
      checkOpen();
      children.add(child);
    }
    return child;
  }

  /** A child allocator limited only by its ancestors. */
  public NativeAllocator newChild(String childName) {
    return newChild(childName, Long.MAX_VALUE);
  }

  /** {@code bytes} of uninitialized memory aligned to {@link #DEFAULT_ALIGNMENT}. */
  public NativeBuffer allocate(long bytes) {
    return allocate(bytes, DEFAULT_ALIGNMENT, null);
  }

  /**
   * {@code bytes} of uninitialized memory.
   *
   * @param alignment a power of two, at least 8
   * @param purpose what the memory is for, shown in leak reports; may be null
   * @throws AllocationLimitException when this allocator or an ancestor would exceed its limit
   * @throws NativeException when the system has no memory to give
   */
  public NativeBuffer allocate(long bytes, int alignment, String purpose) {
    if (bytes < 0) {
      throw new IllegalArgumentException("allocator '" + path() + "': negative size " + bytes);
    }
    if (alignment < 8 || Integer.bitCount(alignment) != 1) {
      throw new IllegalArgumentException("allocator '" + path() + "': alignment must be a power of two >= 8, got "
          + alignment);
    }
    long id;
    synchronized (lock) {
      checkOpen();
      for (NativeAllocator a = this; a != null; a = a.parent) {
        if (bytes > a.limit - a.allocated) {
          throw new AllocationLimitException("allocator '" + a.path() + "' cannot give " + bytes + " bytes"
              + (a == this ? "" : " to '" + path() + "'") + ": " + a.allocated + " of its limit " + a.limit
              + " bytes are in use");
        }
      }
      for (NativeAllocator a = this; a != null; a = a.parent) {
        a.allocated += bytes;
        a.peak = Math.max(a.peak, a.allocated);
      }
      id = ++nextBufferId;
    }
    long address;
    try {
      address = Natives.allocate(bytes, alignment);
    } catch (RuntimeException | Error e) {
      synchronized (lock) {
        release(bytes);
      }
      throw e;
    }
    NativeBuffer buffer = new NativeBuffer(this, id, address, bytes, alignment, purpose);
    synchronized (lock) {
      buffers.add(buffer);
    }
    return buffer;
  }

  /** Called by {@link NativeBuffer#close()} exactly once per buffer. */
  void free(NativeBuffer buffer) {
    synchronized (lock) {
      buffers.remove(buffer);
      release(buffer.size());
      detachIfDone();
    }
    Natives.free(buffer.rawAddress());
  }

  private void release(long bytes) {
    for (NativeAllocator a = this; a != null; a = a.parent) {
      a.allocated -= bytes;
    }
  }

  /** The name given at creation. */
  public String name() {
    return name;
  }

  /** The names from the root down to this allocator, joined by '/'. */
  public String path() {
    return parent == null ? name : parent.path() + "/" + name;
  }

  /** The parent, or null for a root. */
  public NativeAllocator parent() {
    return parent;
  }

  public long limit() {
    return limit;
  }

  /** Bytes in open buffers of this allocator and its descendants. */
  public long allocatedBytes() {
    synchronized (lock) {
      return allocated;
    }
  }

  /** The most bytes that were ever open at once in this allocator and its descendants. */
  public long peakBytes() {
    synchronized (lock) {
      return peak;
    }
  }

  /** Open buffers handed out by this allocator itself (not its children). */
  public int openBuffers() {
    synchronized (lock) {
      return buffers.size();
    }
  }

  /** Open child allocators (including closed ones that still have open buffers). */
  public int openChildren() {
    synchronized (lock) {
      return children.size();
    }
  }

  public boolean isClosed() {
    synchronized (lock) {
      return closed;
    }
  }

  /**
   * Closes this allocator.
   *
   * @throws IllegalStateException naming the open buffers and children when some are still open
   */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      if (!buffers.isEmpty() || !children.isEmpty()) {
        throw new IllegalStateException(leakReport());
      }
      detachIfDone();
    }
  }

  private void detachIfDone() {
    if (closed && buffers.isEmpty() && children.isEmpty() && parent != null && parent.children.remove(this)) {
      parent.detachIfDone();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("allocator '" + path() + "' is closed");
    }
  }

  private String leakReport() {
    StringBuilder sb = new StringBuilder("allocator '").append(path()).append("' closed with ");
    List<String> open = new ArrayList<>();
    long bufferBytes = 0;
    for (NativeBuffer b : buffers) {
      bufferBytes += b.size();
      open.add(b.describe());
    }
    for (NativeAllocator c : children) {
      open.add("child allocator '" + c.path() + "' (" + c.allocated + " bytes in " + c.buffers.size() + " buffers, "
          + c.children.size() + " children" + (c.closed ? ", closed" : "") + ")");
    }
    sb.append(buffers.size()).append(" open buffer").append(buffers.size() == 1 ? "" : "s").append(" (")
        .append(bufferBytes).append(" bytes) and ").append(children.size()).append(" open child allocator")
        .append(children.size() == 1 ? "" : "s").append(": ");
    sb.append(String.join(", ", open.subList(0, Math.min(LISTED, open.size()))));
    if (open.size() > LISTED) {
      sb.append(", and ").append(open.size() - LISTED).append(" more");
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    synchronized (lock) {
      return "NativeAllocator '" + path() + "' (" + allocated + " of " + limit + " bytes, peak " + peak + ")"
          + (closed ? " closed" : "");
    }
  }
}
