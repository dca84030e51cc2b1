package dev.nnvm.compiler.viz;

import dev.nnvm.compiler.ir.Graph;

/** Writes a graph as Graphviz DOT: kernels as boxes (fused groups list their operators), types on edges. */
public final class DotWriter {
  private DotWriter() {}

  public static String toDot(Graph g) {
    GraphLayout layout = new GraphLayout(g);
    StringBuilder sb = new StringBuilder();
    sb.append("digraph \"").append(escape(g.name())).append("\" {\n");
    sb.append("  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\", fontsize=10];\n");
    sb.append("  edge [fontname=\"Helvetica\", fontsize=8];\n");
    for (GraphLayout.Box b : layout.boxes) {
      StringBuilder label = new StringBuilder(escape(b.title));
      for (String line : b.lines) {
        label.append("\\n").append(escape(line));
      }
      String style;
      switch (b.kind) {
        case "input": case "output": style = ", shape=ellipse, style=filled, fillcolor=\"#e8f0fe\""; break;
        case "fused": style = ", style=\"rounded,filled\", fillcolor=\"#fff4d6\", penwidth=2"; break;
        default: style = ""; break;
      }
      sb.append("  n").append(b.id).append(" [label=\"").append(label).append('"').append(style).append("];\n");
    }
    for (GraphLayout.Edge e : layout.edges) {
      sb.append("  n").append(e.from.id).append(" -> n").append(e.to.id).append(" [label=\"")
          .append(escape(e.label)).append("\"];\n");
    }
    return sb.append("}\n").toString();
  }

  static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
