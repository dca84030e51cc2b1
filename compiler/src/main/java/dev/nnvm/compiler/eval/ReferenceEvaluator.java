package dev.nnvm.compiler.eval;

import dev.nnvm.compiler.analysis.OuterReads;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Runs a graph node by node with the registry's reference kernels.
 *
 * <p>This is the oracle for tests and the constant-folding engine of the
 * optimizer: plain Java, obviously correct, not fast. It is never the
 * production execution path.
 *
 * <p>Inputs are checked against the graph's declared inputs first (names,
 * element types, ranks, static sizes, and that each symbolic dimension gets
 * one size across all inputs). Intermediate values are released after their
 * last use.
 */
public final class ReferenceEvaluator {
  private final OpRegistry registry;

  public ReferenceEvaluator(OpRegistry registry) {
    this.registry = Objects.requireNonNull(registry);
  }

  public static ReferenceEvaluator standard() {
    return new ReferenceEvaluator(OpRegistry.standard());
  }

  /**
   * Evaluates the graph on the given inputs and returns its outputs by name,
   * in the graph's output order.
   */
  public Map<String, Tensor> run(Graph graph, Map<String, Tensor> inputs) {
    checkInputs(graph, inputs);
    Map<String, Tensor> env = new HashMap<>(graph.constants());
    for (ValueInfo in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      if (t != null) {
        env.put(in.name(), t);
      }
    }
    evaluate(graph, env, Map.of(), graph.opsets());
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (ValueInfo o : graph.outputs()) {
      out.put(o.name(), env.get(o.name()));
    }
    return out;
  }

  /** Checks that inputs match the graph's declared inputs; errors name the input and dimension. */
  public static void checkInputs(Graph graph, Map<String, Tensor> inputs) {
    for (String name : inputs.keySet()) {
      if (graph.input(name).isEmpty()) {
        List<String> names = new ArrayList<>();
        graph.inputs().forEach(v -> names.add(v.name()));
        throw new ModelException("unknown input '" + name + "'; the model's inputs are " + names);
      }
    }
    Map<String, Long> bound = new HashMap<>();
    Map<String, String> boundBy = new HashMap<>();
    for (ValueInfo in : graph.inputs()) {
      Tensor t = inputs.get(in.name());
      if (t == null) {
        if (graph.constants().containsKey(in.name())) {
          continue;
        }
        throw new ModelException("missing input '" + in.name() + "' of type " + in.type());
      }
      TensorType want = in.type();
      if (t.dtype() != want.dtype()) {
        throw new ModelException("input '" + in.name() + "': expected element type " + want.dtype() + ", got "
            + t.dtype());
      }
      Shape s = want.shape();
      if (!s.hasRank()) {
        continue;
      }
      if (s.rank() != t.rank()) {
        throw new ModelException("input '" + in.name() + "': expected rank " + s.rank() + " " + s + ", got rank "
            + t.rank() + " " + Shape.toString(t.shape()));
      }
      for (int i = 0; i < s.rank(); i++) {
        Dim d = s.dim(i);
        long actual = t.dim(i);
        if (d.isStatic() && d.value() != actual) {
          throw new ModelException("input '" + in.name() + "' dimension " + i + ": expected " + d.value()
              + ", got " + actual + " (shape " + Shape.toString(t.shape()) + ", expected " + s + ")");
        }
        if (d.isSymbolic()) {
          Long prev = bound.putIfAbsent(d.symbol(), actual);
          if (prev == null) {
            boundBy.put(d.symbol(), in.name());
          } else if (prev != actual) {
            throw new ModelException("input '" + in.name() + "' dimension " + i + " (" + d.symbol() + ") is "
                + actual + ", but input '" + boundBy.get(d.symbol()) + "' set " + d.symbol() + " = " + prev);
          }
        }
      }
    }
  }

  /**
   * Evaluates the nodes of {@code graph} into {@code env}. Values not found in
   * {@code env} are looked up in {@code outer} (the enclosing scopes of a
   * sub-graph).
   */
  private void evaluate(Graph graph, Map<String, Tensor> env, Map<String, Tensor> outer,
      Map<String, Integer> opsets) {
    Map<String, Integer> lastUse = lastUses(graph);
    List<Node> nodes = graph.nodes();
    for (int k = 0; k < nodes.size(); k++) {
      Node node = nodes.get(k);
      OpDef def = registry.validate(node);
      List<Tensor> args = new ArrayList<>(node.inputs().size());
      for (String in : node.inputs()) {
        if (in.isEmpty()) {
          args.add(null);
          continue;
        }
        Tensor t = env.containsKey(in) ? env.get(in) : outer.get(in);
        if (t == null) {
          throw new ModelException(node.describe() + ": input '" + in + "' is not defined before the node");
        }
        args.add(t);
      }
      Map<String, Tensor> scope = scopeFor(node, env, outer);
      EvalContext ctx = new EvalContext(node, def, opsets.getOrDefault(node.domain(), 1), args,
          (body, bindings) -> runSubgraph(body, bindings, scope, opsets));
      List<Tensor> results;
      try {
        results = def.kernel().eval(ctx);
      } catch (ModelException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new ModelException(node.describe() + ": reference evaluation failed: " + e, e);
      }
      if (results.size() < countNonEmpty(node.outputs())) {
        throw new ModelException(node.describe() + ": produced " + results.size() + " outputs, node declares "
            + node.outputs().size());
      }
      for (int i = 0; i < node.outputs().size(); i++) {
        String o = node.outputs().get(i);
        if (!o.isEmpty() && i < results.size()) {
          env.put(o, results.get(i));
        }
      }
      for (String in : node.inputs()) {
        Integer last = lastUse.get(in);
        if (last != null && last == k) {
          env.remove(in);
        }
      }
    }
  }

  private static int countNonEmpty(List<String> names) {
    int n = 0;
    for (int i = 0; i < names.size(); i++) {
      if (!names.get(i).isEmpty()) {
        n = i + 1;
      }
    }
    return n;
  }

  private static Map<String, Tensor> scopeFor(Node node, Map<String, Tensor> env, Map<String, Tensor> outer) {
    if (node.subgraphs().isEmpty()) {
      return Map.of();
    }
    Map<String, Tensor> scope = new HashMap<>(outer);
    scope.putAll(env);
    return scope;
  }

  private List<Tensor> runSubgraph(Graph body, Map<String, Tensor> bindings, Map<String, Tensor> scope,
      Map<String, Integer> opsets) {
    Map<String, Tensor> env = new HashMap<>(body.constants());
    env.putAll(bindings);
    Map<String, Integer> merged = new HashMap<>(opsets);
    merged.putAll(body.opsets());
    evaluate(body, env, scope, merged);
    List<Tensor> out = new ArrayList<>();
    for (ValueInfo o : body.outputs()) {
      Tensor t = env.containsKey(o.name()) ? env.get(o.name()) : scope.get(o.name());
      if (t == null) {
        throw new ModelException("sub-graph '" + body.name() + "': output '" + o.name() + "' is never computed");
      }
      out.add(t);
    }
    return out;
  }

  /** The index of the last node reading each value; graph outputs are never released. */
  private static Map<String, Integer> lastUses(Graph graph) {
    Map<String, Integer> last = new HashMap<>();
    List<Node> nodes = graph.nodes();
    for (int k = 0; k < nodes.size(); k++) {
      for (String in : nodes.get(k).inputs()) {
        if (!in.isEmpty()) {
          last.put(in, k);
        }
      }
      // A sub-graph may read any enclosing value: keep everything alive across it.
      for (Graph g : nodes.get(k).subgraphs()) {
        for (String v : OuterReads.of(g)) {
          last.put(v, k);
        }
      }
    }
    for (ValueInfo o : graph.outputs()) {
      last.remove(o.name());
    }
    return last;
  }
}
