package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.lower.Expr.BinaryOp;
import dev.nnvm.compiler.lower.Expr.IntConst;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.List;

/** Builders for kernel IR expressions; index arithmetic on constants is folded as it is built. */
public final class Exprs {
  private Exprs() {}

  public static IntConst i64(long v) {
    return new IntConst(v, DType.INT64);
  }

  /** A constant of an element type (integers and bools as IntConst, floats as FloatConst). */
  public static Expr constant(double v, DType t) {
    return t.isFloatingPoint() ? new Expr.FloatConst(v, t) : new IntConst((long) v, t);
  }

  /** A dimension as an index expression: its size or its symbol. */
  public static Expr dim(Dim d) {
    if (d.isStatic()) {
      return i64(d.value());
    }
    if (d.isSymbolic()) {
      return new Expr.Var(d.symbol());
    }
    throw new IllegalArgumentException("a dimension of unknown size cannot be lowered");
  }

  public static Long constValue(Expr e) {
    return e instanceof IntConst c && c.type() == DType.INT64 ? c.value() : null;
  }

  public static Expr add(Expr a, Expr b) {
    Long x = constValue(a);
    Long y = constValue(b);
    if (x != null && y != null) {
      return i64(x + y);
    }
    if (x != null && x == 0) {
      return b;
    }
    if (y != null && y == 0) {
      return a;
    }
    return binary(BinaryOp.ADD, a, b);
  }

  public static Expr sub(Expr a, Expr b) {
    Long x = constValue(a);
    Long y = constValue(b);
    if (x != null && y != null) {
      return i64(x - y);
    }
    if (y != null && y == 0) {
      return a;
    }
    return binary(BinaryOp.SUB, a, b);
  }

  public static Expr mul(Expr a, Expr b) {
    Long x = constValue(a);
    Long y = constValue(b);
    if (x != null && y != null) {
      return i64(x * y);
    }
    if (x != null && x == 1 || y != null && y == 0) {
      return x != null && x == 1 ? b : i64(0);
    }
    if (y != null && y == 1 || x != null && x == 0) {
      return y != null && y == 1 ? a : i64(0);
    }
    return binary(BinaryOp.MUL, a, b);
  }

  /** Integer division of non-negative indices. */
  public static Expr div(Expr a, Expr b) {
    Long x = constValue(a);
    Long y = constValue(b);
    if (x != null && y != null && y != 0) {
      return i64(x / y);
    }
    if (y != null && y == 1) {
      return a;
    }
    return binary(BinaryOp.DIV, a, b);
  }

  /** Remainder of non-negative indices. */
  public static Expr rem(Expr a, Expr b) {
    Long x = constValue(a);
    Long y = constValue(b);
    if (x != null && y != null && y != 0) {
      return i64(x % y);
    }
    if (y != null && y == 1) {
      return i64(0);
    }
    return binary(BinaryOp.REM, a, b);
  }

  private static Expr binary(BinaryOp op, Expr a, Expr b) {
    return new Expr.Binary(op, a, b, DType.INT64);
  }

  /** The row-major flat index of a multi-index into a shape. */
  public static Expr flatIndex(List<Expr> index, List<Expr> shape) {
    if (index.size() != shape.size()) {
      throw new IllegalArgumentException("index of rank " + index.size() + " into shape of rank " + shape.size());
    }
    Expr flat = i64(0);
    for (int i = 0; i < index.size(); i++) {
      flat = add(mul(flat, shape.get(i)), index.get(i));
    }
    return flat;
  }

  /** The multi-index of a row-major flat index into a shape. */
  public static List<Expr> unflatten(Expr flat, List<Expr> shape) {
    List<Expr> out = new ArrayList<>();
    Expr rest = flat;
    for (int i = shape.size() - 1; i >= 0; i--) {
      out.add(0, i == 0 ? rest : rem(rest, shape.get(i)));
      rest = div(rest, shape.get(i));
    }
    return out;
  }

  /** The product of dimension expressions. */
  public static Expr product(List<Expr> dims) {
    Expr p = i64(1);
    for (Expr d : dims) {
      p = mul(p, d);
    }
    return p;
  }

  /** A value of type {@code t} (with conversion when it has another type). */
  public static Expr as(Expr e, DType t) {
    return e.type() == t ? e : new Expr.Convert(e, t);
  }

  public static Expr value(BinaryOp op, Expr a, Expr b) {
    return new Expr.Binary(op, a, b, a.type());
  }

  public static Expr unary(Expr.UnaryOp op, Expr x) {
    return new Expr.Unary(op, x, op == Expr.UnaryOp.IS_NAN ? DType.BOOL : x.type());
  }

  public static Expr compare(Expr.CompareOp op, Expr a, Expr b) {
    return new Expr.Compare(op, a, b);
  }

  public static Expr select(Expr c, Expr a, Expr b) {
    return new Expr.Select(c, a, b, a.type());
  }
}
