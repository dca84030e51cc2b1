package dev.nnvm.arrow;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;

/**
 * Bucketing by length, the alternative to padding a whole batch to its
 * longest row: rows whose lengths round up to the same multiple of
 * {@code width} form one bucket, bound on its own
 * ({@link ArrowBridge#bind(VectorSchemaRoot, int[])}) and so padded only to
 * its own longest row. A batch of mostly short sequences with a few long
 * ones then costs about the sum of the buckets, not {@code N x longest}.
 * The price is one copy of the outputs: {@link #merge} puts the buckets'
 * result rows back in the batch's order.
 */
public final class LengthBuckets {
  private LengthBuckets() {}

  /**
   * The rows of {@code batch}, grouped by the length of their {@code column}
   * list rounded up to a multiple of {@code width}, shortest bucket first,
   * rows in batch order within a bucket; null rows go with the shortest.
   */
  public static List<int[]> of(VectorSchemaRoot batch, String column, int width) {
    if (width < 1) {
      throw new IllegalArgumentException("bucket width must be >= 1, got " + width);
    }
    FieldVector v = batch.getVector(column);
    if (v == null) {
      throw new IllegalArgumentException("missing column '" + column + "'");
    }
    if (v instanceof ExtensionTypeVector) {
      v = (FieldVector) ((ExtensionTypeVector<?>) v).getUnderlyingVector();
    }
    Map<Long, List<Integer>> buckets = new TreeMap<>();
    for (int r = 0; r < batch.getRowCount(); r++) {
      long length = v instanceof ListVector && !v.isNull(r)
          ? ((ListVector) v).getElementEndIndex(r) - ((ListVector) v).getElementStartIndex(r) : 0;
      long key = v instanceof ListVector ? (length + width - 1) / width : 0;
      buckets.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
    }
    List<int[]> out = new ArrayList<>();
    for (List<Integer> rows : buckets.values()) {
      out.add(rows.stream().mapToInt(Integer::intValue).toArray());
    }
    return out;
  }

  /**
   * One root of {@code rowCount} rows from the results of the buckets:
   * row {@code rows.get(b)[i]} is row {@code i} of {@code parts.get(b)}; a row
   * in no group is null. Rows are copied in batch order, which List columns
   * (a variable row dimension) need. The parts must share one schema; they
   * stay open (the caller closes them).
   */
  public static VectorSchemaRoot merge(List<VectorSchemaRoot> parts, List<int[]> rows, int rowCount,
      BufferAllocator allocator) {
    if (parts.isEmpty() || parts.size() != rows.size()) {
      throw new IllegalArgumentException(parts.size() + " parts for " + rows.size() + " row groups");
    }
    VectorSchemaRoot out = VectorSchemaRoot.create(parts.get(0).getSchema(), allocator);
    try {
      // Output row -> (part, row in it): rows are copied in output order, which List columns need.
      int[] partOf = new int[rowCount];
      int[] indexIn = new int[rowCount];
      java.util.Arrays.fill(partOf, -1);
      for (int b = 0; b < parts.size(); b++) {
        int[] at = rows.get(b);
        for (int i = 0; i < at.length; i++) {
          partOf[at[i]] = b;
          indexIn[at[i]] = i;
        }
      }
      out.allocateNew();
      for (int c = 0; c < out.getFieldVectors().size(); c++) {
        FieldVector to = storage(out.getFieldVectors().get(c));
        for (int r = 0; r < rowCount; r++) {
          if (partOf[r] < 0) {
            RowCopy.setNull(to, r);
          } else {
            RowCopy.copy(storage(parts.get(partOf[r]).getFieldVectors().get(c)), indexIn[r], to, r);
          }
        }
        to.setValueCount(rowCount);
      }
      out.setRowCount(rowCount);
      return out;
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
  }

  private static FieldVector storage(FieldVector v) {
    return v instanceof ExtensionTypeVector ? (FieldVector) ((ExtensionTypeVector<?>) v).getUnderlyingVector() : v;
  }
}
