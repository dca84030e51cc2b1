package dev.nnvm.compiler.ops;

import static dev.nnvm.compiler.ops.ElementTypes.FLOATS;
import static dev.nnvm.compiler.ops.ElementTypes.INTS;
import static dev.nnvm.compiler.ops.ElementTypes.NUMERIC;
import static dev.nnvm.compiler.ops.ElementTypes.SIGNED_NUMERIC;
import static dev.nnvm.compiler.ops.ElementwiseOps.unary;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import java.util.List;
import java.util.function.DoublePredicate;

/** Unary math functions, rounding, sign and bitwise/logical negation. */
final class MathOps {
  private MathOps() {}

  static void register(OpRegistry r) {
    unary("Abs", NUMERIC, Math::abs, (t, x) -> t.isSigned() ? Math.abs(x) : x).register(r);
    unary("Neg", SIGNED_NUMERIC, x -> -x, (t, x) -> -x).register(r);
    unary("Sign", NUMERIC, Math::signum, (t, x) -> t.isSigned() ? Long.signum(x) : x == 0 ? 0 : 1).register(r);
    unary("Exp", FLOATS, Math::exp, null).register(r);
    unary("Log", FLOATS, Math::log, null).register(r);
    unary("Sqrt", FLOATS, Math::sqrt, null).register(r);
    unary("Reciprocal", FLOATS, x -> 1 / x, null).register(r);
    unary("Sin", FLOATS, Math::sin, null).register(r);
    unary("Cos", FLOATS, Math::cos, null).register(r);
    unary("Tan", FLOATS, Math::tan, null).register(r);
    unary("Asin", FLOATS, Math::asin, null).register(r);
    unary("Acos", FLOATS, Math::acos, null).register(r);
    unary("Atan", FLOATS, Math::atan, null).register(r);
    unary("Sinh", FLOATS, Math::sinh, null).register(r);
    unary("Cosh", FLOATS, Math::cosh, null).register(r);
    unary("Asinh", FLOATS, MathFunctions::asinh, null).register(r);
    unary("Acosh", FLOATS, MathFunctions::acosh, null).register(r);
    unary("Atanh", FLOATS, MathFunctions::atanh, null).register(r);
    unary("Erf", NUMERIC, MathFunctions::erf, null).register(r);
    unary("Floor", FLOATS, Math::floor, null).register(r);
    unary("Ceil", FLOATS, Math::ceil, null).register(r);
    unary("Round", FLOATS, Math::rint, null).register(r);
    unary("BitwiseNot", INTS, null, (t, x) -> ~x).register(r);
    unary("Not", ElementTypes.BOOL, x -> x == 0 ? 1 : 0, null).register(r);
    floatTest("IsNaN", ctx -> Double::isNaN).register(r);
    floatTest("IsInf", ctx -> {
      boolean neg = ctx.attrInt("detect_negative") != 0;
      boolean pos = ctx.attrInt("detect_positive") != 0;
      return x -> x == Double.POSITIVE_INFINITY ? pos : x == Double.NEGATIVE_INFINITY && neg;
    }).attr(AttrSpec.ofInt("detect_negative", 1)).attr(AttrSpec.ofInt("detect_positive", 1)).register(r);
  }

  /** Makes the test of a bool-valued operator from its node's attributes. */
  @FunctionalInterface
  private interface TestFactory {
    DoublePredicate make(OpContext ctx);
  }

  /** A unary operator from floating elements to bool. */
  private static OpDef.Builder floatTest(String name, TestFactory p) {
    return OpDef.builder(name)
        .pattern(FusionPattern.ELEMWISE)
        .inputs(1)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, FLOATS);
          return List.of(ElementwiseOps.boolLike(ctx.inputType(0)));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          return List.of(ElementwiseKernels.test(x, p.make(ctx)));
        });
  }
}
