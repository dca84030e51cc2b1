package dev.nnvm.scoring.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.BaseRepeatedValueVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Texts after {@link TextTokenizer#encode}: per row the token ids, attention
 * mask and token type ids (int64, equal lengths, unpadded), or a null row for a
 * null text. Immutable, on the heap.
 *
 * <p>To Arrow, three ways:
 * <ul>
 *   <li>{@link #toArrow(BufferAllocator)}: {@code List<Int64>} columns with
 *       each row at its own length, for a scorer whose inputs are
 *       {@code InputLayout.Padded} (each batch padded to its longest row);</li>
 *   <li>{@link #toArrow(BufferAllocator, int[], int)}: chosen rows padded to
 *       one length, which a scorer binds without copying
 *       ({@code InputLayout.Column});</li>
 *   <li>{@link #bucketed(BufferAllocator, int)}: the rows grouped by length
 *       (arrow-bridge's {@code LengthBuckets}), each group padded only to its
 *       own longest row, results merged back in order.</li>
 * </ul>
 */
public final class Encoded {
  private final long[][] ids;
  private final long[][] mask;
  private final long[][] types;
  private final boolean[] truncated;

  Encoded(long[][] ids, long[][] mask, long[][] types, boolean[] truncated) {
    this.ids = ids;
    this.mask = mask;
    this.types = types;
    this.truncated = truncated;
  }

  /**
   * Rows given as arrays (for tests and for callers that tokenize elsewhere); a null {@code ids[r]} is a null
   * row. The three arrays of a row must have equal lengths.
   */
  public static Encoded of(long[][] ids, long[][] attentionMask, long[][] tokenTypeIds) {
    int n = ids.length;
    if (attentionMask.length != n || tokenTypeIds.length != n) {
      throw new IllegalArgumentException("row counts differ: " + n + " ids, " + attentionMask.length + " masks, "
          + tokenTypeIds.length + " type ids");
    }
    long[][] i = new long[n][];
    long[][] m = new long[n][];
    long[][] t = new long[n][];
    for (int r = 0; r < n; r++) {
      if (ids[r] == null) {
        continue;
      }
      Objects.requireNonNull(attentionMask[r], "attention mask of row " + r);
      Objects.requireNonNull(tokenTypeIds[r], "token type ids of row " + r);
      if (attentionMask[r].length != ids[r].length || tokenTypeIds[r].length != ids[r].length) {
        throw new IllegalArgumentException("row " + r + ": " + ids[r].length + " ids, " + attentionMask[r].length
            + " mask values, " + tokenTypeIds[r].length + " type ids");
      }
      i[r] = ids[r].clone();
      m[r] = attentionMask[r].clone();
      t[r] = tokenTypeIds[r].clone();
    }
    return new Encoded(i, m, t, new boolean[n]);
  }

  /** Number of rows. */
  public int size() {
    return ids.length;
  }

  /** True when row {@code r}'s text was null. */
  public boolean isNull(int r) {
    return ids[r] == null;
  }

  /** Tokens in row {@code r} (0 for a null row). */
  public int length(int r) {
    return ids[r] == null ? 0 : ids[r].length;
  }

  /** The longest row's length. */
  public int longest() {
    int m = 0;
    for (long[] row : ids) {
      m = row == null ? m : Math.max(m, row.length);
    }
    return m;
  }

  /** True when row {@code r}'s text had more tokens than the tokenizer's maxLength and was cut. */
  public boolean truncated(int r) {
    return truncated[r];
  }

  /** Row {@code r}'s token ids (a copy), or null for a null row. */
  public long[] inputIds(int r) {
    return ids[r] == null ? null : ids[r].clone();
  }

  /** Row {@code r}'s attention mask (a copy), or null for a null row. */
  public long[] attentionMask(int r) {
    return mask[r] == null ? null : mask[r].clone();
  }

  /** Row {@code r}'s token type ids (a copy), or null for a null row. */
  public long[] tokenTypeIds(int r) {
    return types[r] == null ? null : types[r].clone();
  }

  /** The schema of every batch written here: three {@code List<Int64>} columns named as the model inputs. */
  public static Schema schema() {
    return new Schema(List.of(field(TextTokenizer.INPUT_IDS), field(TextTokenizer.ATTENTION_MASK),
        field(TextTokenizer.TOKEN_TYPE_IDS)));
  }

  private static Field field(String name) {
    Field element = new Field(BaseRepeatedValueVector.DATA_VECTOR_NAME,
        FieldType.notNullable(new ArrowType.Int(64, true)), null);
    return new Field(name, FieldType.nullable(ArrowType.List.INSTANCE), List.of(element));
  }

  /** All rows, each at its own length; null texts are null rows. The caller closes the root. */
  public VectorSchemaRoot toArrow(BufferAllocator allocator) {
    int[] all = new int[size()];
    Arrays.setAll(all, r -> r);
    return write(allocator, all, -1);
  }

  /**
   * Rows {@code rows} (in that order), each padded with zeros (id, mask and type alike) to {@code padTo} tokens;
   * null texts are null rows. The caller closes the root.
   *
   * @throws IllegalArgumentException when a row is longer than {@code padTo}
   */
  public VectorSchemaRoot toArrow(BufferAllocator allocator, int[] rows, int padTo) {
    if (padTo < 0) {
      throw new IllegalArgumentException("padTo must be >= 0, got " + padTo);
    }
    for (int r : rows) {
      Objects.checkIndex(r, size());
      if (length(r) > padTo) {
        throw new IllegalArgumentException("row " + r + " has " + length(r) + " tokens, more than padTo=" + padTo);
      }
    }
    return write(allocator, rows, padTo);
  }

  /**
   * The rows grouped by length rounded up to a multiple of {@code width} (arrow-bridge's {@code LengthBuckets}),
   * each group written padded to its own longest row; null rows are in no group.
   */
  public TokenBuckets bucketed(BufferAllocator allocator, int width) {
    return TokenBuckets.of(this, allocator, width);
  }

  private VectorSchemaRoot write(BufferAllocator allocator, int[] rows, int padTo) {
    Objects.requireNonNull(allocator, "allocator");
    long total = 0;
    for (int r : rows) {
      total += ids[r] == null ? 0 : padTo < 0 ? ids[r].length : padTo;
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(total + " tokens do not fit one Arrow batch");
    }
    List<FieldVector> vectors = new ArrayList<>(3);
    try {
      long[][][] sources = {ids, mask, types};
      for (int c = 0; c < 3; c++) {
        ListVector v = (ListVector) schema().getFields().get(c).createVector(allocator);
        vectors.add(v);
        fill(v, sources[c], rows, padTo, (int) total);
      }
      return new VectorSchemaRoot(vectors);
    } catch (RuntimeException e) {
      vectors.forEach(FieldVector::close);
      throw e;
    }
  }

  private static void fill(ListVector v, long[][] source, int[] rows, int padTo, int total) {
    v.setInitialCapacity(rows.length);
    v.allocateNew();
    BigIntVector data = (BigIntVector) v.getDataVector();
    data.allocateNew(Math.max(total, 1));
    // Direct writes to the offset and data buffers: the whole batch is sized up front, so there is no need for
    // the per-element capacity checks of the writer API.
    int at = 0;
    v.getOffsetBuffer().setInt(0, 0);
    for (int i = 0; i < rows.length; i++) {
      long[] row = source[rows[i]];
      if (row != null) {
        BitVectorHelper.setBit(v.getValidityBuffer(), i);
        int len = padTo < 0 ? row.length : padTo;
        for (int k = 0; k < row.length; k++) {
          data.getDataBuffer().setLong((long) (at + k) * Long.BYTES, row[k]);
        }
        if (len > row.length) {
          data.getDataBuffer().setZero((long) (at + row.length) * Long.BYTES, (long) (len - row.length) * Long.BYTES);
        }
        at += len;
      }
      v.getOffsetBuffer().setInt((long) (i + 1) * ListVector.OFFSET_WIDTH, at);
    }
    // Element validity: every token is set (the child field is declared non-nullable).
    for (int k = 0; k < total; k++) {
      BitVectorHelper.setBit(data.getValidityBuffer(), k);
    }
    data.setValueCount(total);
    v.setLastSet(rows.length - 1);
    v.setValueCount(rows.length);
  }
}
