package dev.nnvm.runtime;

import java.util.Objects;

/** The declared name, element type and (possibly symbolic) shape of a model input or output. */
public final class TensorSpec {
  private final String name;
  private final DType dtype;
  private final Shape shape;

  public TensorSpec(String name, DType dtype, Shape shape) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = Objects.requireNonNull(shape, "shape");
  }

  public String name() {
    return name;
  }

  public DType dtype() {
    return dtype;
  }

  public Shape shape() {
    return shape;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec && ((TensorSpec) o).name.equals(name) && ((TensorSpec) o).dtype == dtype
        && ((TensorSpec) o).shape.equals(shape);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, shape);
  }

  @Override
  public String toString() {
    return name + ": " + dtype.shortName() + shape;
  }
}
