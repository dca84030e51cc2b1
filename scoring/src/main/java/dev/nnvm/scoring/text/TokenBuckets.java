package dev.nnvm.scoring.text;

import dev.nnvm.arrow.LengthBuckets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Tokenized rows grouped by length so that each group is padded only to its own
 * longest row: a batch of short texts with a few long ones then costs about
 * the sum of its groups instead of rows x longest. The grouping is
 * arrow-bridge's {@link LengthBuckets} (lengths rounded up to a multiple of the
 * bucket width); each group is written as its own batch, already padded, so a
 * scorer binds it without copying and the model sees one sequence length per
 * run. {@link #merge} puts per-group results back in the original row order,
 * with null rows (null texts, which are in no group) null.
 *
 * <p>Owns the groups' batches: close it.
 */
public final class TokenBuckets implements AutoCloseable {
  /** One group: which original rows, the length they are padded to, and their batch. */
  public record Bucket(int[] rows, int paddedLength, VectorSchemaRoot batch) {}

  private final List<Bucket> buckets;
  private final int rowCount;

  private TokenBuckets(List<Bucket> buckets, int rowCount) {
    this.buckets = buckets;
    this.rowCount = rowCount;
  }

  static TokenBuckets of(Encoded encoded, BufferAllocator allocator, int width) {
    Objects.requireNonNull(allocator, "allocator");
    List<int[]> groups;
    try (VectorSchemaRoot unpadded = encoded.toArrow(allocator)) {
      groups = LengthBuckets.of(unpadded, TextTokenizer.INPUT_IDS, width);
    }
    List<Bucket> out = new ArrayList<>();
    try {
      for (int[] group : groups) {
        int[] rows = Arrays.stream(group).filter(r -> !encoded.isNull(r)).toArray();
        if (rows.length == 0) {
          continue;
        }
        int longest = 0;
        for (int r : rows) {
          longest = Math.max(longest, encoded.length(r));
        }
        out.add(new Bucket(rows, longest, encoded.toArrow(allocator, rows, longest)));
      }
    } catch (RuntimeException e) {
      out.forEach(b -> b.batch().close());
      throw e;
    }
    return new TokenBuckets(Collections.unmodifiableList(out), encoded.size());
  }

  /** The groups, shortest first; empty when every row is null. */
  public List<Bucket> buckets() {
    return buckets;
  }

  /** Rows of the encoded input, null rows included. */
  public int rowCount() {
    return rowCount;
  }

  /** Tokens the groups' batches hold, padding included (what the model computes over). */
  public long paddedTokens() {
    long n = 0;
    for (Bucket b : buckets) {
      n += (long) b.rows().length * b.paddedLength();
    }
    return n;
  }

  /**
   * One result batch of {@link #rowCount()} rows in the original order: row {@code buckets().get(b).rows()[i]} is
   * row {@code i} of {@code results.get(b)}; rows in no bucket (null texts) are null. The results must share
   * {@code schema} and have fixed-width columns (scalars, fixed-size lists: e.g. pooled embeddings); they stay
   * open. The caller closes the returned root.
   */
  public VectorSchemaRoot merge(List<VectorSchemaRoot> results, Schema schema, BufferAllocator allocator) {
    Objects.requireNonNull(schema, "schema");
    if (results.size() != buckets.size()) {
      throw new IllegalArgumentException(results.size() + " results for " + buckets.size() + " buckets");
    }
    for (int b = 0; b < results.size(); b++) {
      if (!results.get(b).getSchema().equals(schema)) {
        throw new IllegalArgumentException("result " + b + " has schema " + results.get(b).getSchema()
            + ", expected " + schema);
      }
      if (results.get(b).getRowCount() != buckets.get(b).rows().length) {
        throw new IllegalArgumentException("result " + b + " has " + results.get(b).getRowCount()
            + " rows, its bucket " + buckets.get(b).rows().length);
      }
    }
    if (results.isEmpty()) {
      VectorSchemaRoot empty = VectorSchemaRoot.create(schema, allocator);
      empty.allocateNew();
      empty.setRowCount(rowCount);
      return empty;
    }
    List<int[]> rows = new ArrayList<>(buckets.size());
    buckets.forEach(b -> rows.add(b.rows()));
    return LengthBuckets.merge(results, rows, rowCount, allocator);
  }

  /** Closes every group's batch; safe to call twice. */
  @Override
  public void close() {
    for (Bucket b : buckets) {
      b.batch().close();
    }
  }
}
