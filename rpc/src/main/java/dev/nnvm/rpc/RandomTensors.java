package dev.nnvm.rpc;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.HalfFloats;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.SplittableRandom;

/**
 * Seeded random inputs for a remote benchmark: integers from 0 to 9 (valid
 * token ids and indices for most models), booleans 0 or 1, floating-point
 * values in [-1, 1).
 */
final class RandomTensors {
  private static final int INT_BOUND = 10;

  private final SplittableRandom random;

  RandomTensors(long seed) {
    this.random = new SplittableRandom(seed);
  }

  /** A new tensor of {@code memory}'s, filled; the caller closes it. */
  NativeTensor allocate(NativeAllocator memory, DType dtype, long[] shape) {
    NativeTensor t = NativeTensor.allocate(memory, dtype, shape);
    try {
      fill(t);
      return t;
    } catch (RuntimeException | Error e) {
      t.close();
      throw e;
    }
  }

  private void fill(NativeTensor t) {
    int n = Math.toIntExact(t.elementCount());
    switch (t.dtype()) {
      case FLOAT32: {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = (float) (random.nextDouble() * 2 - 1);
        }
        t.copyFrom(v);
        break;
      }
      case FLOAT64: {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
          v[i] = random.nextDouble() * 2 - 1;
        }
        t.copyFrom(v);
        break;
      }
      case FLOAT16:
      case BFLOAT16: {
        short[] v = new short[n];
        for (int i = 0; i < n; i++) {
          float f = (float) (random.nextDouble() * 2 - 1);
          v[i] = t.dtype() == DType.FLOAT16 ? HalfFloats.floatToHalf(f) : HalfFloats.floatToBfloat16(f);
        }
        t.copyFrom(v);
        break;
      }
      case BOOL: {
        byte[] v = new byte[n];
        for (int i = 0; i < n; i++) {
          v[i] = (byte) random.nextInt(2);
        }
        t.copyFrom(v);
        break;
      }
      case INT8:
      case UINT8: {
        byte[] v = new byte[n];
        for (int i = 0; i < n; i++) {
          v[i] = (byte) random.nextInt(INT_BOUND);
        }
        t.copyFrom(v);
        break;
      }
      case INT16:
      case UINT16: {
        short[] v = new short[n];
        for (int i = 0; i < n; i++) {
          v[i] = (short) random.nextInt(INT_BOUND);
        }
        t.copyFrom(v);
        break;
      }
      case INT32:
      case UINT32: {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = random.nextInt(INT_BOUND);
        }
        t.copyFrom(v);
        break;
      }
      case INT64:
      case UINT64: {
        long[] v = new long[n];
        for (int i = 0; i < n; i++) {
          v[i] = random.nextInt(INT_BOUND);
        }
        t.copyFrom(v);
        break;
      }
      default:
        throw new IllegalArgumentException(t.dtype() + " inputs cannot be generated for a benchmark");
    }
  }
}
