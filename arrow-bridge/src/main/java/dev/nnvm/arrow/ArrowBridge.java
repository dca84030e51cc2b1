package dev.nnvm.arrow;

import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Binds Arrow record batches to one model's inputs and outputs: the entry
 * point of the bridge. It owns a named child allocator (one per model and
 * task) from which the copies it must make and the output columns are
 * allocated; closing the bridge while a {@link BoundBatch} or a returned
 * output root is still open fails, naming the allocator, and leaves the
 * bridge open so that those can be closed and the bridge closed again.
 *
 * <pre>{@code
 * try (ArrowBridge bridge = ArrowBridge.open(mapping, NullPolicy.NULL_OUTPUT, root, "minilm/task-7")) {
 *   try (BoundBatch b = bridge.bind(batch)) {
 *     executor.run(b.inputs(), b.outputs());
 *     try (VectorSchemaRoot out = b.finish()) { ... }
 *   }
 * }
 * }</pre>
 */
public final class ArrowBridge implements AutoCloseable {
  private final SchemaMapping mapping;
  private final NullPolicy nullPolicy;
  private final BufferAllocator allocator;
  private Schema validated;
  private boolean closed;

  private ArrowBridge(SchemaMapping mapping, NullPolicy nullPolicy, BufferAllocator allocator) {
    this.mapping = mapping;
    this.nullPolicy = nullPolicy;
    this.allocator = allocator;
  }

  /** A bridge whose memory comes from a new child of {@code parent} named {@code name}, without a limit. */
  public static ArrowBridge open(SchemaMapping mapping, NullPolicy nullPolicy, BufferAllocator parent, String name) {
    return open(mapping, nullPolicy, parent, name, Long.MAX_VALUE);
  }

  /** As {@link #open(SchemaMapping, NullPolicy, BufferAllocator, String)}, with at most {@code limit} bytes. */
  public static ArrowBridge open(SchemaMapping mapping, NullPolicy nullPolicy, BufferAllocator parent, String name,
      long limit) {
    Objects.requireNonNull(mapping, "mapping");
    Objects.requireNonNull(nullPolicy, "nullPolicy");
    FixedShapeTensorType.register();
    return new ArrowBridge(mapping, nullPolicy, parent.newChildAllocator(name, 0, limit));
  }

  public SchemaMapping mapping() {
    return mapping;
  }

  public NullPolicy nullPolicy() {
    return nullPolicy;
  }

  /** The bridge's own allocator (the copies, and the output columns until the caller closes them). */
  public BufferAllocator allocator() {
    return allocator;
  }

  /** The schema of the roots {@link BoundBatch#finish()} returns. */
  public Schema outputSchema() {
    return mapping.outputSchema();
  }

  /** Checks a schema against the mapping up front; see {@link SchemaMapping#validate(Schema)}. */
  public void validate(Schema schema) {
    if (!schema.equals(validated)) {
      mapping.validate(schema);
      validated = schema;
    }
  }

  /** Binds every row of {@code batch}; the schema is validated before any data is read. */
  public BoundBatch bind(VectorSchemaRoot batch) {
    return bind(batch, null);
  }

  /**
   * Binds the listed rows of {@code batch}, in that order (the result has one
   * row per entry); {@code rows} null binds every row.
   */
  public BoundBatch bind(VectorSchemaRoot batch, int[] rows) {
    if (closed) {
      throw new IllegalStateException("bridge '" + allocator.getName() + "' is closed");
    }
    validate(batch.getSchema());
    return new BoundBatch(mapping, nullPolicy, allocator, batch, rows == null ? null : rows.clone());
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    long outstanding = allocator.getAllocatedMemory();
    if (outstanding > 0) {
      throw new IllegalStateException("bridge '" + allocator.getName() + "' cannot close: " + outstanding
          + " bytes are still held by a bound batch or an output root that was not closed; close those first");
    }
    closed = true;
    allocator.close();
  }
}
