package dev.nnvm.compiler.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable computation graph: typed inputs, constants (weights), nodes in
 * topological order and outputs. Values are named; every name is defined once
 * (by an input, a constant or a node output).
 *
 * <p>{@link #valueTypes()} holds the known types of intermediate values (from
 * the model file or from type inference). {@link #opsets()} maps an operator
 * domain to the opset version the graph was written against.
 *
 * <p>A sub-graph (If branch, Loop body) may read values of its enclosing
 * graphs by name; those names are not defined inside it.
 */
public final class Graph {
  private final String name;
  private final List<ValueInfo> inputs;
  private final List<ValueInfo> outputs;
  private final Map<String, Tensor> constants;
  private final List<Node> nodes;
  private final Map<String, TensorType> valueTypes;
  private final Map<String, Integer> opsets;

  private Graph(Builder b) {
    this.name = Objects.requireNonNull(b.name, "name");
    this.inputs = List.copyOf(b.inputs);
    this.outputs = List.copyOf(b.outputs);
    this.constants = Collections.unmodifiableMap(new LinkedHashMap<>(b.constants));
    this.nodes = List.copyOf(b.nodes);
    this.valueTypes = Collections.unmodifiableMap(new LinkedHashMap<>(b.valueTypes));
    this.opsets = Collections.unmodifiableMap(new LinkedHashMap<>(b.opsets));
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.inputs.addAll(inputs);
    b.outputs.addAll(outputs);
    b.constants.putAll(constants);
    b.nodes.addAll(nodes);
    b.valueTypes.putAll(valueTypes);
    b.opsets.putAll(opsets);
    return b;
  }

  public String name() {
    return name;
  }

  public List<ValueInfo> inputs() {
    return inputs;
  }

  public List<ValueInfo> outputs() {
    return outputs;
  }

  public Map<String, Tensor> constants() {
    return constants;
  }

  public List<Node> nodes() {
    return nodes;
  }

  public Map<String, TensorType> valueTypes() {
    return valueTypes;
  }

  public Map<String, Integer> opsets() {
    return opsets;
  }

  /** The opset version of a domain ("" is ONNX), or {@code fallback} when not imported. */
  public int opset(String domain, int fallback) {
    return opsets.getOrDefault(Node.normalizeDomain(domain), fallback);
  }

  public Optional<ValueInfo> input(String valueName) {
    return inputs.stream().filter(v -> v.name().equals(valueName)).findFirst();
  }

  /**
   * The type of a value as the graph knows it: an input or output declaration,
   * a constant, or an annotated intermediate; empty when unknown.
   */
  public Optional<TensorType> typeOf(String valueName) {
    Tensor c = constants.get(valueName);
    if (c != null) {
      return Optional.of(c.type());
    }
    for (ValueInfo v : inputs) {
      if (v.name().equals(valueName)) {
        return Optional.of(v.type());
      }
    }
    TensorType t = valueTypes.get(valueName);
    if (t != null) {
      return Optional.of(t);
    }
    for (ValueInfo v : outputs) {
      if (v.name().equals(valueName)) {
        return Optional.of(v.type());
      }
    }
    return Optional.empty();
  }

  /** Maps each value name produced by a node to that node. */
  public Map<String, Node> producers() {
    Map<String, Node> m = new HashMap<>();
    for (Node n : nodes) {
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          m.put(o, n);
        }
      }
    }
    return m;
  }

  /** Maps each value name to the nodes reading it, in graph order. */
  public Map<String, List<Node>> consumers() {
    Map<String, List<Node>> m = new HashMap<>();
    for (Node n : nodes) {
      for (String i : n.inputs()) {
        if (!i.isEmpty()) {
          m.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
        }
      }
    }
    return m;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Graph)) {
      return false;
    }
    Graph g = (Graph) o;
    return name.equals(g.name) && inputs.equals(g.inputs) && outputs.equals(g.outputs)
        && constants.equals(g.constants) && nodes.equals(g.nodes) && valueTypes.equals(g.valueTypes)
        && opsets.equals(g.opsets);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, inputs, outputs, nodes);
  }

  @Override
  public String toString() {
    return "Graph '" + name + "' (" + nodes.size() + " nodes, " + constants.size() + " constants)";
  }

  /** Collects the parts of a graph; {@link #build()} makes the immutable graph. */
  public static final class Builder {
    private String name;
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<ValueInfo> outputs = new ArrayList<>();
    private final Map<String, Tensor> constants = new LinkedHashMap<>();
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, TensorType> valueTypes = new LinkedHashMap<>();
    private final Map<String, Integer> opsets = new LinkedHashMap<>();

    private Builder(String name) {
      this.name = name;
    }

    public Builder name(String n) {
      this.name = n;
      return this;
    }

    public Builder input(String valueName, TensorType type) {
      inputs.add(new ValueInfo(valueName, type));
      return this;
    }

    public Builder output(String valueName, TensorType type) {
      outputs.add(new ValueInfo(valueName, type));
      return this;
    }

    public Builder inputs(List<ValueInfo> v) {
      inputs.clear();
      inputs.addAll(v);
      return this;
    }

    public Builder outputs(List<ValueInfo> v) {
      outputs.clear();
      outputs.addAll(v);
      return this;
    }

    public Builder constant(String valueName, Tensor value) {
      constants.put(valueName, value);
      return this;
    }

    public Builder constants(Map<String, Tensor> v) {
      constants.clear();
      constants.putAll(v);
      return this;
    }

    public Builder node(Node n) {
      nodes.add(n);
      return this;
    }

    public Builder nodes(List<Node> v) {
      nodes.clear();
      nodes.addAll(v);
      return this;
    }

    public Builder valueType(String valueName, TensorType type) {
      valueTypes.put(valueName, type);
      return this;
    }

    public Builder valueTypes(Map<String, TensorType> v) {
      valueTypes.clear();
      valueTypes.putAll(v);
      return this;
    }

    public Builder opset(String domain, int version) {
      opsets.put(Node.normalizeDomain(domain), version);
      return this;
    }

    public Builder opsets(Map<String, Integer> v) {
      opsets.clear();
      opsets.putAll(v);
      return this;
    }

    public List<Node> nodes() {
      return nodes;
    }

    public Graph build() {
      return new Graph(this);
    }
  }
}
