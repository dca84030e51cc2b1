package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.UnsupportedModelException;
import java.util.List;
import dev.nnvm.compiler.ir.op.OpDef;

import static dev.nnvm.compiler.ops.ElementTypes.FLOATS;
import static dev.nnvm.compiler.ops.ElementwiseOps.binary;
import static dev.nnvm.compiler.ops.ElementwiseOps.unary;
import static dev.nnvm.compiler.ops.ElementwiseOps.unaryWithAttrs;

import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;

/** Activation functions (ELEMWISE) and the broadcasting PRelu. */
final class ActivationOps {
  private ActivationOps() {}

  private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

  static void register(OpRegistry r) {
    unary("Relu", ElementTypes.SIGNED_NUMERIC, x -> x > 0 || Double.isNaN(x) ? x : 0.0, (t, x) -> Math.max(x, 0)).register(r);
    unaryWithAttrs("LeakyRelu", FLOATS, ctx -> {
      double alpha = ctx.attrFloat("alpha");
      return x -> x >= 0 ? x : alpha * x;
    }, null).attr(AttrSpec.ofFloat("alpha", 0.01f)).register(r);
    unaryWithAttrs("Elu", FLOATS, ctx -> {
      double alpha = ctx.attrFloat("alpha");
      return x -> x >= 0 ? x : alpha * Math.expm1(x);
    }, null).attr(AttrSpec.ofFloat("alpha", 1f)).register(r);
    unaryWithAttrs("Selu", FLOATS, ctx -> {
      double alpha = ctx.attrFloat("alpha");
      double gamma = ctx.attrFloat("gamma");
      return x -> x > 0 ? gamma * x : gamma * alpha * Math.expm1(x);
    }, null).attr(AttrSpec.ofFloat("alpha", 1.67326319217681884765625f))
        .attr(AttrSpec.ofFloat("gamma", 1.05070102214813232421875f)).register(r);
    unaryWithAttrs("Celu", FLOATS, ctx -> {
      double alpha = ctx.attrFloat("alpha");
      return x -> Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha));
    }, null).attr(AttrSpec.ofFloat("alpha", 1f)).register(r);
    unary("Sigmoid", FLOATS, MathFunctions::sigmoid, null).register(r);
    unaryWithAttrs("HardSigmoid", FLOATS, ctx -> {
      double alpha = ctx.attrFloat("alpha");
      double beta = ctx.attrFloat("beta");
      return x -> Math.max(0, Math.min(1, alpha * x + beta));
    }, null).attr(AttrSpec.ofFloat("alpha", 0.2f)).attr(AttrSpec.ofFloat("beta", 0.5f)).register(r);
    unary("HardSwish", FLOATS, x -> x * Math.max(0, Math.min(1, x / 6 + 0.5)), null).register(r);
    unary("Softplus", FLOATS, MathFunctions::softplus, null).register(r);
    unary("Softsign", FLOATS, x -> x / (1 + Math.abs(x)), null).register(r);
    unary("Tanh", FLOATS, Math::tanh, null).register(r);
    unaryWithAttrs("Gelu", FLOATS, ctx -> {
      if (ctx.attrString("approximate").equals("tanh")) {
        return x -> 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
      }
      return x -> 0.5 * x * (1 + MathFunctions.erf(x / Math.sqrt(2)));
    }, null).attr(AttrSpec.ofString("approximate", "none").oneOf("none", "tanh")).register(r);
    unary("Mish", FLOATS, x -> x * Math.tanh(MathFunctions.softplus(x)), null).register(r);
    unaryWithAttrs("ThresholdedRelu", FLOATS, ctx -> {
      double alpha = ctx.attrFloat("alpha");
      return x -> x > alpha ? x : 0;
    }, null).attr(AttrSpec.ofFloat("alpha", 1f)).register(r);
    unaryWithAttrs("Shrink", ElementTypes.NUMERIC, ctx -> {
      double bias = ctx.attrFloat("bias");
      double lambd = ctx.attrFloat("lambd");
      return x -> x < -lambd ? x + bias : x > lambd ? x - bias : 0;
    }, null).attr(AttrSpec.ofFloat("bias", 0f)).attr(AttrSpec.ofFloat("lambd", 0.5f)).register(r);
    DType[] preluTypes = ElementTypes.concat(FLOATS, new DType[] {DType.INT32, DType.INT64, DType.UINT32, DType.UINT64});
    OpDef.TypeRule preluRule = ElementwiseOps.sameTypeBroadcast(preluTypes);
    ElementwiseKernels.IntBinary preluInt = (t, x, slope) -> t.isSigned() && x < 0 ? slope * x : x;
    binary("PRelu", preluTypes, (x, slope) -> x < 0 ? slope * x : x, preluInt)
        .infer(ctx -> {
          requireNumpySlope(ctx, ctx.inputType(1).shape().isStatic() ? ctx.inputType(1).shape().elementCount() : -1);
          return preluRule.infer(ctx);
        })
        .eval(ctx -> {
          requireNumpySlope(ctx, ctx.input(1).size());
          return List.of(ElementwiseKernels.binary(ctx, ctx.input(0), ctx.input(1), (x, slope) -> x < 0 ? slope * x : x,
              preluInt));
        })
        .register(r);
  }

  /** PRelu-6 applied a [C] slope along the channel axis, not by numpy broadcasting: only a scalar slope means the same. */
  private static void requireNumpySlope(dev.nnvm.compiler.ir.op.OpContext ctx, long slopeElements) {
    if (ctx.opset() < 7 && slopeElements != 1) {
      throw new UnsupportedModelException(ctx.node().describe()
          + ": PRelu before opset 7 applies the slope per channel; only a single slope value is supported");
    }
  }
}
