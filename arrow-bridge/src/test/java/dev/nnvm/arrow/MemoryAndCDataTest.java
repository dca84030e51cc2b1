package dev.nnvm.arrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import java.util.List;
import org.apache.arrow.c.ArrowArray;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;

/** Allocators return to their baseline, and batches cross the C Data interface both ways. */
class MemoryAndCDataTest extends AllocatorTest {
  private static SchemaMapping tokensModel() {
    return SchemaMapping.builder(
        List.of(spec("ids", DType.INT64, "[N, seq]"), spec("mask", DType.INT64, "[N, seq]"),
            spec("vec", DType.FLOAT32, "[N, 8]")),
        List.of(spec("hidden", DType.FLOAT32, "[N, seq, 2]"), spec("pooled", DType.FLOAT32, "[N, 8]")))
        .layout("ids", new InputLayout.Padded("tokens", 0, "mask")).build();
  }

  @Test
  void aThousandBatchesLeaveNoMemoryBehind() {
    try (ArrowBridge bridge = ArrowBridge.open(tokensModel(), NullPolicy.NULL_OUTPUT, allocator, "minilm/task-1")) {
      assertEquals("minilm/task-1", bridge.allocator().getName());
      long baseline = allocator.getAllocatedMemory();
      long peak = 0;
      for (int i = 0; i < 1000; i++) {
        int[] lengths = {1 + i % 7, 3, -1 + 2 * (i % 2), 5};
        try (VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "tokens", DType.INT32, lengths),
            Columns.fixed(allocator, "vec", DType.FLOAT32, 4, 8));
             BoundBatch b = bridge.bind(batch)) {
          for (NativeTensor t : b.outputs().values()) {
            for (long e = 0; e < t.elementCount(); e++) {
              TestData.set(t, e, e);
            }
          }
          try (VectorSchemaRoot out = b.finish()) {
            assertEquals(4, out.getRowCount());
            assertEquals(i % 2 == 0, out.getVector("pooled").isNull(2), "batch " + i);
            peak = Math.max(peak, bridge.allocator().getAllocatedMemory());
          }
        }
        assertEquals(0, bridge.allocator().getAllocatedMemory(), "bridge allocator after batch " + i);
        assertEquals(baseline, allocator.getAllocatedMemory(), "root allocator after batch " + i);
      }
      System.out.println("1000 batches: bridge allocator peak " + peak + " bytes, back to 0 after each");
    }
    assertEquals(0, allocator.getAllocatedMemory());
  }

  @Test
  void closingTheBridgeWithAnOpenResultFailsLoudly() {
    ArrowBridge bridge = ArrowBridge.open(tokensModel(), NullPolicy.NULL_OUTPUT, allocator, "leaky");
    try (VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "tokens", DType.INT32, 2, 3),
        Columns.fixed(allocator, "vec", DType.FLOAT32, 2, 8))) {
      VectorSchemaRoot out;
      BoundBatch b = bridge.bind(batch);
      out = b.finish();
      b.close();
      b.close();
      IllegalStateException e = assertThrows(IllegalStateException.class, bridge::close);
      assertTrue(e.getMessage().startsWith("bridge 'leaky' cannot close: "), e.getMessage());
      out.close();
      bridge.close();
      bridge.close();
      assertThrows(IllegalStateException.class, () -> bridge.bind(batch), "a closed bridge binds nothing");
    }
  }

  @Test
  void batchesCrossTheCDataInterfaceBothWays() {
    SchemaMapping m = SchemaMapping.builder(
        List.of(spec("emb", DType.FLOAT32, "[N, 4]"), spec("img", DType.UINT8, "[N, 2, 3]"),
            spec("ids", DType.INT64, "[N, seq]")),
        List.of(spec("out", DType.FLOAT32, "[N, 2, 3]"))).outputLayout("out", OutputLayout.TENSOR).build();
    try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.NULL_OUTPUT, allocator, "cdata");
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "emb", DType.FLOAT32, 3, 4),
             Columns.tensor(allocator, "img", DType.UINT8, 3, 2, 3),
             Columns.list(allocator, "ids", DType.INT64, 2, 2, 2));
         ArrowArray array = ArrowArray.allocateNew(allocator);
         ArrowSchema schema = ArrowSchema.allocateNew(allocator)) {
      ArrowCData.export(allocator, batch, array, schema);
      assertTrue(array.memoryAddress() != 0 && schema.memoryAddress() != 0);
      try (VectorSchemaRoot imported = ArrowCData.importBatch(allocator, array, schema);
           BoundBatch b = bridge.bind(imported)) {
        assertEquals(batch.getSchema(), imported.getSchema(), "the tensor extension type survives the trip");
        assertEquals(batch.contentToTSVString(), imported.contentToTSVString());
        for (String in : List.of("emb", "img", "ids")) {
          assertTrue(b.isZeroCopy(in), in);
          assertEquals(TestData.leaf(batch.getVector(in)).getDataBufferAddress(), b.inputs().get(in).address(),
              in + ": the imported batch shares the exporter's buffers, and the tensor is that buffer");
        }
        NativeTensor img = b.inputs().get("img");
        NativeTensor out = b.outputs().get("out");
        for (long i = 0; i < out.elementCount(); i++) {
          TestData.set(out, i, TestData.get(img, i) / 2);
        }
        try (VectorSchemaRoot result = b.finish();
             ArrowArray array2 = ArrowArray.allocateNew(allocator);
             ArrowSchema schema2 = ArrowSchema.allocateNew(allocator)) {
          ArrowCData.export(allocator, result, array2, schema2);
          try (VectorSchemaRoot back = ArrowCData.importBatch(allocator, array2, schema2)) {
            assertEquals(result.getSchema(), back.getSchema());
            FixedShapeTensorType type = (FixedShapeTensorType) back.getSchema().findField("out").getType();
            assertArrayEquals(new long[] {2, 3}, type.shape());
            for (int i = 0; i < 18; i++) {
              assertEquals(TestData.value(DType.UINT8, i) / 2, TestData.get(TestData.leaf(back.getVector("out")), i),
                  0.0);
            }
          }
        }
      }
    }
  }
}
