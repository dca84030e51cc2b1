package dev.nnvm.runtime.exec;

import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.runtime.nativeio.NativeBuffer;
import dev.nnvm.runtime.nativeio.NativeCall;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs one {@link CompiledModel} on one thread at a time: inputs and outputs
 * bound by name, one native call per {@link #run}.
 *
 * <p>Inputs are borrowed ({@link #setInput}, zero-copy: the tensor may be an
 * Arrow buffer) and stay bound until replaced. Outputs are either borrowed
 * from the caller ({@link #setOutput}) or allocated by the run and handed
 * over by {@link #output}. Everything is checked before the native call:
 * element types, ranks and static dimensions when a tensor is bound, the
 * symbolic dimensions (batch, sequence) across all inputs and the outputs'
 * shapes when the model runs. The workspace is sized from the manifest for
 * the symbol values of each run, allocated once and grown when a larger
 * batch comes.
 *
 * <p>Not thread-safe: use one executor per thread (a second thread that
 * runs it concurrently gets an {@link IllegalStateException}). Closing is
 * idempotent; it frees the workspace, the call frame and the outputs not
 * handed over, and lets the model unload when nothing else uses it.
 */
public final class Executor implements AutoCloseable {
  private final CompiledModel.Loaded model;
  private final Manifest manifest;
  private final NativeAllocator allocator;
  private final NativeCall call;
  private final NativeTensor[] inputs;
  private final NativeTensor[] callerOutputs;
  private final NativeTensor[] ownOutputs;
  private final boolean[] taken;
  private final List<NativeTensor> inputList;
  private final List<NativeTensor> outputList;
  private NativeBuffer workspace;
  private Map<String, Long> bindings = Map.of();
  private boolean ran;
  private boolean closed;

  Executor(CompiledModel.Loaded model, NativeAllocator allocator) {
    this.model = model;
    this.manifest = model.manifest;
    this.allocator = allocator;
    this.call = model.entry.newCall(allocator);
    this.inputs = new NativeTensor[manifest.inputs().size()];
    this.callerOutputs = new NativeTensor[manifest.outputs().size()];
    this.ownOutputs = new NativeTensor[manifest.outputs().size()];
    this.taken = new boolean[manifest.outputs().size()];
    this.inputList = Arrays.asList(inputs);
    this.outputList = Arrays.asList(new NativeTensor[manifest.outputs().size()]);
  }

  /** The model inputs, in the order of the native entry point. */
  public List<TensorSpec> inputs() {
    return manifest.inputs();
  }

  /** The model outputs, in the order of the native entry point. */
  public List<TensorSpec> outputs() {
    return manifest.outputs();
  }

  /** The symbol values of the last run (empty before the first run). */
  public Map<String, Long> bindings() {
    return bindings;
  }

  /** Bytes of workspace this executor holds now. */
  public long workspaceBytes() {
    return workspace == null ? 0 : workspace.size();
  }

  /**
   * Binds a model input to a tensor the caller keeps alive until the runs that use it are done.
   *
   * @throws IllegalArgumentException naming the input and what does not match its declaration
   */
  public void setInput(String name, NativeTensor tensor) {
    checkOpen();
    int i = index(manifest.inputs(), name, "input");
    Objects.requireNonNull(tensor, "tensor");
    check("input", manifest.inputs().get(i), tensor);
    inputs[i] = tensor;
  }

  /**
   * Has the model write an output into a tensor of the caller's (kept alive
   * by the caller); {@code null} goes back to outputs allocated by each run.
   *
   * @throws IllegalArgumentException naming the output and what does not match its declaration
   */
  public void setOutput(String name, NativeTensor tensor) {
    checkOpen();
    int i = index(manifest.outputs(), name, "output");
    if (tensor != null) {
      check("output", manifest.outputs().get(i), tensor);
    }
    callerOutputs[i] = tensor;
  }

  /** {@link #run(int)} on the calling thread alone. */
  public void run() {
    run(1);
  }

  /**
   * Runs the model once on the bound inputs.
   *
   * @param threads intra-op threads the kernels may use, at least 1
   * @throws IllegalArgumentException when an input is missing, symbol values disagree between inputs,
   *     or a caller's output has the wrong shape; nothing native runs then
   */
  public void run(int threads) {
    checkOpen();
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }
    Map<String, Long> bound = bind();
    long[] symbols = new long[manifest.symbols().size()];
    for (int i = 0; i < symbols.length; i++) {
      symbols[i] = bound.get(manifest.symbols().get(i));
    }
    List<long[]> shapes = new ArrayList<>();
    for (int i = 0; i < callerOutputs.length; i++) {
      TensorSpec spec = manifest.outputs().get(i);
      long[] shape = spec.shape().bind(bound).toArray();
      NativeTensor given = callerOutputs[i];
      if (given != null && !Arrays.equals(given.shape(), shape)) {
        throw new IllegalArgumentException(what("output", spec) + ": this run writes " + spec.dtype()
            + Shape.toString(shape) + " (" + bound + "), the tensor set for it is " + given);
      }
      shapes.add(shape);
    }
    long need = manifest.workspace().totalBytes(bound);
    prepareOutputs(shapes);
    if (need > 0 && (workspace == null || workspace.size() < need)) {
      NativeBuffer old = workspace;
      workspace = null;
      if (old != null) {
        old.close();
      }
      workspace = allocator.allocate(need, NativeAllocator.DEFAULT_ALIGNMENT,
          "workspace of model '" + manifest.model().name() + "'");
    }
    for (int i = 0; i < callerOutputs.length; i++) {
      outputList.set(i, callerOutputs[i] != null ? callerOutputs[i] : ownOutputs[i]);
    }
    ran = false;
    call.invoke(inputList, outputList, need > 0 ? workspace : null, model.weights, symbols, threads);
    bindings = Collections.unmodifiableMap(bound);
    ran = true;
  }

  /** Allocates the outputs the caller did not give, reusing last run's tensors that were not handed over. */
  private void prepareOutputs(List<long[]> shapes) {
    for (int i = 0; i < ownOutputs.length; i++) {
      NativeTensor own = ownOutputs[i];
      boolean keep = own != null && !taken[i] && callerOutputs[i] == null && Arrays.equals(own.shape(), shapes.get(i));
      if (own != null && !taken[i] && !keep) {
        own.close();
      }
      ownOutputs[i] = keep ? own : null;
      taken[i] = false;
      if (callerOutputs[i] == null && !keep) {
        ownOutputs[i] = NativeTensor.allocate(allocator, manifest.outputs().get(i).dtype(), shapes.get(i));
      }
    }
  }

  /**
   * The output of the last run. An output the run allocated is handed over:
   * the caller owns the returned tensor and closes it, and the next run
   * allocates a new one. An output bound with {@link #setOutput} is the
   * caller's tensor itself.
   *
   * @throws IllegalStateException before the first successful run, or when the output was already taken
   */
  public NativeTensor output(String name) {
    checkOpen();
    int i = index(manifest.outputs(), name, "output");
    if (!ran) {
      throw new IllegalStateException("output '" + name + "': the model has not run successfully yet");
    }
    NativeTensor t = outputList.get(i);
    if (t != ownOutputs[i]) {
      return t;
    }
    if (taken[i]) {
      throw new IllegalStateException("output '" + name + "' of the last run was already taken; run again for a"
          + " new one");
    }
    taken[i] = true;
    return t;
  }

  /** Symbol values from the bound inputs; every input must be set and agree with the others. */
  private Map<String, Long> bind() {
    Map<String, Long> bound = new LinkedHashMap<>();
    Map<String, String> source = new LinkedHashMap<>();
    for (int i = 0; i < inputs.length; i++) {
      TensorSpec spec = manifest.inputs().get(i);
      NativeTensor t = inputs[i];
      if (t == null) {
        throw new IllegalArgumentException(what("input", spec) + " is not set; call setInput(\"" + spec.name()
            + "\", tensor) before run");
      }
      if (t.isClosed()) {
        throw new IllegalStateException(what("input", spec) + ": the tensor bound to it (" + t + ") is closed");
      }
      long[] shape = t.shape();
      for (int d = 0; d < shape.length; d++) {
        Dim dim = spec.shape().dim(d);
        if (!dim.isSymbolic()) {
          continue;
        }
        String here = "input '" + spec.name() + "' dimension " + d;
        Long before = bound.putIfAbsent(dim.symbol(), shape[d]);
        if (before == null) {
          source.put(dim.symbol(), here);
        } else if (before != shape[d]) {
          throw new IllegalArgumentException(here + " (" + dim.symbol() + ") is " + shape[d] + ", but "
              + source.get(dim.symbol()) + " makes " + dim.symbol() + " = " + before);
        }
      }
    }
    for (String s : manifest.symbols()) {
      if (!bound.containsKey(s)) {
        throw new IllegalArgumentException("symbol '" + s + "' of model '" + manifest.model().name()
            + "' is not a dimension of any input, so no run can size it");
      }
    }
    return bound;
  }

  /** Element type, rank and static dimensions of a tensor against a declaration. */
  private static void check(String kind, TensorSpec spec, NativeTensor t) {
    if (t.isClosed()) {
      throw new IllegalStateException(what(kind, spec) + ": the tensor (" + t + ") is closed");
    }
    if (t.dtype() != spec.dtype()) {
      throw new IllegalArgumentException(what(kind, spec) + ": expected element type " + spec.dtype() + ", got "
          + t.dtype() + " (" + t + ")");
    }
    Shape declared = spec.shape();
    long[] shape = t.shape();
    if (shape.length != declared.rank()) {
      throw new IllegalArgumentException(what(kind, spec) + ": expected rank " + declared.rank() + " " + declared
          + ", got rank " + shape.length + " " + Shape.toString(shape));
    }
    for (int d = 0; d < shape.length; d++) {
      Dim dim = declared.dim(d);
      if (dim.isStatic() && dim.value() != shape[d]) {
        throw new IllegalArgumentException(what(kind, spec) + " dimension " + d + ": expected " + dim.value()
            + ", got " + shape[d] + " (shape " + Shape.toString(shape) + ", declared " + declared + ")");
      }
    }
  }

  private static String what(String kind, TensorSpec spec) {
    return kind + " '" + spec.name() + "' " + spec.dtype() + spec.shape();
  }

  private int index(List<TensorSpec> specs, String name, String kind) {
    Objects.requireNonNull(name, "name");
    for (int i = 0; i < specs.size(); i++) {
      if (specs.get(i).name().equals(name)) {
        return i;
      }
    }
    List<String> names = new ArrayList<>();
    specs.forEach(s -> names.add(s.name()));
    throw new IllegalArgumentException("model '" + manifest.model().name() + "' has no " + kind + " named '" + name
        + "'; its " + kind + "s are " + names);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the executor of model '" + manifest.model().name() + "' is closed");
    }
  }

  /** Frees the workspace, the call frame and the outputs not handed over; safe to call twice. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    call.close();
    closed = true;
    try {
      for (int i = 0; i < ownOutputs.length; i++) {
        if (ownOutputs[i] != null && !taken[i]) {
          ownOutputs[i].close();
        }
      }
      if (workspace != null) {
        workspace.close();
      }
    } finally {
      model.release();
    }
  }
}
