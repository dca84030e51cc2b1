package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * MatMul (numpy semantics: batched with broadcasting, 1-D operands promoted
 * and their axis removed again) and Gemm. Products run as i-k-j loops over
 * dense arrays: doubles for floating types, longs (wrapped to the type at the
 * end) for integer types.
 */
final class MatMulOps {
  private static final DType[] TYPES = {
      DType.FLOAT32, DType.FLOAT16, DType.FLOAT64, DType.BFLOAT16,
      DType.INT32, DType.INT64, DType.UINT32, DType.UINT64};

  private MatMulOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("MatMul")
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(2)
        .infer(ctx -> List.of(inferMatMul(ctx)))
        .eval(ctx -> List.of(evalMatMul(ctx)))
        .register(r);
    OpDef.builder("Gemm")
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(2, 3)
        .attr(AttrSpec.ofFloat("alpha", 1f))
        .attr(AttrSpec.ofFloat("beta", 1f))
        .attr(AttrSpec.ofInt("transA", 0))
        .attr(AttrSpec.ofInt("transB", 0))
        .infer(ctx -> List.of(inferGemm(ctx)))
        .eval(ctx -> List.of(evalGemm(ctx)))
        .register(r);
  }

  private static TensorType inferMatMul(InferContext ctx) {
    DType t = TypeRules.requireType(ctx, 0, TYPES);
    TypeRules.requireSameType(ctx, 0, 1);
    Shape a = ctx.inputType(0).shape();
    Shape b = ctx.inputType(1).shape();
    if (!a.hasRank() || !b.hasRank()) {
      return TensorType.unknownShape(t);
    }
    if (a.rank() == 0 || b.rank() == 0) {
      throw ctx.error("MatMul needs operands of rank >= 1, got %s and %s", a, b);
    }
    List<Dim> ad = new ArrayList<>(a.dims());
    List<Dim> bd = new ArrayList<>(b.dims());
    if (ad.size() == 1) {
      ad.add(0, Dim.of(1));
    }
    if (bd.size() == 1) {
      bd.add(Dim.of(1));
    }
    Dim ka = ad.get(ad.size() - 1);
    Dim kb = bd.get(bd.size() - 2);
    if (ka.isStatic() && kb.isStatic() && ka.value() != kb.value()) {
      throw ctx.error("inner dimensions differ: A %s has %d columns, B %s has %d rows", a, ka.value(), b, kb.value());
    }
    Shape batch;
    try {
      batch = Broadcasting.shape(Shape.of(ad.subList(0, ad.size() - 2)), Shape.of(bd.subList(0, bd.size() - 2)));
    } catch (RuntimeException e) {
      throw ctx.error("batch dimensions of A %s and B %s do not broadcast: %s", a, b, e.getMessage());
    }
    List<Dim> out = new ArrayList<>(batch.dims());
    if (a.rank() > 1) {
      out.add(ad.get(ad.size() - 2));
    }
    if (b.rank() > 1) {
      out.add(bd.get(bd.size() - 1));
    }
    return new TensorType(t, Shape.of(out));
  }

  private static Tensor evalMatMul(EvalContext ctx) {
    Tensor a = ctx.input(0);
    Tensor b = ctx.input(1);
    if (a.rank() == 0 || b.rank() == 0) {
      throw ctx.error("MatMul needs operands of rank >= 1, got %s and %s",
          Shape.toString(a.shape()), Shape.toString(b.shape()));
    }
    long[] as = a.rank() == 1 ? new long[] {1, a.dim(0)} : a.shape();
    long[] bs = b.rank() == 1 ? new long[] {b.dim(0), 1} : b.shape();
    int m = (int) as[as.length - 2];
    int k = (int) as[as.length - 1];
    int n = (int) bs[bs.length - 1];
    if (bs[bs.length - 2] != k) {
      throw ctx.error("inner dimensions differ: A %s has %d columns, B %s has %d rows",
          Shape.toString(a.shape()), k, Shape.toString(b.shape()), bs[bs.length - 2]);
    }
    long[] aBatch = Arrays.copyOf(as, as.length - 2);
    long[] bBatch = Arrays.copyOf(bs, bs.length - 2);
    long[] batch;
    try {
      batch = Broadcasting.shape(aBatch, bBatch);
    } catch (RuntimeException e) {
      throw ctx.error("batch dimensions of A and B do not broadcast: %s", e.getMessage());
    }
    int[] ia = Broadcasting.indexMap(aBatch, batch);
    int[] ib = Broadcasting.indexMap(bBatch, batch);
    List<Long> outShape = new ArrayList<>();
    for (long d : batch) {
      outShape.add(d);
    }
    if (a.rank() > 1) {
      outShape.add((long) m);
    }
    if (b.rank() > 1) {
      outShape.add((long) n);
    }
    long[] shape = outShape.stream().mapToLong(Long::longValue).toArray();
    DType t = a.dtype();
    if (t.isFloatingPoint()) {
      double[] x = NnTypes.doubles(a);
      double[] y = NnTypes.doubles(b);
      double[] out = new double[ia.length * m * n];
      for (int p = 0; p < ia.length; p++) {
        multiply(x, ia[p] * m * k, y, ib[p] * k * n, out, p * m * n, m, k, n);
      }
      return NnTypes.tensor(t, shape, out);
    }
    long[] x = a.longs();
    long[] y = b.longs();
    long[] out = new long[ia.length * m * n];
    for (int p = 0; p < ia.length; p++) {
      multiply(x, ia[p] * m * k, y, ib[p] * k * n, out, p * m * n, m, k, n);
    }
    return wrapped(t, shape, out);
  }

  /** {@code c[m x n] += a[m x k] * b[k x n]}, row-major blocks at the given offsets, i-k-j order. */
  private static void multiply(double[] a, int aOff, double[] b, int bOff, double[] c, int cOff, int m, int k, int n) {
    for (int i = 0; i < m; i++) {
      int cRow = cOff + i * n;
      for (int p = 0; p < k; p++) {
        double av = a[aOff + i * k + p];
        int bRow = bOff + p * n;
        for (int j = 0; j < n; j++) {
          c[cRow + j] += av * b[bRow + j];
        }
      }
    }
  }

  private static void multiply(long[] a, int aOff, long[] b, int bOff, long[] c, int cOff, int m, int k, int n) {
    for (int i = 0; i < m; i++) {
      int cRow = cOff + i * n;
      for (int p = 0; p < k; p++) {
        long av = a[aOff + i * k + p];
        int bRow = bOff + p * n;
        for (int j = 0; j < n; j++) {
          c[cRow + j] += av * b[bRow + j];
        }
      }
    }
  }

  private static Tensor wrapped(DType t, long[] shape, long[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = Tensor.wrap(t, values[i]);
    }
    return Tensor.ofLongs(t, shape, values);
  }

  private static TensorType inferGemm(InferContext ctx) {
    DType t = TypeRules.requireType(ctx, 0, TYPES);
    TypeRules.requireSameType(ctx, 0, 1);
    NnTypes.requireRank(ctx, 0, 2, "A");
    NnTypes.requireRank(ctx, 1, 2, "B");
    Shape a = ctx.inputType(0).shape();
    Shape b = ctx.inputType(1).shape();
    boolean ta = ctx.attrInt("transA") != 0;
    boolean tb = ctx.attrInt("transB") != 0;
    Dim m = a.hasRank() ? a.dim(ta ? 1 : 0) : Dim.unknown();
    Dim n = b.hasRank() ? b.dim(tb ? 0 : 1) : Dim.unknown();
    long ka = NnTypes.staticDim(a, ta ? 0 : 1);
    long kb = NnTypes.staticDim(b, tb ? 1 : 0);
    if (ka >= 0 && kb >= 0 && ka != kb) {
      throw ctx.error("inner dimensions differ: A %s (transA=%d) and B %s (transB=%d)", a, ta ? 1 : 0, b, tb ? 1 : 0);
    }
    if (ctx.hasInput(2)) {
      TypeRules.requireSameType(ctx, 0, 2);
      Shape c = ctx.inputType(2).shape();
      if (c.hasRank() && c.rank() > 2) {
        throw ctx.error("input 2 (C): expected rank <= 2, got %s", c);
      }
      if (c.hasRank()) {
        Dim[] mn = {m, n};
        for (int i = 0; i < c.rank(); i++) {
          Dim cd = c.dim(i);
          Dim target = mn[2 - c.rank() + i];
          if (cd.isStatic() && cd.value() != 1 && target.isStatic() && cd.value() != target.value()) {
            throw ctx.error("input 2 (C) of shape %s does not broadcast to [%s, %s]", c, m, n);
          }
        }
      }
    }
    return NnTypes.type(t, m, n);
  }

  private static Tensor evalGemm(EvalContext ctx) {
    Tensor a = ctx.input(0);
    Tensor b = ctx.input(1);
    Tensor c = ctx.optionalInput(2);
    if (a.rank() != 2 || b.rank() != 2) {
      throw ctx.error("expected A and B of rank 2, got %s and %s", Shape.toString(a.shape()), Shape.toString(b.shape()));
    }
    boolean ta = ctx.attrInt("transA") != 0;
    boolean tb = ctx.attrInt("transB") != 0;
    int m = (int) a.dim(ta ? 1 : 0);
    int k = (int) a.dim(ta ? 0 : 1);
    int n = (int) b.dim(tb ? 0 : 1);
    if (b.dim(tb ? 1 : 0) != k) {
      throw ctx.error("inner dimensions differ: A %s (transA=%d) and B %s (transB=%d)",
          Shape.toString(a.shape()), ta ? 1 : 0, Shape.toString(b.shape()), tb ? 1 : 0);
    }
    long[] shape = {m, n};
    int[] ic = null;
    if (c != null) {
      if (c.rank() > 2) {
        throw ctx.error("input 2 (C): expected rank <= 2, got %s", Shape.toString(c.shape()));
      }
      try {
        ic = Broadcasting.indexMap(c.shape(), shape);
      } catch (RuntimeException e) {
        throw ctx.error("input 2 (C) of shape %s does not broadcast to [%d, %d]", Shape.toString(c.shape()), m, n);
      }
    }
    double alpha = ctx.attrFloat("alpha");
    double beta = ctx.attrFloat("beta");
    DType t = a.dtype();
    if (t.isFloatingPoint()) {
      double[] x = transposed(NnTypes.doubles(a), ta, (int) a.dim(0), (int) a.dim(1));
      double[] y = transposed(NnTypes.doubles(b), tb, (int) b.dim(0), (int) b.dim(1));
      double[] out = new double[m * n];
      multiply(x, 0, y, 0, out, 0, m, k, n);
      double[] cv = c == null ? null : NnTypes.doubles(c);
      for (int i = 0; i < out.length; i++) {
        out[i] = alpha * out[i] + (cv == null ? 0 : beta * cv[ic[i]]);
      }
      return NnTypes.tensor(t, shape, out);
    }
    long[] x = transposed(a.longs(), ta, (int) a.dim(0), (int) a.dim(1));
    long[] y = transposed(b.longs(), tb, (int) b.dim(0), (int) b.dim(1));
    long[] out = new long[m * n];
    multiply(x, 0, y, 0, out, 0, m, k, n);
    long la = (long) alpha;
    long lb = (long) beta;
    long[] cv = c == null ? null : c.longs();
    for (int i = 0; i < out.length; i++) {
      out[i] = la * out[i] + (cv == null ? 0 : lb * cv[ic[i]]);
    }
    return wrapped(t, shape, out);
  }

  private static double[] transposed(double[] v, boolean transpose, int rows, int cols) {
    if (!transpose) {
      return v;
    }
    double[] r = new double[v.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        r[j * rows + i] = v[i * cols + j];
      }
    }
    return r;
  }

  private static long[] transposed(long[] v, boolean transpose, int rows, int cols) {
    if (!transpose) {
      return v;
    }
    long[] r = new long[v.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        r[j * rows + i] = v[i * cols + j];
      }
    }
    return r;
  }
}
