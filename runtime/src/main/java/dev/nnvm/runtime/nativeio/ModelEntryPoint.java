package dev.nnvm.runtime.nativeio;

import java.util.Objects;

/**
 * An {@code nnvm_entry} function of a loaded {@link SharedLibrary}, with the
 * number of inputs, outputs and symbolic dimensions it takes (see
 * {@code nnvm_model_abi.h}). Calls go through a {@link NativeCall}, one per
 * thread, created by {@link #newCall(NativeAllocator)}.
 */
public final class ModelEntryPoint {
  /** A generous bound on each count, so a corrupt manifest cannot ask for a huge call frame. */
  public static final int MAX_ARGUMENTS = 1 << 16;

  private final SharedLibrary library;
  private final String symbol;
  private final long address;
  private final int inputs;
  private final int outputs;
  private final int symbols;

  ModelEntryPoint(SharedLibrary library, String symbol, long address, int inputs, int outputs, int symbols) {
    this.library = Objects.requireNonNull(library, "library");
    this.symbol = Objects.requireNonNull(symbol, "symbol");
    checkCount("inputs", inputs);
    checkCount("outputs", outputs);
    checkCount("symbols", symbols);
    this.address = address;
    this.inputs = inputs;
    this.outputs = outputs;
    this.symbols = symbols;
  }

  private void checkCount(String what, int count) {
    if (count < 0 || count > MAX_ARGUMENTS) {
      throw new IllegalArgumentException("entry point '" + symbol + "': " + what + " must be in [0, " + MAX_ARGUMENTS
          + "], got " + count);
    }
  }

  /** A call frame for this entry point, allocated from {@code allocator}; use it from one thread at a time. */
  public NativeCall newCall(NativeAllocator allocator) {
    return new NativeCall(this, allocator);
  }

  public SharedLibrary library() {
    return library;
  }

  public String symbol() {
    return symbol;
  }

  /** The function's address; valid while the library is loaded. */
  public long address() {
    return address;
  }

  public int inputs() {
    return inputs;
  }

  public int outputs() {
    return outputs;
  }

  public int symbols() {
    return symbols;
  }

  @Override
  public String toString() {
    return "entry point '" + symbol + "' (" + inputs + " inputs, " + outputs + " outputs, " + symbols
        + " symbols) of " + library;
  }
}
