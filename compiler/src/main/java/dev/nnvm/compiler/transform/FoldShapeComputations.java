package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
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
 * <p>How it works. A forward sweep tracks, for small integer tensors, what
 * each element is: a known number, a symbolic dimension of some tensor
 * ({@code N}), or unknown. {@code Shape} reads its input's type; Gather,
 * Slice, Unsqueeze, Squeeze, Concat, Cast and Identity move elements around;
 * elementwise integer arithmetic computes on known numbers. Then:
 * <ul>
 *   <li>a value whose elements are all known numbers becomes a constant;</li>
 *   <li>the shape input of a {@code Reshape} whose elements are known up to
 *       symbols becomes a constant that says "copy this dimension" (0) where
 *       the element is the input's dimension at the same position, and
 *       "infer" (-1) for at most one other element.</li>
 * </ul>
 * The chains left without readers are removed by dead-code elimination.
 */
public final class FoldShapeComputations implements Pass {
  public static final FoldShapeComputations INSTANCE = new FoldShapeComputations();

  /** Only integer tensors up to this many elements are tracked. */
  private static final int MAX_TRACKED = 64;

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
  public Set<String> requires() {
    return Set.of(TYPES);
  }

  /** The rewritten graph is re-typed before it is returned. */
  @Override
  public boolean preservesProperties() {
    return true;
  }

  /** What one element of a tracked integer tensor is. */
  private static final class Elem {
    static final Elem UNKNOWN = new Elem(0, null, true);
    final long value;
    final String symbol;
    final boolean unknown;

    private Elem(long value, String symbol, boolean unknown) {
      this.value = value;
      this.symbol = symbol;
      this.unknown = unknown;
    }

    static Elem of(long v) {
      return new Elem(v, null, false);
    }

    static Elem of(Dim d) {
      if (d.isStatic()) {
        return of(d.value());
      }
      return d.isSymbolic() ? new Elem(0, d.symbol(), false) : UNKNOWN;
    }

    boolean isNumber() {
      return !unknown && symbol == null;
    }

    boolean sameAs(Dim d) {
      return !unknown && (symbol != null ? d.isSymbolic() && d.symbol().equals(symbol)
          : d.isStatic() && d.value() == value);
    }
  }

  /** A tracked tensor: rank 0 or 1, with its elements. */
  private static final class Track {
    final boolean scalar;
    final List<Elem> elems;

    Track(boolean scalar, List<Elem> elems) {
      this.scalar = scalar;
      this.elems = elems;
    }

    boolean allNumbers() {
      return elems.stream().allMatch(Elem::isNumber);
    }
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    Map<String, Track> tracks = new HashMap<>();
    for (Map.Entry<String, Tensor> c : graph.constants().entrySet()) {
      Tensor t = c.getValue();
      if ((t.dtype() == DType.INT64 || t.dtype() == DType.INT32) && t.rank() <= 1 && t.size() <= MAX_TRACKED) {
        List<Elem> e = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
          e.add(Elem.of(t.getLong(i)));
        }
        tracks.put(c.getKey(), new Track(t.rank() == 0, e));
      }
    }
    for (Node n : graph.nodes()) {
      if (n.domain().isEmpty() && n.outputs().size() >= 1) {
        Track t = propagate(n, tracks, graph);
        if (t != null && t.elems.size() <= MAX_TRACKED) {
          tracks.put(n.output(0), t);
        }
      }
    }
    Set<String> outputs = new HashSet<>();
    for (ValueInfo o : graph.outputs()) {
      outputs.add(o.name());
    }
    Map<String, Tensor> constants = new LinkedHashMap<>(graph.constants());
    Set<String> names = new HashSet<>(constants.keySet());
    graph.nodes().forEach(n -> names.addAll(n.outputs()));
    List<Node> out = new ArrayList<>();
    boolean changed = false;
    for (Node n : graph.nodes()) {
      String o = n.outputs().isEmpty() ? "" : n.output(0);
      Track t = tracks.get(o);
      if (n.outputs().size() == 1 && t != null && t.allNumbers() && !constants.containsKey(o)) {
        TensorType type = graph.typeOf(o).orElse(null);
        if (type != null && (type.dtype() == DType.INT64 || type.dtype() == DType.INT32)) {
          long[] v = t.elems.stream().mapToLong(e -> e.value).toArray();
          constants.put(o, Tensor.ofLongs(type.dtype(), t.scalar ? new long[0] : new long[] {v.length}, v));
          changed = true;
          continue;
        }
      }
      if (n.domain().isEmpty() && n.opType().equals("Reshape") && n.hasInput(1)
          && !constants.containsKey(n.input(1))) {
        Tensor shape = symbolicReshapeShape(n, tracks.get(n.input(1)), graph);
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
    return new dev.nnvm.compiler.analysis.TypeInference(ctx.registry()).apply(rewritten);
  }

  private static Tensor symbolicReshapeShape(Node n, Track t, Graph g) {
    if (t == null || t.scalar) {
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
    long[] out = new long[t.elems.size()];
    int inferred = 0;
    for (int i = 0; i < out.length; i++) {
      Elem e = t.elems.get(i);
      if (e.isNumber()) {
        if (e.value == 0) {
          return null;
        }
        out[i] = e.value;
      } else if (i < in.shape().rank() && e.sameAs(in.shape().dim(i))) {
        out[i] = 0;
      } else {
        out[i] = -1;
        inferred++;
      }
    }
    return inferred <= 1 ? Tensor.vector(out) : null;
  }

  private static Track propagate(Node n, Map<String, Track> tracks, Graph g) {
    switch (n.opType()) {
      case "Shape": {
        TensorType t = g.typeOf(n.input(0)).orElse(null);
        if (t == null || !t.shape().hasRank()) {
          return null;
        }
        int rank = t.shape().rank();
        int start = clampAxis(attrInt(n, "start", 0), rank);
        int end = clampAxis(attrInt(n, "end", rank), rank);
        List<Elem> e = new ArrayList<>();
        for (int i = start; i < end; i++) {
          e.add(Elem.of(t.shape().dim(i)));
        }
        return new Track(false, e);
      }
      case "Identity":
      case "Cast":
        return tracks.get(n.input(0));
      case "Gather": {
        Track data = tracks.get(n.input(0));
        Track idx = tracks.get(n.input(1));
        if (data == null || idx == null || data.scalar || attrInt(n, "axis", 0) != 0 || !idx.allNumbers()) {
          return null;
        }
        List<Elem> e = new ArrayList<>();
        for (Elem i : idx.elems) {
          long k = i.value < 0 ? i.value + data.elems.size() : i.value;
          if (k < 0 || k >= data.elems.size()) {
            return null;
          }
          e.add(data.elems.get((int) k));
        }
        return new Track(idx.scalar, e);
      }
      case "Unsqueeze": {
        Track x = tracks.get(n.input(0));
        return x != null && x.scalar ? new Track(false, x.elems) : null;
      }
      case "Squeeze": {
        Track x = tracks.get(n.input(0));
        return x != null && !x.scalar && x.elems.size() == 1 ? new Track(true, x.elems) : null;
      }
      case "Concat": {
        List<Elem> e = new ArrayList<>();
        for (String in : n.inputs()) {
          Track x = tracks.get(in);
          if (x == null || x.scalar) {
            return null;
          }
          e.addAll(x.elems);
        }
        return new Track(false, e);
      }
      case "Slice":
        return slice(n, tracks);
      case "Add": case "Sub": case "Mul": case "Div":
        return arithmetic(n, tracks);
      default:
        return null;
    }
  }

  private static Track slice(Node n, Map<String, Track> tracks) {
    Track x = tracks.get(n.input(0));
    if (x == null || x.scalar) {
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
      Track s = tracks.get(n.input(1));
      Track e = tracks.get(n.input(2));
      if (s == null || e == null || !s.allNumbers() || !e.allNumbers() || s.elems.size() != 1) {
        return null;
      }
      if (n.hasInput(3)) {
        Track a = tracks.get(n.input(3));
        if (a == null || !a.allNumbers() || a.elems.get(0).value != 0 && a.elems.get(0).value != -1) {
          return null;
        }
      }
      if (n.hasInput(4)) {
        Track st = tracks.get(n.input(4));
        if (st == null || !st.allNumbers()) {
          return null;
        }
        step = st.elems.get(0).value;
      }
      start = s.elems.get(0).value;
      end = e.elems.get(0).value;
    }
    if (step != 1) {
      return null;
    }
    int size = x.elems.size();
    int from = (int) Math.max(0, Math.min(size, start < 0 ? start + size : start));
    int to = (int) Math.max(0, Math.min(size, end < 0 ? end + size : end));
    return new Track(false, new ArrayList<>(x.elems.subList(from, Math.max(from, to))));
  }

  private static Track arithmetic(Node n, Map<String, Track> tracks) {
    Track a = tracks.get(n.input(0));
    Track b = tracks.get(n.input(1));
    if (a == null || b == null) {
      return null;
    }
    int size = Math.max(a.elems.size(), b.elems.size());
    if (a.elems.size() != size && a.elems.size() != 1 || b.elems.size() != size && b.elems.size() != 1) {
      return null;
    }
    List<Elem> e = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      Elem x = a.elems.get(a.elems.size() == 1 ? 0 : i);
      Elem y = b.elems.get(b.elems.size() == 1 ? 0 : i);
      e.add(combine(n.opType(), x, y));
    }
    return new Track(a.scalar && b.scalar, e);
  }

  private static Elem combine(String op, Elem x, Elem y) {
    if (x.isNumber() && y.isNumber()) {
      switch (op) {
        case "Add": return Elem.of(x.value + y.value);
        case "Sub": return Elem.of(x.value - y.value);
        case "Mul": return Elem.of(x.value * y.value);
        default: return y.value == 0 ? Elem.UNKNOWN : Elem.of(x.value / y.value);
      }
    }
    boolean yNeutral = y.isNumber() && (op.equals("Mul") || op.equals("Div") ? y.value == 1 : y.value == 0);
    if (yNeutral) {
      return x;
    }
    if (x.isNumber() && op.equals("Mul") && x.value == 1 || x.isNumber() && op.equals("Add") && x.value == 0) {
      return y;
    }
    return Elem.UNKNOWN;
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
