package dev.nnvm.runtime.nativeio;

import dev.nnvm.runtime.NativeTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reusable call frame for one {@link ModelEntryPoint}: the
 * {@code nnvm_call} struct, the pointer arrays, the symbol values and the
 * error buffer, in one block of native memory. {@link #invoke} validates
 * everything in Java, fills the frame and makes one JNI call.
 *
 * <p>One frame serves one call at a time: a second thread that tries to use
 * it while it runs, or to close it, gets an {@link IllegalStateException}
 * (create a frame per thread). A frame keeps its library loaded until the
 * frame is closed; once the library handle is closed, the frame refuses
 * calls.
 */
public final class NativeCall implements AutoCloseable {
  /** Bytes of the error buffer the model may write its message into (NUL included). */
  public static final int ERROR_CAPACITY = 1024;

  /** The {@code NNVM_MODEL_ABI_VERSION} this class fills frames for. */
  public static final int ABI_VERSION = 1;

  /** The workspace and weights alignment the ABI promises. */
  public static final int ALIGNMENT = 64;

  private static final int IDLE = 0;
  private static final int RUNNING = 1;
  private static final int CLOSED = 2;

  private final ModelEntryPoint entry;
  private final SharedLibrary library;
  private final NativeBuffer frame;
  private final ByteBuffer view;
  private final long frameAddress;
  private final int inputsAt;
  private final int outputsAt;
  private final int symbolsAt;
  private final int errorAt;
  private final AtomicInteger state = new AtomicInteger(IDLE);

  NativeCall(ModelEntryPoint entry, NativeAllocator allocator) {
    this.entry = Objects.requireNonNull(entry, "entry");
    Objects.requireNonNull(allocator, "allocator");
    Layout layout = Layout.INSTANCE;
    inputsAt = align8(layout.size);
    outputsAt = inputsAt + 8 * entry.inputs();
    symbolsAt = outputsAt + 8 * entry.outputs();
    errorAt = symbolsAt + 8 * entry.symbols();
    library = entry.library();
    library.acquire();
    try {
      frame = allocator.allocate(errorAt + ERROR_CAPACITY, ALIGNMENT, "call frame of '" + entry.symbol() + "'");
    } catch (RuntimeException e) {
      library.release();
      throw e;
    }
    frameAddress = frame.address();
    view = Natives.view(frameAddress, errorAt + ERROR_CAPACITY).order(ByteOrder.nativeOrder());
    frame.fill((byte) 0);
    view.putLong(layout.inputs, frameAddress + inputsAt);
    view.putLong(layout.outputs, frameAddress + outputsAt);
    view.putLong(layout.symbols, frameAddress + symbolsAt);
    view.putLong(layout.parallelFor, layout.parallelForAddress);
    view.putLong(layout.error, frameAddress + errorAt);
    view.putInt(layout.errorCapacity, ERROR_CAPACITY);
  }

  private static int align8(int n) {
    return (n + 7) & ~7;
  }

  public ModelEntryPoint entryPoint() {
    return entry;
  }

  /** {@link #invoke(List, List, NativeBuffer, NativeBuffer, long[], int)} on the calling thread alone. */
  public void invoke(List<NativeTensor> inputs, List<NativeTensor> outputs, NativeBuffer workspace,
      NativeBuffer weights, long[] symbols) {
    invoke(inputs, outputs, workspace, weights, symbols, 1);
  }

  /**
   * Calls the entry point once.
   *
   * @param inputs one open tensor per model input, in manifest order
   * @param outputs one open tensor per model output, in manifest order
   * @param workspace the planned workspace ({@value #ALIGNMENT}-byte aligned), or null when none is planned
   * @param weights the weights blob ({@value #ALIGNMENT}-byte aligned), or null when there are none
   * @param symbols the values of the symbolic dimensions, in manifest order (non-negative)
   * @param threads the intra-op threads the kernels may use, at least 1 (see {@link ThreadPool})
   * @throws IllegalArgumentException for wrong counts, nulls, bad alignment or values, before any native call
   * @throws IllegalStateException for a closed tensor, buffer, library or frame, or a frame in use
   * @throws NativeCallException when the entry point returns a non-zero status
   */
  public void invoke(List<NativeTensor> inputs, List<NativeTensor> outputs, NativeBuffer workspace,
      NativeBuffer weights, long[] symbols, int threads) {
    if (!state.compareAndSet(IDLE, RUNNING)) {
      throw new IllegalStateException(state.get() == CLOSED
          ? "the call frame of '" + entry.symbol() + "' is closed"
          : "the call frame of '" + entry.symbol() + "' is in use by another thread; use one frame per thread");
    }
    try {
      Layout layout = Layout.INSTANCE;
      if (threads < 1) {
        throw new IllegalArgumentException(what() + ": threads must be at least 1, got " + threads);
      }
      putTensors("input", inputs, entry.inputs(), inputsAt);
      putTensors("output", outputs, entry.outputs(), outputsAt);
      putSymbols(symbols);
      view.putLong(layout.workspace, alignedAddress("workspace", workspace));
      view.putLong(layout.weights, alignedAddress("weights", weights));
      view.putInt(layout.numThreads, threads);
      view.put(errorAt, (byte) 0);
      if (library.isClosed()) {
        throw new IllegalStateException(what() + ": " + library.describe() + " is closed");
      }
      int status = Natives.invoke(entry.address(), frameAddress);
      if (status != 0) {
        throw new NativeCallException(entry.symbol(), status, errorMessage());
      }
    } finally {
      state.setRelease(IDLE);
    }
  }

  private void putTensors(String kind, List<NativeTensor> tensors, int expected, int at) {
    if (tensors == null) {
      throw new IllegalArgumentException(what() + ": the " + kind + " list is null");
    }
    if (tensors.size() != expected) {
      throw new IllegalArgumentException(what() + " takes " + expected + " " + kind + (expected == 1 ? "" : "s")
          + ", got " + tensors.size());
    }
    for (int i = 0; i < expected; i++) {
      NativeTensor t = tensors.get(i);
      if (t == null) {
        throw new IllegalArgumentException(what() + ": " + kind + " " + i + " is null");
      }
      if (t.isClosed()) {
        throw new IllegalStateException(what() + ": " + kind + " " + i + " (" + t + ") is closed");
      }
      view.putLong(at + 8 * i, t.address());
    }
  }

  private void putSymbols(long[] symbols) {
    if (symbols == null) {
      throw new IllegalArgumentException(what() + ": the symbol values are null");
    }
    if (symbols.length != entry.symbols()) {
      throw new IllegalArgumentException(what() + " takes " + entry.symbols() + " symbol values, got "
          + symbols.length);
    }
    for (int i = 0; i < symbols.length; i++) {
      if (symbols[i] < 0) {
        throw new IllegalArgumentException(what() + ": symbol value " + i + " is negative (" + symbols[i] + ")");
      }
      view.putLong(symbolsAt + 8 * i, symbols[i]);
    }
  }

  private long alignedAddress(String kind, NativeBuffer buffer) {
    if (buffer == null) {
      return 0;
    }
    if (buffer.isClosed()) {
      throw new IllegalStateException(what() + ": the " + kind + " (" + buffer + ") is closed");
    }
    long address = buffer.address();
    if ((address & (ALIGNMENT - 1)) != 0) {
      throw new IllegalArgumentException(what() + ": the " + kind + " must be " + ALIGNMENT + "-byte aligned, "
          + buffer + " is not");
    }
    return address;
  }

  private String errorMessage() {
    byte[] bytes = new byte[ERROR_CAPACITY];
    int length = 0;
    while (length < ERROR_CAPACITY) {
      byte b = view.get(errorAt + length);
      if (b == 0) {
        break;
      }
      bytes[length++] = b;
    }
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }

  private String what() {
    return "entry point '" + entry.symbol() + "'";
  }

  /**
   * Frees the frame and lets its library unload (if its handles are closed); safe to call twice.
   *
   * @throws IllegalStateException when a call on another thread is using the frame
   */
  @Override
  public void close() {
    for (;;) {
      int s = state.get();
      if (s == CLOSED) {
        return;
      }
      if (s == RUNNING) {
        throw new IllegalStateException("cannot close the call frame of '" + entry.symbol()
            + "' while a call on another thread is using it");
      }
      if (state.compareAndSet(IDLE, CLOSED)) {
        try {
          frame.close();
        } finally {
          library.release();
        }
        return;
      }
    }
  }

  /** The layout of {@code nnvm_call}, read from the shim that was compiled against the ABI header. */
  private static final class Layout {
    static final Layout INSTANCE = new Layout();

    final int size;
    final int inputs;
    final int outputs;
    final int workspace;
    final int weights;
    final int symbols;
    final int numThreads;
    final int parallelFor;
    final int error;
    final int errorCapacity;
    final long parallelForAddress;

    private Layout() {
      NativeLoader.ensureLoaded();
      int[] l = Natives.callLayout();
      if (l[0] != ABI_VERSION) {
        throw new NativeException("the native runtime speaks model ABI version " + l[0] + ", this class fills version "
            + ABI_VERSION);
      }
      size = l[1];
      inputs = l[2];
      outputs = l[3];
      workspace = l[4];
      weights = l[5];
      symbols = l[6];
      numThreads = l[7];
      parallelFor = l[8];
      error = l[9];
      errorCapacity = l[10];
      parallelForAddress = Natives.parallelForAddress();
    }
  }
}
