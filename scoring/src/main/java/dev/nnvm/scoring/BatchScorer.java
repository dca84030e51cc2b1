package dev.nnvm.scoring;

import dev.nnvm.arrow.ArrowBridge;
import dev.nnvm.arrow.BoundBatch;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * One task's scorer: a lease on the JVM's loaded model ({@link ModelCache}),
 * an {@link Executor} of its own (call frame and workspace) and an
 * {@link ArrowBridge} with its own child allocator. {@link #score} takes an
 * Arrow batch of any row count, runs the model on chunks of at most
 * {@link ScoringSpec#batchSize()} rows with {@link ScoringSpec#threads()}
 * threads, and returns the output columns, one row per input row, in input
 * order; rows with a null input are null (or refused, per the null policy).
 *
 * <pre>{@code
 * try (BatchScorer scorer = BatchScorer.open(spec, allocator)) {
 *   scorer.validate(batch.getSchema());                // every problem at once, before any data is read
 *   try (VectorSchemaRoot out = scorer.score(batch)) { ... }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: one scorer per task or thread. Closing releases the
 * executor and the lease (the model stays cached) and fails, naming the
 * bytes, while a returned output root is still open.
 */
public final class BatchScorer implements AutoCloseable {
  private static final AtomicLong IDS = new AtomicLong();

  private final ScoringSpec spec;
  private final ModelCache.Lease lease;
  private final NativeAllocator nativeMemory;
  private final Executor executor;
  private final ArrowBridge bridge;
  private final ScoringMetrics metrics = new ScoringMetrics();
  private boolean closed;

  private BatchScorer(ScoringSpec spec, BufferAllocator parent, ModelCache cache) {
    this.spec = spec;
    String name = "scorer-" + spec.artifactId().substring(0, 12) + "-" + IDS.incrementAndGet();
    ModelCache.Lease l = cache.acquire(spec);
    NativeAllocator mem = null;
    Executor ex = null;
    try {
      if (l.loadedModel()) {
        metrics.addModelLoad(l.loadNanos());
      }
      mem = NativeAllocator.newRoot(name);
      ex = l.model().newExecutor(mem);
      this.bridge = ArrowBridge.open(spec.schemaMapping(), spec.nullPolicy(), parent, name);
    } catch (RuntimeException | Error e) {
      closeQuietly(e, ex, mem, l);
      throw e;
    }
    this.lease = l;
    this.nativeMemory = mem;
    this.executor = ex;
  }

  /** A scorer over the JVM-wide {@link ModelCache#shared()} cache; its Arrow memory is a child of {@code parent}. */
  public static BatchScorer open(ScoringSpec spec, BufferAllocator parent) {
    return open(spec, parent, ModelCache.shared());
  }

  /** A scorer whose model comes from {@code cache}. */
  public static BatchScorer open(ScoringSpec spec, BufferAllocator parent, ModelCache cache) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(parent, "parent");
    Objects.requireNonNull(cache, "cache");
    return new BatchScorer(spec, parent, cache);
  }

  public ScoringSpec spec() {
    return spec;
  }

  /** The schema of the roots {@link #score} returns: one column per model output, in output order. */
  public Schema outputSchema() {
    return bridge.outputSchema();
  }

  /**
   * Checks a batch schema against the spec before any data is read.
   *
   * @throws dev.nnvm.arrow.SchemaMismatchException listing every problem (missing column, wrong element type,
   *     wrong per-row shape)
   */
  public void validate(Schema input) {
    checkOpen();
    bridge.validate(input);
  }

  /**
   * Scores every row of {@code batch}. The batch stays the caller's (keep it
   * open until this returns); the caller closes the result.
   *
   * @throws dev.nnvm.arrow.SchemaMismatchException when the schema does not fit (nothing is read then)
   * @throws IllegalArgumentException naming the row and column for a null under STRICT, a row of the wrong
   *     length, or sizes the model cannot take; nothing native runs for that chunk
   */
  public VectorSchemaRoot score(VectorSchemaRoot batch) {
    checkOpen();
    Objects.requireNonNull(batch, "batch");
    bridge.validate(batch.getSchema());
    int n = batch.getRowCount();
    int size = spec.batchSize();
    if (n <= size) {
      return run(batch, null);
    }
    List<VectorSchemaRoot> parts = new ArrayList<>();
    VectorSchemaRoot result = null;
    try {
      for (int start = 0; start < n; start += size) {
        int[] rows = new int[Math.min(size, n - start)];
        for (int i = 0; i < rows.length; i++) {
          rows[i] = start + i;
        }
        parts.add(run(batch, rows));
      }
      result = VectorSchemaRoot.create(outputSchema(), bridge.allocator());
      concatenate(result, parts);
      return result;
    } catch (RuntimeException | Error e) {
      if (result != null) {
        result.close();
      }
      throw e;
    } finally {
      for (VectorSchemaRoot p : parts) {
        p.close();
      }
    }
  }

  /**
   * Appends the parts' columns, in order, to {@code into}'s columns (one copy of each output), row by row in
   * increasing order. Arrow 19's VectorBatchAppender threw IndexOutOfBoundsException on a List column (a
   * variable row dimension: all-MiniLM-L6-v2's last_hidden_state) by reading the unallocated target's first
   * offset; {@link dev.nnvm.arrow.RowCopy} copies List rows, in order.
   */
  private static void concatenate(VectorSchemaRoot into, List<VectorSchemaRoot> parts) {
    int total = 0;
    for (VectorSchemaRoot p : parts) {
      total += p.getRowCount();
    }
    into.allocateNew();
    List<FieldVector> targets = into.getFieldVectors();
    for (int c = 0; c < targets.size(); c++) {
      FieldVector target = targets.get(c);
      int at = 0;
      for (VectorSchemaRoot p : parts) {
        FieldVector source = p.getVector(c);
        for (int r = 0; r < p.getRowCount(); r++) {
          dev.nnvm.arrow.RowCopy.copy(source, r, target, at++);
        }
      }
      target.setValueCount(total);
    }
    into.setRowCount(total);
  }

  /** One native run over the rows listed (all when null). */
  private VectorSchemaRoot run(VectorSchemaRoot batch, int[] rows) {
    try (BoundBatch b = bridge.bind(batch, rows)) {
      long copied = 0;
      for (Map.Entry<String, NativeTensor> e : b.inputs().entrySet()) {
        if (!b.isZeroCopy(e.getKey())) {
          copied += e.getValue().byteSize();
        }
      }
      metrics.addBytesCopied(copied);
      if (b.scoredRowCount() == 0) {
        metrics.addRows(b.rowCount());
        return b.finish();
      }
      for (Map.Entry<String, NativeTensor> e : b.inputs().entrySet()) {
        executor.setInput(e.getKey(), e.getValue());
      }
      for (Map.Entry<String, NativeTensor> e : b.outputs().entrySet()) {
        executor.setOutput(e.getKey(), e.getValue());
      }
      long t0 = System.nanoTime();
      try {
        executor.run(spec.threads());
      } finally {
        // The output tensors are views of columns this bound batch owns: do not let the executor keep them.
        for (String name : b.outputs().keySet()) {
          executor.setOutput(name, null);
        }
      }
      metrics.addBatch(b.rowCount(), System.nanoTime() - t0);
      return b.finish();
    }
  }

  /** This scorer's counters (live; {@link ScoringMetrics#snapshot()} for a copy). */
  public ScoringMetrics metrics() {
    return metrics;
  }

  /** Native bytes of this scorer's executor (its workspace and call frame). */
  public long nativeBytes() {
    return nativeMemory.allocatedBytes();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the scorer of model '" + spec.modelName() + "' is closed");
    }
  }

  /**
   * Closes the bridge, the executor and the lease. When an output root is
   * still open the bridge refuses to close: this throws and stays open, so
   * the caller can close the root and call again.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    bridge.close();
    closed = true;
    RuntimeException failure = null;
    for (AutoCloseable c : new AutoCloseable[] {executor, nativeMemory, lease}) {
      try {
        c.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = new IllegalStateException("closing the scorer of model '" + spec.modelName() + "' failed: "
              + e.getMessage(), e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static void closeQuietly(Throwable pending, AutoCloseable... resources) {
    for (AutoCloseable c : resources) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          pending.addSuppressed(e);
        }
      }
    }
  }
}
