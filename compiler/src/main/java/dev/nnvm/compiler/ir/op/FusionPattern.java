package dev.nnvm.compiler.ir.op;

/**
 * How an operator may take part in operator fusion (as in NNVM/TVM's
 * {@code OpPatternKind}); ordered from most to least fusable.
 */
public enum FusionPattern {
  /** Output element i depends only on input element i (same shapes). */
  ELEMWISE,
  /** Elementwise with broadcasting of inputs. */
  BROADCAST,
  /** Each output element reads some input elements through an index map (reshape, transpose, slice). */
  INJECTIVE,
  /** Reduces over axes (sum, mean, max). */
  REDUCE,
  /** Heavy operator (conv, matmul) whose output can absorb an elementwise epilogue. */
  OUT_ELEMWISE_FUSABLE,
  /** Not fusable: a barrier for fusion. */
  OPAQUE
}
