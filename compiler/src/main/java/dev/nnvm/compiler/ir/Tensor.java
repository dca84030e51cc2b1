package dev.nnvm.compiler.ir;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.HalfFloats;
import dev.nnvm.runtime.Shape;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable dense tensor held on the Java heap: graph constants (weights)
 * and the values of the reference evaluator.
 *
 * <p>Storage is one primitive array per family of element types:
 * <ul>
 *   <li>{@code float[]} for f32, f16 and bf16 (f16/bf16 values are kept
 *       exactly, already rounded to their format);
 *   <li>{@code double[]} for f64;
 *   <li>{@code long[]} for every integer type (u64 as its two's complement bits);
 *   <li>{@code boolean[]} for bool;
 *   <li>{@code String[]} for string.
 * </ul>
 * Factories take ownership of the array passed in: callers must not change it
 * afterwards. Accessors that return arrays return the backing array; treat it
 * as read-only.
 */
public final class Tensor {
  private final DType dtype;
  private final long[] shape;
  private final Object data;
  private final int size;

  private Tensor(DType dtype, long[] shape, Object data) {
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape.clone();
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor of shape " + Shape.toString(shape) + " is too large for the heap");
    }
    this.size = (int) n;
    Class<?> want = storageClass(dtype);
    if (data.getClass() != want) {
      throw new IllegalArgumentException(
          "tensor of type " + dtype + " needs " + want.getSimpleName() + " storage, got " + data.getClass().getSimpleName());
    }
    int len = java.lang.reflect.Array.getLength(data);
    if (len != size) {
      throw new IllegalArgumentException(
          "shape " + Shape.toString(shape) + " holds " + size + " elements, data has " + len);
    }
    this.data = data;
  }

  /** The Java array class that stores elements of this type. */
  public static Class<?> storageClass(DType t) {
    switch (t) {
      case FLOAT32: case FLOAT16: case BFLOAT16: return float[].class;
      case FLOAT64: return double[].class;
      case BOOL: return boolean[].class;
      case STRING: return String[].class;
      default: return long[].class;
    }
  }

  public static Tensor of(DType dtype, long[] shape, Object data) {
    return new Tensor(dtype, shape, data);
  }

  public static Tensor ofFloats(long[] shape, float... data) {
    return new Tensor(DType.FLOAT32, shape, data);
  }

  public static Tensor ofDoubles(long[] shape, double... data) {
    return new Tensor(DType.FLOAT64, shape, data);
  }

  public static Tensor ofLongs(DType dtype, long[] shape, long... data) {
    return new Tensor(dtype, shape, data);
  }

  public static Tensor ofBools(long[] shape, boolean... data) {
    return new Tensor(DType.BOOL, shape, data);
  }

  public static Tensor ofStrings(long[] shape, String... data) {
    return new Tensor(DType.STRING, shape, data);
  }

  public static Tensor scalarLong(DType dtype, long v) {
    return new Tensor(dtype, new long[0], new long[] {v});
  }

  public static Tensor scalarFloat(float v) {
    return new Tensor(DType.FLOAT32, new long[0], new float[] {v});
  }

  public static Tensor vector(long... values) {
    return new Tensor(DType.INT64, new long[] {values.length}, values);
  }

  /** A tensor of zeros (false, empty strings). */
  public static Tensor zeros(DType dtype, long[] shape) {
    return new Tensor(dtype, shape, newStorage(dtype, elementCount(shape)));
  }

  /** A fresh, zeroed storage array for {@code n} elements of a type. */
  public static Object newStorage(DType dtype, int n) {
    Class<?> c = storageClass(dtype);
    if (c == String[].class) {
      String[] s = new String[n];
      Arrays.fill(s, "");
      return s;
    }
    return java.lang.reflect.Array.newInstance(c.getComponentType(), n);
  }

  /**
   * Builds a tensor from doubles, converting each value to the element type
   * the way a cast does: rounding for floating types, truncation toward zero
   * and wrap-around for integer types, non-zero for bool.
   */
  public static Tensor fromDoubles(DType dtype, long[] shape, double[] values) {
    Object storage = newStorage(dtype, values.length);
    for (int i = 0; i < values.length; i++) {
      setFromDouble(dtype, storage, i, values[i]);
    }
    return new Tensor(dtype, shape, storage);
  }

  /** Stores {@code v} converted to {@code dtype} at index {@code i} of a storage array. */
  public static void setFromDouble(DType dtype, Object storage, int i, double v) {
    switch (dtype) {
      case FLOAT32: ((float[]) storage)[i] = (float) v; break;
      case FLOAT16: ((float[]) storage)[i] = HalfFloats.roundToHalf((float) v); break;
      case BFLOAT16: ((float[]) storage)[i] = HalfFloats.roundToBfloat16((float) v); break;
      case FLOAT64: ((double[]) storage)[i] = v; break;
      case BOOL: ((boolean[]) storage)[i] = v != 0; break;
      case STRING: ((String[]) storage)[i] = formatNumber(v); break;
      default: ((long[]) storage)[i] = wrap(dtype, doubleToLong(dtype, v)); break;
    }
  }

  /** Stores {@code v} converted to {@code dtype} at index {@code i} (integers wrap to the type's width). */
  public static void setFromLong(DType dtype, Object storage, int i, long v) {
    switch (dtype) {
      case FLOAT32: case FLOAT16: case BFLOAT16: case FLOAT64:
        setFromDouble(dtype, storage, i, dtype == DType.FLOAT64 ? (double) v : (double) (float) v);
        break;
      case BOOL: ((boolean[]) storage)[i] = v != 0; break;
      case STRING: ((String[]) storage)[i] = Long.toString(v); break;
      default: ((long[]) storage)[i] = wrap(dtype, v); break;
    }
  }

  private static long doubleToLong(DType dtype, double v) {
    if (Double.isNaN(v)) {
      return 0;
    }
    if (dtype == DType.UINT64 && v >= 0x1p63) {
      return (long) (v - 0x1p63) ^ Long.MIN_VALUE;
    }
    return (long) v;
  }

  /** Wraps an integer to the width and signedness of an integer type. */
  public static long wrap(DType dtype, long v) {
    switch (dtype) {
      case INT8: return (byte) v;
      case UINT8: return v & 0xffL;
      case INT16: return (short) v;
      case UINT16: return v & 0xffffL;
      case INT32: return (int) v;
      case UINT32: return v & 0xffffffffL;
      default: return v;
    }
  }

  private static String formatNumber(double v) {
    if (v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }

  public static int elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return Math.toIntExact(n);
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

  public long dim(int i) {
    return shape[i];
  }

  public int size() {
    return size;
  }

  public TensorType type() {
    return new TensorType(dtype, Shape.of(shape));
  }

  /** The backing array (see the class comment for its class). Read-only. */
  public Object data() {
    return data;
  }

  public float[] floats() {
    return (float[]) data;
  }

  public double[] doubles() {
    return (double[]) data;
  }

  public long[] longs() {
    return (long[]) data;
  }

  public boolean[] bools() {
    return (boolean[]) data;
  }

  public String[] strings() {
    return (String[]) data;
  }

  /** Element {@code i} as a double (u64 above 2^63 reads as its unsigned value). */
  public double getDouble(int i) {
    switch (dtype) {
      case FLOAT32: case FLOAT16: case BFLOAT16: return ((float[]) data)[i];
      case FLOAT64: return ((double[]) data)[i];
      case BOOL: return ((boolean[]) data)[i] ? 1 : 0;
      case STRING: return Double.parseDouble(((String[]) data)[i]);
      case UINT64: {
        long v = ((long[]) data)[i];
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
      }
      default: return ((long[]) data)[i];
    }
  }

  /** Element {@code i} as a long (floating values truncated toward zero). */
  public long getLong(int i) {
    switch (dtype) {
      case FLOAT32: case FLOAT16: case BFLOAT16: return (long) ((float[]) data)[i];
      case FLOAT64: return (long) ((double[]) data)[i];
      case BOOL: return ((boolean[]) data)[i] ? 1 : 0;
      case STRING: return Long.parseLong(((String[]) data)[i]);
      default: return ((long[]) data)[i];
    }
  }

  public boolean getBool(int i) {
    switch (dtype) {
      case BOOL: return ((boolean[]) data)[i];
      case STRING: return !((String[]) data)[i].isEmpty();
      default: return getDouble(i) != 0;
    }
  }

  /** All elements as doubles (a new array). */
  public double[] toDoubleArray() {
    double[] out = new double[size];
    if (dtype == DType.FLOAT32 || dtype == DType.FLOAT16 || dtype == DType.BFLOAT16) {
      float[] f = (float[]) data;
      for (int i = 0; i < size; i++) {
        out[i] = f[i];
      }
    } else {
      for (int i = 0; i < size; i++) {
        out[i] = getDouble(i);
      }
    }
    return out;
  }

  /** All elements as longs (a new array). */
  public long[] toLongArray() {
    if (data instanceof long[]) {
      return ((long[]) data).clone();
    }
    long[] out = new long[size];
    for (int i = 0; i < size; i++) {
      out[i] = getLong(i);
    }
    return out;
  }

  /** All elements converted to floats (a new array). */
  public float[] toFloatArray() {
    if (data instanceof float[]) {
      return ((float[]) data).clone();
    }
    float[] out = new float[size];
    for (int i = 0; i < size; i++) {
      out[i] = (float) getDouble(i);
    }
    return out;
  }

  /** The same elements under a new shape with the same element count. */
  public Tensor reshape(long... newShape) {
    return new Tensor(dtype, newShape, data);
  }

  /** This tensor converted to another element type with cast semantics. */
  public Tensor cast(DType to) {
    if (to == dtype) {
      return this;
    }
    Object out = newStorage(to, size);
    boolean integral = dtype.isInteger() || dtype == DType.BOOL;
    for (int i = 0; i < size; i++) {
      if (dtype == DType.STRING) {
        String s = ((String[]) data)[i];
        if (to == DType.STRING) {
          ((String[]) out)[i] = s;
        } else {
          setFromDouble(to, out, i, Double.parseDouble(s));
        }
      } else if (to == DType.STRING) {
        ((String[]) out)[i] = integral ? Long.toString(getLong(i)) : formatFloat(dtype, getDouble(i));
      } else if (integral && dtype != DType.UINT64) {
        setFromLong(to, out, i, getLong(i));
      } else {
        setFromDouble(to, out, i, getDouble(i));
      }
    }
    return new Tensor(to, shape, out);
  }

  private static String formatFloat(DType t, double v) {
    if (t == DType.FLOAT64) {
      return Double.toString(v);
    }
    return Float.toString((float) v);
  }

  /** A scalar's only element, or element 0, as a long. */
  public long scalarLong() {
    if (size != 1) {
      throw new IllegalStateException("expected a single element, tensor has shape " + Shape.toString(shape));
    }
    return getLong(0);
  }

  /** Exact equality of type, shape and elements (NaN equals NaN). */
  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Tensor)) {
      return false;
    }
    Tensor t = (Tensor) o;
    if (t.dtype != dtype || !Arrays.equals(t.shape, shape)) {
      return false;
    }
    if (data instanceof float[]) {
      return Arrays.equals((float[]) data, (float[]) t.data);
    } else if (data instanceof double[]) {
      return Arrays.equals((double[]) data, (double[]) t.data);
    } else if (data instanceof long[]) {
      return Arrays.equals((long[]) data, (long[]) t.data);
    } else if (data instanceof boolean[]) {
      return Arrays.equals((boolean[]) data, (boolean[]) t.data);
    }
    return Arrays.equals((String[]) data, (String[]) t.data);
  }

  @Override
  public int hashCode() {
    return dtype.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(dtype.shortName()).append(Shape.toString(shape)).append(" {");
    int n = Math.min(size, 8);
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(dtype == DType.STRING ? ((String[]) data)[i] : dtype.isFloatingPoint() ? Double.toString(getDouble(i)) : Long.toString(getLong(i)));
    }
    if (size > n) {
      sb.append(", ...");
    }
    return sb.append('}').toString();
  }
}
