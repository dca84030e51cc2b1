package dev.nnvm.compiler.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.text.GraphParser;
import java.util.List;
import org.junit.jupiter.api.Test;

class VerifierTest {
  private static List<String> problems(String text) {
    return Verifier.standard().problems(GraphParser.parse(text));
  }

  @Test
  void wellFormedGraphPasses() {
    Graph g = GraphParser.parse("graph g(%x: f32[N, 3], %c: bool[]) -> (%y: f32[N, 3], %z: f32[N, 3]) "
        + "opset(ai.onnx=17) {\n"
        + "  const %b: f32[3] = dense<[1.0, 2.0, 3.0]>\n"
        + "  %a = Add(%x, %b) {name = \"add\"} : f32[N, 3]\n"
        + "  %y = Relu(%a)\n"
        + "  %z = If(%c) {then_branch = graph t() -> (%a: f32[N, 3]) {\n"
        + "    return %a\n"
        + "  }, else_branch = graph e() -> (%r: f32[N, 3]) {\n"
        + "    %r = Relu(%x)\n"
        + "    return %r\n"
        + "  }}\n"
        + "  return %y, %z\n"
        + "}\n");
    assertSame(g, Verifier.check(g));
  }

  @Test
  void valuesDefinedTwice() {
    assertEquals(List.of(
        "value 'x' is defined more than once: graph input and constant",
        "value 'a' is defined more than once: output of Relu 'r1' and output of Relu 'r2'"),
        problems("graph g(%x: f32[2]) -> (%a: f32[2]) opset(ai.onnx=17) {\n"
            + "  const %x: f32[2] = dense<[1.0, 2.0]>\n"
            + "  %a = Relu(%x) {name = \"r1\"}\n"
            + "  %a = Relu(%x) {name = \"r2\"}\n"
            + "  return %a\n"
            + "}"));
  }

  @Test
  void undefinedInputsAndOutputs() {
    assertEquals(List.of(
        "Add 'add': input 'nope' is not defined",
        "graph output 'y' is not defined"),
        problems("graph g(%x: f32[2]) -> (%y: f32[2]) opset(ai.onnx=17) {\n"
            + "  %a = Add(%x, %nope) {name = \"add\"}\n"
            + "  return %y\n"
            + "}"));
  }

  @Test
  void outOfOrderUseNamesBothNodes() {
    assertEquals(List.of(
        "Relu 'first' reads 'b' before Relu 'second' defines it (nodes are not in topological order)"),
        problems("graph g(%x: f32[2]) -> (%a: f32[2]) opset(ai.onnx=17) {\n"
            + "  %a = Relu(%b) {name = \"first\"}\n"
            + "  %b = Relu(%x) {name = \"second\"}\n"
            + "  return %a\n"
            + "}"));
  }

  @Test
  void cyclesAreReportedAsCycles() {
    assertEquals(List.of("nodes form a cycle: Add 'p' -> Relu 'q' -> Add 'p'"),
        problems("graph g(%x: f32[2]) -> (%b: f32[2]) opset(ai.onnx=17) {\n"
            + "  %a = Add(%x, %b) {name = \"p\"}\n"
            + "  %b = Relu(%a) {name = \"q\"}\n"
            + "  return %b\n"
            + "}"));
    assertEquals(List.of("nodes form a cycle: Relu 'self' -> Relu 'self'"),
        problems("graph g() -> (%a: f32[2]) opset(ai.onnx=17) {\n"
            + "  %a = Relu(%a) {name = \"self\"}\n"
            + "  return %a\n"
            + "}"));
  }

  @Test
  void cyclesThroughSubgraphReadsAreFound() {
    assertEquals(List.of("nodes form a cycle: If 'if' -> Relu 'r' -> If 'if'"),
        problems("graph g(%c: bool[]) -> (%late: f32[2]) opset(ai.onnx=17) {\n"
            + "  %z = If(%c) {name = \"if\", then_branch = graph t() -> (%late: f32[2]) {\n"
            + "    return %late\n"
            + "  }, else_branch = graph e() -> (%late: f32[2]) {\n"
            + "    return %late\n"
            + "  }}\n"
            + "  %late = Relu(%z) {name = \"r\"}\n"
            + "  return %late\n"
            + "}"));
  }

  @Test
  void unknownOperatorsAndBadAttributes() {
    assertEquals(List.of(
        "Frobnicate 'f': operator Frobnicate is not supported (" + dev.nnvm.compiler.ir.op.OpRegistry.standard().size()
            + " operators are; see OpRegistry.standard().all())",
        "Relu 'r': attribute 'alpha' is not supported (supported: [])",
        "Add 'a': expected 2 inputs, got 1"),
        problems("graph g(%x: f32[2]) -> (%z: f32[2]) opset(ai.onnx=17) {\n"
            + "  %y = Frobnicate(%x) {name = \"f\"}\n"
            + "  %r = Relu(%x) {name = \"r\", alpha = 0.5}\n"
            + "  %z = Add(%x) {name = \"a\"}\n"
            + "  return %z\n"
            + "}"));
  }

  @Test
  void subgraphsAreCheckedWithOuterScopeVisible() {
    assertEquals(List.of(
        "in If 'if' attribute 'else_branch' (graph 'e'): Add 'inner2': input 'nowhere' is not defined",
        "in If 'if' attribute 'else_branch' (graph 'e'): graph output 'q' is not defined",
        "If 'if' reads 'later' before Relu 'l' defines it (nodes are not in topological order)"),
        problems("graph g(%x: f32[2], %c: bool[]) -> (%z: f32[2]) opset(ai.onnx=17) {\n"
            + "  %z = If(%c) {name = \"if\", then_branch = graph t() -> (%x: f32[2]) {\n"
            + "    return %x\n"
            + "  }, else_branch = graph e() -> (%q: f32[2]) {\n"
            + "    %r = Relu(%later) {name = \"inner\"}\n"
            + "    %s = Add(%r, %nowhere) {name = \"inner2\"}\n"
            + "    return %q\n"
            + "  }}\n"
            + "  %later = Relu(%x) {name = \"l\"}\n"
            + "  return %z\n"
            + "}"));
  }

  @Test
  void declaredTypesMustAgreeWithInferredOnes() {
    assertEquals(List.of(
        "graph output 'y' is declared f32[N, 4] but inferred f32[N, 3]",
        "value 'a' is annotated i64[N, 3] but inferred f32[N, 3]",
        "value 'b' is annotated f32[3] but inferred f32[N, 3]"),
        problems("graph g(%x: f32[N, 3]) -> (%y: f32[N, 4]) opset(ai.onnx=17) {\n"
            + "  %a = Relu(%x) : i64[N, 3]\n"
            + "  %b = Relu(%x) : f32[3]\n"
            + "  %y = Relu(%x)\n"
            + "  return %y\n"
            + "}"));
  }

  @Test
  void symbolicAndUnknownSizesAgreeWithStaticOnes() {
    assertEquals(List.of(), problems("graph g(%x: f32[N, 3]) -> (%y: f32[8, ?], %z: f32?) opset(ai.onnx=17) {\n"
        + "  %y = Relu(%x)\n"
        + "  %z = Relu(%x) : f32[M, 3]\n"
        + "  return %y, %z\n"
        + "}"));
  }

  @Test
  void typeInferenceErrorsAreReported() {
    assertEquals(List.of("type inference failed: Add 'a': inputs 0 and 1 must have the same element type, got f32 and i64"),
        problems("graph g(%x: f32[2], %i: i64[2]) -> (%y: f32[2]) opset(ai.onnx=17) {\n"
            + "  %y = Add(%x, %i) {name = \"a\"}\n"
            + "  return %y\n"
            + "}"));
  }

  @Test
  void verifyListsEveryProblem() {
    ModelException e = assertThrows(ModelException.class, () -> Verifier.check(GraphParser.parse(
        "graph g(%x: f32[2]) -> (%y: f32[2]) {\n"
            + "  %a = Relu(%u) {name = \"r\"}\n"
            + "  return %y\n"
            + "}")));
    assertEquals("graph 'g' is not well formed (2 problems):\n"
        + "  Relu 'r': input 'u' is not defined\n"
        + "  graph output 'y' is not defined", e.getMessage());
  }
}
