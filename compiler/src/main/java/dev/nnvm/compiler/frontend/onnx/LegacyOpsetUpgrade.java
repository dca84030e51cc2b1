package dev.nnvm.compiler.frontend.onnx;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rewrites the opset-6 idioms that opset 7 dropped into their opset-7 form, so
 * that operator schemas written for opset 7 on accept models exported at
 * opset 6 (the PyTorch-converted graphs of the ONNX test suites).
 *
 * <p>How it works:
 * <ul>
 *   <li>Elementwise binary operators and Gemm with {@code broadcast}: opset
 *       7 always broadcasts numpy-style. {@code broadcast = 0} (equal shapes)
 *       and a broadcast of B aligned with the end of A (no {@code axis}, or
 *       {@code axis = rank(A) - rank(B)}) mean the same under numpy rules, so
 *       the attributes go. B aligned at an earlier {@code axis} gets an
 *       Unsqueeze that appends the trailing 1-dimensions numpy needs; when
 *       the ranks are not known, the node is left as it is and reported as
 *       unsupported.</li>
 *   <li>BatchNormalization {@code is_test = 1}: inference, which is what
 *       opset 7 on computes, so the attribute goes ({@code is_test = 0},
 *       training, is left and reported).</li>
 * </ul>
 * Only the top-level graph is rewritten (opset-6 exporters wrote no
 * sub-graphs).
 */
final class LegacyOpsetUpgrade {
  /** The first opset without the legacy attributes. */
  static final int OPSET = 7;

  private static final Set<String> BROADCASTING = Set.of("Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor",
      "Equal", "Greater", "Less");

  private LegacyOpsetUpgrade() {}

  static Graph apply(Graph g) {
    List<Node> nodes = new ArrayList<>();
    boolean changed = false;
    for (Node n : g.nodes()) {
      List<Node> rewritten = rewrite(g, n);
      changed |= rewritten.size() != 1 || rewritten.get(0) != n;
      nodes.addAll(rewritten);
    }
    return changed ? g.toBuilder().nodes(nodes).build() : g;
  }

  private static List<Node> rewrite(Graph g, Node n) {
    if (!n.domain().isEmpty()) {
      return List.of(n);
    }
    if (n.opType().equals("BatchNormalization") && isInt(n, "is_test", 1)) {
      return List.of(n.withAttributes(without(n, "is_test")));
    }
    if (n.opType().equals("Gemm") && n.attributes().containsKey("broadcast")) {
      return List.of(n.withAttributes(without(n, "broadcast")));
    }
    if (BROADCASTING.contains(n.opType()) && n.attributes().containsKey("broadcast") && n.inputs().size() == 2) {
      return binary(g, n);
    }
    return List.of(n);
  }

  private static List<Node> binary(Graph g, Node n) {
    Map<String, Attribute> plain = without(n, "broadcast", "axis");
    Attribute axis = n.attribute("axis");
    if (axis == null || isInt(n, "broadcast", 0)) {
      return List.of(n.withAttributes(plain));
    }
    Optional<Integer> rankA = rank(g, n.input(0));
    Optional<Integer> rankB = rank(g, n.input(1));
    if (rankA.isEmpty() || rankB.isEmpty()) {
      return List.of(n);
    }
    int a = rankA.get();
    int b = rankB.get();
    long start = axis.asInt() < 0 ? axis.asInt() + a : axis.asInt();
    if (start + b == a) {
      return List.of(n.withAttributes(plain));
    }
    if (start < 0 || start + b > a) {
      return List.of(n);
    }
    return appendUnitDims(n.withAttributes(plain), b, (int) (a - start - b));
  }

  /** Unsqueezes input 1 (of rank {@code rank}) with {@code count} trailing 1-dimensions, then runs the node on it. */
  private static List<Node> appendUnitDims(Node n, int rank, int count) {
    long[] axes = new long[count];
    for (int i = 0; i < axes.length; i++) {
      axes[i] = rank + i;
    }
    String label = n.name().isEmpty() ? n.output(0) : n.name();
    String aligned = n.input(1) + "/aligned_for/" + label;
    Node unsqueeze = new Node(label + "/legacy_broadcast", "Unsqueeze", Node.ONNX_DOMAIN, List.of(n.input(1)),
        List.of(aligned), Map.of("axes", Attribute.ofInts(axes)));
    return List.of(unsqueeze, n.withInputs(List.of(n.input(0), aligned)));
  }

  private static Optional<Integer> rank(Graph g, String value) {
    return g.typeOf(value).map(TensorType::shape).filter(s -> s.hasRank()).map(s -> s.rank());
  }

  private static boolean isInt(Node n, String key, long value) {
    Attribute a = n.attribute(key);
    return a != null && a.kind() == Attribute.Kind.INT && a.asInt() == value;
  }

  private static Map<String, Attribute> without(Node n, String... keys) {
    Map<String, Attribute> m = new LinkedHashMap<>(n.attributes());
    for (String k : keys) {
      m.remove(k);
    }
    return m;
  }
}
