package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.op.OpRegistry;
import java.util.Objects;

/** What passes share during one optimization run: the operator registry and the evaluator. */
public final class PassContext {
  private final OpRegistry registry;
  private final ReferenceEvaluator evaluator;

  public PassContext(OpRegistry registry) {
    this.registry = Objects.requireNonNull(registry);
    this.evaluator = new ReferenceEvaluator(registry);
  }

  public static PassContext standard() {
    return new PassContext(OpRegistry.standard());
  }

  public OpRegistry registry() {
    return registry;
  }

  public ReferenceEvaluator evaluator() {
    return evaluator;
  }
}
