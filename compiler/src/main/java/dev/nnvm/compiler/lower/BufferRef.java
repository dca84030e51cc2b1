package dev.nnvm.compiler.lower;

import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Objects;

/**
 * A tensor a kernel reads or writes: a name, an element type and a
 * row-major shape whose dimensions are expressions (constants or symbolic
 * dimension variables).
 */
public record BufferRef(String name, DType dtype, List<Expr> shape) {
  public BufferRef {
    Objects.requireNonNull(name);
    Objects.requireNonNull(dtype);
    shape = List.copyOf(shape);
  }

  public int rank() {
    return shape.size();
  }
}
