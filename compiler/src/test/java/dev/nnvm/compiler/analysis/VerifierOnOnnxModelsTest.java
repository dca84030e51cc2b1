package dev.nnvm.compiler.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nnvm.compiler.conformance.NodeSuite;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The verifier finds no structural problem in the ONNX backend node test
 * models the importer accepts (no false alarms on real graphs, sub-graphs
 * reading their enclosing scopes included).
 */
class VerifierOnOnnxModelsTest {
  @Test
  void importedNodeTestModelsAreStructurallySound() throws Exception {
    Path root = NodeSuite.root();
    assumeTrue(root != null, NodeSuite::missingReason);
    int checked = 0;
    int withSubgraphs = 0;
    List<String> problems = new ArrayList<>();
    for (Path c : NodeSuite.cases(root, null)) {
      Graph g;
      try {
        g = OnnxImporter.load(c.resolve("model.onnx"));
      } catch (ModelException e) {
        continue;
      }
      checked++;
      if (g.nodes().stream().anyMatch(n -> !n.subgraphs().isEmpty())) {
        withSubgraphs++;
      }
      for (String p : Verifier.standard().structuralProblems(g)) {
        problems.add(c.getFileName() + ": " + p);
      }
    }
    System.out.println("verifier: " + checked + " imported node test models checked, " + withSubgraphs
        + " with sub-graphs");
    assertTrue(withSubgraphs >= 10, "too few models with sub-graphs: " + withSubgraphs);
    assertEquals(List.of(), problems);
  }
}
