package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.op.OpRegistry;

/** Operator family: see {@link StandardOps}. */
final class QuantOps {
  private QuantOps() {}

  static void register(OpRegistry r) {
  }
}
