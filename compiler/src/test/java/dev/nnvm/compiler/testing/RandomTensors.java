package dev.nnvm.compiler.testing;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import java.util.Random;

/**
 * Fresh random test inputs. The seed is new each run unless the system
 * property {@code nnvm.seed} fixes it; tests print it so a failure can be
 * replayed.
 */
public final class RandomTensors {
  private final long seed;
  private final Random random;

  public RandomTensors() {
    this(Long.getLong("nnvm.seed", System.nanoTime()));
  }

  public RandomTensors(long seed) {
    this.seed = seed;
    this.random = new Random(seed);
  }

  public long seed() {
    return seed;
  }

  public Random random() {
    return random;
  }

  /** Uniform values in [-1, 1) for floating types, small integers for integer types, coin flips for bool. */
  public Tensor of(DType t, long... shape) {
    switch (t) {
      case UINT8: case UINT16: case UINT32: case UINT64: return ints(t, 0, 10, shape);
      case INT8: case INT16: case INT32: case INT64: return ints(t, -5, 6, shape);
      default: return uniform(t, -1, 1, shape);
    }
  }

  /** Uniform floats in [lo, hi). */
  public Tensor uniform(DType t, double lo, double hi, long... shape) {
    int n = Tensor.elementCount(shape);
    if (t == DType.BOOL) {
      boolean[] b = new boolean[n];
      for (int i = 0; i < n; i++) {
        b[i] = random.nextBoolean();
      }
      return Tensor.ofBools(shape, b);
    }
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + (hi - lo) * random.nextDouble();
    }
    return Tensor.fromDoubles(t, shape, v);
  }

  /** Uniform integers in [lo, hi), stored in type {@code t}. */
  public Tensor ints(DType t, long lo, long hi, long... shape) {
    int n = Tensor.elementCount(shape);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = lo + (long) Math.floor(random.nextDouble() * (hi - lo));
    }
    return Tensor.fromDoubles(t, shape, v);
  }
}
