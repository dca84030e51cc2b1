package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates at compile time every node whose inputs are all constants
 * (NNVM's PrecomputePrune), so whatever depends only on weights becomes a
 * weight. Folded values replace their nodes as graph constants.
 *
 * <p>Random generators and nodes with sub-graphs are left alone, and so is a
 * node whose result would be larger than {@link #MAX_FOLDED_ELEMENTS}
 * elements (an Expand of a scalar to a huge tensor is cheaper to compute at
 * run time than to store).
 */
public final class FoldConstants implements Pass {
  /** Results above this many elements are not stored as constants. */
  public static final long MAX_FOLDED_ELEMENTS = 64L << 20;

  public static final FoldConstants INSTANCE = new FoldConstants();

  private FoldConstants() {}

  @Override
  public String name() {
    return "FoldConstants";
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
    Map<String, Tensor> constants = new LinkedHashMap<>(graph.constants());
    List<Node> kept = new ArrayList<>();
    boolean changed = false;
    for (Node n : graph.nodes()) {
      if (!foldable(n, constants, ctx)) {
        kept.add(n);
        continue;
      }
      Map<String, Tensor> values = evaluate(graph, n, constants, ctx);
      if (values == null) {
        kept.add(n);
        continue;
      }
      constants.putAll(values);
      changed = true;
    }
    if (!changed) {
      return graph;
    }
    Map<String, TensorType> types = new LinkedHashMap<>(graph.valueTypes());
    types.keySet().removeAll(constants.keySet());
    return graph.toBuilder().nodes(kept).constants(constants).valueTypes(types).build();
  }

  private static boolean foldable(Node n, Map<String, Tensor> constants, PassContext ctx) {
    if (!n.subgraphs().isEmpty() || n.outputs().isEmpty()) {
      return false;
    }
    OpDef def = ctx.registry().find(n.domain(), n.opType()).orElse(null);
    if (def == null || !def.isDeterministic()) {
      return false;
    }
    for (String in : n.inputs()) {
      if (!in.isEmpty() && !constants.containsKey(in)) {
        return false;
      }
    }
    return true;
  }

  /** The node's outputs as constants, or null when it cannot or should not be folded. */
  private static Map<String, Tensor> evaluate(Graph graph, Node n, Map<String, Tensor> constants, PassContext ctx) {
    Graph.Builder one = Graph.builder("fold").opsets(graph.opsets());
    for (String in : n.inputs()) {
      if (!in.isEmpty()) {
        one.constant(in, constants.get(in));
      }
    }
    one.node(n);
    for (String o : n.outputs()) {
      if (!o.isEmpty()) {
        one.output(o, TensorType.unknownShape(DType.FLOAT32));
      }
    }
    Map<String, Tensor> values = ctx.evaluator().run(one.build(), Map.of());
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : values.entrySet()) {
      if (e.getValue() == null || e.getValue().size() > MAX_FOLDED_ELEMENTS) {
        return null;
      }
      out.put(e.getKey(), e.getValue());
    }
    for (ValueInfo o : graph.outputs()) {
      Tensor t = out.get(o.name());
      if (t != null && t.dtype() != o.type().dtype()) {
        return null;
      }
    }
    return out;
  }
}
