package dev.nnvm.compiler.text;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Prints a graph in its text form, which {@link GraphParser} reads back to an
 * equal graph:
 *
 * <pre>
 * graph main(%x: f32[N, 3, 224, 224]) -&gt; (%y: f32[N, 1000]) opset(ai.onnx=17) {
 *   const %w: f32[64, 3, 7, 7] = dense&lt;[0.5, ...]&gt;
 *   %c = Conv(%x, %w) {name = "conv1", strides = [2, 2]} : f32[N, 64, 112, 112]
 *   type %v: f32[N]
 *   return %y
 * }
 * </pre>
 *
 * <p>Values are {@code %name} (quoted when not made of letters, digits,
 * {@code _ . /}); {@code _} is an omitted optional input or unused output.
 * The node name is the key {@code name} of the attribute dictionary; an
 * attribute that is itself called "name" prints with a quoted key. The type
 * after a node is its outputs' entries in {@link Graph#valueTypes()}
 * ({@code _} for an output without one); {@code type} lines carry the other
 * entries. Floats print as the shortest decimal that parses back to the same
 * bits ({@code nan}, {@code inf}, {@code nan(0x7fc00001)} for other NaNs).
 * Empty lists carry their kind ({@code ints[]}). A sub-graph omits its opset
 * clause when it has the enclosing graph's opsets.
 *
 * <p>{@link #eliding(int)} shortens large constants to {@code dense<elided>}
 * for display; such text does not parse back.
 */
public final class GraphPrinter {
  private static final GraphPrinter FULL = new GraphPrinter(Integer.MAX_VALUE);
  private static final String INDENT = "  ";

  private final int elideAbove;

  private GraphPrinter(int elideAbove) {
    this.elideAbove = elideAbove;
  }

  /** A printer that writes all constant data (the exact, parseable form). */
  public static GraphPrinter full() {
    return FULL;
  }

  /** A printer for display that elides tensors with more than {@code maxElements} elements. */
  public static GraphPrinter eliding(int maxElements) {
    if (maxElements < 0) {
      throw new IllegalArgumentException("maxElements must be >= 0, got " + maxElements);
    }
    return new GraphPrinter(maxElements);
  }

  /** The exact text form of a graph. */
  public static String print(Graph graph) {
    return FULL.toText(graph);
  }

  public String toText(Graph graph) {
    StringBuilder sb = new StringBuilder();
    graph(sb, graph, null, "");
    return sb.append('\n').toString();
  }

  private void graph(StringBuilder sb, Graph g, Map<String, Integer> enclosingOpsets, String indent) {
    sb.append("graph ").append(Syntax.word(g.name())).append('(');
    valueInfos(sb, g.inputs());
    sb.append(") -> (");
    valueInfos(sb, g.outputs());
    sb.append(')');
    if (enclosingOpsets == null ? !g.opsets().isEmpty() : !enclosingOpsets.equals(g.opsets())) {
      sb.append(" opset(");
      String sep = "";
      for (Map.Entry<String, Integer> e : g.opsets().entrySet()) {
        sb.append(sep).append(Syntax.word(e.getKey().isEmpty() ? "ai.onnx" : e.getKey())).append('=')
            .append(e.getValue());
        sep = ", ";
      }
      sb.append(')');
    }
    sb.append(" {\n");
    String inner = indent + INDENT;
    for (Map.Entry<String, Tensor> c : g.constants().entrySet()) {
      sb.append(inner).append("const ").append(Syntax.value(c.getKey())).append(": ").append(type(c.getValue().type()))
          .append(" = ");
      denseData(sb, c.getValue());
      sb.append('\n');
    }
    Set<String> typed = new HashSet<>();
    for (Node n : g.nodes()) {
      sb.append(inner);
      node(sb, n, g, typed, inner);
      sb.append('\n');
    }
    for (Map.Entry<String, TensorType> e : g.valueTypes().entrySet()) {
      if (!typed.contains(e.getKey())) {
        sb.append(inner).append("type ").append(Syntax.value(e.getKey())).append(": ").append(type(e.getValue()))
            .append('\n');
      }
    }
    sb.append(inner).append("return");
    String sep = " ";
    for (ValueInfo o : g.outputs()) {
      sb.append(sep).append(Syntax.value(o.name()));
      sep = ", ";
    }
    sb.append('\n').append(indent).append('}');
  }

  private static void valueInfos(StringBuilder sb, List<ValueInfo> values) {
    String sep = "";
    for (ValueInfo v : values) {
      sb.append(sep).append(Syntax.value(v.name())).append(": ").append(type(v.type()));
      sep = ", ";
    }
  }

  private void node(StringBuilder sb, Node n, Graph g, Set<String> typed, String indent) {
    if (n.outputs().isEmpty()) {
      sb.append("()");
    }
    String sep = "";
    for (String o : n.outputs()) {
      sb.append(sep).append(o.isEmpty() ? "_" : Syntax.value(o));
      sep = ", ";
    }
    sb.append(" = ");
    if (n.domain().isEmpty() && Syntax.OP_TYPE.matcher(n.opType()).matches()) {
      sb.append(n.opType());
    } else if (Syntax.WORD.matcher(n.domain()).matches() && Syntax.OP_TYPE.matcher(n.opType()).matches()) {
      sb.append(n.domain()).append('.').append(n.opType());
    } else {
      sb.append(Syntax.quote(n.domain())).append("::").append(Syntax.quote(n.opType()));
    }
    sb.append('(');
    sep = "";
    for (String in : n.inputs()) {
      sb.append(sep).append(in.isEmpty() ? "_" : Syntax.value(in));
      sep = ", ";
    }
    sb.append(')');
    if (!n.name().isEmpty() || !n.attributes().isEmpty()) {
      sb.append(" {");
      sep = "";
      if (!n.name().isEmpty()) {
        sb.append("name = ").append(Syntax.quote(n.name()));
        sep = ", ";
      }
      for (Map.Entry<String, Attribute> a : n.attributes().entrySet()) {
        String key = a.getKey();
        sb.append(sep).append(key.equals("name") ? Syntax.quote(key) : Syntax.word(key)).append(" = ");
        attribute(sb, a.getValue(), g, indent);
        sep = ", ";
      }
      sb.append('}');
    }
    List<String> types = new ArrayList<>();
    boolean any = false;
    for (String o : n.outputs()) {
      TensorType t = o.isEmpty() || typed.contains(o) ? null : g.valueTypes().get(o);
      if (t != null) {
        typed.add(o);
        any = true;
      }
      types.add(t == null ? "_" : type(t));
    }
    if (any) {
      sb.append(" : ");
      sb.append(types.size() == 1 ? types.get(0) : "(" + String.join(", ", types) + ")");
    }
  }

  private void attribute(StringBuilder sb, Attribute a, Graph g, String indent) {
    switch (a.kind()) {
      case FLOAT: sb.append(Syntax.formatFloat(a.asFloat())); break;
      case INT: sb.append(a.asInt()); break;
      case STRING: sb.append(Syntax.quote(a.asString())); break;
      case TENSOR: tensor(sb, a.asTensor()); break;
      case GRAPH: graph(sb, a.asGraph(), g.opsets(), indent); break;
      case FLOATS: {
        List<String> items = new ArrayList<>();
        for (float f : a.asFloats()) {
          items.add(Syntax.formatFloat(f));
        }
        list(sb, "floats", items);
        break;
      }
      case INTS: {
        List<String> items = new ArrayList<>();
        for (long v : a.asInts()) {
          items.add(Long.toString(v));
        }
        list(sb, "ints", items);
        break;
      }
      case STRINGS: {
        List<String> items = new ArrayList<>();
        for (String s : a.asStrings()) {
          items.add(Syntax.quote(s));
        }
        list(sb, "strings", items);
        break;
      }
      case TENSORS: {
        List<String> items = new ArrayList<>();
        for (Tensor t : a.asTensors()) {
          StringBuilder one = new StringBuilder();
          tensor(one, t);
          items.add(one.toString());
        }
        list(sb, "tensors", items);
        break;
      }
      case GRAPHS: {
        List<String> items = new ArrayList<>();
        for (Graph sub : a.asGraphs()) {
          StringBuilder one = new StringBuilder();
          graph(one, sub, g.opsets(), indent);
          items.add(one.toString());
        }
        list(sb, "graphs", items);
        break;
      }
      default:
        throw new IllegalStateException("unknown attribute kind " + a.kind());
    }
  }

  private static void list(StringBuilder sb, String kind, List<String> items) {
    if (items.isEmpty()) {
      sb.append(kind).append("[]");
    } else {
      sb.append('[').append(String.join(", ", items)).append(']');
    }
  }

  private void tensor(StringBuilder sb, Tensor t) {
    denseData(sb, t);
    sb.append(" : ").append(type(t.type()));
  }

  private void denseData(StringBuilder sb, Tensor t) {
    if (t.size() > elideAbove) {
      sb.append("dense<elided>");
      return;
    }
    sb.append("dense<[");
    for (int i = 0; i < t.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(element(t, i));
    }
    sb.append("]>");
  }

  private static String element(Tensor t, int i) {
    DType d = t.dtype();
    switch (d) {
      case FLOAT32: case FLOAT16: case BFLOAT16: return Syntax.formatFloat(t.floats()[i]);
      case FLOAT64: return Syntax.formatDouble(t.doubles()[i]);
      case BOOL: return Boolean.toString(t.bools()[i]);
      case STRING: return Syntax.quote(t.strings()[i]);
      case UINT64: return Long.toUnsignedString(t.longs()[i]);
      default: return Long.toString(t.longs()[i]);
    }
  }

  /** A type as written: {@code f32[N, 3]}, {@code f32?} for an unknown rank; odd symbols quoted. */
  static String type(TensorType t) {
    Shape s = t.shape();
    if (!s.hasRank()) {
      return t.dtype().shortName() + "?";
    }
    StringBuilder sb = new StringBuilder(t.dtype().shortName()).append('[');
    for (int i = 0; i < s.rank(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      Dim d = s.dim(i);
      sb.append(d.isStatic() ? Long.toString(d.value()) : d.isSymbolic() ? Syntax.word(d.symbol()) : "?");
    }
    return sb.append(']').toString();
  }
}
