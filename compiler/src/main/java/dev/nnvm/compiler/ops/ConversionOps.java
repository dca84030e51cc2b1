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
import java.util.List;

/** Element type conversion (Cast, CastLike), clamping (Clip) and selection (Where). */
final class ConversionOps {
  private ConversionOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("Cast")
        .pattern(FusionPattern.ELEMWISE)
        .inputs(1)
        .attr(AttrSpec.required("to", Attribute.Kind.INT))
        .attr(AttrSpec.ofInt("saturate", 1))
        .infer(ctx -> List.of(ctx.inputType(0).withDType(target(ctx))))
        .eval(ctx -> List.of(cast(ctx, ctx.input(0), target(ctx))))
        .register(r);
    OpDef.builder("CastLike")
        .pattern(FusionPattern.ELEMWISE)
        .inputs(2)
        .attr(AttrSpec.ofInt("saturate", 1))
        .infer(ctx -> List.of(ctx.inputType(0).withDType(ctx.inputType(1).dtype())))
        .eval(ctx -> List.of(cast(ctx, ctx.input(0), ctx.input(1).dtype())))
        .register(r);
    OpDef.builder("Clip")
        .pattern(FusionPattern.ELEMWISE)
        .inputs(1, 3)
        .attr(AttrSpec.ofFloat("min", -Float.MAX_VALUE))
        .attr(AttrSpec.ofFloat("max", Float.MAX_VALUE))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, ctx.opset() < 11 ? ElementTypes.FLOATS : ElementTypes.NUMERIC);
          for (int i = 1; i < ctx.inputCount(); i++) {
            if (ctx.hasInput(i)) {
              TypeRules.requireSameType(ctx, 0, i);
              requireScalar(ctx, i, ctx.inputType(i));
            }
          }
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> List.of(clip(ctx)))
        .register(r);
    OpDef.builder("Where")
        .pattern(FusionPattern.BROADCAST)
        .inputs(3)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, ElementTypes.BOOL);
          TypeRules.requireSameType(ctx, 1, 2);
          return List.of(TypeRules.broadcast(ctx, ctx.inputType(1).dtype()));
        })
        .eval(ctx -> List.of(where(ctx, ctx.input(0), ctx.input(1), ctx.input(2))))
        .register(r);
  }

  private static DType target(OpContext ctx) {
    long code = ctx.attrInt("to");
    try {
      return DType.fromOnnx((int) code);
    } catch (IllegalArgumentException e) {
      throw new UnsupportedModelException(ctx.node().describe() + ": cannot cast to " + DType.onnxName((int) code)
          + ", an element type this project does not support");
    }
  }

  private static Tensor cast(EvalContext ctx, Tensor x, DType to) {
    try {
      return CastKernel.cast(x, to);
    } catch (NumberFormatException e) {
      throw ctx.error("%s", e.getMessage());
    }
  }

  private static void requireScalar(OpContext ctx, int i, TensorType t) {
    if (t.shape().hasRank() && t.shape().rank() > 1) {
      throw ctx.error("input %d (%s) must be a scalar, got %s", i, i == 1 ? "min" : "max", t);
    }
  }

  private static Tensor clip(EvalContext ctx) {
    Tensor x = ctx.input(0);
    DType t = x.dtype();
    boolean fromInputs = ctx.opset() >= 11;
    Tensor lo = fromInputs ? bound(ctx, 1) : null;
    Tensor hi = fromInputs ? bound(ctx, 2) : null;
    if (t.isFloatingPoint()) {
      double min = fromInputs ? (lo == null ? Double.NEGATIVE_INFINITY : lo.getDouble(0)) : ctx.attrFloat("min");
      double max = fromInputs ? (hi == null ? Double.POSITIVE_INFINITY : hi.getDouble(0)) : ctx.attrFloat("max");
      return ElementwiseKernels.unary(ctx, x, v -> Math.min(Math.max(v, min), max), null);
    }
    return ElementwiseKernels.unary(ctx, x, v -> v, (type, v) -> {
      long c = v;
      if (lo != null && ElementwiseKernels.compareInts(type, c, lo.longs()[0]) < 0) {
        c = lo.longs()[0];
      }
      if (hi != null && ElementwiseKernels.compareInts(type, c, hi.longs()[0]) > 0) {
        c = hi.longs()[0];
      }
      return c;
    });
  }

  private static Tensor bound(EvalContext ctx, int i) {
    Tensor b = ctx.optionalInput(i);
    if (b != null && b.size() != 1) {
      throw ctx.error("input %d (%s) must be a scalar, got shape %s", i, i == 1 ? "min" : "max",
          java.util.Arrays.toString(b.shape()));
    }
    return b;
  }

  private static Tensor where(EvalContext ctx, Tensor cond, Tensor x, Tensor y) {
    long[] shape = ElementwiseKernels.broadcastShape(ctx, cond, x, y);
    int[] ic = Broadcasting.indexMap(cond.shape(), shape);
    int[] ix = Broadcasting.indexMap(x.shape(), shape);
    int[] iy = Broadcasting.indexMap(y.shape(), shape);
    boolean[] c = cond.bools();
    Object out = Tensor.newStorage(x.dtype(), ic.length);
    for (int i = 0; i < ic.length; i++) {
      if (c[ic[i]]) {
        System.arraycopy(x.data(), ix[i], out, i, 1);
      } else {
        System.arraycopy(y.data(), iy[i], out, i, 1);
      }
    }
    return Tensor.of(x.dtype(), shape, out);
  }
}
