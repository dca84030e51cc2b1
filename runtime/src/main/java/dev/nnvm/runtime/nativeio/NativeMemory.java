package dev.nnvm.runtime.nativeio;

import java.util.Objects;

/**
 * Copies between Java primitive arrays and native memory, and fills native
 * memory. The Java side of every copy is checked (a byte, short, int, long,
 * float or double array; the range inside it); the native side is a raw
 * address that must point to enough memory: prefer the checked helpers of
 * {@link dev.nnvm.runtime.NativeTensor} and {@link NativeBuffer}.
 */
public final class NativeMemory {
  private NativeMemory() {}

  /** Copies {@code length} elements of {@code array}, from index {@code offset}, to {@code destination}. */
  public static void copyFromArray(Object array, int offset, int length, long destination) {
    int elementSize = checkRange(array, offset, length, destination);
    NativeLoader.ensureLoaded();
    Natives.copyFromArray(array, (long) offset * elementSize, destination, (long) length * elementSize);
  }

  /** Copies {@code length} elements from {@code source} into {@code array}, from index {@code offset}. */
  public static void copyToArray(long source, Object array, int offset, int length) {
    int elementSize = checkRange(array, offset, length, source);
    NativeLoader.ensureLoaded();
    Natives.copyToArray(source, array, (long) offset * elementSize, (long) length * elementSize);
  }

  /** Copies {@code bytes} bytes; the ranges may overlap. */
  public static void copy(long source, long destination, long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("negative byte count " + bytes);
    }
    if (bytes > 0 && (source == 0 || destination == 0)) {
      throw new IllegalArgumentException("null address in a copy of " + bytes + " bytes");
    }
    NativeLoader.ensureLoaded();
    Natives.copy(source, destination, bytes);
  }

  /** Sets {@code bytes} bytes at {@code destination} to {@code value}. */
  public static void fill(long destination, long bytes, byte value) {
    if (bytes < 0) {
      throw new IllegalArgumentException("negative byte count " + bytes);
    }
    if (bytes > 0 && destination == 0) {
      throw new IllegalArgumentException("null address in a fill of " + bytes + " bytes");
    }
    NativeLoader.ensureLoaded();
    Natives.fill(destination, bytes, value);
  }

  /**
   * The element size of a primitive array class this class copies.
   *
   * @throws IllegalArgumentException for anything else (boolean[] and char[] included)
   */
  public static int elementSize(Class<?> arrayClass) {
    if (arrayClass == byte[].class) {
      return 1;
    } else if (arrayClass == short[].class) {
      return 2;
    } else if (arrayClass == int[].class || arrayClass == float[].class) {
      return 4;
    } else if (arrayClass == long[].class || arrayClass == double[].class) {
      return 8;
    }
    throw new IllegalArgumentException("cannot copy a " + arrayClass.getSimpleName()
        + ": only byte[], short[], int[], long[], float[] and double[] have a native layout here");
  }

  private static int checkRange(Object array, int offset, int length, long address) {
    Objects.requireNonNull(array, "array");
    int elementSize = elementSize(array.getClass());
    int arrayLength = java.lang.reflect.Array.getLength(array);
    if (offset < 0 || length < 0 || offset > arrayLength - length) {
      throw new IndexOutOfBoundsException("elements [" + offset + ", " + ((long) offset + length) + ") are outside a "
          + array.getClass().getSimpleName() + " of length " + arrayLength);
    }
    if (length > 0 && address == 0) {
      throw new IllegalArgumentException("null address in a copy of " + length + " elements");
    }
    return elementSize;
  }
}
