package dev.nnvm.compiler.lower;

import dev.nnvm.runtime.DType;
import java.util.Objects;

/**
 * A scalar expression of the loop-level kernel IR. Index arithmetic is
 * {@code i64}; values carry the element type they are computed in. Loop
 * variables and symbolic dimensions are {@link Var}s.
 */
public sealed interface Expr {
  /** The type the expression computes in. */
  DType type();

  /** An integer constant (indices, integer tensors, bools as 0/1). */
  record IntConst(long value, DType type) implements Expr {
    public IntConst {
      Objects.requireNonNull(type);
    }
  }

  /** A floating-point constant. */
  record FloatConst(double value, DType type) implements Expr {
    public FloatConst {
      Objects.requireNonNull(type);
    }
  }

  /** A loop variable or a symbolic dimension, always {@code i64}. */
  record Var(String name) implements Expr {
    public Var {
      Objects.requireNonNull(name);
    }

    @Override
    public DType type() {
      return DType.INT64;
    }
  }

  /** A kernel-local scalar (a reduction accumulator). */
  record Local(String name, DType type) implements Expr {}

  /** Element {@code index} (row-major flat) of a buffer. */
  record Load(BufferRef buffer, Expr index) implements Expr {
    @Override
    public DType type() {
      return buffer.dtype();
    }
  }

  /** A unary operation. */
  record Unary(UnaryOp op, Expr x, DType type) implements Expr {}

  /** A binary operation; both operands have the result type. */
  record Binary(BinaryOp op, Expr a, Expr b, DType type) implements Expr {}

  /** A comparison of two operands of one type; the result is bool. */
  record Compare(CompareOp op, Expr a, Expr b) implements Expr {
    @Override
    public DType type() {
      return DType.BOOL;
    }
  }

  /** {@code cond ? a : b}. */
  record Select(Expr cond, Expr a, Expr b, DType type) implements Expr {}

  /** A conversion with ONNX Cast semantics. */
  record Convert(Expr x, DType type) implements Expr {}

  /** Unary operations. */
  enum UnaryOp {
    NEG, ABS, EXP, LOG, SQRT, SIN, COS, TAN, TANH, ASIN, ACOS, ATAN, SINH, COSH, ASINH, ACOSH, ATANH, ERF, FLOOR, CEIL, ROUND_EVEN, SIGN, NOT, IS_NAN
  }

  /** Binary operations. DIV truncates for integers; REM is C's fmod / integer remainder. */
  enum BinaryOp {
    ADD, SUB, MUL, DIV, REM, MIN, MAX, POW, AND, OR, XOR
  }

  /** Comparisons. */
  enum CompareOp {
    EQ, NE, LT, LE, GT, GE
  }
}
