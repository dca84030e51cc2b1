package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The driver shared by pattern passes: each rule looks at a node as the last
 * node (the anchor) of a pattern and may propose to replace the matched nodes
 * with new ones. The driver accepts a replacement only when every matched
 * node but the anchor has all its readers inside the match (so nothing else
 * loses a value), places the new nodes where the anchor stood, and never lets
 * two matches overlap.
 */
public abstract class PatternRewrite extends TypedPass {
  /** A proposed replacement. The new nodes must define the anchor's outputs. */
  public static final class Match {
    final List<Node> matched;
    final List<Node> replacement;
    final Map<String, Tensor> newConstants;

    public Match(List<Node> matched, List<Node> replacement, Map<String, Tensor> newConstants) {
      this.matched = List.copyOf(matched);
      this.replacement = List.copyOf(replacement);
      this.newConstants = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(newConstants));
    }

    public Match(List<Node> matched, List<Node> replacement) {
      this(matched, replacement, Map.of());
    }
  }

  /** Proposes a replacement with {@code anchor} as the pattern's last node, or returns null. */
  protected abstract Match match(Node anchor, GraphIndex index, Names names);

  @Override
  public int minLevel() {
    return 2;
  }

  /** Fresh value and node names for replacements. */
  public static final class Names {
    private final Set<String> used = new HashSet<>();

    Names(Graph g) {
      used.addAll(g.constants().keySet());
      g.inputs().forEach(v -> used.add(v.name()));
      for (Node n : g.nodes()) {
        used.addAll(n.outputs());
        used.add(n.name());
      }
    }

    public String fresh(String base) {
      return SimplifyInference.fresh(base, used);
    }
  }

  /** Rewrites until no rule matches (a rewrite can expose the next match), at most this many rounds. */
  private static final int MAX_ROUNDS = 8;

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    Graph g = graph;
    for (int round = 0; round < MAX_ROUNDS; round++) {
      Graph next = applyOnce(g, ctx);
      if (next == g) {
        break;
      }
      g = next;
    }
    return g;
  }

  private Graph applyOnce(Graph graph, PassContext ctx) {
    GraphIndex index = new GraphIndex(graph);
    Names names = new Names(graph);
    Set<Node> consumed = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    Map<Node, List<Node>> replaceAt = new IdentityHashMap<>();
    Map<String, Tensor> constants = new LinkedHashMap<>(graph.constants());
    for (Node anchor : graph.nodes()) {
      if (consumed.contains(anchor)) {
        continue;
      }
      Match m = match(anchor, index, names);
      if (m == null || !acceptable(m, anchor, index, consumed)) {
        continue;
      }
      consumed.addAll(m.matched);
      replaceAt.put(anchor, m.replacement);
      constants.putAll(m.newConstants);
    }
    if (replaceAt.isEmpty()) {
      return graph;
    }
    List<Node> out = new ArrayList<>();
    Set<String> removedValues = new HashSet<>();
    for (Node n : graph.nodes()) {
      List<Node> r = replaceAt.get(n);
      if (r != null) {
        out.addAll(r);
      } else if (!consumed.contains(n)) {
        out.add(n);
      }
      if (consumed.contains(n)) {
        removedValues.addAll(n.outputs());
      }
    }
    Map<String, TensorType> types = new HashMap<>(graph.valueTypes());
    types.keySet().removeAll(removedValues);
    Graph rewritten = graph.toBuilder().nodes(out).constants(constants).valueTypes(new LinkedHashMap<>(types)).build();
    return retype(rewritten, ctx);
  }

  private static boolean acceptable(Match m, Node anchor, GraphIndex index, Set<Node> consumed) {
    if (m.matched.isEmpty() || m.matched.get(m.matched.size() - 1) != anchor) {
      throw new IllegalStateException("a match must end with its anchor node");
    }
    Set<Node> inMatch = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    inMatch.addAll(m.matched);
    for (Node n : m.matched) {
      if (consumed.contains(n)) {
        return false;
      }
      if (n == anchor) {
        continue;
      }
      for (String o : n.outputs()) {
        if (o.isEmpty()) {
          continue;
        }
        if (index.isGraphOutput(o)) {
          return false;
        }
        for (Node c : index.consumers(o)) {
          if (!inMatch.contains(c)) {
            return false;
          }
        }
      }
    }
    Set<String> defined = new HashSet<>();
    m.replacement.forEach(n -> defined.addAll(n.outputs()));
    for (String o : anchor.outputs()) {
      if (!o.isEmpty() && !defined.contains(o) && (index.isGraphOutput(o) || !index.consumers(o).isEmpty())) {
        return false;
      }
    }
    return true;
  }
}
