package dev.nnvm.compiler.analysis;

import dev.nnvm.compiler.analysis.ShapeValue.Element;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Computes the {@link ShapeValue} of a node's first output from its inputs'
 * shape values and types, for the operators that move shape elements
 * around: Shape, Size-free index ops (Gather, Slice, Unsqueeze, Squeeze,
 * Concat), Cast, Identity, and integer arithmetic.
 */
public final class ShapeValuePropagation {
  private ShapeValuePropagation() {}

  /**
   * @param values the shape value of a value name, or null when unknown
   * @param types the type of a value name, or null when unknown
   * @return the output's shape value, or null when nothing is known
   */
  public static ShapeValue propagate(Node n, Function<String, ShapeValue> values, Function<String, TensorType> types) {
    if (!n.domain().isEmpty() || n.outputs().isEmpty()) {
      return null;
    }
    ShapeValue out = compute(n, values, types);
    return out != null && out.size() <= ShapeValue.MAX_ELEMENTS ? out : null;
  }

  private static ShapeValue compute(Node n, Function<String, ShapeValue> values, Function<String, TensorType> types) {
    switch (n.opType()) {
      case "Shape": {
        TensorType t = types.apply(n.input(0));
        if (t == null || !t.shape().hasRank()) {
          return null;
        }
        int rank = t.shape().rank();
        int start = clampAxis(attrInt(n, "start", 0), rank);
        int end = clampAxis(attrInt(n, "end", rank), rank);
        List<Element> e = new ArrayList<>();
        for (int i = start; i < end; i++) {
          e.add(Element.of(t.shape().dim(i)));
        }
        return new ShapeValue(false, e);
      }
      case "Identity":
      case "Cast":
        return values.apply(n.input(0));
      case "Gather": {
        ShapeValue data = values.apply(n.input(0));
        ShapeValue idx = values.apply(n.input(1));
        if (data == null || idx == null || data.isScalar() || attrInt(n, "axis", 0) != 0 || !idx.allNumbers()) {
          return null;
        }
        List<Element> e = new ArrayList<>();
        for (long i : idx.numbers()) {
          long k = i < 0 ? i + data.size() : i;
          if (k < 0 || k >= data.size()) {
            return null;
          }
          e.add(data.get((int) k));
        }
        return new ShapeValue(idx.isScalar(), e);
      }
      case "Unsqueeze": {
        ShapeValue x = values.apply(n.input(0));
        return x != null && x.isScalar() ? new ShapeValue(false, x.elements()) : null;
      }
      case "Squeeze": {
        ShapeValue x = values.apply(n.input(0));
        return x != null && !x.isScalar() && x.size() == 1 ? new ShapeValue(true, x.elements()) : null;
      }
      case "Concat": {
        List<Element> e = new ArrayList<>();
        for (String in : n.inputs()) {
          ShapeValue x = values.apply(in);
          if (x == null || x.isScalar()) {
            return null;
          }
          e.addAll(x.elements());
        }
        return new ShapeValue(false, e);
      }
      case "Slice":
        return slice(n, values);
      case "Add": case "Sub": case "Mul": case "Div":
        return arithmetic(n, values);
      default:
        return null;
    }
  }

  private static ShapeValue slice(Node n, Function<String, ShapeValue> values) {
    ShapeValue x = values.apply(n.input(0));
    if (x == null || x.isScalar()) {
      return null;
    }
    long start;
    long end;
    long step = 1;
    if (n.attribute("starts") != null) {
      long[] axes = n.attribute("axes") == null ? new long[] {0} : n.attribute("axes").asInts();
      if (axes.length != 1 || axes[0] != 0 && axes[0] != -1) {
        return null;
      }
      start = n.attribute("starts").asInts()[0];
      end = n.attribute("ends").asInts()[0];
    } else {
      ShapeValue s = values.apply(n.input(1));
      ShapeValue e = values.apply(n.input(2));
      if (s == null || e == null || !s.allNumbers() || !e.allNumbers() || s.size() != 1 || e.size() != 1) {
        return null;
      }
      if (n.hasInput(3)) {
        ShapeValue a = values.apply(n.input(3));
        if (a == null || !a.allNumbers() || a.numbers()[0] != 0 && a.numbers()[0] != -1) {
          return null;
        }
      }
      if (n.hasInput(4)) {
        ShapeValue st = values.apply(n.input(4));
        if (st == null || !st.allNumbers()) {
          return null;
        }
        step = st.numbers()[0];
      }
      start = s.numbers()[0];
      end = e.numbers()[0];
    }
    if (step != 1) {
      return null;
    }
    int size = x.size();
    int from = (int) Math.max(0, Math.min(size, start < 0 ? start + size : start));
    int to = (int) Math.max(0, Math.min(size, end < 0 ? end + size : end));
    return new ShapeValue(false, new ArrayList<>(x.elements().subList(from, Math.max(from, to))));
  }

  private static ShapeValue arithmetic(Node n, Function<String, ShapeValue> values) {
    ShapeValue a = values.apply(n.input(0));
    ShapeValue b = values.apply(n.input(1));
    if (a == null || b == null) {
      return null;
    }
    int size = Math.max(a.size(), b.size());
    if (a.size() != size && a.size() != 1 || b.size() != size && b.size() != 1) {
      return null;
    }
    List<Element> e = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      e.add(combine(n.opType(), a.get(a.size() == 1 ? 0 : i), b.get(b.size() == 1 ? 0 : i)));
    }
    return new ShapeValue(a.isScalar() && b.isScalar(), e);
  }

  private static Element combine(String op, Element x, Element y) {
    if (x.isNumber() && y.isNumber()) {
      long a = x.number();
      long b = y.number();
      switch (op) {
        case "Add": return Element.number(a + b);
        case "Sub": return Element.number(a - b);
        case "Mul": return Element.number(a * b);
        default: return b == 0 ? Element.unknown() : Element.number(a / b);
      }
    }
    boolean mulLike = op.equals("Mul") || op.equals("Div");
    if (y.isNumber() && y.number() == (mulLike ? 1 : 0)) {
      return x;
    }
    if (x.isNumber() && (op.equals("Mul") && x.number() == 1 || op.equals("Add") && x.number() == 0)) {
      return y;
    }
    return Element.unknown();
  }

  private static long attrInt(Node n, String name, long dflt) {
    Attribute a = n.attribute(name);
    return a == null ? dflt : a.asInt();
  }

  private static int clampAxis(long a, int rank) {
    long v = a < 0 ? a + rank : a;
    return (int) Math.max(0, Math.min(rank, v));
  }
}
