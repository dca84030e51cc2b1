package dev.nnvm.compiler.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.transform.PassContext;
import dev.nnvm.compiler.transform.PassManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlanMemoryTest {
  private static Graph typed(String text) {
    return TypeInference.infer(GraphParser.parse(text));
  }

  /**
   * The property every plan must have: two values live at the same kernel
   * never share a byte (unless one is written in place over the other, which
   * happens only at the kernel where the input dies).
   */
  static void assertNoOverlap(Graph g, MemoryPlan plan, Map<String, Long> bindings) {
    Map<String, Long> offsets = plan.offsets(bindings);
    Map<String, int[]> life = new HashMap<>();
    List<Node> nodes = g.nodes();
    for (int k = 0; k < nodes.size(); k++) {
      for (String o : nodes.get(k).outputs()) {
        life.put(o, new int[] {k, k});
      }
      for (String in : nodes.get(k).inputs()) {
        if (life.containsKey(in)) {
          life.get(in)[1] = k;
        }
      }
    }
    List<String> values = new ArrayList<>(offsets.keySet());
    for (int i = 0; i < values.size(); i++) {
      for (int j = i + 1; j < values.size(); j++) {
        String a = values.get(i);
        String b = values.get(j);
        int[] la = life.get(a);
        int[] lb = life.get(b);
        boolean liveTogether = la[0] < lb[1] && lb[0] < la[1] || la[0] == lb[0];
        long sa = plan.allocations().get(a).size().evaluate(bindings);
        long sb = plan.allocations().get(b).size().evaluate(bindings);
        boolean bytesOverlap = offsets.get(a) < offsets.get(b) + sb && offsets.get(b) < offsets.get(a) + sa;
        assertTrue(!(liveTogether && bytesOverlap), a + " " + List.of(la[0], la[1]) + " and " + b + " "
            + List.of(lb[0], lb[1]) + " are live together and overlap");
      }
    }
  }

  @Test
  void elementwiseChainRunsInPlace() {
    Graph g = typed("graph main(%x: f32[N, 16]) -> (%y: f32[N, 16]) opset(ai.onnx=17) {\n"
        + "  %a = Relu(%x)\n  %b = Neg(%a)\n  %c = Exp(%b)\n  %y = Sigmoid(%c)\n  return %y\n}\n");
    MemoryPlan plan = PlanMemory.plan(g);
    assertEquals(2, plan.inPlaceCount(), "b over a, c over b");
    assertEquals(1, plan.regions().size());
    assertEquals("64*N", plan.regions().get(0).toString());
    Map<String, Long> n8 = Map.of("N", 8L);
    assertEquals(512, plan.workspaceBytes(n8));
    assertEquals(512, plan.lowerBoundBytes(n8));
    assertNoOverlap(g, plan, n8);
  }

  /**
   * A blocked convolution that adds a residual dying at it writes its output over the residual, for a code
   * generator that runs it on the direct convolution kernel (16-channel blocks here); the first
   * convolution, which has none, writes over nothing (not over its own image, which it reads at other
   * positions); plain Conv + Add groups are not written in place (the GEMM may store partial sums before it
   * reads the residual).
   */
  @Test
  void blockedConvolutionWritesOverItsResidual() {
    String conv = "graph main(%x: f32[1, 16, 8, 8]) -> (%y: f32[1, 16, 8, 8]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[16, 16, 1, 1] = dense<" + java.util.Collections.nCopies(256, "0.5") + ">\n"
        + "  %r = Relu(%x)\n  %c = Conv(%r, %w)\n  %d = Relu(%c)\n  %e = Conv(%d, %w)\n  %a = Add(%e, %r)\n"
        + "  %y = Relu(%a)\n  return %y\n}\n";
    Graph g = PassManager.of(ModelCompiler.cpuPipeline(List.of(CpuTarget.named("x86-64-v4"))), 2)
        .run(GraphParser.parse(conv), PassContext.standard()).graph();
    List<Node> convs = g.nodes().stream().filter(n -> n.opType().equals("Fused")
        && n.attribute("body").asGraph().nodes().get(0).opType().equals("ConvNCHWc")).toList();
    assertEquals(2, convs.size(), "two blocked convolution groups");
    assertEquals(0, PlanMemory.plan(g).inPlaceCount(), "not for a code generator without the direct kernel");
    assertEquals(0, PlanMemory.plan(g, 8).inPlaceCount(), "not for one whose direct kernel takes 8-channel blocks");
    MemoryPlan plan = PlanMemory.plan(g, 16);
    assertEquals(1, plan.inPlaceCount(), "only the second convolution, over its residual: " + plan.allocations());
    assertTrue(convs.get(1).inputs().contains("r/nchw16c"), "the residual is the blocked ReLU output");
    MemoryPlan.Allocation residual = plan.allocations().get("r/nchw16c");
    MemoryPlan.Allocation output = plan.allocations().get(convs.get(1).output(0));
    assertEquals(List.of(residual.region(), residual.offset()), List.of(output.region(), output.offset()),
        "the convolution's output over its residual");
    assertNoOverlap(g, plan, Map.of());
    Graph plain = PassManager.standard(2).run(GraphParser.parse(conv), PassContext.standard()).graph();
    assertEquals(0, PlanMemory.plan(plain).inPlaceCount(), "plain Conv + Add groups are not written in place");
  }

  @Test
  void buffersAreReusedAfterTheirLastReader() {
    // a and b are live only until c; e reuses c's bytes.
    Graph g = typed("graph main(%x: f32[16, 16]) -> (%y: f32[4, 16]) opset(ai.onnx=17) {\n"
        + "  %a = Transpose(%x) {perm = [1, 0]}\n  %b = Transpose(%a) {perm = [1, 0]}\n"
        + "  %c = Concat(%a, %b) {axis = 0}\n  %d = Transpose(%c) {perm = [1, 0]}\n"
        + "  %e = Transpose(%d) {perm = [1, 0]}\n  %y = Slice(%e, %s, %t)\n"
        + "  const %s: i64[1] = dense<[0]>\n  const %t: i64[1] = dense<[4]>\n  return %y\n}\n");
    MemoryPlan plan = PlanMemory.plan(g);
    Map<String, Long> none = Map.of();
    assertNoOverlap(g, plan, none);
    // Largest live set: a, b and c (1024 + 1024 + 2048 bytes) at the Concat; later pairs need as much.
    assertEquals(4096, plan.lowerBoundBytes(none));
    assertEquals(4096, plan.workspaceBytes(none), "greedy by size reaches the bound here");
  }

  @Test
  void symbolicSizesGetOneRegionPerMonomial() {
    // Each [N, S, 16] f32 value is 64 bytes per N*S; a and b are live together at the second MatMul.
    Graph g = typed("graph main(%x: f32[N, S, 16], %w: f32[16, 16]) -> (%y: f32[N, S, 16]) opset(ai.onnx=17) {\n"
        + "  %a = MatMul(%x, %w)\n  %s = Shape(%a)\n  %b = MatMul(%a, %w)\n  %y = Reshape(%b, %s)\n"
        + "  return %y\n}\n");
    MemoryPlan plan = PlanMemory.plan(g);
    assertEquals(List.of("64", "128*N*S"), plan.regions().stream().map(Object::toString).toList());
    for (Map<String, Long> b : List.of(Map.of("N", 1L, "S", 1L), Map.of("N", 3L, "S", 7L))) {
      assertNoOverlap(g, plan, b);
      assertTrue(plan.workspaceBytes(b) >= plan.lowerBoundBytes(b));
    }
    assertEquals(64 + 128 * 3 * 7, plan.workspaceBytes(Map.of("N", 3L, "S", 7L)));
  }

  @Test
  void unknownSizesAreLeftToRunTime() {
    Graph g = GraphParser.parse("graph main(%x: f32?) -> (%y: f32?) opset(ai.onnx=17) {\n"
        + "  %a = Relu(%x)\n  %y = Neg(%a)\n  return %y\n}\n").toBuilder()
        .valueType("a", TensorType.parse("f32?")).build();
    MemoryPlan plan = PlanMemory.plan(g);
    assertEquals(List.of("a"), plan.unplanned());
    assertEquals(0, plan.workspaceBytes(Map.of()));
  }
}
