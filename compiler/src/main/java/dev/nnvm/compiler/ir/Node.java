package dev.nnvm.compiler.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One operator application: immutable. Inputs and outputs are value names; an
 * empty input name marks an omitted optional input, as in ONNX.
 */
public final class Node {
  /** The default (ONNX) operator domain. */
  public static final String ONNX_DOMAIN = "";

  private final String name;
  private final String opType;
  private final String domain;
  private final List<String> inputs;
  private final List<String> outputs;
  private final Map<String, Attribute> attributes;

  public Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
      Map<String, Attribute> attributes) {
    this.name = Objects.requireNonNull(name, "name");
    this.opType = Objects.requireNonNull(opType, "opType");
    this.domain = normalizeDomain(domain);
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
  }

  /** ONNX spells the default domain both "" and "ai.onnx". */
  public static String normalizeDomain(String domain) {
    return domain == null || domain.equals("ai.onnx") ? ONNX_DOMAIN : domain;
  }

  public static Node of(String name, String opType, List<String> inputs, List<String> outputs) {
    return new Node(name, opType, ONNX_DOMAIN, inputs, outputs, Map.of());
  }

  public String name() {
    return name;
  }

  public String opType() {
    return opType;
  }

  public String domain() {
    return domain;
  }

  public List<String> inputs() {
    return inputs;
  }

  public List<String> outputs() {
    return outputs;
  }

  /** Input {@code i}, or "" when it is omitted or beyond the inputs given. */
  public String input(int i) {
    return i < inputs.size() ? inputs.get(i) : "";
  }

  public boolean hasInput(int i) {
    return !input(i).isEmpty();
  }

  public String output(int i) {
    return outputs.get(i);
  }

  public Map<String, Attribute> attributes() {
    return attributes;
  }

  public Attribute attribute(String key) {
    return attributes.get(key);
  }

  /** The operator as written in messages: {@code Conv} or {@code com.microsoft.Gelu}. */
  public String qualifiedOp() {
    return domain.isEmpty() ? opType : domain + "." + opType;
  }

  /** How errors name this node: {@code Conv 'conv1'}. */
  public String describe() {
    return qualifiedOp() + " '" + (name.isEmpty() ? "<" + String.join(",", outputs) + ">" : name) + "'";
  }

  public Node withInputs(List<String> newInputs) {
    return newInputs.equals(inputs) ? this : new Node(name, opType, domain, newInputs, outputs, attributes);
  }

  public Node withOutputs(List<String> newOutputs) {
    return newOutputs.equals(outputs) ? this : new Node(name, opType, domain, inputs, newOutputs, attributes);
  }

  public Node withName(String newName) {
    return newName.equals(name) ? this : new Node(newName, opType, domain, inputs, outputs, attributes);
  }

  public Node withAttributes(Map<String, Attribute> newAttributes) {
    return newAttributes.equals(attributes) ? this : new Node(name, opType, domain, inputs, outputs, newAttributes);
  }

  public Node withAttribute(String key, Attribute value) {
    Map<String, Attribute> m = new LinkedHashMap<>(attributes);
    m.put(key, value);
    return withAttributes(m);
  }

  /** The sub-graphs held in graph attributes (If branches, Loop bodies). */
  public List<Graph> subgraphs() {
    List<Graph> out = new ArrayList<>();
    for (Attribute a : attributes.values()) {
      if (a.kind() == Attribute.Kind.GRAPH) {
        out.add(a.asGraph());
      } else if (a.kind() == Attribute.Kind.GRAPHS) {
        out.addAll(a.asGraphs());
      }
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Node)) {
      return false;
    }
    Node n = (Node) o;
    return name.equals(n.name) && opType.equals(n.opType) && domain.equals(n.domain) && inputs.equals(n.inputs)
        && outputs.equals(n.outputs) && attributes.equals(n.attributes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, opType, domain, inputs, outputs, attributes);
  }

  @Override
  public String toString() {
    return describe() + inputs + " -> " + outputs;
  }
}
