package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Rewrites {@code Split} with known part sizes into one {@code Slice} per
 * output before the CPU compiler optimizes the graph: the loop code generator
 * writes one output per kernel, and slices are injective, so they also fuse
 * into their consumers. Sizes come from the {@code split} attribute, a
 * constant {@code split} input, or equal parts of a static dimension (the
 * last part smaller when {@code num_outputs} does not divide it). A Split
 * whose sizes come from a run-time input is left as it is (the compiler then
 * says it cannot lower it), as is any Split in a graph older than opset 10,
 * whose Slice takes attributes.
 */
public final class SplitToSlices {
  private static final int SLICE_WITH_INPUTS = 10;

  private SplitToSlices() {}

  public static Graph apply(Graph graph) {
    if (graph.opset(Node.ONNX_DOMAIN, 0) < SLICE_WITH_INPUTS
        || graph.nodes().stream().noneMatch(SplitToSlices::isSplit)) {
      return graph;
    }
    Set<String> names = new HashSet<>(graph.constants().keySet());
    graph.inputs().forEach(v -> names.add(v.name()));
    graph.nodes().forEach(n -> names.addAll(n.outputs()));
    Graph typed = new TypeInference(OpRegistry.standard()).apply(graph);
    Graph.Builder b = graph.toBuilder();
    List<Node> nodes = new ArrayList<>();
    for (Node n : graph.nodes()) {
      long[] sizes = isSplit(n) ? sizes(n, typed) : null;
      if (sizes == null || sizes.length != n.outputs().size()) {
        nodes.add(n);
        continue;
      }
      Attribute axisAttr = n.attribute("axis");
      long axis = axisAttr == null ? 0 : axisAttr.asInt();
      String axes = SimplifyInference.fresh(n.name() + "_axes", names);
      b.constant(axes, Tensor.vector(axis));
      long start = 0;
      for (int i = 0; i < sizes.length; i++) {
        long end = start + sizes[i];
        String out = n.output(i);
        if (!out.isEmpty()) {
          String starts = SimplifyInference.fresh(n.name() + "_starts" + i, names);
          String ends = SimplifyInference.fresh(n.name() + "_ends" + i, names);
          b.constant(starts, Tensor.vector(start));
          b.constant(ends, Tensor.vector(end));
          String slice = SimplifyInference.fresh(n.name() + "_slice" + i, names);
          nodes.add(Node.of(slice, "Slice", List.of(n.input(0), starts, ends, axes), List.of(out)));
        }
        start = end;
      }
    }
    return b.nodes(nodes).build();
  }

  private static boolean isSplit(Node n) {
    return n.domain().equals(Node.ONNX_DOMAIN) && n.opType().equals("Split");
  }

  /** The part sizes, or null when they are known only at run time. */
  private static long[] sizes(Node n, Graph typed) {
    Attribute attr = n.attribute("split");
    if (attr != null) {
      return attr.asInts();
    }
    if (n.hasInput(1)) {
      Tensor t = typed.constants().get(n.input(1));
      return t == null ? null : t.toLongArray();
    }
    Shape shape = typed.typeOf(n.input(0)).map(TensorType::shape).orElse(null);
    if (shape == null || !shape.hasRank()) {
      return null;
    }
    Attribute axisAttr = n.attribute("axis");
    long axis = axisAttr == null ? 0 : axisAttr.asInt();
    axis = axis < 0 ? axis + shape.rank() : axis;
    if (axis < 0 || axis >= shape.rank() || !shape.dim((int) axis).isStatic()) {
      return null;
    }
    long dim = shape.dim((int) axis).value();
    int parts = n.outputs().size();
    long chunk = (dim + parts - 1) / parts;
    long[] sizes = new long[parts];
    for (int i = 0; i < parts; i++) {
      sizes[i] = Math.max(0, Math.min(chunk, dim - chunk * i));
    }
    return sizes;
  }
}
