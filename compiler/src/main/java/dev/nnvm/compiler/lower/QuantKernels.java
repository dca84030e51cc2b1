package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.lower.Expr.BinaryOp;
import dev.nnvm.compiler.lower.Expr.CompareOp;
import dev.nnvm.compiler.lower.Expr.UnaryOp;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Optional;

/**
 * Kernels of dynamically quantized models (what ONNX Runtime's quantizer
 * writes for a transformer): DynamicQuantizeLinear, a whole-tensor min/max
 * then the quantization, and MatMulInteger, exact int32 sums of products of
 * zero-point-shifted 8-bit values, one output row at a time with the row
 * accumulated over K in place (vectorized along the columns). Exact, not yet
 * fast: an int8 GEMM micro-kernel (VNNI) is what would make them so.
 */
final class QuantKernels {
  private QuantKernels() {}

  /** The kernel body for {@code n} when it is one of these operators. */
  static Optional<Stmt> lower(Node n, LowerContext ctx, List<BufferRef> ins, List<BufferRef> outs) {
    if (!n.domain().isEmpty()) {
      return Optional.empty();
    }
    switch (n.opType()) {
      case "DynamicQuantizeLinear":
        return Optional.of(dynamicQuantize(input(n, ins, 0), outs));
      case "MatMulInteger":
        return Optional.of(matMulInteger(n, ctx, ins, outs.get(0)));
      default:
        return Optional.empty();
    }
  }

  /**
   * As the reference computes it: the range is [min(0, min x), max(0, max x)], the scale its width / 255
   * (1 for an empty range), the zero point {@code round(clamp(-min / scale, 0, 255))}, and each element
   * {@code clamp(round(x / scale) + zero point, 0, 255)}, rounding half to even, in float32.
   */
  private static Stmt dynamicQuantize(BufferRef x, List<BufferRef> outs) {
    DType f = DType.FLOAT32;
    Expr total = Exprs.product(x.shape());
    Expr.Var e = new Expr.Var("q");
    Expr.Local lo = new Expr.Local("lo", f);
    Expr.Local hi = new Expr.Local("hi", f);
    Expr.Local scale = new Expr.Local("scale", f);
    Expr.Local zp = new Expr.Local("zp", f);
    Expr v = new Expr.Load(x, e);
    Expr zero = Exprs.constant(0, f);
    Expr top = Exprs.constant(255, f);
    Expr clampedZp = Exprs.value(BinaryOp.MAX, zero, Exprs.value(BinaryOp.MIN, top,
        Exprs.value(BinaryOp.SUB, zero, Exprs.value(BinaryOp.DIV, lo, scale))));
    Expr q = Exprs.value(BinaryOp.ADD, Exprs.unary(UnaryOp.ROUND_EVEN, Exprs.value(BinaryOp.DIV, v, scale)), zp);
    Expr saturated = Exprs.value(BinaryOp.MAX, zero, Exprs.value(BinaryOp.MIN, top, q));
    return new Stmt.Seq(List.of(
        new Stmt.Declare(lo, zero),
        new Stmt.Declare(hi, zero),
        new Stmt.For(e, total, new Stmt.Seq(List.of(
            new Stmt.Assign(lo, Exprs.value(BinaryOp.MIN, lo, v)),
            new Stmt.Assign(hi, Exprs.value(BinaryOp.MAX, hi, v)))), Stmt.ForKind.SERIAL),
        new Stmt.Declare(scale, Exprs.select(Exprs.compare(CompareOp.EQ, hi, lo), Exprs.constant(1, f),
            Exprs.value(BinaryOp.DIV, Exprs.value(BinaryOp.SUB, hi, lo), top))),
        new Stmt.Declare(zp, Exprs.unary(UnaryOp.ROUND_EVEN, clampedZp)),
        new Stmt.Store(outs.get(1), Exprs.i64(0), scale),
        new Stmt.Store(outs.get(2), Exprs.i64(0), Exprs.as(zp, DType.UINT8)),
        new Stmt.For(e, total, new Stmt.Store(outs.get(0), e, Exprs.as(saturated, DType.UINT8)),
            Stmt.ForKind.VECTORIZABLE)));
  }

  /**
   * {@code Y[r, j] = sum_k (A[r, k] - a_zp) * (B[k, j] - b_zp)} in int32, r over the rows of A's (flattened)
   * leading dimensions; B is one matrix shared by every row (rank 2), zero points per tensor, or per row of
   * A and per column of B as 1-D tensors.
   */
  private static Stmt matMulInteger(Node n, LowerContext ctx, List<BufferRef> ins, BufferRef out) {
    BufferRef a = input(n, ins, 0);
    BufferRef b = input(n, ins, 1);
    if (a.rank() < 2 || b.rank() != 2) {
      throw new UnsupportedModelException(n.describe() + ": MatMulInteger compiles with A of rank >= 2 and a "
          + "2-D B (got ranks " + a.rank() + " and " + b.rank() + ")");
    }
    DType i32 = DType.INT32;
    Expr m = a.shape().get(a.rank() - 2);
    Expr k = a.shape().get(a.rank() - 1);
    Expr cols = b.shape().get(1);
    Expr rows = Exprs.product(a.shape().subList(0, a.rank() - 1));
    Expr.Var r = new Expr.Var("mr");
    Expr.Var kk = new Expr.Var("mk");
    Expr.Var j = new Expr.Var("mj");
    Expr.Local av = new Expr.Local("av", i32);
    Expr aZp = zeroPoint(n, ctx, ins, 2, Exprs.rem(r, m), m);
    Expr bZp = zeroPoint(n, ctx, ins, 3, j, cols);
    Expr at = Exprs.add(Exprs.mul(r, cols), j);
    Expr shifted = Exprs.value(BinaryOp.SUB, Exprs.as(new Expr.Load(b, Exprs.add(Exprs.mul(kk, cols), j)), i32),
        bZp);
    Stmt row = new Stmt.Seq(List.of(
        new Stmt.For(j, cols, new Stmt.Store(out, at, Exprs.constant(0, i32)), Stmt.ForKind.VECTORIZABLE),
        new Stmt.For(kk, k, new Stmt.Seq(List.of(
            new Stmt.Declare(av, Exprs.value(BinaryOp.SUB, Exprs.as(new Expr.Load(a, Exprs.add(Exprs.mul(r, k), kk)),
                i32), aZp)),
            new Stmt.For(j, cols, new Stmt.Store(out, at, Exprs.value(BinaryOp.ADD, new Expr.Load(out, at),
                Exprs.value(BinaryOp.MUL, av, shifted))), Stmt.ForKind.VECTORIZABLE))), Stmt.ForKind.SERIAL)));
    return new Stmt.For(r, rows, row, Stmt.ForKind.PARALLEL);
  }

  /** The kernel buffer of node input {@code i} (kernel inputs are the distinct values, by name). */
  private static BufferRef input(Node n, List<BufferRef> ins, int i) {
    String name = n.input(i);
    return ins.stream().filter(b -> b.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalStateException(n.describe() + ": input " + i + " '" + name + "' is not a kernel "
            + "input"));
  }

  /** Zero point input {@code i} as int32 at {@code index}: 0 when absent, one value, or one per {@code extent}. */
  private static Expr zeroPoint(Node n, LowerContext ctx, List<BufferRef> ins, int i, Expr index, Expr extent) {
    if (!n.hasInput(i)) {
      return Exprs.constant(0, DType.INT32);
    }
    BufferRef zp = input(n, ins, i);
    Expr size = Exprs.product(zp.shape());
    Long count = Exprs.constValue(size);
    if (count != null && count == 1) {
      return Exprs.as(new Expr.Load(zp, Exprs.i64(0)), DType.INT32);
    }
    if (zp.rank() == 1 && size.equals(extent)) {
      return Exprs.as(new Expr.Load(zp, index), DType.INT32);
    }
    throw new UnsupportedModelException(n.describe() + ": a zero point of shape " + zp.shape()
        + " cannot be compiled (one value, or one per row of A / column of B)");
  }
}
