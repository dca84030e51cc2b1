package dev.nnvm.compiler.builder;

import dev.nnvm.compiler.ir.TensorType;

/**
 * A handle on one value of a graph being built: a graph input, a constant or
 * an operator result. It knows its inferred type and belongs to the
 * {@link GraphBuilder} that made it.
 */
public final class Value {
  private final GraphBuilder owner;
  private final String name;
  private final TensorType type;

  Value(GraphBuilder owner, String name, TensorType type) {
    this.owner = owner;
    this.name = name;
    this.type = type;
  }

  GraphBuilder owner() {
    return owner;
  }

  /** The value's name in the graph (before any renaming by {@link GraphBuilder#output}). */
  public String name() {
    return name;
  }

  /** The inferred type (shapes may be symbolic). */
  public TensorType type() {
    return type;
  }

  @Override
  public String toString() {
    return "%" + name + ": " + type;
  }
}
