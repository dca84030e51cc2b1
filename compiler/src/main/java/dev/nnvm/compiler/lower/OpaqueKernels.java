package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Node;
import java.util.List;
import java.util.Optional;

/**
 * Kernels for single operators that are not index maps or plain reductions
 * (normalizations, attention, quantization): each family offers a
 * loop nest for the operators it knows. Families are asked in order.
 */
final class OpaqueKernels {
  /** One family of hand-built loop nests. */
  interface Family {
    /** The kernel body for {@code n}, or empty when the family does not handle it. */
    Optional<Stmt> lower(Node n, LowerContext ctx, List<BufferRef> ins, List<BufferRef> outs);
  }

  private static final List<Family> FAMILIES = List.of(RowKernels::lower, QuantKernels::lower);

  private OpaqueKernels() {}

  static Optional<Stmt> lower(Node n, LowerContext ctx, List<BufferRef> ins, List<BufferRef> outs) {
    for (Family f : FAMILIES) {
      Optional<Stmt> s = f.lower(n, ctx, ins, outs);
      if (s.isPresent()) {
        return s;
      }
    }
    return Optional.empty();
  }
}
