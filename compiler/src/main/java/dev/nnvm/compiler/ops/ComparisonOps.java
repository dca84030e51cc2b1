package dev.nnvm.compiler.ops;

import static dev.nnvm.compiler.ops.ElementTypes.NUMERIC;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.function.IntPredicate;

/** Broadcasting comparisons and boolean logic; all produce bool. */
final class ComparisonOps {
  private ComparisonOps() {}

  /** The order of two elements when one of them is NaN. */
  private static final int UNORDERED = 2;

  static void register(OpRegistry r) {
    DType[] equalTypes = ElementTypes.concat(ElementTypes.NUMERIC_AND_BOOL, new DType[] {DType.STRING});
    comparison(r, "Equal", equalTypes, c -> c == 0);
    comparison(r, "Less", NUMERIC, c -> c == -1);
    comparison(r, "LessOrEqual", NUMERIC, c -> c == -1 || c == 0);
    comparison(r, "Greater", NUMERIC, c -> c == 1);
    comparison(r, "GreaterOrEqual", NUMERIC, c -> c == 1 || c == 0);
    logic(r, "And", (a, b) -> a && b);
    logic(r, "Or", (a, b) -> a || b);
    logic(r, "Xor", (a, b) -> a != b);
  }

  private static void comparison(OpRegistry r, String name, DType[] types, IntPredicate onOrder) {
    OpDef.builder(name)
        .pattern(FusionPattern.BROADCAST)
        .inputs(2)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, types);
          TypeRules.requireSameType(ctx, 0, 1);
          return List.of(TypeRules.broadcast(ctx, DType.BOOL));
        })
        .eval(ctx -> List.of(ElementwiseKernels.compare(ctx, ctx.input(0), ctx.input(1),
            (a, i, b, j) -> onOrder.test(order(a, i, b, j)))))
        .register(r);
  }

  /** -1, 0 or 1 as element i of a is below, equal to or above element j of b; UNORDERED with NaN. */
  private static int order(Tensor a, int i, Tensor b, int j) {
    DType t = a.dtype();
    if (t.isFloatingPoint()) {
      double x = a.getDouble(i);
      double y = b.getDouble(j);
      return x < y ? -1 : x > y ? 1 : x == y ? 0 : UNORDERED;
    }
    switch (t) {
      case BOOL: return Boolean.compare(a.bools()[i], b.bools()[j]);
      case STRING: return Integer.signum(a.strings()[i].compareTo(b.strings()[j]));
      default: return Integer.signum(ElementwiseKernels.compareInts(t, a.longs()[i], b.longs()[j]));
    }
  }

  /** A boolean function of two bools. */
  @FunctionalInterface
  private interface BoolBinary {
    boolean apply(boolean a, boolean b);
  }

  private static void logic(OpRegistry r, String name, BoolBinary f) {
    OpDef.builder(name)
        .pattern(FusionPattern.BROADCAST)
        .inputs(2)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, ElementTypes.BOOL);
          TypeRules.requireType(ctx, 1, ElementTypes.BOOL);
          return List.of(TypeRules.broadcast(ctx, DType.BOOL));
        })
        .eval(ctx -> List.of(ElementwiseKernels.compare(ctx, ctx.input(0), ctx.input(1),
            (a, i, b, j) -> f.apply(a.bools()[i], b.bools()[j]))))
        .register(r);
  }
}
