package dev.nnvm.compiler.analysis;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.ValueInfo;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/** The values a sub-graph reads from its enclosing scopes (names it uses but does not define). */
public final class OuterReads {
  private OuterReads() {}

  public static Set<String> of(Graph g) {
    Set<String> defined = new HashSet<>(g.constants().keySet());
    for (ValueInfo v : g.inputs()) {
      defined.add(v.name());
    }
    Set<String> free = new LinkedHashSet<>();
    for (Node n : g.nodes()) {
      for (String in : n.inputs()) {
        if (!in.isEmpty() && !defined.contains(in)) {
          free.add(in);
        }
      }
      for (Graph sub : n.subgraphs()) {
        for (String v : of(sub)) {
          if (!defined.contains(v)) {
            free.add(v);
          }
        }
      }
      defined.addAll(n.outputs());
    }
    for (ValueInfo o : g.outputs()) {
      if (!defined.contains(o.name())) {
        free.add(o.name());
      }
    }
    return free;
  }
}
