package dev.nnvm.arrow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import java.util.BitSet;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.ReferenceManager;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.junit.jupiter.api.Test;

/**
 * Outputs written in place through the tensors' addresses (as the compiled
 * executor will), in every layout and element type, and the two null
 * policies. Each test is a leak test.
 */
class OutputsAndNullsTest extends AllocatorTest {
  @Test
  void outputsAreWrittenInPlaceThroughAnArrowBufAtTheTensorsAddress() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("x", DType.FLOAT32, "[N, 384]")),
        List.of(spec("embedding", DType.FLOAT32, "[N, 384]"), spec("score", DType.FLOAT32, "[N, 1]")))
        .mapOutput("embedding", "vec").outputLayout("score", OutputLayout.SCALAR).build();
    try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.NULL_OUTPUT, allocator, "model/task-0");
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "x", DType.FLOAT32, 10, 384));
         BoundBatch b = bridge.bind(batch)) {
      NativeTensor x = b.inputs().get("x");
      NativeTensor e = b.outputs().get("embedding");
      NativeTensor s = b.outputs().get("score");
      assertArrayEquals(new long[] {10, 384}, e.shape());
      assertArrayEquals(new long[] {10, 1}, s.shape());
      ArrowBuf out = new ArrowBuf(ReferenceManager.NO_OP, null, e.byteSize(), e.address());
      ArrowBuf score = new ArrowBuf(ReferenceManager.NO_OP, null, s.byteSize(), s.address());
      for (int r = 0; r < 10; r++) {
        float sum = 0;
        for (int k = 0; k < 384; k++) {
          float v = (float) TestData.get(x, r * 384L + k);
          out.setFloat((r * 384L + k) * 4, 2 * v + 1);
          sum += v;
        }
        score.setFloat(r * 4L, sum);
      }
      long eAddress = e.address();
      long sAddress = s.address();
      try (VectorSchemaRoot result = b.finish()) {
        assertTrue(e.isClosed(), "the views close when the columns are handed over");
        assertEquals(List.of("vec", "score"), result.getSchema().getFields().stream().map(f -> f.getName()).toList());
        assertEquals(bridge.outputSchema(), result.getSchema());
        FixedSizeListVector vec = (FixedSizeListVector) result.getVector("vec");
        Float4Vector values = (Float4Vector) vec.getDataVector();
        assertEquals(eAddress, values.getDataBufferAddress());
        assertEquals(sAddress, result.getVector("score").getDataBufferAddress());
        double maxAbs = 0;
        for (int r = 0; r < 10; r++) {
          float sum = 0;
          for (int k = 0; k < 384; k++) {
            float v = (float) TestData.value(DType.FLOAT32, r * 384L + k);
            maxAbs = Math.max(maxAbs, Math.abs(values.get(r * 384 + k) - (2 * v + 1)));
            sum += v;
          }
          assertEquals(sum, ((Float4Vector) result.getVector("score")).get(r));
          assertEquals(384, ((List<?>) vec.getObject(r)).size());
        }
        System.out.println("in-place outputs: max abs error " + maxAbs);
        assertEquals(0.0, maxAbs);
      }
    }
  }

  @Test
  void everyOutputTypeInEveryLayout() {
    for (DType t : TestData.TYPES) {
      for (OutputLayout layout : new OutputLayout[] {OutputLayout.SCALAR, OutputLayout.FIXED_SIZE_LIST,
          OutputLayout.LIST, OutputLayout.TENSOR}) {
        String shape = layout == OutputLayout.SCALAR ? "[N]" : "[N, 3]";
        SchemaMapping m = SchemaMapping.builder(List.of(spec("x", DType.INT32, "[N]")),
            List.of(spec("y", t, shape))).outputLayout("y", layout).build();
        try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.NULL_OUTPUT, allocator, "t");
             VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "x", DType.INT32, 4));
             BoundBatch b = bridge.bind(batch)) {
          NativeTensor y = b.outputs().get("y");
          for (long i = 0; i < y.elementCount(); i++) {
            TestData.set(y, i, TestData.value(t, i));
          }
          try (VectorSchemaRoot out = b.finish()) {
            FieldVector column = out.getVector("y");
            assertEquals(m.outputSchema().findField("y"), column.getField(), t + " " + layout);
            assertEquals(0, column.getNullCount());
            FieldVector leaf = TestData.leaf(column);
            assertEquals(y.elementCount(), leaf.getValueCount(), t + " " + layout);
            assertEquals(0, leaf.getNullCount());
            for (int i = 0; i < y.elementCount(); i++) {
              assertEquals(TestData.value(t, i), TestData.get(leaf, i), 0.0, t + " " + layout + " element " + i);
            }
          }
        }
      }
    }
  }

  /** Rows 1 (null list), 4 (a null element) and 5 (null scalar) are left out; the rest is scored. */
  @Test
  void nullRowsGetNullOutputsAndTheRestIsScored() {
    SchemaMapping m = SchemaMapping.builder(
        List.of(spec("v", DType.FLOAT32, "[N, 2]"), spec("w", DType.FLOAT32, "[N]")),
        List.of(spec("fixed", DType.FLOAT32, "[N, 2]"), spec("list", DType.FLOAT32, "[N, 2]"),
            spec("scalar", DType.FLOAT32, "[N]"), spec("flag", DType.BOOL, "[N]")))
        .outputLayout("list", OutputLayout.LIST).build();
    try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.NULL_OUTPUT, allocator, "t");
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "v", DType.FLOAT32, 6, 2),
             Columns.fixed(allocator, "w", DType.FLOAT32, 6))) {
      FixedSizeListVector v = (FixedSizeListVector) batch.getVector("v");
      v.setNull(1);
      ((Float4Vector) v.getDataVector()).setNull(4 * 2 + 1);
      ((Float4Vector) batch.getVector("w")).setNull(5);
      try (BoundBatch b = bridge.bind(batch)) {
        assertEquals(6, b.rowCount());
        assertEquals(3, b.scoredRowCount());
        BitSet nulls = new BitSet();
        nulls.set(1);
        nulls.set(4);
        nulls.set(5);
        assertEquals(nulls, b.nullRows());
        assertFalse(b.isZeroCopy("v"), "the scored rows are compacted into a copy");
        NativeTensor x = b.inputs().get("v");
        NativeTensor w = b.inputs().get("w");
        assertArrayEquals(new long[] {3, 2}, x.shape());
        int[] kept = {0, 2, 3};
        for (int i = 0; i < 3; i++) {
          for (int k = 0; k < 2; k++) {
            assertEquals(TestData.value(DType.FLOAT32, kept[i] * 2 + k), TestData.get(x, i * 2 + k), 0.0);
          }
          assertEquals(TestData.value(DType.FLOAT32, kept[i]), TestData.get(w, i), 0.0);
        }
        for (String out : List.of("fixed", "list")) {
          assertArrayEquals(new long[] {3, 2}, b.outputs().get(out).shape());
          for (int i = 0; i < 6; i++) {
            TestData.set(b.outputs().get(out), i, 2 * TestData.get(x, i) + 1);
          }
        }
        for (int i = 0; i < 3; i++) {
          TestData.set(b.outputs().get("scalar"), i, TestData.get(w, i) - 1);
          TestData.set(b.outputs().get("flag"), i, TestData.get(w, i) > 0 ? 1 : 0);
        }
        try (VectorSchemaRoot out = b.finish()) {
          assertEquals(6, out.getRowCount());
          FixedSizeListVector fixed = (FixedSizeListVector) out.getVector("fixed");
          ListVector list = (ListVector) out.getVector("list");
          Float4Vector scalar = (Float4Vector) out.getVector("scalar");
          org.apache.arrow.vector.BitVector flag = (org.apache.arrow.vector.BitVector) out.getVector("flag");
          for (int r = 0; r < 6; r++) {
            boolean isNull = nulls.get(r);
            for (FieldVector c : out.getFieldVectors()) {
              assertEquals(isNull, c.isNull(r), c.getName() + " row " + r);
            }
            if (isNull) {
              assertEquals(0, list.getElementEndIndex(r) - list.getElementStartIndex(r), "a null list row is empty");
              continue;
            }
            float w0 = (float) TestData.value(DType.FLOAT32, r);
            assertEquals(w0 - 1, scalar.get(r));
            assertEquals(w0 > 0 ? 1 : 0, flag.get(r));
            for (int k = 0; k < 2; k++) {
              float expect = 2 * (float) TestData.value(DType.FLOAT32, r * 2 + k) + 1;
              assertEquals(expect, ((Float4Vector) fixed.getDataVector()).get(r * 2 + k), "fixed row " + r);
              assertEquals(expect, ((Float4Vector) list.getDataVector()).get(list.getElementStartIndex(r) + k),
                  "list row " + r);
            }
          }
          assertEquals(6, ((Float4Vector) list.getDataVector()).getValueCount());
          assertEquals(0, ((Float4Vector) list.getDataVector()).getNullCount());
        }
      }
    }
  }

  @Test
  void strictPolicyNamesTheRowAndColumn() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("v", DType.FLOAT32, "[N, 2]")),
        List.of(spec("y", DType.FLOAT32, "[N, 2]"))).mapInput("features", "v").build();
    try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.STRICT, allocator, "t");
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "features", DType.FLOAT32, 5, 2))) {
      ((Float4Vector) ((FixedSizeListVector) batch.getVector("features")).getDataVector()).setNull(7);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bridge.bind(batch));
      assertEquals("row 3 of column 'features' holds a null element (null policy STRICT)", e.getMessage());
      ((FixedSizeListVector) batch.getVector("features")).setNull(2);
      e = assertThrows(IllegalArgumentException.class, () -> bridge.bind(batch));
      assertEquals("row 2 of column 'features' is null (null policy STRICT)", e.getMessage());
      assertEquals(0, bridge.allocator().getAllocatedMemory());
    }
  }

  @Test
  void aBatchOfOnlyNullRowsScoresNothing() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("ids", DType.INT64, "[N, seq]")),
        List.of(spec("y", DType.FLOAT32, "[N, 4]"))).layout("ids", new InputLayout.Padded("ids", 0, null)).build();
    try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.NULL_OUTPUT, allocator, "t");
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "ids", DType.INT64, -1, -1));
         BoundBatch b = bridge.bind(batch)) {
      assertEquals(0, b.scoredRowCount());
      assertArrayEquals(new long[] {0, 0}, b.inputs().get("ids").shape());
      assertArrayEquals(new long[] {0, 4}, b.outputs().get("y").shape());
      try (VectorSchemaRoot out = b.finish()) {
        assertEquals(2, out.getVector("y").getNullCount());
      }
    }
  }

  @Test
  void anEmptyBatchBindsToEmptyTensors() {
    SchemaMapping m = SchemaMapping.builder(
        List.of(spec("ids", DType.INT64, "[N, seq]"), spec("mask", DType.INT32, "[N, seq]"),
            spec("v", DType.FLOAT32, "[N, 4]"), spec("g", DType.FLOAT64, "[N, 2]")),
        List.of(spec("h", DType.FLOAT32, "[N, seq, 2]"), spec("p", DType.FLOAT32, "[N, 4]"),
            spec("s", DType.BOOL, "[N]")))
        .layout("ids", new InputLayout.Padded("tokens", 0, "mask"))
        .layout("g", new InputLayout.Gather(List.of("a", "b"))).build();
    try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.NULL_OUTPUT, allocator, "t");
         VectorSchemaRoot batch = Columns.root(Columns.list(allocator, "tokens", DType.INT64),
             Columns.fixed(allocator, "v", DType.FLOAT32, 0, 4), Columns.fixed(allocator, "a", DType.FLOAT64, 0),
             Columns.fixed(allocator, "b", DType.FLOAT64, 0));
         BoundBatch b = bridge.bind(batch)) {
      assertEquals(0, b.rowCount());
      assertArrayEquals(new long[] {0, 0}, b.inputs().get("ids").shape());
      assertArrayEquals(new long[] {0, 0}, b.inputs().get("mask").shape());
      assertArrayEquals(new long[] {0, 4}, b.inputs().get("v").shape());
      assertArrayEquals(new long[] {0, 2}, b.inputs().get("g").shape());
      assertArrayEquals(new long[] {0, 0, 2}, b.outputs().get("h").shape());
      try (VectorSchemaRoot out = b.finish()) {
        assertEquals(0, out.getRowCount());
        assertEquals(bridge.outputSchema(), out.getSchema());
      }
    }
  }

  @Test
  void aFinishedBatchCannotBeFinishedAgain() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("x", DType.INT8, "[N]")),
        List.of(spec("y", DType.INT8, "[N]"))).build();
    try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.NULL_OUTPUT, allocator, "t");
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "x", DType.INT8, 3));
         BoundBatch b = bridge.bind(batch)) {
      NativeTensor y = b.outputs().get("y");
      b.finish().close();
      assertThrows(IllegalStateException.class, b::finish);
      assertThrows(IllegalStateException.class, y::address, "a finished output can no longer be written");
    }
  }
}
