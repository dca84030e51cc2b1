package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Neural-network operators: matrix products ({@link MatMulOps}),
 * convolutions ({@link ConvOps}), pooling ({@link PoolOps}), normalizations
 * ({@link NormOps}) and Dropout, defined here.
 */
final class NnOps {
  private NnOps() {}

  static void register(OpRegistry r) {
    MatMulOps.register(r);
    ConvOps.register(r);
    PoolOps.register(r);
    NormOps.register(r);
    registerDropout(r);
  }

  /**
   * Dropout in inference is the identity with an all-true mask, so it is
   * ELEMWISE. Training mode with a non-zero ratio is random and unsupported.
   */
  private static void registerDropout(OpRegistry r) {
    OpDef.builder("Dropout")
        .pattern(FusionPattern.ELEMWISE)
        .inputs(1, 3)
        .outputs(1, 2)
        .attr(AttrSpec.ofFloat("ratio", 0.5f))
        .attr(AttrSpec.of("seed", Attribute.Kind.INT))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, NnTypes.FLOATS);
          TensorType x = ctx.inputType(0);
          List<TensorType> out = new ArrayList<>();
          out.add(x);
          if (ctx.outputCount() > 1) {
            out.add(x.withDType(maskType(ctx, x.dtype())));
          }
          return out;
        })
        .eval(NnOps::evalDropout)
        .register(r);
  }

  /** The mask has the data's type before opset 10, bool from then on. */
  private static DType maskType(OpContext ctx, DType data) {
    return ctx.opset() < 10 ? data : DType.BOOL;
  }

  private static List<Tensor> evalDropout(EvalContext ctx) {
    Tensor x = ctx.input(0);
    boolean training = ctx.hasInput(2) && ctx.input(2).getBool(0);
    double ratio = ctx.hasInput(1) ? ctx.input(1).getDouble(0) : ctx.attrFloat("ratio");
    if (training && ratio != 0) {
      throw new UnsupportedModelException(ctx.node().describe()
          + ": training-mode Dropout with ratio " + ratio + " drops random elements; only inference is supported");
    }
    if (ctx.outputCount() < 2) {
      return List.of(x);
    }
    DType mt = maskType(ctx, x.dtype());
    Object mask = Tensor.newStorage(mt, x.size());
    if (mask instanceof boolean[]) {
      Arrays.fill((boolean[]) mask, true);
    } else {
      for (int i = 0; i < x.size(); i++) {
        Tensor.setFromDouble(mt, mask, i, 1);
      }
    }
    return List.of(x, Tensor.of(mt, x.shape(), mask));
  }
}
