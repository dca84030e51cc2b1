package dev.nnvm.compiler.lower;

import java.util.Locale;

/** Compact text of kernel IR expressions (for reading lowered kernels and in tests). */
final class ExprText {
  private ExprText() {}

  static String of(Expr e) {
    if (e instanceof Expr.IntConst c) {
      return Long.toString(c.value());
    } else if (e instanceof Expr.FloatConst c) {
      return Double.toString(c.value());
    } else if (e instanceof Expr.Var v) {
      return v.name();
    } else if (e instanceof Expr.Local l) {
      return l.name();
    } else if (e instanceof Expr.Load l) {
      return l.buffer().name() + "[" + of(l.index()) + "]";
    } else if (e instanceof Expr.Unary u) {
      return u.op().name().toLowerCase(Locale.ROOT) + "(" + of(u.x()) + ")";
    } else if (e instanceof Expr.Binary b) {
      return "(" + of(b.a()) + " " + symbol(b.op()) + " " + of(b.b()) + ")";
    } else if (e instanceof Expr.Compare c) {
      return "(" + of(c.a()) + " " + c.op().name().toLowerCase(Locale.ROOT) + " " + of(c.b()) + ")";
    } else if (e instanceof Expr.Select s) {
      return "(" + of(s.cond()) + " ? " + of(s.a()) + " : " + of(s.b()) + ")";
    } else if (e instanceof Expr.Convert c) {
      return c.type().shortName() + "(" + of(c.x()) + ")";
    }
    return e.toString();
  }

  private static String symbol(Expr.BinaryOp op) {
    switch (op) {
      case ADD: return "+";
      case SUB: return "-";
      case MUL: return "*";
      case DIV: return "/";
      case REM: return "%";
      default: return op.name().toLowerCase(Locale.ROOT);
    }
  }
}
