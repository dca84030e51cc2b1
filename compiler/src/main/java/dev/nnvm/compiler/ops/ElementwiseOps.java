package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/** Elementwise and broadcasting arithmetic, math functions and activations. */
final class ElementwiseOps {
  private ElementwiseOps() {}

  static void register(OpRegistry r) {
    binary(r, "Add", (a, b) -> a + b);
    unary(r, "Relu", x -> x > 0 ? x : 0 * x);
  }

  private static void binary(OpRegistry r, String name, DoubleBinaryOperator f) {
    OpDef.builder(name)
        .pattern(FusionPattern.BROADCAST)
        .inputs(2)
        .infer(ctx -> {
          TypeRules.requireSameType(ctx, 0, 1);
          return TypeRules.BROADCAST.infer(ctx);
        })
        .eval(ctx -> List.of(binaryEval(ctx, f)))
        .register(r);
  }

  static Tensor binaryEval(EvalContext ctx, DoubleBinaryOperator f) {
    Tensor a = ctx.input(0);
    Tensor b = ctx.input(1);
    long[] shape = Broadcasting.shape(a.shape(), b.shape());
    int[] ia = Broadcasting.indexMap(a.shape(), shape);
    int[] ib = Broadcasting.indexMap(b.shape(), shape);
    DType t = a.dtype();
    Object out = Tensor.newStorage(t, ia.length);
    for (int i = 0; i < ia.length; i++) {
      Tensor.setFromDouble(t, out, i, f.applyAsDouble(a.getDouble(ia[i]), b.getDouble(ib[i])));
    }
    return Tensor.of(t, shape, out);
  }

  private static void unary(OpRegistry r, String name, DoubleUnaryOperator f) {
    OpDef.builder(name)
        .pattern(FusionPattern.ELEMWISE)
        .inputs(1)
        .infer(TypeRules.SAME_AS_INPUT_0)
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          Object out = Tensor.newStorage(x.dtype(), x.size());
          for (int i = 0; i < x.size(); i++) {
            Tensor.setFromDouble(x.dtype(), out, i, f.applyAsDouble(x.getDouble(i)));
          }
          return List.of(Tensor.of(x.dtype(), x.shape(), out));
        })
        .register(r);
  }
}
