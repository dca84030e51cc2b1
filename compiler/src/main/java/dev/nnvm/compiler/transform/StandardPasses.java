package dev.nnvm.compiler.transform;

import java.util.List;

/** The default optimization pipeline, in order. */
public final class StandardPasses {
  private StandardPasses() {}

  public static List<Pass> pipeline() {
    return List.of(
        InferTypes.INSTANCE,
        SimplifyInference.INSTANCE,
        FoldConstants.INSTANCE,
        EliminateCommonSubexpressions.INSTANCE,
        EliminateDeadCode.INSTANCE,
        InferTypes.INSTANCE);
  }
}
