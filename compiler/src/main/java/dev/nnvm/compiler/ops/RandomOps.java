package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.List;
import java.util.Random;

/**
 * Random generators: RandomNormal, RandomUniform, their *Like forms and
 * Bernoulli. Values follow the requested distribution but not ONNX Runtime's
 * generator: with a {@code seed} attribute the same node gives the same values
 * on every run; without one each run differs. All are OPAQUE (never fused or
 * folded into their consumers).
 */
final class RandomOps {
  private RandomOps() {}

  private static final DType[] FLOATS = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16};

  static void register(OpRegistry r) {
    generator(r, "RandomNormal", false, true);
    generator(r, "RandomUniform", false, false);
    generator(r, "RandomNormalLike", true, true);
    generator(r, "RandomUniformLike", true, false);

    OpDef.builder("Bernoulli")
        .nondeterministic()
        .inputs(1)
        .attr(AttrSpec.of("dtype", Attribute.Kind.INT))
        .attr(AttrSpec.of("seed", Attribute.Kind.FLOAT))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, FLOATS);
          DType t = ctx.hasAttr("dtype") ? dtype(ctx) : ctx.inputType(0).dtype();
          return List.of(ctx.inputType(0).withDType(t));
        })
        .eval(ctx -> {
          Tensor p = ctx.input(0);
          DType t = ctx.hasAttr("dtype") ? dtype(ctx) : p.dtype();
          Random rnd = random(ctx);
          Object out = Tensor.newStorage(t, p.size());
          for (int i = 0; i < p.size(); i++) {
            Tensor.setFromDouble(t, out, i, rnd.nextDouble() < p.getDouble(i) ? 1 : 0);
          }
          return List.of(Tensor.of(t, p.shape(), out));
        })
        .register(r);
  }

  private static void generator(OpRegistry r, String name, boolean like, boolean normal) {
    OpDef.Builder b = OpDef.builder(name)
        .nondeterministic()
        .inputs(like ? 1 : 0)
        .attr(like ? AttrSpec.of("dtype", Attribute.Kind.INT) : AttrSpec.ofInt("dtype", 1))
        .attr(AttrSpec.of("seed", Attribute.Kind.FLOAT));
    if (normal) {
      b.attr(AttrSpec.ofFloat("mean", 0f)).attr(AttrSpec.ofFloat("scale", 1f));
    } else {
      b.attr(AttrSpec.ofFloat("low", 0f)).attr(AttrSpec.ofFloat("high", 1f));
    }
    if (!like) {
      b.attr(AttrSpec.required("shape", Attribute.Kind.INTS));
    }
    b.infer(ctx -> {
      if (like) {
        DType t = ctx.hasAttr("dtype") ? dtype(ctx) : ctx.inputType(0).dtype();
        requireFloat(ctx, t);
        return List.of(ctx.inputType(0).withDType(t));
      }
      DType t = dtype(ctx);
      requireFloat(ctx, t);
      return List.of(new TensorType(t, Shape.of(shape(ctx))));
    });
    b.eval(ctx -> {
      DType t = like && !ctx.hasAttr("dtype") ? ctx.input(0).dtype() : dtype(ctx);
      long[] shape = like ? ctx.input(0).shape() : shape(ctx);
      return List.of(sample(ctx, t, shape, normal));
    });
    b.register(r);
  }

  private static Tensor sample(EvalContext ctx, DType t, long[] shape, boolean normal) {
    Random rnd = random(ctx);
    int n = Tensor.elementCount(shape);
    Object out = Tensor.newStorage(t, n);
    for (int i = 0; i < n; i++) {
      double v = normal
          ? ctx.attrFloat("mean") + ctx.attrFloat("scale") * rnd.nextGaussian()
          : ctx.attrFloat("low") + (ctx.attrFloat("high") - ctx.attrFloat("low")) * rnd.nextDouble();
      Tensor.setFromDouble(t, out, i, v);
    }
    return Tensor.of(t, shape, out);
  }

  private static Random random(OpContext ctx) {
    return ctx.hasAttr("seed") ? new Random(Float.floatToIntBits(ctx.attrFloat("seed"))) : new Random();
  }

  private static long[] shape(OpContext ctx) {
    long[] s = ctx.attrInts("shape");
    for (long d : s) {
      if (d < 0) {
        throw ctx.error("shape %s has a negative dimension", java.util.Arrays.toString(s));
      }
    }
    return s;
  }

  private static DType dtype(OpContext ctx) {
    try {
      return DType.fromOnnx((int) ctx.attrInt("dtype"));
    } catch (IllegalArgumentException e) {
      throw ctx.error("dtype %d: %s", ctx.attrInt("dtype"), e.getMessage());
    }
  }

  private static void requireFloat(OpContext ctx, DType t) {
    for (DType f : FLOATS) {
      if (f == t) {
        return;
      }
    }
    throw ctx.error("dtype %s is not a floating type", t);
  }
}
