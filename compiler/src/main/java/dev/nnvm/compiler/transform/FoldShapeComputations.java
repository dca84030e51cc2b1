package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.analysis.ShapeValue;
import dev.nnvm.compiler.analysis.ShapeValuePropagation;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds the shape arithmetic that exporters emit
 * ({@code Shape -> Gather -> Unsqueeze -> Concat -> Reshape}) into constants,
 * keeping symbolic batch and sequence dimensions symbolic.
 *
 * <p>How it works. A forward sweep computes each small integer tensor's
 * {@link ShapeValue} (its elements as numbers, symbolic dimensions or
 * unknown) with {@link ShapeValuePropagation}. Then:
 * <ul>
 *   <li>a value whose elements are all numbers becomes a constant;</li>
 *   <li>the shape input of a {@code Reshape} known up to symbols becomes a
 *       constant that says "copy this dimension" (0) where the element is
 *       the input's dimension at the same position, and "infer" (-1) for at
 *       most one other element.</li>
 * </ul>
 * The chains left without readers are removed by dead-code elimination.
 */
public final class FoldShapeComputations extends TypedPass {
  public static final FoldShapeComputations INSTANCE = new FoldShapeComputations();

  private FoldShapeComputations() {}

  @Override
  public String name() {
    return "FoldShapeComputations";
  }

  @Override
  public int minLevel() {
    return 1;
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    Map<String, ShapeValue> values = new HashMap<>();
    for (Map.Entry<String, Tensor> c : graph.constants().entrySet()) {
      ShapeValue v = ShapeValue.ofConstant(c.getValue());
      if (v != null) {
        values.put(c.getKey(), v);
      }
    }
    for (Node n : graph.nodes()) {
      ShapeValue v = ShapeValuePropagation.propagate(n, values::get, name -> graph.typeOf(name).orElse(null));
      if (v != null) {
        values.put(n.output(0), v);
      }
    }
    Map<String, Tensor> constants = new LinkedHashMap<>(graph.constants());
    Set<String> names = new HashSet<>(constants.keySet());
    graph.nodes().forEach(n -> names.addAll(n.outputs()));
    List<Node> out = new ArrayList<>();
    boolean changed = false;
    for (Node n : graph.nodes()) {
      String o = n.outputs().isEmpty() ? "" : n.output(0);
      ShapeValue v = values.get(o);
      if (n.outputs().size() == 1 && v != null && v.allNumbers() && !constants.containsKey(o)) {
        TensorType type = graph.typeOf(o).orElse(null);
        if (type != null && (type.dtype() == DType.INT64 || type.dtype() == DType.INT32)) {
          long[] numbers = v.numbers();
          constants.put(o, Tensor.ofLongs(type.dtype(), v.isScalar() ? new long[0] : new long[] {numbers.length},
              numbers));
          changed = true;
          continue;
        }
      }
      if (n.domain().isEmpty() && n.opType().equals("Reshape") && n.hasInput(1)
          && !constants.containsKey(n.input(1))) {
        Tensor shape = symbolicReshapeShape(n, values.get(n.input(1)), graph);
        if (shape != null) {
          String name = SimplifyInference.fresh(n.input(1) + "/folded", names);
          constants.put(name, shape);
          List<String> ins = new ArrayList<>(n.inputs());
          ins.set(1, name);
          out.add(n.withInputs(ins));
          changed = true;
          continue;
        }
      }
      out.add(n);
    }
    if (!changed) {
      return graph;
    }
    Map<String, TensorType> types = new LinkedHashMap<>(graph.valueTypes());
    types.keySet().removeAll(constants.keySet());
    Graph rewritten = graph.toBuilder().nodes(out).constants(constants).valueTypes(types).build();
    return retype(rewritten, ctx);
  }

  private static Tensor symbolicReshapeShape(Node n, ShapeValue v, Graph g) {
    if (v == null || v.isScalar()) {
      return null;
    }
    Attribute allowZero = n.attribute("allowzero");
    if (allowZero != null && allowZero.asInt() != 0) {
      return null;
    }
    TensorType in = g.typeOf(n.input(0)).orElse(null);
    if (in == null || !in.shape().hasRank()) {
      return null;
    }
    long[] out = new long[v.size()];
    int inferred = 0;
    for (int i = 0; i < out.length; i++) {
      ShapeValue.Element e = v.get(i);
      if (e.isNumber() && e.number() != 0) {
        out[i] = e.number();
        inferred += e.number() == -1 ? 1 : 0;
      } else if (!e.isNumber() && i < in.shape().rank() && e.sameAs(in.shape().dim(i))) {
        out[i] = 0;
      } else if (e.isNumber()) {
        return null;
      } else {
        out[i] = -1;
        inferred++;
      }
    }
    return inferred <= 1 ? Tensor.vector(out) : null;
  }
}
