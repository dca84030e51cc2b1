package dev.nnvm.compiler.analysis;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks that a graph is well formed and reports every problem found.
 *
 * <p>How it works: a structural walk first, per graph and sub-graph (with the
 * values of the enclosing scopes visible): every value is defined exactly once
 * (a graph input, a constant or one node output); each node reads only values
 * defined before it (uses of values defined later are reported as a cycle
 * when the node dependencies form one, else as an out-of-order use); graph
 * outputs are defined; each node passes {@link OpRegistry#validate}. Only a
 * structurally sound graph gets the type check: {@link TypeInference} runs,
 * and the declared graph output types and annotated value types must agree
 * with the inferred ones (same element type and rank; static sizes equal
 * where both are static; symbolic and unknown sizes agree with anything).
 */
public final class Verifier {
  private final OpRegistry registry;

  public Verifier(OpRegistry registry) {
    this.registry = registry;
  }

  public static Verifier standard() {
    return new Verifier(OpRegistry.standard());
  }

  /** Checks a graph with the standard registry; returns it, or throws listing every problem. */
  public static Graph check(Graph graph) {
    return standard().verify(graph);
  }

  /** Returns the graph when it is well formed, else throws a {@link ModelException} listing every problem. */
  public Graph verify(Graph graph) {
    List<String> problems = problems(graph);
    if (!problems.isEmpty()) {
      throw new ModelException("graph '" + graph.name() + "' is not well formed (" + problems.size()
          + (problems.size() == 1 ? " problem" : " problems") + "):\n  " + String.join("\n  ", problems));
    }
    return graph;
  }

  /** Every problem of the graph, in graph order; empty when it is well formed. */
  public List<String> problems(Graph graph) {
    List<String> problems = structuralProblems(graph);
    if (problems.isEmpty()) {
      Graph inferred;
      try {
        inferred = new TypeInference(registry).apply(graph);
      } catch (ModelException e) {
        problems.add("type inference failed: " + e.getMessage());
        return problems;
      }
      types(graph, inferred, "", problems);
    }
    return problems;
  }

  /** The problems found without type inference: definitions, order, cycles, outputs and operator schemas. */
  public List<String> structuralProblems(Graph graph) {
    List<String> problems = new ArrayList<>();
    structure(graph, Set.of(), Set.of(), "", problems);
    return problems;
  }

  /**
   * Checks one graph and, recursively, its sub-graphs.
   *
   * @param outer values of the enclosing graphs defined before the node holding {@code g}
   * @param outerLater values enclosing graphs define only later: the enclosing graph reports those reads
   */
  private void structure(Graph g, Set<String> outer, Set<String> outerLater, String scope, List<String> problems) {
    Map<String, String> definedBy = new HashMap<>();
    for (ValueInfo in : g.inputs()) {
      define(definedBy, in.name(), "graph input", scope, problems);
    }
    for (String c : g.constants().keySet()) {
      define(definedBy, c, "constant", scope, problems);
    }
    Map<String, Integer> producer = new HashMap<>();
    List<Node> nodes = g.nodes();
    for (int i = 0; i < nodes.size(); i++) {
      for (String o : nodes.get(i).outputs()) {
        if (!o.isEmpty()) {
          define(definedBy, o, "output of " + nodes.get(i).describe(), scope, problems);
          producer.putIfAbsent(o, i);
        }
      }
    }
    Set<String> available = new HashSet<>(outer);
    for (ValueInfo in : g.inputs()) {
      available.add(in.name());
    }
    available.addAll(g.constants().keySet());
    List<int[]> lateUses = new ArrayList<>();
    List<String> lateValues = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      Node n = nodes.get(i);
      try {
        registry.validate(n);
      } catch (ModelException e) {
        problems.add(scope + e.getMessage());
      }
      for (String in : reads(n)) {
        if (available.contains(in) || outerLater.contains(in)) {
          continue;
        }
        Integer p = producer.get(in);
        if (p != null) {
          lateUses.add(new int[] {p, i});
          lateValues.add(in);
        } else if (n.inputs().contains(in)) {
          problems.add(scope + n.describe() + ": input '" + in + "' is not defined");
        }
      }
      Set<String> later = new HashSet<>(outerLater);
      for (String v : producer.keySet()) {
        if (!available.contains(v)) {
          later.add(v);
        }
      }
      for (Map.Entry<String, Attribute> a : n.attributes().entrySet()) {
        List<Graph> subs = a.getValue().kind() == Attribute.Kind.GRAPH ? List.of(a.getValue().asGraph())
            : a.getValue().kind() == Attribute.Kind.GRAPHS ? a.getValue().asGraphs() : List.of();
        for (Graph sub : subs) {
          structure(sub, available, later, scope + "in " + n.describe() + " attribute '" + a.getKey() + "' (graph '"
              + sub.name() + "'): ", problems);
        }
      }
      for (String o : n.outputs()) {
        if (!o.isEmpty()) {
          available.add(o);
        }
      }
    }
    reportLateUses(nodes, lateUses, lateValues, scope, problems);
    for (ValueInfo o : g.outputs()) {
      if (!available.contains(o.name()) && !outerLater.contains(o.name())) {
        problems.add(scope + "graph output '" + o.name() + "' is not defined");
      }
    }
  }

  private static void define(Map<String, String> definedBy, String name, String what, String scope,
      List<String> problems) {
    String before = definedBy.putIfAbsent(name, what);
    if (before != null) {
      problems.add(scope + "value '" + name + "' is defined more than once: " + before + " and " + what);
    }
  }

  /**
   * The values a node reads: its inputs and what its sub-graphs read from
   * enclosing scopes (a sub-graph's own check reports those it cannot find
   * anywhere; here they count as reads for order and cycles).
   */
  private static Set<String> reads(Node n) {
    Set<String> out = new LinkedHashSet<>();
    for (String in : n.inputs()) {
      if (!in.isEmpty()) {
        out.add(in);
      }
    }
    for (Graph sub : n.subgraphs()) {
      out.addAll(OuterReads.of(sub));
    }
    return out;
  }

  /**
   * Reports uses of values defined later: one message per dependency cycle
   * (found among the late uses, which are the only edges that can close one),
   * and an out-of-order message for each late use outside a cycle.
   */
  private static void reportLateUses(List<Node> nodes, List<int[]> lateUses, List<String> lateValues, String scope,
      List<String> problems) {
    if (lateUses.isEmpty()) {
      return;
    }
    Map<Integer, List<Integer>> consumers = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : reads(nodes.get(i))) {
        for (int p = 0; p < nodes.size(); p++) {
          if (nodes.get(p).outputs().contains(in)) {
            consumers.computeIfAbsent(p, k -> new ArrayList<>()).add(i);
          }
        }
      }
    }
    Set<Integer> onCycle = new HashSet<>();
    for (int k = 0; k < lateUses.size(); k++) {
      int producer = lateUses.get(k)[0];
      int consumer = lateUses.get(k)[1];
      if (onCycle.contains(producer) && onCycle.contains(consumer)) {
        continue;
      }
      List<Integer> path = path(consumers, consumer, producer);
      if (path == null) {
        problems.add(scope + nodes.get(consumer).describe() + " reads '" + lateValues.get(k) + "' before "
            + nodes.get(producer).describe() + " defines it (nodes are not in topological order)");
        continue;
      }
      onCycle.addAll(path);
      StringBuilder sb = new StringBuilder(scope).append("nodes form a cycle: ");
      for (int i : path) {
        sb.append(nodes.get(i).describe()).append(" -> ");
      }
      problems.add(sb.append(nodes.get(consumer).describe()).toString());
    }
  }

  /** A shortest path of nodes from {@code from} to {@code to} along data edges, or null. */
  private static List<Integer> path(Map<Integer, List<Integer>> consumers, int from, int to) {
    Map<Integer, Integer> parent = new HashMap<>();
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    parent.put(from, from);
    queue.add(from);
    while (!queue.isEmpty()) {
      int n = queue.poll();
      if (n == to) {
        List<Integer> path = new ArrayList<>();
        for (int at = to; at != from; at = parent.get(at)) {
          path.add(0, at);
        }
        path.add(0, from);
        return path;
      }
      for (int c : consumers.getOrDefault(n, List.of())) {
        if (!parent.containsKey(c)) {
          parent.put(c, n);
          queue.add(c);
        }
      }
    }
    return null;
  }

  private static void types(Graph declared, Graph inferred, String scope, List<String> problems) {
    Map<String, TensorType> known = new LinkedHashMap<>(inferred.valueTypes());
    for (ValueInfo in : declared.inputs()) {
      known.put(in.name(), in.type());
    }
    for (Map.Entry<String, Tensor> c : declared.constants().entrySet()) {
      known.put(c.getKey(), c.getValue().type());
    }
    for (ValueInfo o : declared.outputs()) {
      compare(scope + "graph output '" + o.name() + "'", "declared", o.type(), known.get(o.name()), problems);
    }
    for (Map.Entry<String, TensorType> v : declared.valueTypes().entrySet()) {
      compare(scope + "value '" + v.getKey() + "'", "annotated", v.getValue(), known.get(v.getKey()), problems);
    }
    for (int i = 0; i < declared.nodes().size(); i++) {
      Node d = declared.nodes().get(i);
      Node t = inferred.nodes().get(i);
      for (Map.Entry<String, Attribute> a : d.attributes().entrySet()) {
        Attribute ta = t.attribute(a.getKey());
        if (a.getValue().kind() == Attribute.Kind.GRAPH && ta.kind() == Attribute.Kind.GRAPH) {
          types(a.getValue().asGraph(), ta.asGraph(), scope + "in " + d.describe() + " attribute '" + a.getKey()
              + "' (graph '" + a.getValue().asGraph().name() + "'): ", problems);
        }
      }
    }
  }

  private static void compare(String what, String how, TensorType declared, TensorType inferred,
      List<String> problems) {
    if (inferred != null && !agree(declared, inferred)) {
      problems.add(what + " is " + how + " " + declared + " but inferred " + inferred);
    }
  }

  /** Same element type and rank; static sizes equal where both are static. */
  static boolean agree(TensorType a, TensorType b) {
    if (a.dtype() != b.dtype()) {
      return false;
    }
    Shape sa = a.shape();
    Shape sb = b.shape();
    if (!sa.hasRank() || !sb.hasRank()) {
      return true;
    }
    if (sa.rank() != sb.rank()) {
      return false;
    }
    for (int i = 0; i < sa.rank(); i++) {
      Dim x = sa.dim(i);
      Dim y = sb.dim(i);
      if (x.isStatic() && y.isStatic() && x.value() != y.value()) {
        return false;
      }
    }
    return true;
  }
}
