package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.lower.Expr.BinaryOp;
import dev.nnvm.compiler.lower.Expr.UnaryOp;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Kernels for operators that normalize along axes (Softmax, LogSoftmax,
 * LayerNormalization): a loop over the independent rows, and inside it a
 * few passes over the row with scalar accumulators (max, sum, mean,
 * variance) and a final pass that writes the row. Inputs are read again in
 * each pass instead of being buffered.
 */
final class RowKernels {
  private RowKernels() {}

  /** The kernel body for {@code n} when it is one of these operators. */
  static Optional<Stmt> lower(Node n, LowerContext ctx, List<BufferRef> ins, List<BufferRef> outs) {
    if (!n.domain().isEmpty()) {
      return Optional.empty();
    }
    switch (n.opType()) {
      case "Softmax":
      case "LogSoftmax":
        return Optional.of(softmax(ctx, ins.get(0), outs.get(0), n.opType().equals("LogSoftmax")));
      case "LayerNormalization":
        if (outs.size() != 1) {
          throw new UnsupportedModelException(n.describe() + ": only the normalized output can be compiled");
        }
        return Optional.of(layerNorm(ctx, ins, outs.get(0)));
      default:
        return Optional.empty();
    }
  }

  /** The flat index (outer, reduced, inner) -> (o * R + r) * I + i. */
  private static Expr at(Expr o, Expr r, Expr i, Expr rExtent, Expr iExtent) {
    return Exprs.add(Exprs.mul(Exprs.add(Exprs.mul(o, rExtent), r), iExtent), i);
  }

  private static Expr[] split(LowerContext ctx, TensorType t, int axis, boolean onlyAxis) {
    List<Expr> dims = LowerContext.dims(t);
    int end = onlyAxis ? axis + 1 : dims.size();
    return new Expr[] {
      Exprs.product(dims.subList(0, axis)), Exprs.product(dims.subList(axis, end)),
      Exprs.product(dims.subList(end, dims.size()))};
  }

  private static Stmt softmax(LowerContext ctx, BufferRef in, BufferRef out, boolean log) {
    TensorType t = ctx.inputType(0);
    int rank = t.shape().rank();
    boolean modern = ctx.opset() >= 13;
    // The default axis moved from 1 to -1 in opset 13, when the operator stopped flattening from the axis.
    long requested = ctx.hasAttr("axis") ? ctx.attrInt("axis") : modern ? -1 : 1;
    int axis = ctx.axis(requested, rank, "axis");
    Expr[] e = split(ctx, t, axis, modern);
    Expr.Var o = new Expr.Var("o");
    Expr.Var i = new Expr.Var("i");
    Expr.Var r = new Expr.Var("r");
    DType dt = in.dtype();
    Expr x = new Expr.Load(in, at(o, r, i, e[1], e[2]));
    Expr.Local max = new Expr.Local("max", dt);
    Expr.Local sum = new Expr.Local("sum", dt);
    Expr shifted = Exprs.value(BinaryOp.SUB, x, max);
    Expr value = log
        ? Exprs.value(BinaryOp.SUB, shifted, Exprs.unary(UnaryOp.LOG, sum))
        : Exprs.value(BinaryOp.DIV, Exprs.unary(UnaryOp.EXP, shifted), sum);
    Stmt row = new Stmt.Seq(List.of(
        new Stmt.Declare(max, Exprs.constant(Double.NEGATIVE_INFINITY, dt)),
        serial(r, e[1], new Stmt.Assign(max, Exprs.value(BinaryOp.MAX, max, x))),
        new Stmt.Declare(sum, Exprs.constant(0, dt)),
        serial(r, e[1], new Stmt.Assign(sum, Exprs.value(BinaryOp.ADD, sum, Exprs.unary(UnaryOp.EXP, shifted)))),
        new Stmt.For(r, e[1], new Stmt.Store(out, at(o, r, i, e[1], e[2]), value), Stmt.ForKind.VECTORIZABLE)));
    return new Stmt.For(o, e[0], serial(i, e[2], row), Stmt.ForKind.PARALLEL);
  }

  private static Stmt layerNorm(LowerContext ctx, List<BufferRef> ins, BufferRef out) {
    TensorType t = ctx.inputType(0);
    int rank = t.shape().rank();
    int axis = ctx.axis(ctx.attrInt("axis"), rank, "axis");
    Expr[] e = split(ctx, t, axis, false);
    Expr.Var o = new Expr.Var("o");
    Expr.Var r = new Expr.Var("r");
    Expr zero = Exprs.i64(0);
    DType dt = ins.get(0).dtype();
    Expr x = new Expr.Load(ins.get(0), at(o, r, zero, e[1], Exprs.i64(1)));
    Expr.Local mean = new Expr.Local("mean", dt);
    Expr.Local var = new Expr.Local("var", dt);
    Expr.Local inv = new Expr.Local("inv", dt);
    Expr n = Exprs.as(e[1], dt);
    Expr centered = Exprs.value(BinaryOp.SUB, x, mean);
    Expr y = Exprs.value(BinaryOp.MUL, centered, inv);
    y = Exprs.value(BinaryOp.MUL, y, perElement(ins.get(1), r));
    if (ins.size() > 2) {
      y = Exprs.value(BinaryOp.ADD, y, perElement(ins.get(2), r));
    }
    List<Stmt> row = new ArrayList<>();
    row.add(new Stmt.Declare(mean, Exprs.constant(0, dt)));
    row.add(serial(r, e[1], new Stmt.Assign(mean, Exprs.value(BinaryOp.ADD, mean, x))));
    row.add(new Stmt.Assign(mean, Exprs.value(BinaryOp.DIV, mean, n)));
    row.add(new Stmt.Declare(var, Exprs.constant(0, dt)));
    row.add(serial(r, e[1], new Stmt.Assign(var, Exprs.value(BinaryOp.ADD, var,
        Exprs.value(BinaryOp.MUL, centered, centered)))));
    row.add(new Stmt.Declare(inv, Exprs.value(BinaryOp.DIV, Exprs.constant(1, dt), Exprs.unary(UnaryOp.SQRT,
        Exprs.value(BinaryOp.ADD, Exprs.value(BinaryOp.DIV, var, n), Exprs.constant(ctx.attrFloat("epsilon"), dt))))));
    row.add(new Stmt.For(r, e[1], new Stmt.Store(out, at(o, r, zero, e[1], Exprs.i64(1)), y),
        Stmt.ForKind.VECTORIZABLE));
    return new Stmt.For(o, e[0], new Stmt.Seq(row), Stmt.ForKind.PARALLEL);
  }

  /** Scale or bias, shaped like the normalized dims or broadcast to them (a trailing suffix of them). */
  private static Expr perElement(BufferRef b, Expr.Var r) {
    Expr size = Exprs.product(b.shape());
    return new Expr.Load(b, Exprs.rem(r, size));
  }

  private static Stmt serial(Expr.Var v, Expr extent, Stmt body) {
    return new Stmt.For(v, extent, body, Stmt.ForKind.SERIAL);
  }
}
