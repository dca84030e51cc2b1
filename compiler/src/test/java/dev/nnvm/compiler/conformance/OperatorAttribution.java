package dev.nnvm.compiler.conformance;

import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Names the operator a conformance case is about, for the per-operator table.
 *
 * <p>How it works: case names spell the operator in snake case
 * ({@code test_reduce_sum_keepdims}, {@code test_convtranspose_1d}). The name,
 * flattened to lower case without underscores, is matched against the
 * operator types of the case's own model, preferring the longest common
 * prefix; a model with one operator type is about that operator. Expanded
 * cases ({@code *_expanded}) replace the operator by its function body, so
 * they take the operator of their non-expanded sibling case (or, without one,
 * of the longest operator type seen in the suite that starts the name) and are
 * labelled "Op (expanded)".
 */
final class OperatorAttribution {
  private final Set<String> vocabulary;

  private OperatorAttribution(Set<String> vocabulary) {
    this.vocabulary = vocabulary;
  }

  /** Collects the operator types of all the given case models. */
  static OperatorAttribution of(List<Path> caseDirs) {
    Set<String> vocabulary = new TreeSet<>();
    for (Path c : caseDirs) {
      vocabulary.addAll(opTypes(c));
    }
    return new OperatorAttribution(vocabulary);
  }

  /** The operator types of a case's model (top-level nodes), in node order; empty when it cannot be parsed. */
  static List<String> opTypes(Path caseDir) {
    List<String> out = new ArrayList<>();
    try {
      Onnx.Model m = Onnx.Model.parseFrom(Files.readAllBytes(caseDir.resolve("model.onnx")));
      for (Onnx.Node n : m.getGraph().getNodeList()) {
        out.add(n.getOpType());
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  String operatorOf(Path caseDir) {
    String name = caseDir.getFileName().toString();
    if (name.contains("_expanded")) {
      Path sibling = caseDir.resolveSibling(name.replaceFirst("_expanded.*$", ""));
      String op = Files.isRegularFile(sibling.resolve("model.onnx")) ? operatorOf(sibling)
          : fromName(flatten(name.replaceFirst("_expanded.*$", "")), firstWord(name));
      return op + " (expanded)";
    }
    String flat = flatten(name);
    List<String> ops = opTypes(caseDir);
    String best = null;
    int bestLen = 1;
    for (String op : ops) {
      int len = commonPrefix(flat, op.toLowerCase(Locale.ROOT));
      if (len > bestLen) {
        best = op;
        bestLen = len;
      }
    }
    if (best != null) {
      return best;
    }
    if (!ops.isEmpty() && new TreeSet<>(ops).size() == 1) {
      return ops.get(0);
    }
    return fromName(flat, ops.isEmpty() ? firstWord(name) : ops.get(0));
  }

  /** The longest operator type of the suite that starts the flattened case name, else the fallback. */
  private String fromName(String flat, String fallback) {
    String best = longestPrefix(flat, vocabulary);
    return best != null ? best : fallback;
  }

  private static String longestPrefix(String flat, Set<String> candidates) {
    String best = null;
    for (String op : candidates) {
      if (flat.startsWith(op.toLowerCase(Locale.ROOT)) && (best == null || op.length() > best.length())) {
        best = op;
      }
    }
    return best;
  }

  private static int commonPrefix(String a, String b) {
    int n = Math.min(a.length(), b.length());
    int i = 0;
    while (i < n && a.charAt(i) == b.charAt(i)) {
      i++;
    }
    return i;
  }

  private static String flatten(String caseName) {
    return caseName.replaceFirst("^test_", "").replace("_", "").toLowerCase(Locale.ROOT);
  }

  private static String firstWord(String caseName) {
    String s = caseName.replaceFirst("^test_", "");
    int cut = s.indexOf('_');
    return cut > 0 ? s.substring(0, cut) : s;
  }
}
