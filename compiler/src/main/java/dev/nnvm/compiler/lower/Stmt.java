package dev.nnvm.compiler.lower;

import java.util.List;

/** A statement of the loop-level kernel IR. */
public sealed interface Stmt {
  /** {@code for (var = 0; var < extent; var++) body}. */
  record For(Expr.Var var, Expr extent, Stmt body, ForKind kind) implements Stmt {}

  /** Stores {@code value} at flat {@code index} of a buffer. */
  record Store(BufferRef buffer, Expr index, Expr value) implements Stmt {}

  /** Declares a local scalar with an initial value (reduction accumulators). */
  record Declare(Expr.Local local, Expr init) implements Stmt {}

  /** Assigns a local scalar. */
  record Assign(Expr.Local local, Expr value) implements Stmt {}

  /** Statements in order. */
  record Seq(List<Stmt> body) implements Stmt {
    public Seq {
      body = List.copyOf(body);
    }
  }

  /** How a loop may be run. */
  enum ForKind {
    /** In order. */
    SERIAL,
    /** Iterations are independent: may be split over threads. */
    PARALLEL,
    /** Iterations are independent and contiguous in the innermost dimension: vectorizable. */
    VECTORIZABLE
  }
}
