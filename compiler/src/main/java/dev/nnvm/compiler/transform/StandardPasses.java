package dev.nnvm.compiler.transform;

import java.util.List;

/**
 * The default optimization pipeline, in order. Level 0 only infers types
 * and rewrites the {@code ai.onnx.ml} operators standard ones express
 * ({@link DecomposeMlOps}: the compiler lowers only those);
 * level 1 adds inference simplification, constant and shape folding, CSE,
 * DCE, algebraic clean-ups and operator fusion; level 2 (the default) adds
 * the pattern fusions engines use for transformers and scale folding into
 * convolution and matrix weights (batch normalization disappears); level 3
 * adds the blocked NCHW{8}c convolution layout.
 */
public final class StandardPasses {
  private StandardPasses() {}

  public static List<Pass> pipeline() {
    return List.of(
        InferTypes.INSTANCE,
        DecomposeMlOps.INSTANCE,
        SimplifyInference.INSTANCE,
        FoldConstants.INSTANCE,
        FoldShapeComputations.INSTANCE,
        FoldConstants.INSTANCE,
        EliminateCommonSubexpressions.INSTANCE,
        EliminateDeadCode.INSTANCE,
        CancelTransposes.INSTANCE,
        CollapseReshapes.INSTANCE,
        RemoveRedundantCasts.INSTANCE,
        SimplifyInference.INSTANCE,
        FoldScaleAxis.INSTANCE,
        FuseLayerNorm.INSTANCE,
        FuseGelu.INSTANCE,
        FuseAttention.INSTANCE,
        FuseMatMulBias.INSTANCE,
        FoldConstants.INSTANCE,
        EliminateDeadCode.INSTANCE,
        AlterOpLayout.INSTANCE,
        FuseOperators.INSTANCE);
  }
}
