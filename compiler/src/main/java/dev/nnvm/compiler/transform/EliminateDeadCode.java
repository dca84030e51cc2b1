package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.analysis.OuterReads;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes nodes none of whose outputs reach a graph output, and constants
 * nothing reads. Graph inputs stay: they are the model's interface.
 *
 * <p>How it works: one backward sweep from the graph outputs marks live
 * values; a node is kept when one of its outputs is live, and then its inputs
 * and the enclosing-scope values its sub-graphs read become live.
 */
public final class EliminateDeadCode implements Pass {
  public static final EliminateDeadCode INSTANCE = new EliminateDeadCode();

  private EliminateDeadCode() {}

  @Override
  public String name() {
    return "EliminateDeadCode";
  }

  @Override
  public int minLevel() {
    return 1;
  }

  @Override
  public boolean preservesProperties() {
    return true;
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    Set<String> live = new HashSet<>();
    for (ValueInfo o : graph.outputs()) {
      live.add(o.name());
    }
    List<Node> nodes = graph.nodes();
    List<Node> kept = new ArrayList<>();
    for (int i = nodes.size() - 1; i >= 0; i--) {
      Node n = nodes.get(i);
      boolean used = false;
      for (String o : n.outputs()) {
        used |= live.contains(o);
      }
      if (!used) {
        continue;
      }
      kept.add(n);
      for (String in : n.inputs()) {
        if (!in.isEmpty()) {
          live.add(in);
        }
      }
      for (Graph sub : n.subgraphs()) {
        live.addAll(OuterReads.of(sub));
      }
    }
    Collections.reverse(kept);
    Map<String, Tensor> constants = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> c : graph.constants().entrySet()) {
      if (live.contains(c.getKey())) {
        constants.put(c.getKey(), c.getValue());
      }
    }
    if (kept.size() == nodes.size() && constants.size() == graph.constants().size()) {
      return graph;
    }
    Set<String> defined = new HashSet<>(constants.keySet());
    graph.inputs().forEach(v -> defined.add(v.name()));
    kept.forEach(n -> defined.addAll(n.outputs()));
    Map<String, dev.nnvm.compiler.ir.TensorType> types = new LinkedHashMap<>(graph.valueTypes());
    types.keySet().retainAll(defined);
    return graph.toBuilder().nodes(kept).constants(constants).valueTypes(types).build();
  }
}
