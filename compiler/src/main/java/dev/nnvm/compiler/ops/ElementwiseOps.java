package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * The elementwise operator family: unary math ({@link MathOps}), activations
 * ({@link ActivationOps}), broadcasting arithmetic ({@link ArithmeticOps}),
 * comparisons and logic ({@link ComparisonOps}), and conversions and
 * selection ({@link ConversionOps}). This class registers them all and holds
 * the builders they share.
 */
final class ElementwiseOps {
  private ElementwiseOps() {}

  static void register(OpRegistry r) {
    MathOps.register(r);
    ActivationOps.register(r);
    ArithmeticOps.register(r);
    ComparisonOps.register(r);
    ConversionOps.register(r);
  }

  /** Makes the floating function of a unary operator from its node's attributes. */
  @FunctionalInterface
  interface UnaryFactory {
    DoubleUnaryOperator make(OpContext ctx);
  }

  /**
   * A unary ELEMWISE operator on the given element types: {@code f} for
   * floating types and bool (null when {@code types} has none), {@code g} for
   * integer types (null: integers go through {@code f} with cast-style
   * conversion of the result).
   */
  static OpDef.Builder unaryWithAttrs(String name, DType[] types, UnaryFactory f, ElementwiseKernels.IntUnary g) {
    return OpDef.builder(name)
        .pattern(FusionPattern.ELEMWISE)
        .inputs(1)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, types);
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> List.of(ElementwiseKernels.unary(ctx, ctx.input(0), f.make(ctx), g)));
  }

  /** A unary operator with a floating function that needs no attributes. */
  static OpDef.Builder unary(String name, DType[] types, DoubleUnaryOperator f, ElementwiseKernels.IntUnary g) {
    return unaryWithAttrs(name, types, ctx -> f, g);
  }

  /**
   * A binary BROADCAST operator whose inputs share one element type from
   * {@code types}; the result has that type. {@code f} computes floating
   * types (null when {@code types} has none), {@code g} integer types.
   */
  static OpDef.Builder binary(String name, DType[] types, DoubleBinaryOperator f, ElementwiseKernels.IntBinary g) {
    return OpDef.builder(name)
        .pattern(FusionPattern.BROADCAST)
        .inputs(2)
        .infer(sameTypeBroadcast(types))
        .eval(ctx -> List.of(ElementwiseKernels.binary(ctx, ctx.input(0), ctx.input(1), f, g)));
  }

  /**
   * The type rule of broadcasting operators whose inputs all share one element
   * type from {@code types}: that type, with the broadcast shape.
   */
  static OpDef.TypeRule sameTypeBroadcast(DType[] types) {
    return ctx -> {
      DType t = TypeRules.requireType(ctx, 0, types);
      for (int i = 1; i < ctx.inputCount(); i++) {
        if (ctx.hasInput(i)) {
          TypeRules.requireSameType(ctx, 0, i);
        }
      }
      return List.of(TypeRules.broadcast(ctx, t));
    };
  }

  /** The type of a unary operator whose output is bool with the input's shape. */
  static TensorType boolLike(TensorType t) {
    return t.withDType(DType.BOOL);
  }
}
