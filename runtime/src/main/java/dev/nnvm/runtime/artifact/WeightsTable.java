package dev.nnvm.runtime.artifact;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The weights blob: one part holding every constant of the model, each at an
 * aligned offset, stored once per model and shared by every executor.
 *
 * @param part the name of the part that holds the blob
 * @param size the blob's size in bytes (equal to the part's size)
 * @param alignment of every constant's offset: a power of two, at most {@link ArtifactFormat#ALIGNMENT}
 * @param constants the named constants in offset order
 */
public record WeightsTable(String part, long size, int alignment, List<Constant> constants) {

  public WeightsTable {
    Objects.requireNonNull(part, "part");
    constants = List.copyOf(constants);
  }

  /**
   * One named constant: a dense tensor of a static shape at {@code offset}.
   *
   * @param name the graph value it holds
   * @param dtype element type (never {@code string})
   * @param shape static shape
   * @param offset byte offset inside the blob
   */
  public record Constant(String name, DType dtype, Shape shape, long offset) {
    public Constant {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(dtype, "dtype");
      Objects.requireNonNull(shape, "shape");
    }

    /** Bytes the constant occupies: element count times element size. */
    public long byteSize() {
      return Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
    }
  }

  /** The constant with this name, if any. */
  public Optional<Constant> constant(String name) {
    return constants.stream().filter(c -> c.name().equals(name)).findFirst();
  }
}
