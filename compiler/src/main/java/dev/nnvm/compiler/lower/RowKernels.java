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
    if (n.domain().equals(dev.nnvm.compiler.ops.NnvmOps.DOMAIN)
        && n.opType().equals(dev.nnvm.compiler.ops.NnvmOps.ATTENTION)) {
      return Optional.of(attention(ctx, ins, outs.get(0)));
    }
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

  /**
   * The loop form of attention, for the nodes the fused kernel
   * ({@link AttentionPlan}) does not take:
   * {@code softmax(Q @ KT * scale + mask) @ V} one query row at a time:
   * the row's maximum score, then the sum of exponentials, then each key's
   * probability times its value row is added into the output row. Scores are
   * recomputed per pass instead of stored, so no scratch memory is needed.
   */
  private static Stmt attention(LowerContext ctx, List<BufferRef> ins, BufferRef out) {
    BufferRef q = ins.get(0);
    BufferRef kt = ins.get(1);
    BufferRef v = ins.get(2);
    BufferRef mask = ins.size() > 3 ? ins.get(3) : null;
    int rank = q.rank();
    if (kt.rank() != rank || v.rank() != rank || !q.shape().subList(0, rank - 2).equals(kt.shape().subList(0, rank - 2))
        || !q.shape().subList(0, rank - 2).equals(v.shape().subList(0, rank - 2))) {
      throw new UnsupportedModelException(ctx.node().describe()
          + ": attention with batch dimensions that differ between Q, K and V cannot be compiled yet");
    }
    DType dt = q.dtype();
    Expr sq = q.shape().get(rank - 2);
    Expr d = q.shape().get(rank - 1);
    Expr sk = kt.shape().get(rank - 1);
    Expr dv = v.shape().get(rank - 1);
    Expr batch = Exprs.product(q.shape().subList(0, rank - 2));
    Expr.Var b = new Expr.Var("b");
    Expr.Var i = new Expr.Var("q");
    Expr.Var k = new Expr.Var("k");
    Expr.Var c = new Expr.Var("c");
    Expr.Var j = new Expr.Var("j");
    Expr.Local dot = new Expr.Local("dot", dt);
    Expr.Local max = new Expr.Local("max", dt);
    Expr.Local sum = new Expr.Local("sum", dt);
    Expr.Local p = new Expr.Local("p", dt);
    // dot = sum_c Q[b, i, c] * KT[b, c, k]
    Stmt dotLoop = new Stmt.Seq(List.of(new Stmt.Declare(dot, Exprs.constant(0, dt)),
        serial(c, d, new Stmt.Assign(dot, Exprs.value(BinaryOp.ADD, dot, Exprs.value(BinaryOp.MUL,
            new Expr.Load(q, Exprs.add(Exprs.mul(Exprs.add(Exprs.mul(b, sq), i), d), c)),
            new Expr.Load(kt, Exprs.add(Exprs.mul(Exprs.add(Exprs.mul(b, d), c), sk), k))))))));
    Expr score = Exprs.value(BinaryOp.MUL, dot, Exprs.constant(ctx.attrFloat("scale"), dt));
    if (mask != null) {
      score = Exprs.value(BinaryOp.ADD, score, Exprs.as(maskAt(mask, q.shape().subList(0, rank - 2), b, i, k), dt));
    }
    Expr outAt = Exprs.add(Exprs.mul(Exprs.add(Exprs.mul(b, sq), i), dv), j);
    Expr vAt = Exprs.add(Exprs.mul(Exprs.add(Exprs.mul(b, sk), k), dv), j);
    Stmt row = new Stmt.Seq(List.of(
        new Stmt.Declare(max, Exprs.constant(Double.NEGATIVE_INFINITY, dt)),
        serial(k, sk, new Stmt.Seq(List.of(dotLoop, new Stmt.Assign(max, Exprs.value(BinaryOp.MAX, max, score))))),
        new Stmt.Declare(sum, Exprs.constant(0, dt)),
        serial(k, sk, new Stmt.Seq(List.of(dotLoop, new Stmt.Assign(sum, Exprs.value(BinaryOp.ADD, sum,
            Exprs.unary(UnaryOp.EXP, Exprs.value(BinaryOp.SUB, score, max))))))),
        new Stmt.For(j, dv, new Stmt.Store(out, outAt, Exprs.constant(0, dt)), Stmt.ForKind.VECTORIZABLE),
        serial(k, sk, new Stmt.Seq(List.of(dotLoop,
            new Stmt.Declare(p, Exprs.value(BinaryOp.DIV, Exprs.unary(UnaryOp.EXP, Exprs.value(BinaryOp.SUB, score,
                max)), sum)),
            new Stmt.For(j, dv, new Stmt.Store(out, outAt, Exprs.value(BinaryOp.ADD, new Expr.Load(out, outAt),
                Exprs.value(BinaryOp.MUL, p, new Expr.Load(v, vAt)))), Stmt.ForKind.VECTORIZABLE))))));
    return new Stmt.For(b, batch, serial(i, sq, row), Stmt.ForKind.PARALLEL);
  }

  /** The mask element for score [batch..., i, k], the mask broadcasting against [batch..., Sq, Sk]. */
  private static Expr maskAt(BufferRef mask, List<Expr> batchDims, Expr b, Expr i, Expr k) {
    List<Expr> full = new ArrayList<>(Exprs.unflatten(b, batchDims));
    full.add(i);
    full.add(k);
    int offset = full.size() - mask.rank();
    if (offset < 0) {
      throw new IllegalArgumentException("mask of rank " + mask.rank() + " is larger than the scores");
    }
    List<Expr> idx = new ArrayList<>();
    for (int a = 0; a < mask.rank(); a++) {
      Long size = Exprs.constValue(mask.shape().get(a));
      idx.add(size != null && size == 1 ? Exprs.i64(0) : full.get(a + offset));
    }
    return new Expr.Load(mask, Exprs.flatIndex(idx, mask.shape()));
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
