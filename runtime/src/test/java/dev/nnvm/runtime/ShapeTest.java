package dev.nnvm.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShapeTest {
  @Test
  void printsAndParsesBack() {
    for (String text : List.of("[]", "[7]", "[N, 3, 224, 224]", "[batch_size, sequence_length, 384]",
        "[?, 4]", "[unk__12, ?, 0]", "?", "[onnx::Shape_3, a.b/c-d]")) {
      assertEquals(text, Shape.parse(text).toString(), text);
    }
    assertEquals(Shape.of(2, 3), Shape.parse("  [ 2,3 ] "));
    assertSame(Shape.scalar(), Shape.parse("[ ]"));
    assertSame(Shape.unknownRank(), Shape.parse(" ? "));
  }

  @Test
  void parsedDimensionsHaveTheirKinds() {
    Shape s = Shape.parse("[N, 3, ?]");
    assertEquals(3, s.rank());
    assertTrue(s.dim(0).isSymbolic() && !s.dim(0).isStatic() && !s.dim(0).isUnknown());
    assertEquals("N", s.dim(0).symbol());
    assertEquals(3, s.dim(1).value());
    assertTrue(s.dim(2).isUnknown());
    assertThrows(IllegalStateException.class, () -> s.dim(0).value());
    assertThrows(IllegalStateException.class, () -> s.dim(1).symbol());
    assertEquals(List.of(Dim.symbol("N"), Dim.of(3), Dim.unknown()), s.dims());
  }

  @Test
  void parseErrorsQuoteTheText() {
    for (String bad : List.of("2, 3", "[2, 3", "[2, -3]", "[2, , 3]", "[3x]", "[99999999999999999999]", "[a b]")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.parse(bad), bad);
      assertTrue(e.getMessage().contains(bad), e.getMessage());
    }
  }

  @Test
  void staticShapesHaveSizes() {
    Shape s = Shape.of(2, 3, 4);
    assertTrue(s.isStatic());
    assertArrayEquals(new long[] {2, 3, 4}, s.toArray());
    assertEquals(24, s.elementCount());
    assertEquals(1, Shape.scalar().elementCount());
    assertEquals(0, Shape.of(5, 0, 7).elementCount());
    assertThrows(ArithmeticException.class, () -> Shape.of(1L << 40, 1L << 40).elementCount());
    assertFalse(Shape.parse("[N, 3]").isStatic());
    assertFalse(Shape.unknownRank().isStatic());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Shape.parse("[N, 3]").toArray());
    assertTrue(e.getMessage().contains("[N, 3]"), e.getMessage());
  }

  @Test
  void bindReplacesOnlyBoundSymbols() {
    Shape s = Shape.parse("[batch, seq, 384, ?]");
    assertEquals(Shape.parse("[8, seq, 384, ?]"), s.bind(Map.of("batch", 8L)));
    assertEquals(Shape.parse("[8, 128, 384, ?]"), s.bind(Map.of("batch", 8L, "seq", 128L, "other", 5L)));
    assertSame(s, s.bind(Map.of("other", 5L)), "nothing bound: the same shape");
    assertSame(Shape.unknownRank(), Shape.unknownRank().bind(Map.of("batch", 1L)));
    Shape all = Shape.parse("[batch, seq]").bind(Map.of("batch", 2L, "seq", 3L));
    assertTrue(all.isStatic());
    assertEquals(6, all.elementCount());
  }

  @Test
  void unknownRankRefusesRankQuestions() {
    Shape u = Shape.unknownRank();
    assertFalse(u.hasRank());
    assertThrows(IllegalStateException.class, u::rank);
    assertThrows(IllegalStateException.class, () -> u.dim(0));
    assertThrows(IllegalStateException.class, u::dims);
    assertNotEquals(Shape.scalar(), u);
  }

  @Test
  void valueSemantics() {
    assertEquals(Shape.of(Dim.of(2), Dim.symbol("N")), Shape.parse("[2, N]"));
    assertEquals(Shape.parse("[2, N]").hashCode(), Shape.of(Dim.of(2), Dim.symbol("N")).hashCode());
    assertNotEquals(Shape.parse("[2, N]"), Shape.parse("[2, M]"));
    assertNotEquals(Shape.parse("[2, ?]"), Shape.parse("[2, N]"));
    assertEquals(Dim.of(1000), Dim.of(1000));
    assertThrows(IllegalArgumentException.class, () -> Dim.of(-1));
    assertThrows(IllegalArgumentException.class, () -> Dim.symbol(""));
    assertThrows(NullPointerException.class, () -> Shape.of(java.util.Arrays.asList(Dim.of(1), null)));
    assertEquals("[2, 3]", Shape.toString(new long[] {2, 3}));
  }
}
