package dev.nnvm.compiler.ir.op;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import java.util.List;
import java.util.Map;

/** The view of a node that a reference kernel gets: concrete input tensors. */
public final class EvalContext extends OpContext {
  /** Runs a sub-graph with some values bound (the enclosing scope stays visible). */
  @FunctionalInterface
  public interface SubgraphRunner {
    List<Tensor> run(Graph body, Map<String, Tensor> bindings);
  }

  private final List<Tensor> inputs;
  private final SubgraphRunner subgraphs;

  /** @param inputs one entry per input slot, null for an omitted input */
  public EvalContext(Node node, OpDef def, int opset, List<Tensor> inputs, SubgraphRunner subgraphs) {
    super(node, def, opset);
    this.inputs = inputs;
    this.subgraphs = subgraphs;
  }

  /** Input {@code i}; fails naming the node when it is omitted. */
  public Tensor input(int i) {
    Tensor t = i < inputs.size() ? inputs.get(i) : null;
    if (t == null) {
      throw error("input %d is required but missing", i);
    }
    return t;
  }

  /** Input {@code i}, or null when omitted. */
  public Tensor optionalInput(int i) {
    return i < inputs.size() ? inputs.get(i) : null;
  }

  @Override
  public boolean hasInput(int i) {
    return i < inputs.size() && inputs.get(i) != null;
  }

  /** Runs a sub-graph (If branch, Loop body) and returns its outputs in order. */
  public List<Tensor> runSubgraph(Graph body, Map<String, Tensor> bindings) {
    return subgraphs.run(body, bindings);
  }
}
