package dev.nnvm.rpc;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * A remote model used like a local {@link dev.nnvm.runtime.exec.Executor}:
 * set inputs, run, read outputs. The server keeps an executor for it (one
 * exchange); each {@link #run()} sends the inputs as one record batch, rows
 * being dimension 0 of every input, and takes the answer.
 *
 * <pre>{@code
 * try (RemoteExecutor exec = model.newExecutor()) {
 *   exec.setInput("x", x);                           // NativeTensor [N, 16], borrowed until run() returns
 *   exec.run();
 *   try (NativeTensor y = exec.output("y", memory)) { ... }   // a copy the caller owns
 * }
 * }</pre>
 *
 * <p>Every input and output must have dimension 0 as its rows (a batch
 * dimension); for other layouts score a {@code VectorSchemaRoot}. Not
 * thread-safe.
 */
public final class RemoteExecutor implements AutoCloseable {
  private final RemoteSession session;
  private final ModelInfo info;
  private final BufferAllocator arrow;
  private final Map<String, NativeTensor> inputs = new LinkedHashMap<>();
  private VectorSchemaRoot answer;
  private boolean closed;

  RemoteExecutor(RemoteSession session, ModelInfo info, BufferAllocator arrow) {
    this.session = session;
    this.info = info;
    this.arrow = arrow;
  }

  public ModelInfo model() {
    return info;
  }

  /**
   * Binds an input (borrowed: keep it open until {@link #run()} returns).
   *
   * @throws IllegalArgumentException naming the input for an unknown name, another element type or rank, or a
   *     static dimension that differs
   */
  public void setInput(String name, NativeTensor tensor) {
    checkOpen();
    Objects.requireNonNull(tensor, "tensor");
    ModelInfo.TensorInfo spec = spec(info.inputs(), name, "input");
    DType dtype = DType.parse(spec.dtype());
    Shape shape = Shape.parse(spec.shape());
    if (tensor.dtype() != dtype || tensor.rank() != shape.rank()) {
      throw new IllegalArgumentException("input '" + name + "': expected " + dtype + shape + ", got " + tensor);
    }
    for (int i = 0; i < shape.rank(); i++) {
      if (shape.dim(i).isStatic() && shape.dim(i).value() != tensor.shape()[i]) {
        throw new IllegalArgumentException("input '" + name + "' dimension " + i + ": expected "
            + shape.dim(i).value() + ", got " + tensor.shape()[i] + " (" + tensor + ")");
      }
    }
    inputs.put(name, tensor);
  }

  /**
   * Sends the inputs as one batch and waits for the answer (one native run on the server).
   *
   * @throws IllegalArgumentException when an input is missing or inputs disagree on the row count
   * @throws org.apache.arrow.flight.FlightRuntimeException the server's error
   */
  public void run() {
    checkOpen();
    List<String> missing = new ArrayList<>();
    long rows = -1;
    for (ModelInfo.TensorInfo in : info.inputs()) {
      NativeTensor t = inputs.get(in.name());
      if (t == null) {
        missing.add(in.name());
      } else if (rows >= 0 && t.shape()[0] != rows) {
        throw new IllegalArgumentException("input '" + in.name() + "' has " + t.shape()[0] + " rows (dimension 0),"
            + " the inputs before it " + rows);
      } else {
        rows = t.shape()[0];
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("inputs not set: " + missing);
    }
    List<FieldVector> columns = new ArrayList<>();
    try {
      for (ModelInfo.TensorInfo in : info.inputs()) {
        columns.add(TensorColumns.toColumn(in.name(), inputs.get(in.name()), arrow));
      }
      VectorSchemaRoot batch = new VectorSchemaRoot(columns);
      batch.setRowCount(Math.toIntExact(Math.max(rows, 0)));
      if (answer != null) {
        answer.close();
        answer = null;
      }
      answer = session.score(batch);
    } finally {
      columns.forEach(FieldVector::close);
    }
  }

  /**
   * A copy of output {@code name} of the last run, in {@code memory} (the caller closes it).
   *
   * @throws IllegalStateException before the first run
   */
  public NativeTensor output(String name, NativeAllocator memory) {
    checkOpen();
    ModelInfo.TensorInfo spec = spec(info.outputs(), name, "output");
    if (answer == null) {
      throw new IllegalStateException("output '" + name + "': the model has not run yet");
    }
    return TensorColumns.toTensor(name, answer.getVector(name), DType.parse(spec.dtype()), memory);
  }

  private static ModelInfo.TensorInfo spec(List<ModelInfo.TensorInfo> specs, String name, String what) {
    for (ModelInfo.TensorInfo s : specs) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException("the model has no " + what + " '" + name + "'; its " + what + "s: "
        + specs.stream().map(ModelInfo.TensorInfo::name).toList());
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the remote executor of '" + info.name() + "' is closed");
    }
  }

  /** Frees the last answer and ends the exchange (the server's executor goes with it). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (answer != null) {
        answer.close();
      }
    } finally {
      session.close();
    }
  }
}
