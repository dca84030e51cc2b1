package dev.nnvm.compiler.lower;

import java.util.List;

/**
 * How one output element of an operator is computed from its inputs (as
 * TVM's compute definitions): the expression of output 0 at a multi-index.
 * Rules never materialize inputs; they ask for input elements at index
 * expressions, so producers fused into the same kernel are inlined.
 */
@FunctionalInterface
public interface ComputeRule {
  Expr compute(LowerContext ctx, List<Expr> outIndex);
}
