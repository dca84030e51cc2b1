package dev.nnvm.compiler.lower;

import java.util.List;

/**
 * One lowered kernel: the buffers it takes (inputs first, then outputs), the
 * symbolic dimensions it reads, and its loop nest.
 */
public record Kernel(String name, List<BufferRef> inputs, List<BufferRef> outputs, List<String> symbols, Stmt body) {
  public Kernel {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    symbols = List.copyOf(symbols);
  }
}
