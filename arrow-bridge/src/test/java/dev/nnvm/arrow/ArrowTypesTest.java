package dev.nnvm.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float2Vector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;

/** Every test runs under its own allocator, closed afterwards: a leaked buffer fails the test. */
class ArrowTypesTest extends AllocatorTest {
  @Test
  void mapsTheColumnsOfARealBatch() {
    List<FieldVector> vectors = new ArrayList<>();
    IntVector ids = new IntVector("ids", allocator);
    vectors.add(ids);
    BigIntVector counts = new BigIntVector("counts", allocator);
    vectors.add(counts);
    UInt1Vector pixels = new UInt1Vector("pixels", allocator);
    vectors.add(pixels);
    Float2Vector halves = new Float2Vector("halves", allocator);
    vectors.add(halves);
    BitVector flags = new BitVector("flags", allocator);
    vectors.add(flags);
    FixedSizeListVector embedding = FixedSizeListVector.empty("embedding", 4, allocator);
    embedding.addOrGetVector(FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)));
    vectors.add(embedding);
    try (VectorSchemaRoot root = new VectorSchemaRoot(vectors)) {
      root.allocateNew();
      for (int row = 0; row < 3; row++) {
        ids.setSafe(row, row * 10);
        counts.setSafe(row, 1L << (40 + row));
        pixels.setSafe(row, 200 + row);
        halves.setSafeWithPossibleTruncate(row, row + 0.5f);
        flags.setSafe(row, row % 2);
        embedding.setNotNull(row);
        Float4Vector values = (Float4Vector) embedding.getDataVector();
        for (int k = 0; k < 4; k++) {
          values.setSafe(row * 4 + k, row + k / 4f);
        }
      }
      root.setRowCount(3);

      Map<String, ColumnType> types = ArrowTypes.columnTypes(root.getSchema());
      assertEquals(List.of("ids", "counts", "pixels", "halves", "flags", "embedding"), List.copyOf(types.keySet()));
      assertEquals(ColumnType.scalar(DType.INT32), types.get("ids"));
      assertEquals(ColumnType.scalar(DType.INT64), types.get("counts"));
      assertEquals(ColumnType.scalar(DType.UINT8), types.get("pixels"));
      assertEquals(ColumnType.scalar(DType.FLOAT16), types.get("halves"));
      assertEquals(ColumnType.scalar(DType.BOOL), types.get("flags"));
      assertEquals(new ColumnType(DType.FLOAT32, Shape.of(4)), types.get("embedding"));
      assertEquals(2, types.get("embedding").batchRank());
      assertEquals("f32[4]", types.get("embedding").toString());

      assertEquals(3, root.getRowCount());
      assertEquals(2.25f, ((Float4Vector) embedding.getDataVector()).get(2 * 4 + 1));
      assertEquals(202, pixels.getValueAsLong(2));
    }
  }

  @Test
  void nestedFixedSizeListsGiveHigherRankRows() {
    Field nested = ArrowTypes.field("image", new ColumnType(DType.UINT8, Shape.of(3, 2, 2)));
    assertEquals(new ColumnType(DType.UINT8, Shape.of(3, 2, 2)), ArrowTypes.columnType(nested));
    try (FieldVector v = nested.createVector(allocator)) {
      FixedSizeListVector outer = (FixedSizeListVector) v;
      assertEquals(3, outer.getListSize());
      FixedSizeListVector middle = (FixedSizeListVector) outer.getDataVector();
      assertEquals(2, middle.getListSize());
      FixedSizeListVector inner = (FixedSizeListVector) middle.getDataVector();
      assertEquals(2, inner.getListSize());
      assertTrue(inner.getDataVector() instanceof UInt1Vector, () -> inner.getDataVector().getClass().getName());
      assertEquals(nested, v.getField());
    }
  }

  @Test
  void everyArrowCapableTypeMapsBothWays() {
    for (DType t : DType.values()) {
      if (t == DType.BFLOAT16 || t == DType.STRING) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ArrowTypes.toArrowType(t));
        assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
        continue;
      }
      ArrowType a = ArrowTypes.toArrowType(t);
      assertEquals(t, ArrowTypes.toDType(a));
      Field scalar = ArrowTypes.field("c", ColumnType.scalar(t));
      assertEquals(a, scalar.getType());
      assertEquals(ColumnType.scalar(t), ArrowTypes.columnType(scalar));
    }
  }

  @Test
  void unsupportedColumnsAreNamedInTheError() {
    try (VarCharVector text = new VarCharVector("text", allocator);
         ListVector ragged = ListVector.empty("ragged", allocator)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ArrowTypes.columnType(text.getField()));
      assertTrue(e.getMessage().startsWith("column 'text': Arrow type Utf8 has no tensor element type"), e.getMessage());

      e = assertThrows(IllegalArgumentException.class, () -> ArrowTypes.columnType(ragged.getField()));
      assertTrue(e.getMessage().startsWith("column 'ragged': Arrow type Null has no tensor element type"),
          e.getMessage());
    }
    Field listOfText = new Field("tokens", FieldType.nullable(new ArrowType.FixedSizeList(8)),
        List.of(Field.nullable("item", ArrowType.Utf8.INSTANCE)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ArrowTypes.columnType(listOfText));
    assertTrue(e.getMessage().contains("column 'tokens'") && e.getMessage().endsWith("(the element type of its lists)"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ArrowTypes.toDType(new ArrowType.Int(128, true)));
    assertThrows(IllegalArgumentException.class,
        () -> ArrowTypes.columnTypes(new Schema(List.of(Field.nullable("d", new ArrowType.Decimal(10, 2, 128))))));
  }

  @Test
  void listsAndTensorExtensionsMapToRowShapes() {
    Field ragged = new Field("tokens", FieldType.nullable(ArrowType.List.INSTANCE),
        List.of(ArrowTypes.field("$data$", new ColumnType(DType.FLOAT32, Shape.of(384)))));
    assertEquals(new ColumnType(DType.FLOAT32, Shape.parse("[?, 384]")), ArrowTypes.columnType(ragged));
    FixedShapeTensorType.register();
    Field tensor = FixedShapeTensorType.field("image", ArrowTypes.toArrowType(DType.UINT8), 3, 4, 5);
    assertEquals(new ColumnType(DType.UINT8, Shape.of(3, 4, 5)), ArrowTypes.columnType(tensor));
  }

  @Test
  void variableRowShapesHaveNoArrowField() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ArrowTypes.field("tokens", new ColumnType(DType.INT64, Shape.parse("[seq]"))));
    assertTrue(e.getMessage().contains("'tokens'") && e.getMessage().contains("[seq]"), e.getMessage());
  }
}
