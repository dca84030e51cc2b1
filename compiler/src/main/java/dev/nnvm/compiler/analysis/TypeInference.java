package dev.nnvm.compiler.analysis;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Infers the type of every value from the graph inputs and constants, node by
 * node, through the registry's type rules. Small values computable from
 * constants alone are evaluated on the way, so rules that need a constant
 * input (Reshape's shape, Slice's starts) can see it.
 *
 * <p>Returns a new graph whose {@link Graph#valueTypes()} holds every
 * intermediate type; the input graph is unchanged.
 */
public final class TypeInference {
  /** Constant inputs up to this many elements are folded while inferring. */
  private static final int FOLD_LIMIT = 1 << 16;

  private final OpRegistry registry;

  public TypeInference(OpRegistry registry) {
    this.registry = registry;
  }

  public static Graph infer(Graph graph) {
    return new TypeInference(OpRegistry.standard()).apply(graph);
  }

  public Graph apply(Graph graph) {
    return apply(graph, Map.of(), Map.of());
  }

  /** Infers types with the types (and known values) of enclosing-scope values visible. */
  public Graph apply(Graph graph, Map<String, TensorType> outerTypes, Map<String, Tensor> outerValues) {
    Map<String, TensorType> types = new HashMap<>(outerTypes);
    Map<String, Tensor> known = new HashMap<>(outerValues);
    for (ValueInfo in : graph.inputs()) {
      types.put(in.name(), in.type());
    }
    for (Map.Entry<String, Tensor> c : graph.constants().entrySet()) {
      types.put(c.getKey(), c.getValue().type());
      if (c.getValue().size() <= FOLD_LIMIT) {
        known.put(c.getKey(), c.getValue());
      }
    }
    Map<String, ShapeValue> shapeValues = new HashMap<>();
    for (Map.Entry<String, Tensor> c : graph.constants().entrySet()) {
      ShapeValue v = ShapeValue.ofConstant(c.getValue());
      if (v != null) {
        shapeValues.put(c.getKey(), v);
      }
    }
    Map<String, TensorType> inferred = new java.util.LinkedHashMap<>();
    List<Node> nodes = new ArrayList<>();
    for (Node node : graph.nodes()) {
      OpDef def = registry.validate(node);
      List<TensorType> inTypes = new ArrayList<>();
      List<Tensor> inValues = new ArrayList<>();
      List<ShapeValue> inShapeValues = new ArrayList<>();
      boolean allKnown = true;
      for (String in : node.inputs()) {
        inShapeValues.add(in.isEmpty() ? null : shapeValues.get(in));
        if (in.isEmpty()) {
          inTypes.add(null);
          inValues.add(null);
          continue;
        }
        TensorType t = types.get(in);
        if (t == null) {
          throw new ModelException(node.describe() + ": input '" + in + "' is not defined before the node");
        }
        inTypes.add(t);
        Tensor v = known.get(in);
        inValues.add(v);
        allKnown &= v != null;
      }
      Node typedNode = inferSubgraphs(node, types, known);
      nodes.add(typedNode);
      int opset = graph.opset(node.domain(), 1);
      List<TensorType> outTypes;
      try {
        outTypes = def.typeRule().infer(new InferContext(typedNode, def, opset, inTypes, inValues, inShapeValues));
      } catch (ModelException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new ModelException(node.describe() + ": type inference failed: " + e, e);
      }
      for (int i = 0; i < node.outputs().size() && i < outTypes.size(); i++) {
        String o = node.outputs().get(i);
        if (!o.isEmpty() && outTypes.get(i) != null) {
          types.put(o, outTypes.get(i));
          inferred.put(o, outTypes.get(i));
        }
      }
      if (allKnown && node.subgraphs().isEmpty() && !node.outputs().isEmpty() && def.isDeterministic()) {
        foldSmall(graph, typedNode, known);
      }
      ShapeValue sv = ShapeValuePropagation.propagate(node, shapeValues::get, types::get);
      if (sv != null) {
        shapeValues.put(node.output(0), sv);
      }
      for (String o : node.outputs()) {
        Tensor v = known.get(o);
        ShapeValue cv = v == null ? null : ShapeValue.ofConstant(v);
        if (cv != null) {
          shapeValues.put(o, cv);
        }
      }
    }
    return graph.toBuilder().nodes(nodes).valueTypes(inferred).build();
  }

  private Node inferSubgraphs(Node node, Map<String, TensorType> types, Map<String, Tensor> known) {
    if (node.subgraphs().isEmpty()) {
      return node;
    }
    Map<String, dev.nnvm.compiler.ir.Attribute> attrs = new java.util.LinkedHashMap<>(node.attributes());
    for (Map.Entry<String, dev.nnvm.compiler.ir.Attribute> e : attrs.entrySet()) {
      if (e.getValue().kind() == dev.nnvm.compiler.ir.Attribute.Kind.GRAPH) {
        e.setValue(dev.nnvm.compiler.ir.Attribute.ofGraph(apply(e.getValue().asGraph(), types, known)));
      }
    }
    return node.withAttributes(attrs);
  }

  private void foldSmall(Graph graph, Node node, Map<String, Tensor> known) {
    Graph.Builder one = Graph.builder("fold").opsets(graph.opsets());
    for (String in : node.inputs()) {
      if (!in.isEmpty()) {
        one.constant(in, known.get(in));
      }
    }
    one.node(node);
    for (String o : node.outputs()) {
      if (!o.isEmpty()) {
        one.output(o, dev.nnvm.compiler.ir.TensorType.unknownShape(dev.nnvm.runtime.DType.FLOAT32));
      }
    }
    try {
      Map<String, Tensor> values = new ReferenceEvaluator(registry).run(one.build(), Map.of());
      for (Map.Entry<String, Tensor> e : values.entrySet()) {
        if (e.getValue() != null && e.getValue().size() <= FOLD_LIMIT) {
          known.put(e.getKey(), e.getValue());
        }
      }
    } catch (ModelException e) {
      // Not foldable here (for example a random generator); the value stays unknown.
    }
  }
}
