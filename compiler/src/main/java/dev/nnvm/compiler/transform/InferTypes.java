package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.ir.Graph;
import java.util.Set;

/** Annotates every intermediate value with its inferred type (symbolic dimensions kept). */
public final class InferTypes implements Pass {
  public static final InferTypes INSTANCE = new InferTypes();

  private InferTypes() {}

  @Override
  public String name() {
    return "InferTypes";
  }

  @Override
  public int minLevel() {
    return 0;
  }

  @Override
  public Set<String> provides() {
    return Set.of(TYPES);
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    Graph typed = new TypeInference(ctx.registry()).apply(graph);
    return typed.equals(graph) ? graph : typed;
  }
}
