package dev.nnvm.scoring.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.FixedShapeTensorType;
import java.util.List;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Mean pooling and L2 normalization against the same math in double
 * precision on random token states (seed printed), in every column layout
 * the bridge produces, with masks shorter than, equal to and (zero-)longer
 * than the token rows, null rows and all-zero masks.
 */
class PoolingTest {
  private static final int DIM = 37;
  private BufferAllocator allocator;
  private long seed;
  private Random random;

  @BeforeEach
  void open() {
    allocator = new RootAllocator();
    seed = System.nanoTime();
    random = new Random(seed);
    System.out.println("PoolingTest seed " + seed);
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  /** The reference: sum of mask-weighted vectors over the mask's sum, then v / max(||v||, 1e-12). */
  private static double[] reference(float[] tokens, long[] mask, boolean normalize) {
    double[] out = new double[DIM];
    double w = 0;
    for (int t = 0; t < mask.length && t * DIM < tokens.length; t++) {
      w += mask[t];
      for (int d = 0; d < DIM; d++) {
        out[d] += mask[t] * (double) tokens[t * DIM + d];
      }
    }
    for (int d = 0; d < DIM && w != 0; d++) {
      out[d] /= w;
    }
    if (normalize) {
      double n = 0;
      for (double x : out) {
        n += x * x;
      }
      n = Math.max(Math.sqrt(n), 1e-12);
      for (int d = 0; d < DIM; d++) {
        out[d] /= n;
      }
    }
    return out;
  }

  private float[] tokens(int seq) {
    float[] v = new float[seq * DIM];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (random.nextGaussian() * 2 + 0.5);
    }
    return v;
  }

  private long[] mask(int seq, int ones) {
    long[] m = new long[seq];
    for (int t = 0; t < ones; t++) {
      m[t] = 1;
    }
    return m;
  }

  private static double maxAbs(double[] want, float[] got) {
    assertEquals(want.length, got.length);
    double m = 0;
    for (int i = 0; i < want.length; i++) {
      m = Math.max(m, Math.abs(want[i] - got[i]));
    }
    return m;
  }

  @Test
  void heapPoolingMatchesDoublePrecision() {
    double worst = 0;
    for (int trial = 0; trial < 200; trial++) {
      int seq = 1 + random.nextInt(40);
      int ones = random.nextInt(seq + 1);
      float[] tokens = tokens(seq);
      long[] mask = mask(seq, ones);
      float[] pooled = Pooling.meanPool(tokens, DIM, mask);
      worst = Math.max(worst, maxAbs(reference(tokens, mask, false), pooled));
      Pooling.l2Normalize(pooled);
      worst = Math.max(worst, maxAbs(reference(tokens, mask, true), pooled));
      if (ones > 0) {
        double norm = 0;
        for (float x : pooled) {
          norm += (double) x * x;
        }
        assertEquals(1.0, Math.sqrt(norm), 1e-6, "unit norm after normalization");
      } else {
        assertArrayEquals(new float[DIM], pooled, "an all-zero mask pools to zeros, also normalized");
      }
    }
    System.out.printf("heap pooling vs double precision: max abs error %.3g%n", worst);
    assertTrue(worst < 1e-5, "max abs error " + worst);

    // A mask shorter than the rows counts the rest as padding; a longer one only with zeros.
    float[] tokens = tokens(6);
    assertArrayEquals(Pooling.meanPool(tokens, DIM, new long[] {1, 1, 0, 0, 0, 0}),
        Pooling.meanPool(tokens, DIM, new long[] {1, 1}));
    assertArrayEquals(Pooling.meanPool(tokens, DIM, new long[] {1, 1, 1, 1, 1, 1}),
        Pooling.meanPool(tokens, DIM, new long[] {1, 1, 1, 1, 1, 1, 0, 0}));
    assertEquals("the attention mask has 7 entries with token 6 set, but there are only 6 token vectors",
        assertThrows(IllegalArgumentException.class,
            () -> Pooling.meanPool(tokens, DIM, new long[] {1, 1, 1, 1, 1, 1, 1})).getMessage());
    assertThrows(IllegalArgumentException.class, () -> Pooling.meanPool(new float[DIM + 1], DIM, new long[1]));

    // The batch form agrees with the row form.
    int rows = 5;
    int seq = 9;
    float[] hidden = tokens(rows * seq);
    long[] masks = new long[rows * seq];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(mask(seq, r * 2), 0, masks, r * seq, seq);
    }
    float[][] batch = Pooling.meanPool(hidden, masks, rows, seq, DIM);
    for (int r = 0; r < rows; r++) {
      float[] row = java.util.Arrays.copyOfRange(hidden, r * seq * DIM, (r + 1) * seq * DIM);
      assertArrayEquals(Pooling.meanPool(row, DIM, mask(seq, r * 2)), batch[r], "row " + r);
    }
  }

  /** Layouts of the hidden-state column. */
  private enum Layout { LIST, FIXED, TENSOR }

  @Test
  void arrowColumnsOfEveryLayout() {
    for (Layout layout : Layout.values()) {
      int rows = 23;
      int seq = 12;
      float[][] states = new float[rows][];
      long[][] masks = new long[rows][];
      boolean[] nullRow = new boolean[rows];
      for (int r = 0; r < rows; r++) {
        int len = layout == Layout.LIST ? 1 + random.nextInt(seq) : seq;
        states[r] = tokens(len);
        // Masks of every kind: unpadded (shorter), exact, zero-padded past the tokens, all zero.
        int ones = r % 7 == 3 ? 0 : 1 + random.nextInt(len);
        masks[r] = mask(r % 3 == 0 ? ones : r % 3 == 1 ? len : len + 2, ones);
        nullRow[r] = r % 5 == 4;
      }
      try (FieldVector hidden = hiddenColumn(layout, states, nullRow, seq);
          ListVector mask = maskColumn(masks, r -> r == 6)) {
        try (VectorSchemaRoot out = Pooling.embed(hidden, mask, "embedding", true, allocator)) {
          FixedSizeListVector e = (FixedSizeListVector) out.getVector("embedding");
          assertEquals(DIM, e.getListSize());
          assertEquals(rows, out.getRowCount());
          double worst = 0;
          for (int r = 0; r < rows; r++) {
            boolean isNull = nullRow[r] || r == 6;
            assertEquals(isNull, e.isNull(r), layout + " row " + r + " null");
            if (!isNull) {
              float[] got = new float[DIM];
              for (int d = 0; d < DIM; d++) {
                got[d] = ((Float4Vector) e.getDataVector()).get(r * DIM + d);
              }
              worst = Math.max(worst, maxAbs(reference(states[r], masks[r], true), got));
            }
          }
          System.out.printf("Arrow pooling, %s column: max abs error %.3g%n", layout, worst);
          assertTrue(worst < 1e-5, layout + ": max abs error " + worst);
        }
      }
    }
  }

  @Test
  void badColumnsAreNamed() {
    float[][] states = {tokens(3)};
    try (FieldVector hidden = hiddenColumn(Layout.LIST, states, new boolean[1], 3);
        ListVector mask = maskColumn(new long[][] {{1, 1, 1, 1}}, r -> false);
        ListVector twoRows = maskColumn(new long[][] {{1}, {1}}, r -> false);
        IntVector flat = new IntVector("flat", allocator)) {
      assertEquals("row 0: the attention mask has 4 entries with token 3 set, but there are only 3 token vectors",
          assertThrows(IllegalArgumentException.class,
              () -> Pooling.embed(hidden, mask, "e", true, allocator)).getMessage());
      assertEquals("mask column 'mask' has 2 rows, hidden state column 'hidden' 1",
          assertThrows(IllegalArgumentException.class,
              () -> Pooling.embed(hidden, twoRows, "e", true, allocator)).getMessage());
      assertTrue(assertThrows(IllegalArgumentException.class,
          () -> Pooling.embed(flat, mask, "e", true, allocator)).getMessage()
          .startsWith("hidden state column 'flat' has type Int(32, true); expected rows of token vectors"));
      assertTrue(assertThrows(IllegalArgumentException.class,
          () -> Pooling.embed(hidden, hidden, "e", true, allocator)).getMessage()
          .startsWith("attention mask column 'hidden' has type List<FixedSizeList(37)"));
    }
  }

  private FieldVector hiddenColumn(Layout layout, float[][] states, boolean[] nullRow, int seq) {
    Field leaf = new Field("$data$", FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
        null);
    Field token = new Field("$data$", FieldType.notNullable(new ArrowType.FixedSizeList(DIM)), List.of(leaf));
    Field field;
    switch (layout) {
      case LIST -> field = new Field("hidden", FieldType.nullable(ArrowType.List.INSTANCE), List.of(token));
      case FIXED -> field = new Field("hidden", FieldType.nullable(new ArrowType.FixedSizeList(seq)), List.of(token));
      default -> field = FixedShapeTensorType.field("hidden",
          new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE), seq, DIM);
    }
    FieldVector v = field.createVector(allocator);
    v.allocateNew();
    FieldVector storage = v instanceof org.apache.arrow.vector.ExtensionTypeVector<?> ext
        ? (FieldVector) ext.getUnderlyingVector() : v;
    Float4Vector values = (Float4Vector) (storage instanceof ListVector l
        ? ((FixedSizeListVector) l.getDataVector()).getDataVector()
        : storage.getChildrenFromFields().get(0) instanceof FixedSizeListVector inner ? inner.getDataVector()
        : storage.getChildrenFromFields().get(0));
    int at = 0;
    for (int r = 0; r < states.length; r++) {
      int len = states[r].length / DIM;
      if (storage instanceof ListVector l && nullRow[r]) {
        l.setNull(r);
        continue;
      }
      if (storage instanceof ListVector l) {
        l.startNewValue(r);
        for (int t = 0; t < len; t++) {
          ((FixedSizeListVector) l.getDataVector()).setNotNull(at / DIM + t);
        }
        l.endValue(r, len);
      } else {
        ((FixedSizeListVector) storage).setNotNull(r);
        if (storage.getChildrenFromFields().get(0) instanceof FixedSizeListVector inner) {
          for (int t = 0; t < len; t++) {
            inner.setNotNull(r * len + t);
          }
        }
      }
      for (float x : states[r]) {
        values.setSafe(at++, x);
      }
      if (nullRow[r]) {
        ((FixedSizeListVector) storage).setNull(r);
      }
    }
    values.setValueCount(at);
    if (storage instanceof ListVector l) {
      l.getDataVector().setValueCount(at / DIM);
    } else if (storage.getChildrenFromFields().get(0) instanceof FixedSizeListVector inner) {
      inner.setValueCount(at / DIM);
    }
    v.setValueCount(states.length);
    return v;
  }

  private ListVector maskColumn(long[][] masks, java.util.function.IntPredicate isNull) {
    ListVector v = ListVector.empty("mask", allocator);
    v.addOrGetVector(FieldType.notNullable(new ArrowType.Int(64, true)));
    v.allocateNew();
    BigIntVector data = (BigIntVector) v.getDataVector();
    int at = 0;
    for (int r = 0; r < masks.length; r++) {
      if (isNull.test(r)) {
        v.setNull(r);
        continue;
      }
      v.startNewValue(r);
      for (long m : masks[r]) {
        data.setSafe(at++, m);
      }
      v.endValue(r, masks[r].length);
    }
    data.setValueCount(at);
    v.setValueCount(masks.length);
    return v;
  }
}
