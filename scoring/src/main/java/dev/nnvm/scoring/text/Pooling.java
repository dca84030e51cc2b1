package dev.nnvm.scoring.text;

import dev.nnvm.arrow.FixedShapeTensorType;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.BaseRepeatedValueVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

/**
 * Sentence embeddings from an encoder's token states, the way
 * sentence-transformers computes them: the mean of the token vectors weighted
 * by the attention mask (padding and masked tokens do not count), then, when
 * asked, L2 normalization ({@code v / max(||v||, 1e-12)}), after which a dot
 * product is the cosine similarity. A row whose mask is all zero pools to the
 * zero vector.
 *
 * <p>Plain Java over float arrays: the inner loops are element-wise adds that
 * the JIT vectorizes, and a sentence costs {@code tokens x hidden} adds, far
 * less than the encoder that produced it.
 */
public final class Pooling {
  /** The norm below which {@link #l2Normalize} divides by this instead (sentence-transformers' epsilon). */
  public static final double EPSILON = 1e-12;

  private Pooling() {}

  /**
   * Mean pooling of one row.
   *
   * @param tokens the row's token vectors, {@code seq x dim} row-major ({@code tokens.length} a multiple of dim)
   * @param dim the hidden size
   * @param mask the row's attention mask; it may be shorter than {@code seq} (missing entries count as 0), and
   *     entries past {@code seq} must be 0
   */
  public static float[] meanPool(float[] tokens, int dim, long[] mask) {
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(mask, "mask");
    if (dim < 1 || tokens.length % dim != 0) {
      throw new IllegalArgumentException(tokens.length + " values are not a whole number of " + dim
          + "-wide token vectors");
    }
    int seq = tokens.length / dim;
    checkMaskTail(mask, seq, -1);
    float[] acc = new float[dim];
    double weight = 0;
    for (int t = 0; t < Math.min(seq, mask.length); t++) {
      long m = mask[t];
      if (m != 0) {
        weight += m;
        addScaled(acc, tokens, t * dim, m);
      }
    }
    return finish(acc, weight);
  }

  /**
   * Mean pooling of a batch: {@code hidden} is {@code [rows, seq, dim]}, {@code mask} {@code [rows, seq]}, both
   * row-major.
   */
  public static float[][] meanPool(float[] hidden, long[] mask, int rows, int seq, int dim) {
    if ((long) rows * seq * dim != hidden.length || (long) rows * seq != mask.length) {
      throw new IllegalArgumentException("hidden has " + hidden.length + " values and mask " + mask.length
          + ", expected " + rows + "x" + seq + "x" + dim + " and " + rows + "x" + seq);
    }
    float[][] out = new float[rows][];
    for (int r = 0; r < rows; r++) {
      float[] acc = new float[dim];
      double weight = 0;
      for (int t = 0; t < seq; t++) {
        long m = mask[r * seq + t];
        if (m != 0) {
          weight += m;
          addScaled(acc, hidden, (r * seq + t) * dim, m);
        }
      }
      out[r] = finish(acc, weight);
    }
    return out;
  }

  /** Scales {@code v} in place to unit L2 norm ({@code v / max(||v||, 1e-12)}). */
  public static void l2Normalize(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    float scale = (float) (1.0 / Math.max(Math.sqrt(sum), EPSILON));
    for (int i = 0; i < v.length; i++) {
      v[i] *= scale;
    }
  }

  /**
   * Pools an Arrow column of token states into a column of embeddings
   * ({@code FixedSizeList<Float32, dim>}, named {@code outputColumn}).
   *
   * <p>{@code hidden} may be a {@code List<FixedSizeList<Float32, dim>>} (what the bridge makes of an output
   * {@code [N, seq, dim]} with a symbolic seq), a {@code FixedSizeList<FixedSizeList<Float32, dim>, seq>}, or an
   * {@code arrow.fixed_shape_tensor} of shape {@code [seq, dim]}. {@code mask} is a list or fixed-size list of
   * integers per row, at most as long as the row's token count unless the extra entries are 0 (an unpadded
   * tokenizer mask next to padded states is fine). A row where either is null gives a null embedding.
   *
   * @param normalize whether to L2-normalize each embedding
   * @return a one-column root with {@code hidden}'s row count; the caller closes it
   */
  public static VectorSchemaRoot embed(FieldVector hidden, FieldVector mask, String outputColumn, boolean normalize,
      BufferAllocator allocator) {
    Objects.requireNonNull(outputColumn, "outputColumn");
    Tokens states = Tokens.of(hidden);
    MaskRows masks = MaskRows.of(mask);
    int rows = hidden.getValueCount();
    if (mask.getValueCount() != rows) {
      throw new IllegalArgumentException("mask column '" + mask.getName() + "' has " + mask.getValueCount()
          + " rows, hidden state column '" + hidden.getName() + "' " + rows);
    }
    int dim = states.dim;
    Field element = new Field(BaseRepeatedValueVector.DATA_VECTOR_NAME, FieldType.notNullable(
        new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null);
    Field field = new Field(outputColumn, FieldType.nullable(new ArrowType.FixedSizeList(dim)), List.of(element));
    FixedSizeListVector out = (FixedSizeListVector) field.createVector(allocator);
    try {
      out.setInitialCapacity(rows);
      out.allocateNew();
      Float4Vector values = (Float4Vector) out.getDataVector();
      values.allocateNew(Math.max(rows * dim, 1));
      float[] buffer = new float[dim];
      for (int r = 0; r < rows; r++) {
        if (states.isNull(r) || mask.isNull(r)) {
          continue;
        }
        int seq = states.tokens(r);
        long[] m = masks.row(r);
        checkMaskTail(m, seq, r);
        float[] acc = new float[dim];
        double weight = 0;
        for (int t = 0; t < Math.min(seq, m.length); t++) {
          if (m[t] != 0) {
            weight += m[t];
            states.read(r, t, buffer);
            addScaled(acc, buffer, 0, m[t]);
          }
        }
        float[] e = finish(acc, weight);
        if (normalize) {
          l2Normalize(e);
        }
        BitVectorHelper.setBit(out.getValidityBuffer(), r);
        for (int d = 0; d < dim; d++) {
          values.getDataBuffer().setFloat((long) (r * dim + d) * Float.BYTES, e[d]);
          BitVectorHelper.setBit(values.getValidityBuffer(), (long) r * dim + d);
        }
      }
      values.setValueCount(rows * dim);
      out.setValueCount(rows);
      return new VectorSchemaRoot(List.of(out));
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
  }

  private static void checkMaskTail(long[] mask, int seq, int row) {
    for (int t = seq; t < mask.length; t++) {
      if (mask[t] != 0) {
        throw new IllegalArgumentException((row < 0 ? "" : "row " + row + ": ") + "the attention mask has "
            + mask.length + " entries with token " + t + " set, but there are only " + seq + " token vectors");
      }
    }
  }

  private static void addScaled(float[] acc, float[] src, int offset, long m) {
    if (m == 1) {
      for (int d = 0; d < acc.length; d++) {
        acc[d] += src[offset + d];
      }
    } else {
      float w = m;
      for (int d = 0; d < acc.length; d++) {
        acc[d] += w * src[offset + d];
      }
    }
  }

  private static float[] finish(float[] acc, double weight) {
    if (weight != 0) {
      float inv = (float) (1.0 / weight);
      for (int d = 0; d < acc.length; d++) {
        acc[d] *= inv;
      }
    }
    return acc;
  }

  /** Read access to the token vectors of the supported column layouts. */
  private static final class Tokens {
    private final FieldVector column;
    private final ListVector list;
    private final int fixedSeq;
    private final int dim;
    private final FloatBuffer leaf;

    private Tokens(FieldVector column, ListVector list, int fixedSeq, int dim, Float4Vector leaf) {
      this.column = column;
      this.list = list;
      this.fixedSeq = fixedSeq;
      this.dim = dim;
      long bytes = (long) leaf.getValueCount() * Float.BYTES;
      this.leaf = bytes == 0 ? FloatBuffer.allocate(0)
          : leaf.getDataBuffer().nioBuffer(0, Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    }

    static Tokens of(FieldVector v) {
      String name = v.getName();
      if (v instanceof ExtensionTypeVector<?> ext && v.getField().getType() instanceof FixedShapeTensorType t) {
        long[] shape = t.shape();
        if (shape.length != 2) {
          throw new IllegalArgumentException("hidden state column '" + name + "' holds tensors of shape "
              + java.util.Arrays.toString(shape) + ", expected [seq, hidden]");
        }
        FieldVector storage = (FieldVector) ext.getUnderlyingVector();
        return new Tokens(v, null, (int) shape[0], (int) shape[1], floats(name, ((FixedSizeListVector) storage)
            .getDataVector()));
      }
      if (v instanceof ListVector l && l.getDataVector() instanceof FixedSizeListVector inner) {
        return new Tokens(v, l, -1, inner.getListSize(), floats(name, inner.getDataVector()));
      }
      if (v instanceof FixedSizeListVector outer && outer.getDataVector() instanceof FixedSizeListVector inner) {
        return new Tokens(v, null, outer.getListSize(), inner.getListSize(), floats(name, inner.getDataVector()));
      }
      throw new IllegalArgumentException("hidden state column '" + name + "' has type " + describe(v.getField())
          + "; expected rows of token vectors: List<FixedSizeList<Float32, hidden>>,"
          + " FixedSizeList<FixedSizeList<Float32, hidden>, seq> or arrow.fixed_shape_tensor [seq, hidden]");
    }

    private static Float4Vector floats(String name, FieldVector leaf) {
      if (leaf instanceof Float4Vector f) {
        return f;
      }
      throw new IllegalArgumentException("hidden state column '" + name + "' holds " + leaf.getField().getType()
          + " values, expected Float32");
    }

    boolean isNull(int r) {
      return column.isNull(r);
    }

    int tokens(int r) {
      return list == null ? fixedSeq : list.getElementEndIndex(r) - list.getElementStartIndex(r);
    }

    void read(int r, int t, float[] into) {
      long token = list == null ? (long) r * fixedSeq + t : (long) list.getElementStartIndex(r) + t;
      leaf.get(Math.toIntExact(token * dim), into, 0, dim);
    }
  }

  /** The attention mask of a row as longs, from a list or fixed-size list of any integer type. */
  private static final class MaskRows {
    private final ListVector list;
    private final FixedSizeListVector fixed;
    private final BaseIntVector values;

    private MaskRows(ListVector list, FixedSizeListVector fixed, BaseIntVector values) {
      this.list = list;
      this.fixed = fixed;
      this.values = values;
    }

    static MaskRows of(FieldVector v) {
      FieldVector data = v instanceof ListVector l ? l.getDataVector()
          : v instanceof FixedSizeListVector f ? f.getDataVector() : null;
      if (data instanceof BaseIntVector ints) {
        return new MaskRows(v instanceof ListVector l ? l : null,
            v instanceof FixedSizeListVector f ? f : null, ints);
      }
      throw new IllegalArgumentException("attention mask column '" + v.getName() + "' has type "
          + describe(v.getField()) + "; expected a list of integers per row");
    }

    long[] row(int r) {
      int start = list != null ? list.getElementStartIndex(r) : r * fixed.getListSize();
      int end = list != null ? list.getElementEndIndex(r) : start + fixed.getListSize();
      long[] out = new long[end - start];
      for (int i = 0; i < out.length; i++) {
        out[i] = values.getValueAsLong(start + i);
      }
      return out;
    }
  }

  private static String describe(Field f) {
    StringBuilder sb = new StringBuilder(f.getType().toString());
    if (!f.getChildren().isEmpty()) {
      sb.append('<').append(describe(f.getChildren().get(0))).append('>');
    }
    return sb.toString();
  }
}
