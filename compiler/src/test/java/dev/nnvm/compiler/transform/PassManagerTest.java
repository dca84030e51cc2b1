package dev.nnvm.compiler.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.text.GraphPrinter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PassManagerTest {
  private static final String MODEL = "graph main(%x: f32[N, 4]) -> (%y: f32[N, 4]) opset(ai.onnx=17) {\n"
      + "  const %a: f32[4] = dense<[1.0, 2.0, 3.0, 4.0]>\n"
      + "  const %b: f32[4] = dense<[1.0, 1.0, 1.0, 1.0]>\n"
      + "  %c = Add(%a, %b)\n"
      + "  %i = Identity(%x)\n"
      + "  %r = Relu(%i)\n"
      + "  %s = Add(%r, %c)\n"
      + "  %y = Sigmoid(%s)\n"
      + "  return %y\n"
      + "}\n";

  @Test
  void levelZeroOnlyInfersTypes() {
    Graph g = GraphParser.parse(MODEL);
    PassReport r = PassManager.standard(0).run(g, PassContext.standard());
    assertEquals(g.nodes(), r.graph().nodes());
    // DecomposeMlOps also runs at level 0 (ai.onnx.ml operators compile only through it); it changes nothing here.
    assertTrue(r.steps().stream().filter(PassReport.Step::ran)
        .allMatch(s -> s.pass().equals("InferTypes") || s.pass().equals("DecomposeMlOps")));
  }

  @Test
  void defaultLevelFoldsSimplifiesAndFuses() {
    Graph g = GraphParser.parse(MODEL);
    String before = GraphPrinter.print(g);
    PassReport r = PassManager.standard(2).run(g, PassContext.standard());
    assertEquals(before, GraphPrinter.print(g), "the input graph must not change");
    // Identity gone, a+b folded, Relu+Add+Sigmoid fused into one kernel.
    assertEquals(1, r.graph().nodes().size(), GraphPrinter.print(r.graph()));
    assertEquals("Fused", r.graph().nodes().get(0).opType());
    PassChecks.assertSameOutputs(g, r.graph(), "pipeline");
    String report = r.toString();
    assertTrue(report.contains("FuseOperators") && report.contains("nodes: 5 -> 1"), report);
  }

  @Test
  void disabledPassesAreSkippedAndUnknownNamesRejected() {
    Graph g = GraphParser.parse(MODEL);
    PassReport r = PassManager.standard(2).disable("FuseOperators", "FoldConstants").run(g, PassContext.standard());
    // Only the Identity goes: a+b stays a node, and nothing is fused.
    assertEquals(4, r.graph().nodes().size(), GraphPrinter.print(r.graph()));
    assertTrue(r.steps().stream().anyMatch(s -> !s.ran() && s.skipReason().equals("disabled")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PassManager.standard(2).disable("NoSuchPass"));
    assertTrue(e.getMessage().contains("NoSuchPass") && e.getMessage().contains("FuseOperators"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PassManager.standard(4));
  }

  @Test
  void dumpSeesTheGraphAfterEachPassThatRan() {
    List<String> seen = new ArrayList<>();
    PassManager.standard(1).dumpAfterEachPass((name, graph) -> seen.add(name + ":" + graph.nodes().size()))
        .run(GraphParser.parse(MODEL), PassContext.standard());
    assertEquals("InferTypes:5", seen.get(0));
    assertFalse(seen.stream().anyMatch(s -> s.startsWith("FuseLayerNorm")), "level 2 passes must not run at 1");
    assertEquals("FuseOperators:1", seen.get(seen.size() - 1));
  }

  @Test
  void missingRequirementIsReportedBeforeRunning() {
    PassManager pm = PassManager.of(List.of(FuseOperators.INSTANCE), 2);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> pm.run(GraphParser.parse(MODEL), PassContext.standard()));
    assertTrue(e.getMessage().contains("FuseOperators needs 'types'"), e.getMessage());
  }

  /**
   * Optimizing an optimized graph again merges constants that later passes
   * created (two identical packed weights here); the fused groups reading
   * them must be renamed with their inputs, so the result still verifies
   * and computes the same.
   */
  @Test
  void reoptimizingKeepsFusedGroupsConsistent() {
    StringBuilder w = new StringBuilder("[");
    for (int i = 0; i < 64; i++) {
      w.append(i == 0 ? "" : ", ").append(i % 3 - 1).append(".0");
    }
    w.append("]");
    Graph g = GraphParser.parse("graph main(%x: f32[N, 8, 4, 4]) -> (%y: f32[N, 8, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w1: f32[8, 8, 1, 1] = dense<" + w + ">\n"
        + "  const %w2: f32[8, 8, 1, 1] = dense<" + w + ">\n"
        + "  const %s: f32[8, 1, 1] = dense<[0.5, 1.0, 1.5, 2.0, 0.5, 1.0, 1.5, 2.0]>\n"
        + "  %a = Conv(%x, %w1)\n  %as = Mul(%a, %s)\n  %r = Relu(%as)\n"
        + "  %b = Conv(%r, %w2)\n  %bs = Mul(%b, %s)\n  %y = Sigmoid(%bs)\n  return %y\n}\n");
    Graph once = PassManager.standard(3).run(g, PassContext.standard()).graph();
    Graph twice = PassManager.standard(3).run(once, PassContext.standard()).graph();
    assertTrue(twice.constants().size() < once.constants().size(),
        "the second run merges the equal scaled and packed weights the first one made: " + once.constants().keySet());
    dev.nnvm.compiler.analysis.Verifier.check(twice);
    for (dev.nnvm.compiler.ir.Node n : twice.nodes()) {
      if (n.opType().equals("Fused")) {
        Graph body = n.attribute("body").asGraph();
        assertEquals(java.util.Set.of(), dev.nnvm.compiler.analysis.OuterReads.of(body),
            n.name() + " must read only its own inputs, which code generation binds");
      }
      dev.nnvm.compiler.lower.KernelLowering.standard().lower(n, twice);
    }
    PassChecks.assertSameOutputs(g, twice, "optimized twice");
  }
}
