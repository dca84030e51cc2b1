package dev.nnvm.compiler.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the ONNX backend node tests through the reference evaluator and
 * prints passed / failed / unsupported counts per operator; writes the full
 * report to {@code target/reports/conformance-reference.txt}.
 *
 * <p>A case is unsupported when importing or running it raises
 * {@link UnsupportedModelException} (unknown operator, attribute value,
 * element type or opset). Any other error or a wrong output is a failure, and
 * fails the build unless the case is listed, with its reason, in
 * {@code conformance-known-failures.txt}.
 *
 * <p>{@code -Dnnvm.conformance.filter=REGEX} restricts the run to matching case names.
 */
class NodeConformanceTest {
  private static final double RTOL = 1e-3;
  private static final double ATOL = 1e-5;

  enum Outcome { PASSED, FAILED, UNSUPPORTED }

  record Result(String name, String op, Outcome outcome, String detail) {}

  @Test
  void referenceEvaluatorPassesNodeSuite() throws IOException {
    Path root = NodeSuite.root();
    if (root == null) {
      System.out.println("SKIPPED conformance: " + NodeSuite.missingReason());
    }
    Assumptions.assumeTrue(root != null, NodeSuite::missingReason);
    Map<String, String> known = knownFailures();
    List<Result> results = new ArrayList<>();
    for (Path c : NodeSuite.cases(root, System.getProperty("nnvm.conformance.filter"))) {
      results.add(runCase(c));
    }
    String report = report(results, root);
    System.out.println(report);
    Path dir = Path.of(System.getProperty("nnvm.report.dir", "target/reports"));
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("conformance-reference.txt"), report + "\n" + details(results));

    List<String> unexpected = new ArrayList<>();
    for (Result r : results) {
      if (r.outcome == Outcome.FAILED && !known.containsKey(r.name)) {
        unexpected.add(r.name + " [" + r.op + "]: " + r.detail);
      }
      if (r.outcome == Outcome.PASSED && known.containsKey(r.name)) {
        System.out.println("NOTE: " + r.name + " is listed as a known failure but passes; remove it from the list");
      }
    }
    assertTrue(unexpected.isEmpty(), unexpected.size() + " conformance failure(s) of supported operators:\n  "
        + String.join("\n  ", unexpected));
  }

  static Result runCase(Path caseDir) {
    String name = caseDir.getFileName().toString();
    Graph g;
    try {
      g = OnnxImporter.load(caseDir.resolve("model.onnx"));
    } catch (UnsupportedModelException e) {
      return new Result(name, guessOp(name, null), Outcome.UNSUPPORTED, e.getMessage());
    } catch (RuntimeException e) {
      return new Result(name, guessOp(name, null), Outcome.FAILED, "import: " + e);
    }
    String op = guessOp(name, g);
    try {
      for (Path ds : NodeSuite.dataSets(caseDir)) {
        List<Path> ins = NodeSuite.numbered(ds, "input");
        List<Path> outs = NodeSuite.numbered(ds, "output");
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        List<ValueInfo> gin = g.inputs();
        for (int i = 0; i < ins.size(); i++) {
          String inName = OnnxTensors.readName(ins.get(i));
          if (inName.isEmpty() || g.input(inName).isEmpty()) {
            inName = gin.get(i).name();
          }
          feeds.put(inName, OnnxTensors.read(ins.get(i)));
        }
        Map<String, Tensor> actual = ReferenceEvaluator.standard().run(g, feeds);
        List<ValueInfo> gout = g.outputs();
        for (int i = 0; i < outs.size(); i++) {
          Tensor expected = OnnxTensors.read(outs.get(i));
          Comparison.assertClose(name + "." + gout.get(i).name(), expected, actual.get(gout.get(i).name()), RTOL, ATOL);
        }
      }
      return new Result(name, op, Outcome.PASSED, "");
    } catch (UnsupportedModelException e) {
      return new Result(name, op, Outcome.UNSUPPORTED, e.getMessage());
    } catch (AssertionError | RuntimeException | IOException e) {
      String msg = String.valueOf(e.getMessage());
      return new Result(name, op, Outcome.FAILED, msg.length() > 400 ? msg.substring(0, 400) + "..." : msg);
    }
  }

  /** The operator a case is about: a node type named in the case name, else the first node's type. */
  static String guessOp(String caseName, Graph g) {
    String flat = caseName.replace("test_", "").replace("_", "").toLowerCase(Locale.ROOT);
    String best = null;
    if (g != null) {
      for (Node n : g.nodes()) {
        String t = n.opType().toLowerCase(Locale.ROOT);
        if (flat.startsWith(t) && (best == null || t.length() > best.length())) {
          best = n.opType();
        }
      }
      if (best == null && !g.nodes().isEmpty()) {
        best = g.nodes().get(0).opType();
      }
    }
    if (best == null) {
      String s = caseName.replaceFirst("^test_", "");
      int cut = s.indexOf('_');
      best = cut > 0 ? s.substring(0, cut) : s;
    }
    return best;
  }

  static String report(List<Result> results, Path root) {
    Map<String, int[]> perOp = new TreeMap<>();
    int[] total = new int[3];
    for (Result r : results) {
      perOp.computeIfAbsent(r.op, k -> new int[3])[r.outcome.ordinal()]++;
      total[r.outcome.ordinal()]++;
    }
    StringBuilder sb = new StringBuilder();
    sb.append("ONNX node conformance (reference evaluator) over ").append(root).append('\n');
    sb.append(String.format("%-32s %7s %7s %11s%n", "operator", "passed", "failed", "unsupported"));
    for (Map.Entry<String, int[]> e : perOp.entrySet()) {
      int[] c = e.getValue();
      sb.append(String.format("%-32s %7d %7d %11d%n", e.getKey(), c[0], c[1], c[2]));
    }
    sb.append(String.format("TOTAL %d cases: %d passed, %d failed, %d unsupported%n", results.size(), total[0], total[1],
        total[2]));
    return sb.toString();
  }

  static String details(List<Result> results) {
    StringBuilder sb = new StringBuilder("\nPer case:\n");
    for (Result r : results) {
      sb.append(r.outcome).append(' ').append(r.name).append(" [").append(r.op).append("] ").append(r.detail)
          .append('\n');
    }
    return sb.toString();
  }

  /** Known failures: one case name per line, then '#' and the reason. */
  static Map<String, String> knownFailures() throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    try (InputStream in = NodeConformanceTest.class.getResourceAsStream("/conformance-known-failures.txt")) {
      if (in == null) {
        return out;
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        int hash = t.indexOf('#');
        if (hash < 0) {
          throw new IllegalStateException("known failure without a reason: " + t);
        }
        out.put(t.substring(0, hash).strip(), t.substring(hash + 1).strip());
      }
    }
    return out;
  }
}
