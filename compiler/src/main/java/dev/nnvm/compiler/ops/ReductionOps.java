package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Reductions (ReduceSum .. ReduceSumSquare, ArgMax, ArgMin), normalizations
 * along an axis (Softmax, LogSoftmax, Hardmax), scans (CumSum), TopK and Einsum.
 *
 * <p>Fusion patterns: the Reduce* and Arg* operators are REDUCE (one pass over
 * the reduced axes, an elementwise epilogue may follow). Softmax, LogSoftmax
 * and Hardmax are OPAQUE: each reads its input twice (a reduction, then a
 * broadcast back over the same axis), which is not a single reduce a fused
 * kernel can absorb; TVM marks them opaque for the same reason. CumSum and
 * TopK carry state along the axis (a scan, a sort) and are OPAQUE too. Einsum
 * is a contraction like MatMul, so OUT_ELEMWISE_FUSABLE.
 */
final class ReductionOps {
  private ReductionOps() {}

  private static final DType[] FLOATS = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16};
  private static final DType[] NUMERIC = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16,
      DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT32, DType.UINT32, DType.INT64, DType.UINT64};
  private static final DType[] NUMERIC_OR_BOOL = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16,
      DType.INT8, DType.UINT8, DType.INT16, DType.UINT16, DType.INT32, DType.UINT32, DType.INT64, DType.UINT64,
      DType.BOOL};

  /** How one Reduce* operator folds the elements of a group. */
  private enum Reducer {
    SUM("ReduceSum", 13, true),
    MEAN("ReduceMean", 18, true),
    MAX("ReduceMax", 18, true),
    MIN("ReduceMin", 18, true),
    PROD("ReduceProd", 18, true),
    L1("ReduceL1", 18, true),
    L2("ReduceL2", 18, false),
    LOG_SUM("ReduceLogSum", 18, false),
    LOG_SUM_EXP("ReduceLogSumExp", 18, false),
    SUM_SQUARE("ReduceSumSquare", 18, true);

    final String op;
    final int axesInputSince;
    final boolean exactOnIntegers;

    Reducer(String op, int axesInputSince, boolean exactOnIntegers) {
      this.op = op;
      this.axesInputSince = axesInputSince;
      this.exactOnIntegers = exactOnIntegers;
    }

    double reduce(double[] v, int n) {
      double acc;
      switch (this) {
        case MAX:
          acc = Double.NEGATIVE_INFINITY;
          for (int i = 0; i < n; i++) {
            acc = Double.isNaN(v[i]) || v[i] > acc ? v[i] : acc;
            if (Double.isNaN(acc)) {
              return acc;
            }
          }
          return acc;
        case MIN:
          acc = Double.POSITIVE_INFINITY;
          for (int i = 0; i < n; i++) {
            acc = Double.isNaN(v[i]) || v[i] < acc ? v[i] : acc;
            if (Double.isNaN(acc)) {
              return acc;
            }
          }
          return acc;
        case PROD:
          acc = 1;
          for (int i = 0; i < n; i++) {
            acc *= v[i];
          }
          return acc;
        case LOG_SUM_EXP: {
          double m = Double.NEGATIVE_INFINITY;
          for (int i = 0; i < n; i++) {
            m = Math.max(m, v[i]);
          }
          if (Double.isInfinite(m)) {
            return m;
          }
          acc = 0;
          for (int i = 0; i < n; i++) {
            acc += Math.exp(v[i] - m);
          }
          return m + Math.log(acc);
        }
        default:
          acc = 0;
          for (int i = 0; i < n; i++) {
            double x = v[i];
            acc += this == L1 ? Math.abs(x) : this == L2 || this == SUM_SQUARE ? x * x : x;
          }
          switch (this) {
            case MEAN: return acc / n;
            case L2: return Math.sqrt(acc);
            case LOG_SUM: return Math.log(acc);
            default: return acc;
          }
      }
    }

    long reduce(long[] v, int n, DType t) {
      long acc;
      switch (this) {
        case MAX:
          acc = minValue(t);
          for (int i = 0; i < n; i++) {
            acc = greater(t, v[i], acc) ? v[i] : acc;
          }
          return acc;
        case MIN:
          acc = maxValue(t);
          for (int i = 0; i < n; i++) {
            acc = greater(t, acc, v[i]) ? v[i] : acc;
          }
          return acc;
        case PROD:
          acc = 1;
          for (int i = 0; i < n; i++) {
            acc *= v[i];
          }
          return acc;
        default:
          acc = 0;
          for (int i = 0; i < n; i++) {
            long x = v[i];
            acc += this == L1 ? Math.abs(x) : this == SUM_SQUARE ? x * x : x;
          }
          return this == MEAN ? (n == 0 ? 0 : acc / n) : acc;
      }
    }
  }

  static void register(OpRegistry r) {
    for (Reducer red : Reducer.values()) {
      registerReduce(r, red);
    }
    registerArg(r, "ArgMax", true);
    registerArg(r, "ArgMin", false);
    registerAxisNormalization(r, "Softmax");
    registerAxisNormalization(r, "LogSoftmax");
    registerAxisNormalization(r, "Hardmax");
    registerCumSum(r);
    registerTopK(r);
    OpDef.builder("Einsum")
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(1, Integer.MAX_VALUE)
        .attr(AttrSpec.required("equation", Attribute.Kind.STRING))
        .infer(ctx -> {
          List<Shape> shapes = new ArrayList<>();
          for (int i = 0; i < ctx.inputCount(); i++) {
            TypeRules.requireSameType(ctx, 0, i);
            shapes.add(ctx.inputType(i).shape());
          }
          TypeRules.requireType(ctx, 0, NUMERIC);
          EinsumEquation eq = equation(ctx);
          return List.of(new TensorType(ctx.inputType(0).dtype(), eq.outputShape(shapes)));
        })
        .eval(ctx -> {
          List<Tensor> ins = new ArrayList<>();
          for (int i = 0; i < ctx.inputCount(); i++) {
            ins.add(ctx.input(i));
          }
          return List.of(equation(ctx).evaluate(ins));
        })
        .register(r);
  }

  private static EinsumEquation equation(OpContext ctx) {
    try {
      return EinsumEquation.parse(ctx.attrString("equation"), ctx.inputCount());
    } catch (IllegalArgumentException e) {
      throw ctx.error("%s", e.getMessage());
    }
  }

  // ---- Reduce* ----

  private static void registerReduce(OpRegistry r, Reducer red) {
    OpDef.builder(red.op)
        .pattern(FusionPattern.REDUCE)
        .inputs(1, 2)
        .attr(AttrSpec.of("axes", Attribute.Kind.INTS))
        .attr(AttrSpec.ofInt("keepdims", 1).oneOf(0, 1))
        .attr(AttrSpec.ofInt("noop_with_empty_axes", 0).oneOf(0, 1))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, red == Reducer.MAX || red == Reducer.MIN ? NUMERIC_OR_BOOL : NUMERIC);
          TensorType in = ctx.inputType(0);
          Optional<long[]> axes = reduceAxes(ctx, ctx.hasInput(1) ? ctx.constant(1).orElse(null) : null,
              ctx.hasInput(1) && ctx.constant(1).isEmpty());
          boolean keep = ctx.attrInt("keepdims") == 1;
          if (!in.shape().hasRank()) {
            return List.of(TensorType.unknownShape(in.dtype()));
          }
          int rank = in.shape().rank();
          if (axes.isEmpty()) {
            if (!keep) {
              return List.of(TensorType.unknownShape(in.dtype()));
            }
            Dim[] dims = new Dim[rank];
            Arrays.fill(dims, Dim.unknown());
            return List.of(new TensorType(in.dtype(), Shape.of(dims)));
          }
          boolean[] reduced = reducedMask(ctx, axes.get(), rank);
          if (reduced == null) {
            return List.of(in);
          }
          return List.of(new TensorType(in.dtype(), reducedShape(in.shape(), reduced, keep)));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] axes = reduceAxes(ctx, ctx.optionalInput(1), false).orElseThrow();
          boolean[] reduced = reducedMask(ctx, axes, x.rank());
          if (reduced == null) {
            return List.of(x);
          }
          return List.of(reduce(x, reduced, ctx.attrInt("keepdims") == 1, red));
        })
        .register(r);
  }

  /** The axes to reduce: empty optional when they are an input not known at compile time. */
  private static Optional<long[]> reduceAxes(OpContext ctx, Tensor axesInput, boolean unknown) {
    if (unknown) {
      return Optional.empty();
    }
    if (ctx.hasAttr("axes")) {
      return Optional.of(ctx.attrInts("axes"));
    }
    if (axesInput != null) {
      if (axesInput.dtype() != DType.INT64) {
        throw ctx.error("input 1 (axes) must be int64, got %s", axesInput.dtype());
      }
      return Optional.of(axesInput.toLongArray());
    }
    return Optional.of(new long[0]);
  }

  /** Which axes are reduced; null when the node is the identity (empty axes with noop_with_empty_axes). */
  private static boolean[] reducedMask(OpContext ctx, long[] axes, int rank) {
    boolean[] mask = new boolean[rank];
    if (axes.length == 0) {
      if (ctx.attrInt("noop_with_empty_axes") == 1) {
        return null;
      }
      Arrays.fill(mask, true);
      return mask;
    }
    for (long a : axes) {
      int k = ctx.axis(a, rank, "axis");
      if (mask[k]) {
        throw ctx.error("axis %d is listed twice in axes %s", a, Arrays.toString(axes));
      }
      mask[k] = true;
    }
    return mask;
  }

  private static Shape reducedShape(Shape in, boolean[] reduced, boolean keep) {
    List<Dim> out = new ArrayList<>();
    for (int i = 0; i < reduced.length; i++) {
      if (!reduced[i]) {
        out.add(in.dim(i));
      } else if (keep) {
        out.add(Dim.of(1));
      }
    }
    return Shape.of(out);
  }

  private static long[] reducedShape(long[] in, boolean[] reduced, boolean keep) {
    long[] out = new long[in.length];
    int n = 0;
    for (int i = 0; i < in.length; i++) {
      if (!reduced[i]) {
        out[n++] = in[i];
      } else if (keep) {
        out[n++] = 1;
      }
    }
    return Arrays.copyOf(out, n);
  }

  /**
   * For each input element (row-major), the flat index of the output group it
   * belongs to when the masked axes are reduced.
   */
  static int[] groupIndex(long[] shape, boolean[] reduced) {
    long[] kept = new long[shape.length];
    for (int i = 0; i < shape.length; i++) {
      kept[i] = reduced[i] ? 1 : shape[i];
    }
    long[] st = Broadcasting.strides(kept);
    int n = Tensor.elementCount(shape);
    int[] map = new int[n];
    int[] idx = new int[shape.length];
    for (int k = 0; k < n; k++) {
      long flat = 0;
      for (int d = 0; d < shape.length; d++) {
        if (!reduced[d]) {
          flat += idx[d] * st[d];
        }
      }
      map[k] = (int) flat;
      for (int d = shape.length - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) {
          break;
        }
        idx[d] = 0;
      }
    }
    return map;
  }

  private static Tensor reduce(Tensor x, boolean[] reduced, boolean keep, Reducer red) {
    long[] outShape = reducedShape(x.shape(), reduced, keep);
    int groups = Tensor.elementCount(outShape);
    int[] group = groupIndex(x.shape(), reduced);
    int[] count = new int[groups];
    for (int g : group) {
      count[g]++;
    }
    int[][] members = new int[groups][];
    for (int g = 0; g < groups; g++) {
      members[g] = new int[count[g]];
    }
    int[] fill = new int[groups];
    for (int i = 0; i < group.length; i++) {
      members[group[i]][fill[group[i]]++] = i;
    }
    DType t = x.dtype();
    Object out = Tensor.newStorage(t, groups);
    boolean exact = t.isInteger() && red.exactOnIntegers;
    for (int g = 0; g < groups; g++) {
      int[] m = members[g];
      if (exact) {
        long[] v = new long[m.length];
        for (int i = 0; i < m.length; i++) {
          v[i] = x.getLong(m[i]);
        }
        Tensor.setFromLong(t, out, g, red.reduce(v, m.length, t));
      } else {
        double[] v = new double[m.length];
        for (int i = 0; i < m.length; i++) {
          v[i] = x.getDouble(m[i]);
        }
        Tensor.setFromDouble(t, out, g, red.reduce(v, m.length));
      }
    }
    return Tensor.of(t, outShape, out);
  }

  private static boolean greater(DType t, long a, long b) {
    return t == DType.UINT64 ? Long.compareUnsigned(a, b) > 0 : a > b;
  }

  private static long minValue(DType t) {
    switch (t) {
      case INT8: return Byte.MIN_VALUE;
      case INT16: return Short.MIN_VALUE;
      case INT32: return Integer.MIN_VALUE;
      case INT64: return Long.MIN_VALUE;
      default: return 0;
    }
  }

  private static long maxValue(DType t) {
    switch (t) {
      case INT8: return Byte.MAX_VALUE;
      case INT16: return Short.MAX_VALUE;
      case INT32: return Integer.MAX_VALUE;
      case UINT8: return 0xff;
      case UINT16: return 0xffff;
      case UINT32: return 0xffffffffL;
      case UINT64: return -1L;
      default: return Long.MAX_VALUE;
    }
  }

  // ---- ArgMax / ArgMin ----

  private static void registerArg(OpRegistry r, String name, boolean max) {
    OpDef.builder(name)
        .pattern(FusionPattern.REDUCE)
        .inputs(1)
        .attr(AttrSpec.ofInt("axis", 0))
        .attr(AttrSpec.ofInt("keepdims", 1).oneOf(0, 1))
        .attr(AttrSpec.ofInt("select_last_index", 0).oneOf(0, 1))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, NUMERIC);
          Shape s = ctx.inputType(0).shape();
          if (!s.hasRank()) {
            return List.of(TensorType.unknownShape(DType.INT64));
          }
          boolean[] mask = new boolean[s.rank()];
          mask[ctx.axis(ctx.attrInt("axis"), s.rank(), "axis")] = true;
          return List.of(new TensorType(DType.INT64, reducedShape(s, mask, ctx.attrInt("keepdims") == 1)));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          int axis = ctx.axis(ctx.attrInt("axis"), x.rank(), "axis");
          boolean last = ctx.attrInt("select_last_index") == 1;
          AxisView v = new AxisView(x.shape(), axis);
          long[] out = new long[v.outer * v.inner];
          for (int o = 0; o < v.outer; o++) {
            for (int i = 0; i < v.inner; i++) {
              int best = 0;
              double bestV = x.getDouble(v.at(o, 0, i));
              for (int k = 1; k < v.n; k++) {
                double y = x.getDouble(v.at(o, k, i));
                boolean better = max ? y > bestV : y < bestV;
                if (better || last && y == bestV) {
                  best = k;
                  bestV = y;
                }
              }
              out[o * v.inner + i] = best;
            }
          }
          boolean[] mask = new boolean[x.rank()];
          mask[axis] = true;
          return List.of(Tensor.ofLongs(DType.INT64, reducedShape(x.shape(), mask, ctx.attrInt("keepdims") == 1), out));
        })
        .register(r);
  }

  /** A tensor seen as [outer, n, inner] around one axis (or around a flattening point). */
  private static final class AxisView {
    final int outer;
    final int n;
    final int inner;

    AxisView(long[] shape, int axis) {
      this(shape, axis, axis + 1);
    }

    /** Axes [from, to) form the middle dimension. */
    AxisView(long[] shape, int from, int to) {
      long o = 1;
      long m = 1;
      long in = 1;
      for (int d = 0; d < shape.length; d++) {
        if (d < from) {
          o *= shape[d];
        } else if (d < to) {
          m *= shape[d];
        } else {
          in *= shape[d];
        }
      }
      this.outer = (int) o;
      this.n = (int) m;
      this.inner = (int) in;
    }

    int at(int o, int k, int i) {
      return (o * n + k) * inner + i;
    }
  }

  // ---- Softmax, LogSoftmax, Hardmax ----

  private static void registerAxisNormalization(OpRegistry r, String name) {
    OpDef.builder(name)
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .attr(AttrSpec.of("axis", Attribute.Kind.INT))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, FLOATS);
          Shape s = ctx.inputType(0).shape();
          if (s.hasRank()) {
            ctx.axis(normalizationAxis(ctx), s.rank(), "axis");
          }
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          int axis = ctx.axis(normalizationAxis(ctx), x.rank(), "axis");
          // Before opset 13 the input is coerced to 2D [prod(:axis), prod(axis:)].
          AxisView v = ctx.opset() < 13 ? new AxisView(x.shape(), axis, x.rank()) : new AxisView(x.shape(), axis);
          Object out = Tensor.newStorage(x.dtype(), x.size());
          double[] row = new double[v.n];
          for (int o = 0; o < v.outer; o++) {
            for (int i = 0; i < v.inner; i++) {
              for (int k = 0; k < v.n; k++) {
                row[k] = x.getDouble(v.at(o, k, i));
              }
              normalize(name, row);
              for (int k = 0; k < v.n; k++) {
                Tensor.setFromDouble(x.dtype(), out, v.at(o, k, i), row[k]);
              }
            }
          }
          return List.of(Tensor.of(x.dtype(), x.shape(), out));
        })
        .register(r);
  }

  private static long normalizationAxis(OpContext ctx) {
    return ctx.hasAttr("axis") ? ctx.attrInt("axis") : ctx.opset() < 13 ? 1 : -1;
  }

  private static void normalize(String op, double[] row) {
    int n = row.length;
    int arg = 0;
    for (int k = 1; k < n; k++) {
      if (row[k] > row[arg]) {
        arg = k;
      }
    }
    if (n == 0) {
      return;
    }
    if (op.equals("Hardmax")) {
      Arrays.fill(row, 0);
      row[arg] = 1;
      return;
    }
    double m = row[arg];
    double sum = 0;
    for (int k = 0; k < n; k++) {
      sum += Math.exp(row[k] - m);
    }
    for (int k = 0; k < n; k++) {
      row[k] = op.equals("Softmax") ? Math.exp(row[k] - m) / sum : row[k] - m - Math.log(sum);
    }
  }

  // ---- CumSum ----

  private static void registerCumSum(OpRegistry r) {
    OpDef.builder("CumSum")
        .pattern(FusionPattern.OPAQUE)
        .inputs(2)
        .attr(AttrSpec.ofInt("exclusive", 0).oneOf(0, 1))
        .attr(AttrSpec.ofInt("reverse", 0).oneOf(0, 1))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, NUMERIC);
          TypeRules.requireType(ctx, 1, DType.INT32, DType.INT64);
          return List.of(ctx.inputType(0));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          Tensor axisT = ctx.input(1);
          if (axisT.size() != 1) {
            throw ctx.error("input 1 (axis) must hold one value, got shape %s", Shape.toString(axisT.shape()));
          }
          int axis = ctx.axis(axisT.getLong(0), x.rank(), "axis");
          boolean exclusive = ctx.attrInt("exclusive") == 1;
          boolean reverse = ctx.attrInt("reverse") == 1;
          AxisView v = new AxisView(x.shape(), axis);
          DType t = x.dtype();
          Object out = Tensor.newStorage(t, x.size());
          for (int o = 0; o < v.outer; o++) {
            for (int i = 0; i < v.inner; i++) {
              double accD = 0;
              long accL = 0;
              for (int s = 0; s < v.n; s++) {
                int k = reverse ? v.n - 1 - s : s;
                int at = v.at(o, k, i);
                if (!exclusive) {
                  accD += x.getDouble(at);
                  accL += x.getLong(at);
                }
                if (t.isInteger()) {
                  Tensor.setFromLong(t, out, at, accL);
                } else {
                  Tensor.setFromDouble(t, out, at, accD);
                }
                if (exclusive) {
                  accD += x.getDouble(at);
                  accL += x.getLong(at);
                }
              }
            }
          }
          return List.of(Tensor.of(t, x.shape(), out));
        })
        .register(r);
  }

  // ---- TopK ----

  private static void registerTopK(OpRegistry r) {
    OpDef.builder("TopK")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1, 2)
        .outputs(2)
        .attr(AttrSpec.ofInt("axis", -1))
        .attr(AttrSpec.of("k", Attribute.Kind.INT))
        .attr(AttrSpec.ofInt("largest", 1).oneOf(0, 1))
        .attr(AttrSpec.ofInt("sorted", 1).oneOf(0, 1))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, NUMERIC);
          TensorType in = ctx.inputType(0);
          if (!in.shape().hasRank()) {
            return List.of(in, TensorType.unknownShape(DType.INT64));
          }
          int axis = ctx.axis(ctx.attrInt("axis"), in.shape().rank(), "axis");
          Dim kDim = Dim.unknown();
          if (ctx.hasAttr("k")) {
            kDim = Dim.of(ctx.attrInt("k"));
          } else if (ctx.constant(1).isPresent()) {
            kDim = Dim.of(kValue(ctx, ctx.constant(1).get()));
          }
          List<Dim> dims = new ArrayList<>(in.shape().dims());
          dims.set(axis, kDim);
          Shape s = Shape.of(dims);
          return List.of(new TensorType(in.dtype(), s), new TensorType(DType.INT64, s));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          int axis = ctx.axis(ctx.attrInt("axis"), x.rank(), "axis");
          int k = (int) (ctx.hasAttr("k") ? ctx.attrInt("k") : kValue(ctx, ctx.input(1)));
          if (k > x.dim(axis)) {
            throw ctx.error("k = %d is larger than axis %d of shape %s", k, axis, Shape.toString(x.shape()));
          }
          boolean largest = ctx.attrInt("largest") == 1;
          AxisView v = new AxisView(x.shape(), axis);
          long[] outShape = x.shape();
          outShape[axis] = k;
          AxisView ov = new AxisView(outShape, axis);
          DType t = x.dtype();
          Object values = Tensor.newStorage(t, Tensor.elementCount(outShape));
          long[] indices = new long[Tensor.elementCount(outShape)];
          Integer[] order = new Integer[v.n];
          for (int o = 0; o < v.outer; o++) {
            for (int i = 0; i < v.inner; i++) {
              final int oo = o;
              final int ii = i;
              for (int j = 0; j < v.n; j++) {
                order[j] = j;
              }
              Arrays.sort(order, (a, b) -> {
                int c = compareElements(x, v.at(oo, a, ii), v.at(oo, b, ii));
                return c != 0 ? (largest ? -c : c) : Integer.compare(a, b);
              });
              for (int j = 0; j < k; j++) {
                int src = v.at(o, order[j], i);
                int dst = ov.at(o, j, i);
                indices[dst] = order[j];
                if (t.isInteger()) {
                  Tensor.setFromLong(t, values, dst, x.getLong(src));
                } else {
                  Tensor.setFromDouble(t, values, dst, x.getDouble(src));
                }
              }
            }
          }
          return List.of(Tensor.of(t, outShape, values), Tensor.ofLongs(DType.INT64, outShape, indices));
        })
        .register(r);
  }

  private static int compareElements(Tensor x, int a, int b) {
    if (x.dtype() == DType.UINT64) {
      return Long.compareUnsigned(x.getLong(a), x.getLong(b));
    }
    if (x.dtype().isInteger()) {
      return Long.compare(x.getLong(a), x.getLong(b));
    }
    return Double.compare(x.getDouble(a), x.getDouble(b));
  }

  private static long kValue(OpContext ctx, Tensor k) {
    if (k.size() != 1 || k.dtype() != DType.INT64) {
      throw ctx.error("input 1 (K) must be an int64 tensor with one element, got %s", k.type());
    }
    long v = k.getLong(0);
    if (v < 0) {
      throw ctx.error("K must be >= 0, got %d", v);
    }
    return v;
  }
}
