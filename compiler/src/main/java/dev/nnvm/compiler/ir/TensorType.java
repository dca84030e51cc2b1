package dev.nnvm.compiler.ir;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.Objects;

/** The type of a value: an element type and a (possibly symbolic) shape. */
public final class TensorType {
  private final DType dtype;
  private final Shape shape;

  public TensorType(DType dtype, Shape shape) {
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = Objects.requireNonNull(shape, "shape");
  }

  public static TensorType of(DType dtype, long... dims) {
    return new TensorType(dtype, Shape.of(dims));
  }

  public static TensorType unknownShape(DType dtype) {
    return new TensorType(dtype, Shape.unknownRank());
  }

  public DType dtype() {
    return dtype;
  }

  public Shape shape() {
    return shape;
  }

  public TensorType withShape(Shape s) {
    return s.equals(shape) ? this : new TensorType(dtype, s);
  }

  public TensorType withDType(DType t) {
    return t == dtype ? this : new TensorType(t, shape);
  }

  /** Parses the text form {@code f32[N, 3]} (or {@code f32?} for an unknown rank). */
  public static TensorType parse(String text) {
    String t = text.trim();
    int open = t.indexOf('[');
    if (open < 0) {
      if (t.endsWith("?")) {
        return unknownShape(DType.parse(t.substring(0, t.length() - 1)));
      }
      throw new IllegalArgumentException("tensor type must look like f32[d0, d1], got '" + text + "'");
    }
    return new TensorType(DType.parse(t.substring(0, open)), Shape.parse(t.substring(open)));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorType && ((TensorType) o).dtype == dtype && ((TensorType) o).shape.equals(shape);
  }

  @Override
  public int hashCode() {
    return dtype.hashCode() * 31 + shape.hashCode();
  }

  @Override
  public String toString() {
    return dtype.shortName() + shape;
  }
}
