package dev.nnvm.arrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.junit.jupiter.api.Test;

/**
 * Every input layout and element type, bound and sent back out through an
 * identity "model" (the output tensor receives the input tensor's elements),
 * so each test is a round trip column -> tensor -> column. Each test runs
 * under its own allocator, closed afterwards: a leaked buffer fails it.
 */
class InputLayoutsTest extends AllocatorTest {
  private ArrowBridge bridge(SchemaMapping mapping) {
    return ArrowBridge.open(mapping, NullPolicy.NULL_OUTPUT, allocator, "test-model");
  }

  /** The identity model: output {@code out} receives input {@code in}'s elements. */
  private static void identity(BoundBatch b, String in, String out) {
    NativeTensor x = b.inputs().get(in);
    NativeTensor y = b.outputs().get(out);
    assertEquals(x.elementCount(), y.elementCount());
    for (long i = 0; i < x.elementCount(); i++) {
      TestData.set(y, i, TestData.get(x, i));
    }
  }

  /** Checks a column's leaf holds {@link TestData#value} element by element. */
  private static void assertLeafValues(DType t, FieldVector column, long count) {
    FieldVector leaf = TestData.leaf(column);
    for (int i = 0; i < count; i++) {
      assertEquals(TestData.value(t, i), TestData.get(leaf, i), 0.0, "element " + i);
    }
  }

  @Test
  void scalarAndFixedSizeListColumnsOfEveryTypeAreZeroCopy() {
    for (DType t : TestData.TYPES) {
      for (long[] row : new long[][] {{}, {4}, {3, 2}}) {
        String shape = Shape.of(row).toString().replace("[", "[N" + (row.length > 0 ? ", " : ""));
        SchemaMapping m = SchemaMapping.builder(List.of(spec("x", t, shape)), List.of(spec("y", t, shape))).build();
        try (ArrowBridge bridge = bridge(m);
             VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "x", t, 5, row));
             BoundBatch b = bridge.bind(batch)) {
          NativeTensor x = b.inputs().get("x");
          assertEquals(Shape.parse(shape).bind(java.util.Map.of("N", 5L)), Shape.of(x.shape()), t + " " + shape);
          for (long i = 0; i < x.elementCount(); i++) {
            assertEquals(TestData.value(t, i), TestData.get(x, i), 0.0, t + " element " + i);
          }
          FieldVector leaf = TestData.leaf(batch.getVector("x"));
          assertEquals(t != DType.BOOL, b.isZeroCopy("x"), t + ": bit-packed booleans are the one copied type");
          if (t != DType.BOOL) {
            assertEquals(leaf.getDataBufferAddress(), x.address(), t + ": the tensor is the column's buffer");
          }
          identity(b, "x", "y");
          long written = b.outputs().get("y").address();
          try (VectorSchemaRoot out = b.finish()) {
            assertEquals(5, out.getRowCount());
            assertEquals(batch.getVector("x").getField().getType(), out.getVector("y").getField().getType());
            assertLeafValues(t, out.getVector("y"), x.elementCount());
            if (t != DType.BOOL) {
              assertEquals(written, TestData.leaf(out.getVector("y")).getDataBufferAddress(),
                  t + ": the runtime wrote into the output column itself");
            }
            assertEquals(0, out.getVector("y").getNullCount());
            assertEquals(0, TestData.leaf(out.getVector("y")).getNullCount());
          }
        }
      }
    }
    System.out.println("scalar, [4] and [3, 2] rows of " + TestData.TYPES.length + " element types round-tripped");
  }

  @Test
  void listTensorAndPaddedColumnsOfEveryTypeRoundTrip() {
    for (DType t : TestData.TYPES) {
      SchemaMapping m = SchemaMapping.builder(
          List.of(spec("l", t, "[N, seq]"), spec("img", t, "[N, 2, 2]"), spec("p", t, "[N, len]")),
          List.of(spec("l_out", t, "[N, seq]"), spec("img_out", t, "[N, 2, 2]"), spec("p_out", t, "[N, len]")))
          .outputLayout("img_out", OutputLayout.TENSOR)
          .layout("p", new InputLayout.Padded("ragged", 0, null)).build();
      try (ArrowBridge bridge = bridge(m);
           VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "l", t, 3, 3, 3),
               Columns.tensor(allocator, "img", t, 3, 2, 2), Columns.list(allocator, "ragged", t, 2, 0, 3));
           BoundBatch b = bridge.bind(batch)) {
        for (String in : List.of("l", "img")) {
          assertEquals(t != DType.BOOL, b.isZeroCopy(in), t + " " + in);
          NativeTensor x = b.inputs().get(in);
          for (long i = 0; i < x.elementCount(); i++) {
            assertEquals(TestData.value(t, i), TestData.get(x, i), 0.0, t + " " + in + " element " + i);
          }
        }
        NativeTensor p = b.inputs().get("p");
        assertArrayEquals(new long[] {3, 3}, p.shape());
        double[] expect = {TestData.value(t, 0), TestData.value(t, 1), 0, 0, 0, 0, TestData.value(t, 2),
            TestData.value(t, 3), TestData.value(t, 4)};
        for (int i = 0; i < 9; i++) {
          assertEquals(expect[i], TestData.get(p, i), 0.0, t + " padded element " + i);
        }
        identity(b, "l", "l_out");
        identity(b, "img", "img_out");
        identity(b, "p", "p_out");
        try (VectorSchemaRoot out = b.finish()) {
          assertLeafValues(t, out.getVector("l_out"), 9);
          assertLeafValues(t, out.getVector("img_out"), 12);
          FieldVector padded = TestData.leaf(out.getVector("p_out"));
          for (int i = 0; i < 9; i++) {
            assertEquals(expect[i], TestData.get(padded, i), 0.0, t + " padded output " + i);
          }
        }
      }
    }
  }

  @Test
  void fixedShapeTensorColumnsCarryTheirShape() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("img", DType.FLOAT32, "[N, 2, 3]")),
        List.of(spec("out", DType.FLOAT32, "[N, 2, 3]"))).outputLayout("out", OutputLayout.TENSOR).build();
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.tensor(allocator, "img", DType.FLOAT32, 4, 2, 3));
         BoundBatch b = bridge.bind(batch)) {
      assertEquals(new ColumnType(DType.FLOAT32, Shape.of(2, 3)),
          ArrowTypes.columnType(batch.getSchema().findField("img")));
      assertTrue(b.isZeroCopy("img"));
      assertEquals(TestData.leaf(batch.getVector("img")).getDataBufferAddress(), b.inputs().get("img").address());
      assertArrayEquals(new long[] {4, 2, 3}, b.inputs().get("img").shape());
      identity(b, "img", "out");
      try (VectorSchemaRoot out = b.finish()) {
        FixedShapeTensorType type = (FixedShapeTensorType) out.getSchema().findField("out").getType();
        assertArrayEquals(new long[] {2, 3}, type.shape());
        assertEquals("{\"shape\":[2,3]}", type.serialize());
        assertEquals(FixedShapeTensorType.NAME, type.extensionName());
        assertLeafValues(DType.FLOAT32, out.getVector("out"), 24);
      }
    }
  }

  @Test
  void fixedShapeTensorMetadataIsReadPerTheSpec() {
    FixedShapeTensorType t = FixedShapeTensorType.parse(" { \"shape\" : [2, 5, 3], \"dim_names\": [\"C\",\"H\",\"W\"],"
        + " \"permutation\": [0, 1, 2] } ");
    assertArrayEquals(new long[] {2, 5, 3}, t.shape());
    assertEquals(List.of("C", "H", "W"), t.dimNames());
    assertEquals("{\"shape\":[2,5,3],\"dim_names\":[\"C\",\"H\",\"W\"]}", t.serialize());
    assertEquals(t, FixedShapeTensorType.parse(t.serialize()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FixedShapeTensorType.parse("{\"shape\":[2,3],\"permutation\":[1,0]}"));
    assertTrue(e.getMessage().contains("permutation [1, 0] is not supported"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> t.deserialize(new org.apache.arrow.vector.types.pojo
        .ArrowType.FixedSizeList(7), "{\"shape\":[2,3]}"));
    assertTrue(e.getMessage().contains("has 6 elements but its storage is FixedSizeList(7)"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> FixedShapeTensorType.parse("{\"dim_names\":[]}"));
    assertTrue(e.getMessage().contains("no \"shape\""), e.getMessage());
  }

  @Test
  void equalLengthListsAreZeroCopyAndUnequalOnesAreRefused() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("v", DType.FLOAT32, "[N, seq]")),
        List.of(spec("y", DType.FLOAT32, "[N, seq]"))).build();
    assertEquals(OutputLayout.LIST, m.outputLayout("y"));
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "v", DType.FLOAT32, 5, 5, 5));
         BoundBatch b = bridge.bind(batch)) {
      assertTrue(b.isZeroCopy("v"), "regular offsets, as Spark's ArrayType arrives");
      assertEquals(((ListVector) batch.getVector("v")).getDataVector().getDataBufferAddress(),
          b.inputs().get("v").address());
      assertArrayEquals(new long[] {3, 5}, b.inputs().get("v").shape());
      assertArrayEquals(new long[] {3, 5}, b.outputs().get("y").shape());
      identity(b, "v", "y");
      try (VectorSchemaRoot out = b.finish()) {
        ListVector y = (ListVector) out.getVector("y");
        for (int r = 0; r < 3; r++) {
          assertEquals(5 * r, y.getElementStartIndex(r));
          assertEquals(5 * r + 5, y.getElementEndIndex(r));
        }
        assertLeafValues(DType.FLOAT32, y, 15);
      }
    }
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "v", DType.FLOAT32, 5, 2, 5))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bridge.bind(batch));
      assertEquals("input 'v': rows of column 'v' differ in length (row 0 has 5, row 1 has 2); feed it with"
          + " InputLayout.Padded, or bucket the rows with LengthBuckets", e.getMessage());
      assertEquals(0, bridge.allocator().getAllocatedMemory());
    }
  }

  @Test
  void aColumnWhoseBuffersAreTooShortIsRefusedBeforeItIsRead() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("v", DType.FLOAT32, "[N, seq]")),
        List.of(spec("y", DType.FLOAT32, "[N]"))).build();
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "v", DType.FLOAT32, 2, 2))) {
      ListVector v = (ListVector) batch.getVector("v");
      v.getOffsetBuffer().setInt(8, 1 << 30);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bridge.bind(batch));
      assertTrue(e.getMessage().startsWith("column 'v': 2 rows need 1073741824 elements, its element buffer holds"),
          e.getMessage());
    }
  }

  @Test
  void scalarColumnsAreGatheredIntoOneMatrix() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("features", DType.FLOAT32, "[N, 3]")),
        List.of(spec("y", DType.FLOAT32, "[N, 3]")))
        .layout("features", new InputLayout.Gather(List.of("age", "income", "visits"))).build();
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "age", DType.FLOAT32, 6),
             Columns.fixed(allocator, "income", DType.FLOAT64, 6),
             Columns.fixed(allocator, "visits", DType.INT16, 6))) {
      SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> bridge.bind(batch));
      assertEquals(List.of("input 'features' f32: wrong element type, column 'income' holds f64, which does not"
          + " convert to f32 without loss"), e.problems());
    }
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "age", DType.FLOAT32, 6),
             Columns.fixed(allocator, "income", DType.FLOAT16, 6),
             Columns.fixed(allocator, "visits", DType.INT16, 6));
         BoundBatch b = bridge.bind(batch)) {
      NativeTensor x = b.inputs().get("features");
      assertArrayEquals(new long[] {6, 3}, x.shape());
      assertFalse(b.isZeroCopy("features"));
      DType[] types = {DType.FLOAT32, DType.FLOAT16, DType.INT16};
      for (int r = 0; r < 6; r++) {
        for (int k = 0; k < 3; k++) {
          assertEquals(TestData.value(types[k], r), TestData.get(x, r * 3L + k), 0.0, "row " + r + " feature " + k);
        }
      }
      ((org.apache.arrow.vector.SmallIntVector) batch.getVector("visits")).setNull(4);
      try (BoundBatch withNull = bridge.bind(batch)) {
        NativeTensor y = withNull.inputs().get("features");
        assertArrayEquals(new long[] {5, 3}, y.shape(), "row 4 is left out");
        for (int i = 0; i < 5; i++) {
          int r = i < 4 ? i : 5;
          for (int k = 0; k < 3; k++) {
            assertEquals(TestData.value(types[k], r), TestData.get(y, i * 3L + k), 0.0, "row " + r + " feature " + k);
          }
        }
      }
    }
  }

  @Test
  void tokenIdColumnsOfInt32AndInt64() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("input_ids", DType.INT64, "[N, 8]")),
        List.of(spec("y", DType.INT64, "[N, 8]"))).mapInput("tokens", "input_ids").build();
    for (DType column : new DType[] {DType.INT32, DType.INT64}) {
      try (ArrowBridge bridge = bridge(m);
           VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "tokens", column, 3, 8));
           BoundBatch b = bridge.bind(batch)) {
        assertEquals(column == DType.INT64, b.isZeroCopy("input_ids"), "int32 ids are widened into a copy");
        NativeTensor ids = b.inputs().get("input_ids");
        assertEquals(DType.INT64, ids.dtype());
        for (int i = 0; i < 24; i++) {
          assertEquals(TestData.value(column, i), TestData.get(ids, i), 0.0);
        }
      }
    }
  }

  @Test
  void variableLengthRowsArePaddedWithAMatchingAttentionMask() {
    SchemaMapping m = SchemaMapping.builder(
        List.of(spec("input_ids", DType.INT64, "[batch, seq]"), spec("attention_mask", DType.INT64, "[batch, seq]")),
        List.of(spec("hidden", DType.FLOAT32, "[batch, seq, 2]")))
        .layout("input_ids", new InputLayout.Padded("tokens", 0, "attention_mask")).build();
    int[] lengths = {3, 1, 4, 0};
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "tokens", DType.INT32, lengths));
         BoundBatch b = bridge.bind(batch)) {
      NativeTensor ids = b.inputs().get("input_ids");
      NativeTensor mask = b.inputs().get("attention_mask");
      assertArrayEquals(new long[] {4, 4}, ids.shape());
      assertArrayEquals(new long[] {4, 4}, mask.shape());
      int at = 0;
      for (int r = 0; r < 4; r++) {
        for (int k = 0; k < 4; k++) {
          boolean real = k < lengths[r];
          assertEquals(real ? TestData.value(DType.INT32, at++) : 0, TestData.get(ids, r * 4L + k), 0.0);
          assertEquals(real ? 1 : 0, TestData.get(mask, r * 4L + k), 0.0, "mask row " + r + " position " + k);
        }
      }
      NativeTensor hidden = b.outputs().get("hidden");
      assertArrayEquals(new long[] {4, 4, 2}, hidden.shape());
      for (long i = 0; i < hidden.elementCount(); i++) {
        TestData.set(hidden, i, TestData.get(ids, i / 2) + (i % 2) * 0.5);
      }
      try (VectorSchemaRoot out = b.finish()) {
        ListVector h = (ListVector) out.getVector("hidden");
        assertEquals(new ColumnType(DType.FLOAT32, Shape.parse("[?, 2]")), ArrowTypes.columnType(h.getField()));
        assertEquals(4, h.getElementEndIndex(0) - h.getElementStartIndex(0));
        FieldVector leaf = TestData.leaf(h);
        for (int i = 0; i < 32; i++) {
          assertEquals(TestData.get(ids, i / 2) + (i % 2) * 0.5, TestData.get(leaf, i), 0.0);
        }
      }
    }
  }

  @Test
  void paddingToAStaticLengthRefusesLongerRows() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("ids", DType.INT32, "[N, 6]")),
        List.of(spec("y", DType.INT32, "[N, 6]"))).layout("ids", new InputLayout.Padded("ids", -1, null)).build();
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "ids", DType.INT32, 2, 6));
         BoundBatch b = bridge.bind(batch)) {
      NativeTensor ids = b.inputs().get("ids");
      assertArrayEquals(new long[] {2, 6}, ids.shape());
      double[] row0 = new double[6];
      for (int k = 0; k < 6; k++) {
        row0[k] = TestData.get(ids, k);
      }
      assertArrayEquals(new double[] {TestData.value(DType.INT32, 0), TestData.value(DType.INT32, 1), -1, -1, -1, -1},
          row0);
    }
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "ids", DType.INT32, 2, 7))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bridge.bind(batch));
      assertEquals("input 'ids' i32[N, 6]: row 1 of column 'ids' has 7 elements, more than 6", e.getMessage());
    }
  }

  @Test
  void lengthBucketsPadEachGroupToItsOwnLongestRow() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("ids", DType.INT64, "[N, seq]")),
        List.of(spec("total", DType.FLOAT64, "[N]")))
        .layout("ids", new InputLayout.Padded("tokens", 0, null)).build();
    int[] lengths = {2, 9, 3, 10, 1};
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "tokens", DType.INT64, lengths))) {
      List<int[]> buckets = LengthBuckets.of(batch, "tokens", 4);
      assertEquals(2, buckets.size());
      assertArrayEquals(new int[] {0, 2, 4}, buckets.get(0));
      assertArrayEquals(new int[] {1, 3}, buckets.get(1));
      List<VectorSchemaRoot> parts = new ArrayList<>();
      long padded = 0;
      try {
        for (int[] rows : buckets) {
          try (BoundBatch b = bridge.bind(batch, rows)) {
            NativeTensor ids = b.inputs().get("ids");
            padded += ids.elementCount();
            long seq = ids.shape()[1];
            NativeTensor total = b.outputs().get("total");
            for (int i = 0; i < rows.length; i++) {
              double sum = 0;
              for (int k = 0; k < seq; k++) {
                sum += TestData.get(ids, i * seq + k);
              }
              TestData.set(total, i, sum);
            }
            parts.add(b.finish());
          }
        }
        assertEquals(3 * 3 + 2 * 10, padded, "padded elements with buckets (50 without)");
        try (VectorSchemaRoot merged = LengthBuckets.merge(parts, buckets, 5, bridge.allocator())) {
          int at = 0;
          for (int r = 0; r < 5; r++) {
            double sum = 0;
            for (int k = 0; k < lengths[r]; k++) {
              sum += TestData.value(DType.INT64, at++);
            }
            assertEquals(sum, TestData.get(merged.getVector("total"), r), 0.0, "row " + r);
          }
        }
      } finally {
        parts.forEach(VectorSchemaRoot::close);
      }
    }
  }

  @Test
  void floatColumnsStayBitExact() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("x", DType.FLOAT32, "[N]")),
        List.of(spec("y", DType.FLOAT32, "[N]"))).build();
    try (ArrowBridge bridge = bridge(m);
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "x", DType.FLOAT32, 3))) {
      Float4Vector x = (Float4Vector) batch.getVector("x");
      x.set(0, Float.NaN);
      x.set(1, -0.0f);
      x.set(2, Float.MIN_VALUE);
      try (BoundBatch b = bridge.bind(batch)) {
        assertTrue(Float.isNaN((float) TestData.get(b.inputs().get("x"), 0)), "NaN is data, not null");
        identity(b, "x", "y");
        try (VectorSchemaRoot out = b.finish()) {
          Float4Vector y = (Float4Vector) out.getVector("y");
          assertEquals(0, y.getNullCount());
          assertTrue(Float.isNaN(y.get(0)));
          assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(y.get(1)));
          assertEquals(Float.MIN_VALUE, y.get(2));
          assertNotEquals(x.getDataBufferAddress(), y.getDataBufferAddress());
        }
      }
    }
  }
}
