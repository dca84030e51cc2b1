package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replaces uses of values by other values, in nodes and in the sub-graphs
 * that read them from an enclosing scope. Definitions and graph outputs keep
 * their names: callers only rename values that are not graph outputs.
 */
final class ValueRenaming {
  private ValueRenaming() {}

  /** Applies {@code renames} (old -> new, resolved transitively) to every use in the nodes. */
  static List<Node> renameUses(List<Node> nodes, Map<String, String> renames) {
    if (renames.isEmpty()) {
      return nodes;
    }
    List<Node> out = new ArrayList<>(nodes.size());
    for (Node n : nodes) {
      out.add(renameNode(n, renames));
    }
    return out;
  }

  static String resolve(String name, Map<String, String> renames) {
    String r = name;
    for (int guard = 0; renames.containsKey(r) && guard < 1_000_000; guard++) {
      r = renames.get(r);
    }
    return r;
  }

  private static Node renameNode(Node n, Map<String, String> renames) {
    List<String> ins = new ArrayList<>(n.inputs().size());
    for (String in : n.inputs()) {
      ins.add(in.isEmpty() ? in : resolve(in, renames));
    }
    Node r = n.withInputs(ins);
    if (n.subgraphs().isEmpty()) {
      return r;
    }
    Map<String, Attribute> attrs = new LinkedHashMap<>(r.attributes());
    for (Map.Entry<String, Attribute> e : attrs.entrySet()) {
      Attribute a = e.getValue();
      if (a.kind() == Attribute.Kind.GRAPH) {
        e.setValue(Attribute.ofGraph(renameInGraph(a.asGraph(), renames)));
      } else if (a.kind() == Attribute.Kind.GRAPHS) {
        List<Graph> gs = new ArrayList<>();
        a.asGraphs().forEach(g -> gs.add(renameInGraph(g, renames)));
        e.setValue(Attribute.ofGraphs(gs));
      }
    }
    return r.withAttributes(attrs);
  }

  private static Graph renameInGraph(Graph g, Map<String, String> renames) {
    List<Node> nodes = renameUses(g.nodes(), renames);
    return nodes.equals(g.nodes()) ? g : g.toBuilder().nodes(nodes).build();
  }
}
