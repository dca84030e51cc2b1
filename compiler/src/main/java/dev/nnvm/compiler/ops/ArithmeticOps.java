package dev.nnvm.compiler.ops;

import static dev.nnvm.compiler.ops.ElementTypes.FLOATS;
import static dev.nnvm.compiler.ops.ElementTypes.INTS;
import static dev.nnvm.compiler.ops.ElementTypes.NUMERIC;
import static dev.nnvm.compiler.ops.ElementwiseOps.binary;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.function.DoubleBinaryOperator;

/** Broadcasting arithmetic: binary, variadic and bitwise operators. */
final class ArithmeticOps {
  private ArithmeticOps() {}

  static void register(OpRegistry r) {
    binary("Add", NUMERIC, (a, b) -> a + b, (t, a, b) -> a + b).register(r);
    binary("Sub", NUMERIC, (a, b) -> a - b, (t, a, b) -> a - b).register(r);
    binary("Mul", NUMERIC, (a, b) -> a * b, (t, a, b) -> a * b).register(r);
    binary("Div", NUMERIC, (a, b) -> a / b, ArithmeticOps::divide).register(r);
    OpDef.builder("Mod")
        .pattern(FusionPattern.BROADCAST)
        .inputs(2)
        .attr(AttrSpec.ofInt("fmod", 0).oneOf(0, 1))
        .infer(ctx -> {
          DType t = TypeRules.requireType(ctx, 0, NUMERIC);
          TypeRules.requireSameType(ctx, 0, 1);
          if (t.isFloatingPoint() && ctx.attrInt("fmod") == 0) {
            throw ctx.error("fmod must be 1 for floating element type %s", t);
          }
          return List.of(TypeRules.broadcast(ctx, t));
        })
        .eval(ctx -> {
          boolean fmod = ctx.attrInt("fmod") != 0;
          return List.of(ElementwiseKernels.binary(ctx, ctx.input(0), ctx.input(1), (a, b) -> a % b,
              (t, a, b) -> modulo(t, a, b, fmod)));
        })
        .register(r);
    OpDef.builder("Pow")
        .pattern(FusionPattern.BROADCAST)
        .inputs(2)
        .infer(ctx -> {
          DType t = TypeRules.requireType(ctx, 0, NUMERIC);
          TypeRules.requireType(ctx, 1, NUMERIC);
          return List.of(TypeRules.broadcast(ctx, t));
        })
        .eval(ctx -> List.of(power(ctx, ctx.input(0), ctx.input(1))))
        .register(r);
    variadic(r, "Max", NUMERIC, Math::max, (t, a, b) -> ElementwiseKernels.compareInts(t, a, b) >= 0 ? a : b);
    variadic(r, "Min", NUMERIC, Math::min, (t, a, b) -> ElementwiseKernels.compareInts(t, a, b) <= 0 ? a : b);
    variadic(r, "Sum", FLOATS, (a, b) -> a + b, null);
    OpDef.builder("Mean")
        .pattern(FusionPattern.BROADCAST)
        .inputs(1, Integer.MAX_VALUE)
        .infer(ElementwiseOps.sameTypeBroadcast(FLOATS))
        .eval(ctx -> {
          Tensor sum = ElementwiseKernels.fold(ctx, (a, b) -> a + b, null);
          double n = countInputs(ctx);
          return List.of(ElementwiseKernels.unary(ctx, sum, x -> x / n, null));
        })
        .register(r);
    OpDef.builder("BitShift")
        .pattern(FusionPattern.BROADCAST)
        .inputs(2)
        .infer(ElementwiseOps.sameTypeBroadcast(ElementTypes.UNSIGNED_INTS))
        .attr(AttrSpec.required("direction", Attribute.Kind.STRING).oneOf("LEFT", "RIGHT"))
        .eval(ctx -> {
          ElementwiseKernels.IntBinary g =
              ctx.attrString("direction").equals("LEFT") ? ArithmeticOps::shiftLeft : ArithmeticOps::shiftRight;
          return List.of(ElementwiseKernels.binary(ctx, ctx.input(0), ctx.input(1), null, g));
        })
        .register(r);
    binary("BitwiseAnd", INTS, null, (t, a, b) -> a & b).register(r);
    binary("BitwiseOr", INTS, null, (t, a, b) -> a | b).register(r);
    binary("BitwiseXor", INTS, null, (t, a, b) -> a ^ b).register(r);
  }

  private static void variadic(OpRegistry r, String name, DType[] types, DoubleBinaryOperator f,
      ElementwiseKernels.IntBinary g) {
    OpDef.builder(name)
        .pattern(FusionPattern.BROADCAST)
        .inputs(1, Integer.MAX_VALUE)
        .infer(ElementwiseOps.sameTypeBroadcast(types))
        .eval(ctx -> List.of(ElementwiseKernels.fold(ctx, f, g)))
        .register(r);
  }

  private static int countInputs(EvalContext ctx) {
    int n = 0;
    for (int i = 0; i < ctx.inputCount(); i++) {
      if (ctx.hasInput(i)) {
        n++;
      }
    }
    return n;
  }

  private static long divide(DType t, long a, long b) {
    if (b == 0) {
      throw new ArithmeticException("integer division by zero");
    }
    return t == DType.UINT64 ? Long.divideUnsigned(a, b) : a / b;
  }

  /** Integer remainder: C fmod (sign of the dividend) or, with {@code fmod} false, the sign of the divisor. */
  private static long modulo(DType t, long a, long b, boolean fmod) {
    if (b == 0) {
      throw new ArithmeticException("integer modulo by zero");
    }
    if (t == DType.UINT64) {
      return Long.remainderUnsigned(a, b);
    }
    long rem = a % b;
    if (!fmod && rem != 0 && (rem < 0) != (b < 0)) {
      rem += b;
    }
    return rem;
  }

  private static long shiftLeft(DType t, long a, long b) {
    return Long.compareUnsigned(b, t.bits()) >= 0 ? 0 : a << b;
  }

  private static long shiftRight(DType t, long a, long b) {
    return Long.compareUnsigned(b, t.bits()) >= 0 ? 0 : a >>> b;
  }

  /**
   * Pow with independent base and exponent types; the result has the base's
   * type. Integer powers with a non-negative integer exponent are exact (with
   * wrap-around); everything else is computed in double and converted.
   */
  private static Tensor power(EvalContext ctx, Tensor x, Tensor y) {
    long[] shape = ElementwiseKernels.broadcastShape(ctx, x, y);
    int[] ix = Broadcasting.indexMap(x.shape(), shape);
    int[] iy = Broadcasting.indexMap(y.shape(), shape);
    DType t = x.dtype();
    boolean exact = t.isInteger() && y.dtype().isInteger();
    Object out = Tensor.newStorage(t, ix.length);
    for (int i = 0; i < ix.length; i++) {
      if (exact && (y.getLong(iy[i]) >= 0 || y.dtype() == DType.UINT64)) {
        Tensor.setFromLong(t, out, i, integerPower(x.getLong(ix[i]), y.getLong(iy[i])));
      } else {
        Tensor.setFromDouble(t, out, i, Math.pow(x.getDouble(ix[i]), y.getDouble(iy[i])));
      }
    }
    return Tensor.of(t, shape, out);
  }

  /** base^exp with two's complement wrap-around, by repeated squaring ({@code exp} read as unsigned). */
  private static long integerPower(long base, long exp) {
    long result = 1;
    long b = base;
    for (long e = exp; e != 0; e >>>= 1) {
      if ((e & 1) != 0) {
        result *= b;
      }
      b *= b;
    }
    return result;
  }
}
