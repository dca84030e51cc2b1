package dev.nnvm.compiler.viz;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ops.NnvmOps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What both drawings show: one box per kernel (a plain node or a fused
 * group listing its operators), the graph inputs and outputs, and edges
 * labelled with the tensor types that flow along them. Boxes are placed in
 * layers by longest path from the inputs.
 */
final class GraphLayout {
  /** A box: a graph input, a kernel, or a graph output. */
  static final class Box {
    final int id;
    final String title;
    final List<String> lines;
    final String kind;
    int layer;
    int slot;

    Box(int id, String title, List<String> lines, String kind) {
      this.id = id;
      this.title = title;
      this.lines = lines;
      this.kind = kind;
    }
  }

  /** An edge carrying a value between boxes. */
  static final class Edge {
    final Box from;
    final Box to;
    final String label;

    Edge(Box from, Box to, String label) {
      this.from = from;
      this.to = to;
      this.label = label;
    }
  }

  final List<Box> boxes = new ArrayList<>();
  final List<Edge> edges = new ArrayList<>();
  final List<List<Box>> layers = new ArrayList<>();

  GraphLayout(Graph g) {
    Map<String, Box> producer = new HashMap<>();
    for (ValueInfo in : g.inputs()) {
      Box b = add("input " + in.name(), List.of(in.type().toString()), "input");
      producer.put(in.name(), b);
    }
    for (Node n : g.nodes()) {
      boolean fused = n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.FUSED);
      List<String> lines = new ArrayList<>();
      if (fused) {
        lines.add(n.attribute("pattern").asString().toLowerCase(java.util.Locale.ROOT));
        for (Node inner : n.attribute("body").asGraph().nodes()) {
          lines.add(inner.qualifiedOp());
        }
      }
      Box b = add(fused ? n.name() : n.qualifiedOp() + (n.name().isEmpty() ? "" : " " + n.name()), lines,
          fused ? "fused" : "node");
      for (String in : n.inputs()) {
        Box from = producer.get(in);
        if (from != null) {
          edges.add(new Edge(from, b, g.typeOf(in).map(Object::toString).orElse("?")));
        }
      }
      for (String o : n.outputs()) {
        producer.put(o, b);
      }
    }
    for (ValueInfo out : g.outputs()) {
      Box b = add("output " + out.name(), List.of(out.type().toString()), "output");
      Box from = producer.get(out.name());
      if (from != null) {
        edges.add(new Edge(from, b, out.type().toString()));
      }
    }
    for (Box b : boxes) {
      b.layer = 0;
    }
    for (Edge e : edges) {
      // Edges run forward in box order, so one pass in order gives longest paths.
      e.to.layer = Math.max(e.to.layer, e.from.layer + 1);
    }
    for (Box b : boxes) {
      while (layers.size() <= b.layer) {
        layers.add(new ArrayList<>());
      }
      b.slot = layers.get(b.layer).size();
      layers.get(b.layer).add(b);
    }
  }

  private Box add(String title, List<String> lines, String kind) {
    Box b = new Box(boxes.size(), title, lines, kind);
    boxes.add(b);
    return b;
  }
}
