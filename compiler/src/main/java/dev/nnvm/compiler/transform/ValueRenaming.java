package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ops.NnvmOps;
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
    if (n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.FUSED)) {
      return renameFused(n, renames);
    }
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

  /**
   * Renames inside a sub-graph the uses of enclosing values; a name the
   * sub-graph declares as its own input shadows the enclosing one and stays.
   */
  private static Graph renameInGraph(Graph g, Map<String, String> renames) {
    Map<String, String> visible = new java.util.HashMap<>(renames);
    g.inputs().forEach(v -> visible.remove(v.name()));
    List<Node> nodes = renameUses(g.nodes(), visible);
    return nodes.equals(g.nodes()) ? g : g.toBuilder().nodes(nodes).build();
  }

  /**
   * A fused group's body names its inputs after the values the node reads,
   * so the body's inputs and their uses are renamed with the node's inputs;
   * a value that now arrives twice is read through one input.
   */
  private static Node renameFused(Node n, Map<String, String> renames) {
    Graph body = n.attribute("body").asGraph();
    List<String> ins = new ArrayList<>();
    List<dev.nnvm.compiler.ir.ValueInfo> bodyInputs = new ArrayList<>();
    Map<String, String> inside = new java.util.HashMap<>();
    for (int i = 0; i < n.inputs().size(); i++) {
      String outer = resolve(n.input(i), renames);
      dev.nnvm.compiler.ir.ValueInfo declared = body.inputs().get(i);
      if (!outer.equals(declared.name())) {
        inside.put(declared.name(), outer);
      }
      if (!ins.contains(outer)) {
        ins.add(outer);
        bodyInputs.add(new dev.nnvm.compiler.ir.ValueInfo(outer, declared.type()));
      }
    }
    if (inside.isEmpty() && ins.equals(n.inputs())) {
      return n;
    }
    Graph renamed = body.toBuilder().inputs(bodyInputs).nodes(renameUses(body.nodes(), inside)).build();
    return n.withInputs(ins).withAttribute("body", Attribute.ofGraph(renamed));
  }
}
