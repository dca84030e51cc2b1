package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.TensorType;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.lower.Expr.BinaryOp;
import dev.nnvm.compiler.lower.Expr.CompareOp;
import dev.nnvm.compiler.lower.Expr.UnaryOp;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compute rules of the operators that lower to generated loops (elementwise,
 * broadcast, injective) and the reductions, by operator. Operators without a
 * rule are lowered by hand-written kernels (GEMM, convolution) or not at all.
 */
public final class LoweringRules {
  private static final LoweringRules STANDARD = new LoweringRules();

  private final Map<String, ComputeRule> rules = new HashMap<>();
  private final Map<String, Reduction> reductions = new HashMap<>();

  private LoweringRules() {
    registerElementwise();
    registerMoreElementwise();
    registerInjective();
    registerCnn();
    reductions.put("::ReduceSum", Reduction.SUM);
    reductions.put("::ReduceMean", Reduction.MEAN);
    reductions.put("::ReduceMax", Reduction.MAX);
    reductions.put("::ReduceMin", Reduction.MIN);
    reductions.put("::ReduceProd", Reduction.PROD);
    reductions.put("::ReduceSumSquare", Reduction.SUM_SQUARE);
    reductions.put("::ReduceL1", Reduction.L1);
    reductions.put("::ReduceL2", Reduction.L2);
    reductions.put("::ReduceLogSum", Reduction.LOG_SUM);
    reductions.put("::GlobalAveragePool", Reduction.MEAN);
    reductions.put("::GlobalMaxPool", Reduction.MAX);
  }

  public static LoweringRules standard() {
    return STANDARD;
  }

  private static String key(Node n) {
    return n.domain() + "::" + n.opType();
  }

  public Optional<ComputeRule> rule(Node n) {
    return Optional.ofNullable(rules.get(key(n)));
  }

  public Optional<Reduction> reduction(Node n) {
    return Optional.ofNullable(reductions.get(key(n)));
  }

  /** The axes a reduction node reduces (normalized), from its attribute or constant input. */
  static int[] reducedAxes(LowerContext ctx, int rank) {
    String op = ctx.node().opType();
    if (op.startsWith("Global")) {
      int[] axes = new int[rank - 2];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = i + 2;
      }
      return axes;
    }
    long[] axes;
    if (ctx.node().attribute("axes") != null) {
      axes = ctx.node().attribute("axes").asInts();
    } else if (ctx.node().hasInput(1)) {
      axes = ctx.constant(1).map(Tensor::toLongArray).orElseThrow(() -> new UnsupportedModelException(
          ctx.node().describe() + ": reduction axes computed at run time cannot be lowered"));
    } else {
      axes = new long[0];
    }
    if (axes.length == 0) {
      if (ctx.node().attribute("noop_with_empty_axes") != null
          && ctx.node().attribute("noop_with_empty_axes").asInt() != 0) {
        return new int[0];
      }
      int[] all = new int[rank];
      for (int i = 0; i < rank; i++) {
        all[i] = i;
      }
      return all;
    }
    int[] out = new int[axes.length];
    for (int i = 0; i < axes.length; i++) {
      out[i] = ctx.axis(axes[i], rank, "axis");
    }
    java.util.Arrays.sort(out);
    return out;
  }

  static boolean keepDims(LowerContext ctx) {
    if (ctx.node().opType().startsWith("Global")) {
      return true;
    }
    return ctx.node().attribute("keepdims") == null || ctx.node().attribute("keepdims").asInt() != 0;
  }

  private void put(String op, ComputeRule r) {
    rules.put("::" + op, r);
  }

  private void unary(String op, java.util.function.Function<Expr, Expr> f) {
    put(op, (ctx, idx) -> f.apply(ctx.input(0, idx)));
  }

  private static Expr c(double v, Expr like) {
    return Exprs.constant(v, like.type());
  }

  private static Expr op(BinaryOp op, Expr a, Expr b) {
    return Exprs.value(op, a, b);
  }

  private static Expr floatAttr(LowerContext ctx, String name, Expr like) {
    return c(ctx.attrFloat(name), like);
  }

  private void registerElementwise() {
    for (UnaryOp u : List.of(UnaryOp.ABS, UnaryOp.EXP, UnaryOp.LOG, UnaryOp.SQRT, UnaryOp.SIN, UnaryOp.COS,
        UnaryOp.TAN, UnaryOp.TANH, UnaryOp.ERF, UnaryOp.FLOOR, UnaryOp.CEIL, UnaryOp.SIGN, UnaryOp.ASIN, UnaryOp.ACOS,
        UnaryOp.ATAN, UnaryOp.SINH, UnaryOp.COSH, UnaryOp.ASINH, UnaryOp.ACOSH, UnaryOp.ATANH)) {
      String name = u.name().charAt(0) + u.name().substring(1).toLowerCase(java.util.Locale.ROOT);
      unary(name, x -> Exprs.unary(u, x));
    }
    unary("Round", x -> Exprs.unary(UnaryOp.ROUND_EVEN, x));
    unary("Neg", x -> Exprs.unary(UnaryOp.NEG, x));
    unary("Not", x -> Exprs.unary(UnaryOp.NOT, x));
    unary("IsNaN", x -> Exprs.unary(UnaryOp.IS_NAN, x));
    unary("Reciprocal", x -> op(BinaryOp.DIV, c(1, x), x));
    unary("Identity", x -> x);
    unary("Relu", x -> Exprs.select(Exprs.compare(CompareOp.GT, x, c(0, x)), x, c(0, x)));
    unary("Sigmoid", x -> op(BinaryOp.DIV, c(1, x), op(BinaryOp.ADD, c(1, x), Exprs.unary(UnaryOp.EXP,
        Exprs.unary(UnaryOp.NEG, x)))));
    unary("Softplus", x -> Exprs.unary(UnaryOp.LOG, op(BinaryOp.ADD, Exprs.unary(UnaryOp.EXP, x), c(1, x))));
    put("Dropout", (ctx, idx) -> {
      // Inference only: a training_mode input must be a constant false.
      boolean inference = !ctx.node().hasInput(2) || ctx.constant(2).map(t -> !t.getBool(0)).orElse(false);
      if (!inference) {
        throw new UnsupportedModelException(ctx.node().describe()
            + ": training-mode Dropout (training_mode not a constant false) drops random elements;"
            + " only inference is compiled");
      }
      return ctx.input(0, idx);
    });
    put("LeakyRelu", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      return Exprs.select(Exprs.compare(CompareOp.GE, x, c(0, x)), x, op(BinaryOp.MUL, floatAttr(ctx, "alpha", x), x));
    });
    put("Elu", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      return Exprs.select(Exprs.compare(CompareOp.GE, x, c(0, x)), x, op(BinaryOp.MUL, floatAttr(ctx, "alpha", x),
          op(BinaryOp.SUB, Exprs.unary(UnaryOp.EXP, x), c(1, x))));
    });
    put("HardSigmoid", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      Expr y = op(BinaryOp.ADD, op(BinaryOp.MUL, floatAttr(ctx, "alpha", x), x), floatAttr(ctx, "beta", x));
      return op(BinaryOp.MAX, c(0, x), op(BinaryOp.MIN, c(1, x), y));
    });
    unary("HardSwish", x -> op(BinaryOp.MUL, x, op(BinaryOp.MAX, c(0, x), op(BinaryOp.MIN, c(1, x),
        op(BinaryOp.ADD, op(BinaryOp.MUL, c(1.0 / 6, x), x), c(0.5, x))))));
    put("Gelu", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      Expr inner;
      if (ctx.attrString("approximate").equals("tanh")) {
        Expr cube = op(BinaryOp.MUL, op(BinaryOp.MUL, x, x), x);
        inner = Exprs.unary(UnaryOp.TANH, op(BinaryOp.MUL, c(Math.sqrt(2 / Math.PI), x),
            op(BinaryOp.ADD, x, op(BinaryOp.MUL, c(0.044715, x), cube))));
      } else {
        inner = Exprs.unary(UnaryOp.ERF, op(BinaryOp.MUL, x, c(1 / Math.sqrt(2), x)));
      }
      return op(BinaryOp.MUL, op(BinaryOp.MUL, c(0.5, x), x), op(BinaryOp.ADD, c(1, x), inner));
    });
    put("Cast", (ctx, idx) -> Exprs.as(ctx.input(0, idx), DType.fromOnnx((int) ctx.attrInt("to"))));
    put("CastLike", (ctx, idx) -> Exprs.as(ctx.input(0, idx), ctx.inputType(1).dtype()));
    put("Clip", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      Expr y = x;
      Optional<Expr> lo = bound(ctx, "min", 1, idx, x);
      Optional<Expr> hi = bound(ctx, "max", 2, idx, x);
      if (lo.isPresent()) {
        y = op(BinaryOp.MAX, y, lo.get());
      }
      if (hi.isPresent()) {
        y = op(BinaryOp.MIN, y, hi.get());
      }
      return y;
    });
    binary("Add", BinaryOp.ADD);
    binary("Sub", BinaryOp.SUB);
    binary("Mul", BinaryOp.MUL);
    binary("Div", BinaryOp.DIV);
    // Trilu keeps the elements on or above (upper) / below the k-th diagonal of the last two axes.
    put("Trilu", (ctx, idx) -> {
      long k = 0;
      if (ctx.node().hasInput(1)) {
        k = ctx.constant(1).orElseThrow(() -> new UnsupportedModelException(ctx.node().describe()
            + ": a diagonal offset k computed at run time cannot be lowered")).getLong(0);
      }
      Expr x = ctx.input(0, idx);
      Expr diagonal = Exprs.sub(idx.get(idx.size() - 1), idx.get(idx.size() - 2));
      boolean upper = !ctx.hasAttr("upper") || ctx.attrInt("upper") != 0;
      Expr keep = Exprs.compare(upper ? CompareOp.GE : CompareOp.LE, diagonal, Exprs.i64(k));
      return Exprs.select(keep, x, c(0, x));
    });
    // Mod: fmod=1 is C's fmod (the sign of the dividend); fmod=0 (integers) takes the divisor's sign.
    put("Mod", (ctx, idx) -> {
      Expr a = ctx.broadcastInput(0, idx);
      Expr b = ctx.broadcastInput(1, idx);
      Expr r = op(BinaryOp.REM, a, b);
      if (ctx.attrInt("fmod") != 0) {
        return r;
      }
      Expr zero = c(0, r);
      Expr signsDiffer = Exprs.value(BinaryOp.XOR, Exprs.compare(CompareOp.LT, r, zero),
          Exprs.compare(CompareOp.LT, b, zero));
      Expr adjust = Exprs.value(BinaryOp.AND, Exprs.compare(CompareOp.NE, r, zero), signsDiffer);
      return Exprs.select(adjust, op(BinaryOp.ADD, r, b), r);
    });
    // Pow allows an exponent of another type (an integer power of a float): compute in the base's type.
    put("Pow", (ctx, idx) -> {
      Expr x = ctx.broadcastInput(0, idx);
      Expr y = ctx.broadcastInput(1, idx);
      return op(BinaryOp.POW, x, y.type() == x.type() ? y : Exprs.as(y, x.type()));
    });
    binary("And", BinaryOp.AND);
    binary("Or", BinaryOp.OR);
    binary("Xor", BinaryOp.XOR);
    variadic("Max", BinaryOp.MAX);
    variadic("Min", BinaryOp.MIN);
    variadic("Sum", BinaryOp.ADD);
    put("Mean", (ctx, idx) -> {
      Expr s = ctx.broadcastInput(0, idx);
      for (int i = 1; i < ctx.inputCount(); i++) {
        s = op(BinaryOp.ADD, s, ctx.broadcastInput(i, idx));
      }
      return op(BinaryOp.DIV, s, c(ctx.inputCount(), s));
    });
    compare("Equal", CompareOp.EQ);
    compare("Less", CompareOp.LT);
    compare("LessOrEqual", CompareOp.LE);
    compare("Greater", CompareOp.GT);
    compare("GreaterOrEqual", CompareOp.GE);
    put("Where", (ctx, idx) -> Exprs.select(ctx.broadcastInput(0, idx), ctx.broadcastInput(1, idx),
        ctx.broadcastInput(2, idx)));
    put("PRelu", (ctx, idx) -> {
      Expr x = ctx.broadcastInput(0, idx);
      return Exprs.select(Exprs.compare(CompareOp.LT, x, c(0, x)), op(BinaryOp.MUL, ctx.broadcastInput(1, idx), x), x);
    });
  }

  /** Activations, bitwise operators, inference BatchNormalization and (de)quantization. */
  private void registerMoreElementwise() {
    put("Selu", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      Expr negative = op(BinaryOp.MUL, floatAttr(ctx, "alpha", x), op(BinaryOp.SUB, Exprs.unary(UnaryOp.EXP, x),
          c(1, x)));
      return op(BinaryOp.MUL, floatAttr(ctx, "gamma", x), Exprs.select(Exprs.compare(CompareOp.GT, x, c(0, x)), x,
          negative));
    });
    put("ThresholdedRelu", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      return Exprs.select(Exprs.compare(CompareOp.GT, x, floatAttr(ctx, "alpha", x)), x, c(0, x));
    });
    // Shrink of integers computes in floating point (a bias of 1.5 stays 1.5) and truncates, as ONNX Runtime.
    put("Shrink", (ctx, idx) -> {
      Expr in = ctx.input(0, idx);
      Expr x = in.type().isFloatingPoint() ? in : Exprs.as(in, DType.FLOAT64);
      Expr lambd = floatAttr(ctx, "lambd", x);
      Expr bias = floatAttr(ctx, "bias", x);
      return Exprs.as(Exprs.select(Exprs.compare(CompareOp.LT, x, Exprs.unary(UnaryOp.NEG, lambd)),
          op(BinaryOp.ADD, x, bias), Exprs.select(Exprs.compare(CompareOp.GT, x, lambd), op(BinaryOp.SUB, x, bias),
              c(0, x))), in.type());
    });
    put("IsInf", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      Expr positive = Exprs.compare(CompareOp.EQ, x, c(Double.POSITIVE_INFINITY, x));
      Expr negative = Exprs.compare(CompareOp.EQ, x, c(Double.NEGATIVE_INFINITY, x));
      boolean pos = ctx.attrInt("detect_positive") != 0;
      boolean neg = ctx.attrInt("detect_negative") != 0;
      return pos && neg ? Exprs.value(BinaryOp.OR, positive, negative) : pos ? positive : neg ? negative
          : Exprs.compare(CompareOp.NE, x, x);
    });
    binary("BitwiseAnd", BinaryOp.AND);
    binary("BitwiseOr", BinaryOp.OR);
    binary("BitwiseXor", BinaryOp.XOR);
    unary("BitwiseNot", x -> op(BinaryOp.XOR, x, Exprs.constant(-1, x.type())));
    // Inference BatchNormalization with statistics that are not constants (constant ones are folded
    // into Mul and Add before lowering): per channel (axis 1), (x - mean) / sqrt(var + eps) * scale + B.
    put("BatchNormalization", (ctx, idx) -> {
      if (ctx.attrInt("training_mode") != 0 || ctx.attrInt("spatial") != 1 || ctx.node().outputs().size() > 1) {
        throw new UnsupportedModelException(ctx.node().describe()
            + ": only inference BatchNormalization (one output, spatial) can be compiled");
      }
      Expr x = ctx.input(0, idx);
      List<Expr> channel = List.of(idx.size() > 1 ? idx.get(1) : Exprs.i64(0));
      Expr centered = op(BinaryOp.SUB, x, Exprs.as(ctx.input(3, channel), x.type()));
      Expr inv = op(BinaryOp.DIV, c(1, x), Exprs.unary(UnaryOp.SQRT, op(BinaryOp.ADD,
          Exprs.as(ctx.input(4, channel), x.type()), floatAttr(ctx, "epsilon", x))));
      return op(BinaryOp.ADD, op(BinaryOp.MUL, op(BinaryOp.MUL, centered, inv), Exprs.as(ctx.input(1, channel),
          x.type())), Exprs.as(ctx.input(2, channel), x.type()));
    });
    // Quantization as the reference computes it: float32 division, round half to even, then saturation.
    put("QuantizeLinear", (ctx, idx) -> {
      DType t = ctx.outputType().dtype();
      Expr x = Exprs.as(ctx.input(0, idx), DType.FLOAT32);
      Expr q = Exprs.unary(UnaryOp.ROUND_EVEN, op(BinaryOp.DIV, x, Exprs.as(quantParam(ctx, 1, idx),
          DType.FLOAT32)));
      if (ctx.node().hasInput(2)) {
        q = op(BinaryOp.ADD, q, Exprs.as(quantParam(ctx, 2, idx), DType.FLOAT32));
      }
      if (t.isFloatingPoint() || t.bits() > 16) {
        throw new UnsupportedModelException(ctx.node().describe() + ": quantization to " + t
            + " cannot be compiled");
      }
      q = op(BinaryOp.MAX, c(Reduction.minOf(t), q), op(BinaryOp.MIN, c(Reduction.maxOf(t), q), q));
      return Exprs.as(q, t);
    });
    put("DequantizeLinear", (ctx, idx) -> {
      DType t = ctx.outputType().dtype();
      Expr v = Exprs.as(ctx.input(0, idx), DType.INT64);
      if (ctx.node().hasInput(2)) {
        v = op(BinaryOp.SUB, v, Exprs.as(quantParam(ctx, 2, idx), DType.INT64));
      }
      return Exprs.as(op(BinaryOp.MUL, Exprs.as(v, DType.FLOAT32), Exprs.as(quantParam(ctx, 1, idx),
          DType.FLOAT32)), t);
    });
  }

  /** A scale or zero point of (de)quantization at an element: per tensor (one value) or along {@code axis}. */
  private static Expr quantParam(LowerContext ctx, int input, List<Expr> idx) {
    // Blocked quantization (block_size) is refused by the type rule before lowering.
    TensorType p = ctx.inputType(input);
    if (p.shape().rank() == 0) {
      return ctx.input(input, List.of());
    }
    Dim d = p.shape().dim(0);
    if (p.shape().rank() == 1 && d.isStatic() && d.value() == 1) {
      return ctx.input(input, List.of(Exprs.i64(0)));
    }
    int axis = ctx.axis(ctx.attrInt("axis"), idx.size(), "axis");
    return ctx.input(input, List.of(idx.get(axis)));
  }

  /** A Clip bound from the attribute (before opset 11) or a constant input. */
  /** A Clip bound: the attribute (opset < 11), a constant input, or a scalar input read at run time. */
  private static Optional<Expr> bound(LowerContext ctx, String attr, int input, List<Expr> idx, Expr like) {
    if (ctx.hasAttr(attr)) {
      return Optional.of(c(ctx.attrFloat(attr), like));
    }
    if (!ctx.node().hasInput(input)) {
      return Optional.empty();
    }
    Optional<Tensor> constant = ctx.constant(input);
    if (constant.isPresent()) {
      return Optional.of(c(constant.get().getDouble(0), like));
    }
    return Optional.of(ctx.broadcastInput(input, idx));
  }

  private void binary(String name, BinaryOp op) {
    put(name, (ctx, idx) -> op(op, ctx.broadcastInput(0, idx), ctx.broadcastInput(1, idx)));
  }

  private void variadic(String name, BinaryOp op) {
    put(name, (ctx, idx) -> {
      Expr v = ctx.broadcastInput(0, idx);
      for (int i = 1; i < ctx.inputCount(); i++) {
        v = op(op, v, ctx.broadcastInput(i, idx));
      }
      return v;
    });
  }

  private void compare(String name, CompareOp op) {
    put(name, (ctx, idx) -> Exprs.compare(op, ctx.broadcastInput(0, idx), ctx.broadcastInput(1, idx)));
  }

  private void registerInjective() {
    ComputeRule reshape = (ctx, idx) -> {
      // Dimensions both shapes share at the front keep their index; only the rest is re-indexed
      // through a flat index (so [N, S, 12, 32] <-> [N, S, 384] divides by 32, never by a symbol).
      List<Expr> outDims = LowerContext.dims(ctx.outputType());
      List<Expr> inDims = LowerContext.dims(ctx.inputType(0));
      int common = 0;
      while (common < outDims.size() && common < inDims.size() && outDims.get(common).equals(inDims.get(common))) {
        common++;
      }
      Expr flat = Exprs.flatIndex(idx.subList(common, idx.size()), outDims.subList(common, outDims.size()));
      List<Expr> in = new ArrayList<>(idx.subList(0, common));
      in.addAll(Exprs.unflatten(flat, inDims.subList(common, inDims.size())));
      return ctx.input(0, in);
    };
    for (String op : List.of("Reshape", "Flatten", "Squeeze", "Unsqueeze")) {
      put(op, reshape);
    }
    put("Expand", (ctx, idx) -> ctx.broadcastInput(0, idx));
    // A fill too large to fold into the weights (the light VGG-19's 400 MB classifier weights) is written at run time.
    put("ConstantOfShape", (ctx, idx) -> {
      DType t = ctx.outputType().dtype();
      if (!ctx.hasAttr("value")) {
        return Exprs.constant(0, t);
      }
      Tensor v = ctx.node().attribute("value").asTensor();
      return t.isFloatingPoint() ? Exprs.constant(v.getDouble(0), t) : new Expr.IntConst(v.getLong(0), t);
    });
    // Local response normalization across channels (axis 1): the window of size channels summed unrolled, each
    // tap outside [0, C) contributing 0, as the reference does (which clips the window).
    put("LRN", (ctx, idx) -> {
      Expr x = ctx.input(0, idx);
      long size = ctx.attrInt("size");
      long before = (size - 1) / 2;
      Expr channels = Exprs.dim(ctx.inputType(0).shape().dim(1));
      Expr sum = c(0, x);
      for (long k = -before; k <= size - 1 - before; k++) {
        List<Expr> at = new ArrayList<>(idx);
        Expr ch = Exprs.add(idx.get(1), Exprs.i64(k));
        Expr inside = Exprs.value(BinaryOp.AND, Exprs.compare(CompareOp.GE, ch, Exprs.i64(0)),
            Exprs.compare(CompareOp.LT, ch, channels));
        // Clamped so that the load stays in bounds; the select drops it.
        at.set(1, op(BinaryOp.MIN, op(BinaryOp.MAX, ch, Exprs.i64(0)), Exprs.add(channels, Exprs.i64(-1))));
        Expr e = ctx.input(0, at);
        sum = op(BinaryOp.ADD, sum, Exprs.select(inside, op(BinaryOp.MUL, e, e), c(0, x)));
      }
      Expr scaled = op(BinaryOp.ADD, floatAttr(ctx, "bias", x), op(BinaryOp.MUL, c(ctx.attrFloat("alpha") / size, x),
          sum));
      return op(BinaryOp.DIV, x, op(BinaryOp.POW, scaled, floatAttr(ctx, "beta", x)));
    });
    put("Transpose", (ctx, idx) -> {
      int rank = idx.size();
      long[] perm = ctx.attrInts("perm");
      Expr[] in = new Expr[rank];
      for (int i = 0; i < rank; i++) {
        in[perm == null ? rank - 1 - i : (int) perm[i]] = idx.get(i);
      }
      return ctx.input(0, List.of(in));
    });
    put("Concat", (ctx, idx) -> {
      int rank = idx.size();
      int axis = ctx.axis(ctx.attrInt("axis"), rank, "axis");
      Expr result = null;
      Expr offset = Exprs.i64(0);
      List<Expr> ends = new ArrayList<>();
      List<Expr> starts = new ArrayList<>();
      for (int i = 0; i < ctx.inputCount(); i++) {
        starts.add(offset);
        offset = Exprs.add(offset, Exprs.dim(ctx.inputType(i).shape().dim(axis)));
        ends.add(offset);
      }
      for (int i = ctx.inputCount() - 1; i >= 0; i--) {
        Expr size = Exprs.dim(ctx.inputType(i).shape().dim(axis));
        // Clamp the index into this input so the load is valid even where another input is selected.
        Expr local = Exprs.value(BinaryOp.MAX, Exprs.i64(0), Exprs.value(BinaryOp.MIN,
            Exprs.sub(idx.get(axis), starts.get(i)), Exprs.sub(size, Exprs.i64(1))));
        List<Expr> in = new ArrayList<>(idx);
        in.set(axis, local);
        Expr v = ctx.input(i, in);
        result = result == null ? v : Exprs.select(Exprs.compare(CompareOp.LT, idx.get(axis), ends.get(i)), v, result);
      }
      return result;
    });
    put("Slice", LoweringRules::slice);
    put("Shape", (ctx, idx) -> {
      List<Dim> dims = ctx.inputType(0).shape().dims();
      int rank = dims.size();
      int start = clampAxis(ctx.hasAttr("start") ? ctx.attrInt("start") : 0, rank);
      int end = clampAxis(ctx.hasAttr("end") ? ctx.attrInt("end") : rank, rank);
      Expr v = Exprs.i64(0);
      for (int d = end - 1; d >= start; d--) {
        v = Exprs.select(Exprs.compare(CompareOp.EQ, idx.get(0), Exprs.i64(d - start)), Exprs.dim(dims.get(d)), v);
      }
      return v;
    });
    put("Gather", (ctx, idx) -> {
      int rank = ctx.inputType(0).shape().rank();
      int axis = ctx.axis(ctx.attrInt("axis"), rank, "axis");
      int q = ctx.inputType(1).shape().rank();
      List<Expr> indexIdx = idx.subList(axis, axis + q);
      Expr raw = Exprs.as(ctx.input(1, indexIdx), DType.INT64);
      Expr size = Exprs.dim(ctx.inputType(0).shape().dim(axis));
      Expr fixed = Exprs.select(Exprs.compare(CompareOp.LT, raw, Exprs.i64(0)), Exprs.add(raw, size), raw);
      // Out-of-range indices are clamped: the generated code never reads outside the data.
      Expr safe = Exprs.value(BinaryOp.MAX, Exprs.i64(0), Exprs.value(BinaryOp.MIN, fixed,
          Exprs.sub(size, Exprs.i64(1))));
      List<Expr> in = new ArrayList<>(idx.subList(0, axis));
      in.add(safe);
      in.addAll(idx.subList(axis + q, idx.size()));
      return ctx.input(0, in);
    });
  }

  private static int clampAxis(long a, int rank) {
    long v = a < 0 ? a + rank : a;
    return (int) Math.max(0, Math.min(rank, v));
  }

  private static Expr slice(LowerContext ctx, List<Expr> idx) {
    int rank = idx.size();
    // The output's (possibly symbolic) shape bounds the loop, so only where each axis starts and
    // how it steps matter here: ends may be computed at run time.
    long[] starts = param(ctx, "starts", 1);
    long[] axes = param(ctx, "axes", 3);
    long[] steps = ctx.node().hasInput(4) ? param(ctx, null, 4) : null;
    List<Expr> in = new ArrayList<>(idx);
    for (int i = 0; i < starts.length; i++) {
      int a = ctx.axis(axes == null ? i : axes[i], rank, "axis");
      long step = steps == null ? 1 : steps[i];
      Dim d = ctx.inputType(0).shape().dim(a);
      long start = starts[i];
      if (d.isStatic()) {
        long n = d.value();
        start = start < 0 ? start + n : start;
        start = step > 0 ? Math.max(0, Math.min(n, start)) : Math.max(0, Math.min(n - 1, start));
      } else if (start < 0 || step <= 0) {
        throw new UnsupportedModelException(ctx.node().describe()
            + ": slicing a symbolic dimension from the end cannot be lowered");
      }
      in.set(a, Exprs.add(Exprs.i64(start), Exprs.mul(idx.get(a), Exprs.i64(step))));
    }
    return ctx.input(0, in);
  }

  private static long[] param(LowerContext ctx, String attr, int input) {
    if (attr != null && ctx.node().attribute(attr) != null) {
      return ctx.node().attribute(attr).asInts();
    }
    if (!ctx.node().hasInput(input)) {
      return null;
    }
    return ctx.constant(input).map(Tensor::toLongArray).orElseThrow(() -> new UnsupportedModelException(
        ctx.node().describe() + ": slice parameters computed at run time cannot be lowered"));
  }

  private void registerCnn() {
    rules.put(dev.nnvm.compiler.ops.NnvmOps.DOMAIN + "::" + dev.nnvm.compiler.ops.NnvmOps.LAYOUT_TRANSFORM,
        CnnRules::layoutTransform);
    put("Pad", CnnRules::pad);
    put("Resize", CnnRules::resize);
    put("Upsample", CnnRules::resize);
  }
}
