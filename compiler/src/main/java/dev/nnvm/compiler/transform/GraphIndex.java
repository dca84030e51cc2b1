package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Look-ups that pattern rules need: who produces and who reads a value, constants and types. */
public final class GraphIndex {
  private final Graph graph;
  private final Map<String, Node> producers;
  private final Map<String, List<Node>> consumers;
  private final Set<String> outputs = new HashSet<>();

  public GraphIndex(Graph graph) {
    this.graph = graph;
    this.producers = graph.producers();
    this.consumers = graph.consumers();
    for (ValueInfo o : graph.outputs()) {
      outputs.add(o.name());
    }
    for (Node n : graph.nodes()) {
      for (Graph sub : n.subgraphs()) {
        for (String v : dev.nnvm.compiler.analysis.OuterReads.of(sub)) {
          // Values read by sub-graphs count as read by the node holding them.
          consumers.computeIfAbsent(v, k -> new java.util.ArrayList<>()).add(n);
        }
      }
    }
  }

  public Graph graph() {
    return graph;
  }

  /** The node producing a value, when it is an ONNX-domain node of the given type. */
  public Optional<Node> producer(String value, String opType) {
    Node n = producers.get(value);
    return n != null && n.domain().isEmpty() && n.opType().equals(opType) ? Optional.of(n) : Optional.empty();
  }

  public Node producer(String value) {
    return producers.get(value);
  }

  public List<Node> consumers(String value) {
    return consumers.getOrDefault(value, List.of());
  }

  /** True when the value is read by exactly one node and is not a graph output. */
  public boolean singleUse(String value) {
    return consumers(value).size() == 1 && !outputs.contains(value);
  }

  public boolean isGraphOutput(String value) {
    return outputs.contains(value);
  }

  public Tensor constant(String value) {
    return graph.constants().get(value);
  }

  /** A constant holding one value (any shape with one element). */
  public Optional<Double> scalar(String value) {
    Tensor t = graph.constants().get(value);
    if (t == null || t.size() != 1 || !t.dtype().isNumeric()) {
      return Optional.empty();
    }
    return Optional.of(t.getDouble(0));
  }

  public Optional<TensorType> type(String value) {
    return graph.typeOf(value);
  }
}
