package dev.nnvm.runtime.nativeio;

import java.nio.ByteBuffer;

/**
 * Every {@code native} method of the runtime, implemented by the JNI shim in
 * {@code src/main/c/nnvm_runtime.c}. Callers validate all arguments first and
 * make sure the library is loaded ({@link NativeLoader#ensureLoaded()}): these
 * methods trust what they get. Failures the system reports (posix_memalign,
 * dlopen, dlsym, dlclose) arrive as {@link NativeException}s with its text.
 */
final class Natives {
  private Natives() {}

  /** posix_memalign: {@code bytes} (0 allowed) aligned to a power of two at least the pointer size. */
  static native long allocate(long bytes, long alignment);

  static native void free(long address);

  /** Copies {@code bytes} from a primitive array, starting {@code byteOffset} bytes into it. */
  static native void copyFromArray(Object array, long byteOffset, long destination, long bytes);

  /** Copies {@code bytes} into a primitive array, starting {@code byteOffset} bytes into it. */
  static native void copyToArray(long source, Object array, long byteOffset, long bytes);

  /** memmove: the ranges may overlap. */
  static native void copy(long source, long destination, long bytes);

  /** memset with the low 8 bits of {@code value}. */
  static native void fill(long destination, long bytes, int value);

  /** dlopen with RTLD_NOW | RTLD_LOCAL. */
  static native long dlopen(String path);

  static native long dlsym(long handle, String name);

  static native void dlclose(long handle);

  /** A direct buffer over native memory the caller owns (byte order: big-endian until set). */
  static native ByteBuffer view(long address, int bytes);

  /**
   * The layout of {@code nnvm_call} as the C compiler sees it: ABI version,
   * size, then the offsets of inputs, outputs, workspace, weights, symbols,
   * num_threads, parallel_for, error and error_capacity.
   */
  static native int[] callLayout();

  /** The address of {@code nnvm_parallel_for}, which models receive in {@code nnvm_call}. */
  static native long parallelForAddress();

  /** Calls an {@code nnvm_entry} with a filled {@code nnvm_call}; returns its status. */
  static native int invoke(long entry, long call);

  static native void setMaxThreads(int maxThreads);

  static native int maxThreads();

  static native int poolWorkers();

  /** CPUID's eax, ebx, ecx, edx for a leaf and subleaf; null off x86-64 or past the highest leaf. */
  static native int[] cpuid(int leaf, int subleaf);

  /** XCR0 (the register states the OS saves), or -1 where the OS enables no XSAVE or off x86-64. */
  static native long xgetbv();
}
