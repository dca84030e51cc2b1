package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.op.OpRegistry;

/** Registers every built-in operator family. */
public final class StandardOps {
  private StandardOps() {}

  public static void registerAll(OpRegistry r) {
    ElementwiseOps.register(r);
    ReductionOps.register(r);
    NnOps.register(r);
    ShapeOps.register(r);
    QuantOps.register(r);
    ControlFlowOps.register(r);
    RandomOps.register(r);
    NnvmOps.register(r);
    TreeEnsembleOps.register(r);
    MlPreprocessingOps.register(r);
    MlEncoderOps.register(r);
  }
}
