package dev.nnvm.compiler.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.HalfFloats;
import dev.nnvm.runtime.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GraphTextTest {
  /** Prints, parses and prints again: the graphs are equal and the texts identical. */
  static String roundTrip(Graph g) {
    String text = GraphPrinter.print(g);
    Graph back = GraphParser.parse(text);
    assertEquals(g, back, () -> "graph changed in the round trip:\n" + text + "\nreads back as\n" + GraphPrinter.print(back));
    assertEquals(text, GraphPrinter.print(back));
    return text;
  }

  private static TensorType t(String text) {
    return TensorType.parse(text);
  }

  @Test
  void convNetworkPrintsReadably() {
    Graph g = Graph.builder("main")
        .input("x", t("f32[N, 3, 8, 8]"))
        .output("y", t("f32[N, 4, 4, 4]"))
        .constant("w", Tensor.ofFloats(new long[] {4, 3, 1, 1}, new float[12]))
        .node(new Node("conv1", "Conv", "", List.of("x", "w"), List.of("c"),
            attrs("strides", Attribute.ofInts(2, 2), "pads", Attribute.ofInts(0, 0, 0, 0))))
        .node(new Node("", "Relu", "", List.of("c"), List.of("y"), Map.of()))
        .valueType("c", t("f32[N, 4, 4, 4]"))
        .opset("", 17)
        .build();
    String text = roundTrip(g);
    assertEquals("graph main(%x: f32[N, 3, 8, 8]) -> (%y: f32[N, 4, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[4, 3, 1, 1] = dense<[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]>\n"
        + "  %c = Conv(%x, %w) {name = \"conv1\", strides = [2, 2], pads = [0, 0, 0, 0]} : f32[N, 4, 4, 4]\n"
        + "  %y = Relu(%c)\n"
        + "  return %y\n"
        + "}\n", text);
  }

  private static Map<String, Attribute> attrs(Object... kv) {
    Map<String, Attribute> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], (Attribute) kv[i + 1]);
    }
    return m;
  }

  private static Graph oneNode(Map<String, Attribute> attributes) {
    return Graph.builder("g").input("x", t("f32[2]")).output("y", t("f32[2]"))
        .node(new Node("n", "Op", "custom", List.of("x"), List.of("y"), attributes)).opset("custom", 1).build();
  }

  @Test
  void everyAttributeKindRoundTrips() {
    Graph sub = Graph.builder("then").output("z", t("f32[2]"))
        .node(new Node("inner", "Relu", "", List.of("x"), List.of("z"), Map.of())).build();
    roundTrip(oneNode(attrs(
        "f", Attribute.ofFloat(0.1f),
        "fneg0", Attribute.ofFloat(-0.0f),
        "fsub", Attribute.ofFloat(Float.MIN_VALUE),
        "fmax", Attribute.ofFloat(Float.MAX_VALUE),
        "fnan", Attribute.ofFloat(Float.NaN),
        "finf", Attribute.ofFloat(Float.NEGATIVE_INFINITY),
        "fwhole", Attribute.ofFloat(3f),
        "i", Attribute.ofInt(Long.MIN_VALUE),
        "imax", Attribute.ofInt(Long.MAX_VALUE),
        "s", Attribute.ofString("quote \" backslash \\ newline \n tab \t é \u0001 \ud800"),
        "t", Attribute.ofTensor(Tensor.ofLongs(DType.INT32, new long[] {2, 2}, 1, -2, 3, -4)),
        "g", Attribute.ofGraph(sub),
        "fs", Attribute.ofFloats(1.5f, Float.NaN, Float.POSITIVE_INFINITY, 1e-30f),
        "is", Attribute.ofInts(-1, 0, 7),
        "ss", Attribute.ofStrings(List.of("a", "", "c d")),
        "ts", Attribute.ofTensors(List.of(Tensor.scalarFloat(2f), Tensor.vector(1, 2))),
        "gs", Attribute.ofGraphs(List.of(sub, sub.toBuilder().name("other graph").build())),
        "e1", Attribute.ofInts(),
        "e2", Attribute.ofFloats(),
        "e3", Attribute.ofStrings(List.of()),
        "e4", Attribute.ofTensors(List.of()),
        "e5", Attribute.ofGraphs(List.of()),
        "name", Attribute.ofString("an attribute called name"),
        "odd key", Attribute.ofInt(1))));
  }

  @Test
  void nanPayloadsAreKeptBitExact() {
    float odd = Float.intBitsToFloat(0x7fc00001);
    double oddD = Double.longBitsToDouble(0xfff8000000000123L);
    Graph g = Graph.builder("g").output("a", t("f32[2]"))
        .constant("a", Tensor.ofFloats(new long[] {2}, odd, Float.intBitsToFloat(0xff800001)))
        .constant("b", Tensor.ofDoubles(new long[] {1}, oddD)).build();
    String text = roundTrip(g);
    assertTrue(text.contains("nan(0x7fc00001)"), text);
    Graph back = GraphParser.parse(text);
    assertEquals(0x7fc00001, Float.floatToRawIntBits(back.constants().get("a").floats()[0]));
    assertEquals(0xfff8000000000123L, Double.doubleToRawLongBits(back.constants().get("b").doubles()[0]));
  }

  @Test
  void everyElementTypeRoundTrips() {
    Graph.Builder b = Graph.builder("types");
    b.constant("f32", Tensor.ofFloats(new long[] {6}, 0.1f, -0f, Float.MIN_VALUE, Float.NaN,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY));
    b.constant("f16", Tensor.of(DType.FLOAT16, new long[] {4},
        new float[] {HalfFloats.roundToHalf(0.1f), 65504f, HalfFloats.roundToHalf(6e-8f), Float.NaN}));
    b.constant("bf16", Tensor.of(DType.BFLOAT16, new long[] {3},
        new float[] {HalfFloats.roundToBfloat16(0.1f), HalfFloats.roundToBfloat16(3e38f), -1f}));
    b.constant("f64", Tensor.ofDoubles(new long[] {4}, 0.1, Double.MIN_VALUE, Double.MAX_VALUE, Double.NaN));
    b.constant("i8", Tensor.ofLongs(DType.INT8, new long[] {2}, -128, 127));
    b.constant("u8", Tensor.ofLongs(DType.UINT8, new long[] {2}, 0, 255));
    b.constant("i16", Tensor.ofLongs(DType.INT16, new long[] {2}, -32768, 32767));
    b.constant("u16", Tensor.ofLongs(DType.UINT16, new long[] {1}, 65535));
    b.constant("i32", Tensor.ofLongs(DType.INT32, new long[] {2}, Integer.MIN_VALUE, Integer.MAX_VALUE));
    b.constant("u32", Tensor.ofLongs(DType.UINT32, new long[] {1}, 0xffffffffL));
    b.constant("i64", Tensor.ofLongs(DType.INT64, new long[] {2}, Long.MIN_VALUE, Long.MAX_VALUE));
    b.constant("u64", Tensor.ofLongs(DType.UINT64, new long[] {2}, -1L, Long.MIN_VALUE));
    b.constant("bool", Tensor.ofBools(new long[] {2, 1}, true, false));
    b.constant("string", Tensor.ofStrings(new long[] {3}, "", "x\"y", "ü"));
    b.constant("scalar", Tensor.scalarLong(DType.INT64, 5));
    b.constant("empty", Tensor.ofFloats(new long[] {0, 3}));
    b.output("f32", t("f32[6]"));
    String text = roundTrip(b.build());
    assertTrue(text.contains("const %u64: u64[2] = dense<[18446744073709551615, 9223372036854775808]>"), text);
    assertTrue(text.contains("const %empty: f32[0, 3] = dense<[]>"), text);
  }

  @Test
  void namesDomainsDimsAndTypesRoundTrip() {
    TensorType odd = new TensorType(DType.FLOAT32, Shape.of(Dim.symbol("batch size"), Dim.unknown(), Dim.of(3),
        Dim.symbol("seq")));
    Graph g = Graph.builder("weird \"graph\"")
        .input("onnx::Add_3", odd)
        .input("", t("i64?"))
        .input("_", t("bool[]"))
        .output("out put", t("f32?"))
        .node(new Node("n \"1\"", "Gelu", "com.microsoft", List.of("onnx::Add_3", "", "_"), List.of("a", "", "b"),
            Map.of()))
        .node(new Node("", "op.with.dots", "my domain", List.of("a"), List.of(), Map.of()))
        .node(new Node("", "Identity", "", List.of("a"), List.of("out put"), Map.of()))
        .node(new Node("", "Identity", "", List.of("undefined"), List.of("a"), Map.of()))
        .valueType("b", t("i64[2]"))
        .valueType("onnx::Add_3", odd)
        .valueType("elsewhere", t("f64[?]"))
        .opset("", 13).opset("com.microsoft", 1).opset("my domain", 2)
        .build();
    String text = roundTrip(g);
    assertTrue(text.contains("%a, _, %b = com.microsoft.Gelu(%\"onnx::Add_3\", _, %_) {name = \"n \\\"1\\\"\"}"
        + " : (_, _, i64[2])"), text);
    assertTrue(text.contains("() = \"my domain\"::\"op.with.dots\"(%a)"), text);
    assertTrue(text.contains("%\"onnx::Add_3\": f32[\"batch size\", ?, 3, seq]"), text);
  }

  @Test
  void subgraphsKeepTheirOwnOpsets() {
    Graph inner = Graph.builder("inner").output("x", t("f32[1]")).build();
    Graph same = Graph.builder("same").output("x", t("f32[1]")).opset("", 17)
        .node(new Node("", "If", "", List.of("c"), List.of("x"),
            attrs("then_branch", Attribute.ofGraph(inner), "else_branch", Attribute.ofGraph(
                inner.toBuilder().opset("", 11).build()))))
        .build();
    Graph g = Graph.builder("main").input("c", t("bool[]")).output("y", t("f32[1]")).opset("", 17)
        .node(new Node("if", "If", "", List.of("c"), List.of("y"),
            attrs("then_branch", Attribute.ofGraph(same), "else_branch", Attribute.ofGraph(same))))
        .build();
    String text = roundTrip(g);
    assertTrue(text.contains("graph inner() -> (%x: f32[1]) opset() {"), text);
    assertTrue(text.contains("graph same() -> (%x: f32[1]) {"), text);
  }

  @Test
  void elidedConstantsPrintForDisplayOnly() {
    Graph g = Graph.builder("g").output("w", t("f32[8]"))
        .constant("w", Tensor.ofFloats(new long[] {8}, new float[8]))
        .constant("s", Tensor.scalarFloat(1f)).build();
    String text = GraphPrinter.eliding(4).toText(g);
    assertTrue(text.contains("const %w: f32[8] = dense<elided>"), text);
    assertTrue(text.contains("const %s: f32[] = dense<[1.0]>"), text);
    TextParseException e = assertThrows(TextParseException.class, () -> GraphParser.parse(text));
    assertEquals("line 2, column 28: tensor data is elided (text printed for display only); print the graph with "
        + "GraphPrinter.full() to get text that parses", e.getMessage());
  }

  @Test
  void largeConstantsRoundTripInFull() {
    float[] data = new float[1 << 18];
    java.util.Random r = new java.util.Random(3);
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) r.nextGaussian();
    }
    roundTrip(Graph.builder("big").output("w", t("f32[512, 512]"))
        .constant("w", Tensor.ofFloats(new long[] {512, 512}, data)).build());
  }

  @Test
  void commentsAndLayoutAreFree() {
    Graph g = GraphParser.parse("// a comment\ngraph g(%x: f32[2]) -> (%y: f32[2]) {%y = Relu(%x) // trailing\n"
        + "return %y}");
    assertEquals(1, g.nodes().size());
    roundTrip(g);
  }

  private static void assertError(String text, String message) {
    TextParseException e = assertThrows(TextParseException.class, () -> GraphParser.parse(text));
    assertEquals(message, e.getMessage());
  }

  @Test
  void invalidTextNamesLineColumnAndExpectation() {
    assertError("graph g(%x f32[2]) -> () {\n  return\n}", "line 1, column 12: expected ':', found 'f32'");
    assertError("graph g() -> () {\n  %y = Relu(%x\n  return\n}", "line 3, column 3: expected ',', found 'return'");
    assertError("graph g() -> () {\n  %y = Relu(%x)\n}", "line 3, column 1: expected a statement (const, type, "
        + "a node, or return), found '}'");
    assertError("graph g() -> (%y: f32[2]) {\n  return %z\n}",
        "line 2, column 3: return lists (%z) but the graph declares outputs (%y)");
    assertError("graph g() -> () {\n  const %c: f32[2] = dense<[1.0]>\n  return\n}",
        "line 2, column 13: type f32[2] holds 2 element(s), the data has 1");
    assertError("graph g() -> () {\n  const %c: u8[1] = dense<[256]>\n  return\n}",
        "line 2, column 28: integer 256 is out of range for u8");
    assertError("graph g() -> () {\n  const %c: f32[N] = dense<[1.0]>\n  return\n}",
        "line 2, column 13: a tensor needs a static shape, got f32[N]");
    assertError("graph g() -> () {\n  const %c: i32[1] = dense<[1.5]>\n  return\n}",
        "line 2, column 29: expected an integer, found '1.5'");
    assertError("graph g() -> () {\n  const %c: f32[1] = dense<[nan(0x3f800000)]>\n  return\n}",
        "line 2, column 33: bits 0x3f800000 are not a NaN of f32");
    assertError("graph g() -> () {\n  const %c: f32[1] = dense<[nan(0x7ff8000000000000)]>\n  return\n}",
        "line 2, column 33: NaN bits must be at most 8 hex digits, got 0x7ff8000000000000");
    assertError("graph g(%x: q8[2]) -> () {\n  return\n}", "line 1, column 13: unknown element type 'q8'");
    assertError("graph g() -> () {\n  %y = Op() {a = 1, a = 2}\n  return\n}",
        "line 2, column 21: attribute 'a' given twice");
    assertError("graph g() -> () {\n  %y = Op() {a = [1, 2.0]}\n  return\n}",
        "line 2, column 18: list mixes INT and FLOAT items");
    assertError("graph g() -> () {\n  %y = Op() {a = []}\n  return\n}",
        "line 2, column 18: an empty list needs its kind: ints[], floats[], strings[], tensors[] or graphs[]");
    assertError("graph g() -> () {\n  %y = Op() : (f32[1], f32[2])\n  return\n}",
        "line 2, column 16: node has 1 output(s) but 2 type(s)");
    assertError("graph g() -> () {\n  %y = Op(%x) {s = \"open\n  return\n}", "line 2, column 20: unterminated string");
    assertError("graph g() -> () {\n  %y = Op(%x) $\n  return\n}", "line 2, column 15: unexpected character '$'");
    assertError("graph g() -> () {\n  return\n} extra", "line 3, column 3: expected end of input after the graph, "
        + "found 'extra'");
    assertError("graph g() -> () {\n  %y = Op() {t = dense<[1.0]>}\n  return\n}",
        "line 2, column 30: expected ':', found '}'");
  }
}
