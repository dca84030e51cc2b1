package dev.nnvm.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Merging bucket results whose outputs have a variable row dimension ([N, seq, 2] as a List of FixedSizeLists,
 * the layout of an encoder's hidden states): rows come from interleaved buckets, some null, and must land in batch
 * order with their own lengths and values.
 */
class RowCopyTest {
  private BufferAllocator allocator;

  @BeforeEach
  void open() {
    allocator = new RootAllocator();
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  private static final Field PAIRS = new Field("h", FieldType.nullable(ArrowType.List.INSTANCE), List.of(
      new Field("$data$", FieldType.nullable(new ArrowType.FixedSizeList(2)), List.of(
          new Field("$data$", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
              null)))));

  /** Row r holds {@code lengths[r]} pairs (r, t, 2t) ... or is null when the length is negative. */
  private VectorSchemaRoot pairs(int[] batchRows, int[] lengths) {
    VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(PAIRS)), allocator);
    root.allocateNew();
    ListVector lv = (ListVector) root.getVector(0);
    FixedSizeListVector fsl = (FixedSizeListVector) lv.getDataVector();
    Float4Vector leaf = (Float4Vector) fsl.getDataVector();
    for (int i = 0; i < batchRows.length; i++) {
      int r = batchRows[i];
      if (lengths[r] < 0) {
        lv.setNull(i);
        continue;
      }
      int start = lv.startNewValue(i);
      for (int t = 0; t < lengths[r]; t++) {
        fsl.startNewValue(start + t);
        leaf.setSafe(2 * (start + t), r * 100 + t);
        leaf.setSafe(2 * (start + t) + 1, r * 100 + 2 * t);
      }
      lv.endValue(i, lengths[r]);
    }
    lv.setValueCount(batchRows.length);
    root.setRowCount(batchRows.length);
    return root;
  }

  @Test
  void listRowsFromInterleavedBucketsMergeInBatchOrder() {
    int[] lengths = {3, 1, -1, 7, 2, 1, -1, 8};
    // Row 6 is in no group: it comes back null.
    List<int[]> groups = List.of(new int[] {1, 2, 4, 5}, new int[] {0, 3, 7});
    List<VectorSchemaRoot> parts = new ArrayList<>();
    try {
      for (int[] g : groups) {
        parts.add(pairs(g, lengths));
      }
      try (VectorSchemaRoot merged = LengthBuckets.merge(parts, groups, lengths.length, allocator)) {
        ListVector h = (ListVector) merged.getVector("h");
        assertEquals(lengths.length, merged.getRowCount());
        for (int r = 0; r < lengths.length; r++) {
          assertEquals(lengths[r] < 0, h.isNull(r), "row " + r + " null");
          if (lengths[r] < 0) {
            continue;
          }
          List<?> row = h.getObject(r);
          assertEquals(lengths[r], row.size(), "row " + r + " length");
          for (int t = 0; t < lengths[r]; t++) {
            assertEquals(List.of((float) (r * 100 + t), (float) (r * 100 + 2 * t)), row.get(t),
                "row " + r + " pair " + t);
          }
        }
        assertTrue(allocator.getAllocatedMemory() > 0);
      }
    } finally {
      parts.forEach(VectorSchemaRoot::close);
    }
  }
}
