package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.ir.Graph;
import java.util.Set;

/**
 * A pass that reads inferred types and leaves a typed graph behind: it needs
 * {@link #TYPES} and keeps it, re-typing what it rewrote with {@link #retype}.
 */
public abstract class TypedPass implements Pass {
  @Override
  public Set<String> requires() {
    return Set.of(TYPES);
  }

  @Override
  public boolean preservesProperties() {
    return true;
  }

  /** Infers the types of a rewritten graph again (new intermediates get theirs, the rest are checked). */
  protected static Graph retype(Graph rewritten, PassContext ctx) {
    return new TypeInference(ctx.registry()).apply(rewritten);
  }
}
