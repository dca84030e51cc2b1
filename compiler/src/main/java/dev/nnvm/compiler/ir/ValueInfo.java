package dev.nnvm.compiler.ir;

import java.util.Objects;

/** A named, typed value at a graph boundary (graph input or output). */
public final class ValueInfo {
  private final String name;
  private final TensorType type;

  public ValueInfo(String name, TensorType type) {
    this.name = Objects.requireNonNull(name, "name");
    this.type = Objects.requireNonNull(type, "type");
  }

  public String name() {
    return name;
  }

  public TensorType type() {
    return type;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ValueInfo && ((ValueInfo) o).name.equals(name) && ((ValueInfo) o).type.equals(type);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + type.hashCode();
  }

  @Override
  public String toString() {
    return name + ": " + type;
  }
}
