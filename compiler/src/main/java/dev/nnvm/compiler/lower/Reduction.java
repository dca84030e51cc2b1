package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.lower.Expr.BinaryOp;
import dev.nnvm.compiler.lower.Expr.UnaryOp;
import dev.nnvm.runtime.DType;

/** How a reduction combines elements: its start value, step and final transform. */
public enum Reduction {
  SUM, MEAN, MAX, MIN, PROD, SUM_SQUARE, L1, L2, LOG_SUM;

  /** The accumulator's start value. */
  Expr init(DType t) {
    switch (this) {
      case MAX: return Exprs.constant(t.isFloatingPoint() ? Double.NEGATIVE_INFINITY : minOf(t), t);
      case MIN: return Exprs.constant(t.isFloatingPoint() ? Double.POSITIVE_INFINITY : maxOf(t), t);
      case PROD: return Exprs.constant(1, t);
      default: return Exprs.constant(0, t);
    }
  }

  /** The accumulator after one more element. */
  Expr step(Expr acc, Expr x) {
    switch (this) {
      case MAX: return Exprs.value(BinaryOp.MAX, acc, x);
      case MIN: return Exprs.value(BinaryOp.MIN, acc, x);
      case PROD: return Exprs.value(BinaryOp.MUL, acc, x);
      case SUM_SQUARE: case L2: return Exprs.value(BinaryOp.ADD, acc, Exprs.value(BinaryOp.MUL, x, x));
      case L1: return Exprs.value(BinaryOp.ADD, acc, Exprs.unary(UnaryOp.ABS, x));
      default: return Exprs.value(BinaryOp.ADD, acc, x);
    }
  }

  /** The result from the accumulator and the number of reduced elements. */
  Expr finish(Expr acc, Expr count) {
    switch (this) {
      case MEAN: return Exprs.value(BinaryOp.DIV, acc, Exprs.as(count, acc.type()));
      case L2: return Exprs.unary(UnaryOp.SQRT, acc);
      case LOG_SUM: return Exprs.unary(UnaryOp.LOG, acc);
      default: return acc;
    }
  }

  /** The smallest value of an integer type. */
  static double minOf(DType t) {
    return t.isSigned() ? -Math.pow(2, t.bits() - 1) : 0;
  }

  /** The largest value of an integer type. */
  static double maxOf(DType t) {
    return t.isSigned() ? Math.pow(2, t.bits() - 1) - 1 : Math.pow(2, t.bits()) - 1;
  }
}
