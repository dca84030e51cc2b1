package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Merges equal constants and nodes that compute the same thing (same
 * operator, same inputs after merging, same attributes). Exported models are
 * full of both: dozens of identical scalar constants and repeated
 * {@code Shape} chains.
 *
 * <p>How it works: constants are merged first (same type, shape and
 * contents); then one forward sweep keys each node by operator, renamed
 * inputs and attributes, and maps the outputs of a repeat onto the first
 * occurrence. Random generators and nodes with sub-graphs are never merged;
 * a node whose output is a graph output stays, so output names survive.
 */
public final class EliminateCommonSubexpressions implements Pass {
  public static final EliminateCommonSubexpressions INSTANCE = new EliminateCommonSubexpressions();

  private EliminateCommonSubexpressions() {}

  @Override
  public String name() {
    return "EliminateCommonSubexpressions";
  }

  @Override
  public int minLevel() {
    return 1;
  }

  @Override
  public boolean preservesProperties() {
    return true;
  }

  private static final class Key {
    final Node node;

    Key(Node n) {
      this.node = n;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Key)) {
        return false;
      }
      Node m = ((Key) o).node;
      return node.opType().equals(m.opType()) && node.domain().equals(m.domain())
          && node.inputs().equals(m.inputs()) && node.outputs().size() == m.outputs().size()
          && node.attributes().equals(m.attributes());
    }

    @Override
    public int hashCode() {
      return Objects.hash(node.opType(), node.domain(), node.inputs(), node.outputs().size());
    }
  }

  private static final class ConstKey {
    final Tensor t;

    ConstKey(Tensor t) {
      this.t = t;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ConstKey && ((ConstKey) o).t.equals(t);
    }

    @Override
    public int hashCode() {
      return t.hashCode() * 31 + (t.size() > 0 ? Double.hashCode(t.dtype() == dev.nnvm.runtime.DType.STRING
          ? t.strings()[0].hashCode() : t.getDouble(0)) : 0);
    }
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    Set<String> outputs = new HashSet<>();
    for (ValueInfo o : graph.outputs()) {
      outputs.add(o.name());
    }
    Map<String, String> renames = new HashMap<>();
    Map<ConstKey, String> firstConst = new HashMap<>();
    Map<String, Tensor> constants = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> c : graph.constants().entrySet()) {
      String first = firstConst.putIfAbsent(new ConstKey(c.getValue()), c.getKey());
      if (first != null && !outputs.contains(c.getKey())) {
        renames.put(c.getKey(), first);
      } else {
        constants.put(c.getKey(), c.getValue());
      }
    }
    Map<Key, Node> seen = new HashMap<>();
    List<Node> kept = new ArrayList<>();
    for (Node n : graph.nodes()) {
      Node r = ValueRenaming.renameUses(List.of(n), renames).get(0);
      boolean mergeable = n.subgraphs().isEmpty() && ctx.registry().find(n.domain(), n.opType())
          .map(d -> d.isDeterministic()).orElse(false);
      boolean producesOutput = n.outputs().stream().anyMatch(outputs::contains);
      if (mergeable) {
        Node first = seen.get(new Key(r));
        if (first != null && !producesOutput) {
          for (int i = 0; i < n.outputs().size(); i++) {
            if (!n.output(i).isEmpty()) {
              renames.put(n.output(i), first.output(i));
            }
          }
          continue;
        }
        seen.putIfAbsent(new Key(r), r);
      }
      kept.add(r);
    }
    if (renames.isEmpty()) {
      return graph;
    }
    Map<String, dev.nnvm.compiler.ir.TensorType> types = new LinkedHashMap<>(graph.valueTypes());
    types.keySet().removeAll(renames.keySet());
    return graph.toBuilder().nodes(kept).constants(constants).valueTypes(types).build();
  }
}
