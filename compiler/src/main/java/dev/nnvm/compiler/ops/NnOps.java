package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.op.OpRegistry;

/** Operator family: see {@link StandardOps}. */
final class NnOps {
  private NnOps() {}

  static void register(OpRegistry r) {
  }
}
