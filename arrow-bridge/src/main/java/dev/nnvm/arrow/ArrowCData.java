package dev.nnvm.arrow;

import org.apache.arrow.c.ArrowArray;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * Hands record batches to and from other native code through the Arrow C
 * Data interface: a batch is exported into an {@code ArrowArray} and an
 * {@code ArrowSchema} struct (whose addresses the native side reads, and
 * whose release callbacks it calls when done), and such structs filled by
 * native code are imported as a {@link VectorSchemaRoot} without copying the
 * buffers. {@code arrow.fixed_shape_tensor} columns keep their type both ways.
 */
public final class ArrowCData {
  private ArrowCData() {}

  /**
   * Exports {@code batch} into the structs: the consumer takes over a
   * reference to its buffers and must call the structs' release callbacks.
   */
  public static void export(BufferAllocator allocator, VectorSchemaRoot batch, ArrowArray array, ArrowSchema schema) {
    FixedShapeTensorType.register();
    Data.exportVectorSchemaRoot(allocator, batch, null, array, schema);
  }

  /**
   * Imports a batch from structs a producer filled, releasing them; the
   * buffers are the producer's, kept alive until the returned root is closed.
   */
  public static VectorSchemaRoot importBatch(BufferAllocator allocator, ArrowArray array, ArrowSchema schema) {
    FixedShapeTensorType.register();
    return Data.importVectorSchemaRoot(allocator, array, schema, null);
  }
}
