package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Groups operators into kernels by their fusion pattern, as NNVM does, and
 * replaces each group of two or more nodes with one {@code nnvm.Fused} node
 * whose {@code body} attribute holds the group.
 *
 * <p>How it works. Every node starts in its own group; a group's kind is the
 * strongest pattern in it (OUT_ELEMWISE_FUSABLE > REDUCE > INJECTIVE >
 * BROADCAST > ELEMWISE). Sweeping the nodes in order, and repeating until
 * nothing changes, a producer group P is merged into a consumer group C when
 * <ol>
 *   <li>every value P produces that is read outside P is read only by nodes
 *       of C and is not a graph output (so a value with several consumers is
 *       materialized unless the diamond rejoins in C, and merging can never
 *       create a cycle between groups);
 *   <li>and the kinds allow it: injective-or-lighter chains fuse with each
 *       other; a REDUCE group absorbs injective-or-lighter producers; an
 *       OUT_ELEMWISE_FUSABLE (conv, matmul) or REDUCE producer absorbs a
 *       consumer group made only of ELEMWISE/BROADCAST nodes (bias,
 *       activation, residual add); a group never holds two of
 *       OUT_ELEMWISE_FUSABLE/REDUCE; OPAQUE never fuses.
 * </ol>
 * The body of a fused node reads the group's external values (graph inputs,
 * weights, other kernels' results) as its inputs, in first-use order, and
 * returns the values read outside the group or being graph outputs.
 */
public final class FuseOperators extends TypedPass {
  public static final FuseOperators INSTANCE = new FuseOperators();

  private FuseOperators() {}

  @Override
  public String name() {
    return "FuseOperators";
  }

  @Override
  public int minLevel() {
    return 1;
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    return new Fuser(graph, ctx).run();
  }

  /** The fusion pattern of a node: the registry's, or a fused node's recorded kind. */
  public static FusionPattern patternOf(Node n, PassContext ctx) {
    if (n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.FUSED)) {
      Attribute p = n.attribute("pattern");
      return p == null ? FusionPattern.OPAQUE : FusionPattern.valueOf(p.asString());
    }
    return ctx.registry().find(n.domain(), n.opType()).map(OpDef::pattern).orElse(FusionPattern.OPAQUE);
  }

  private static final class Fuser {
    private final Graph graph;
    private final PassContext ctx;
    private final List<Node> nodes;
    private final int[] parent;
    private final FusionPattern[] kind;
    private final boolean[] onlyElementwise;
    private final Map<String, Integer> producer = new HashMap<>();
    private final Map<String, List<Integer>> consumers = new HashMap<>();
    private final Set<String> graphOutputs = new HashSet<>();

    Fuser(Graph graph, PassContext ctx) {
      this.graph = graph;
      this.ctx = ctx;
      this.nodes = graph.nodes();
      int n = nodes.size();
      parent = new int[n];
      kind = new FusionPattern[n];
      onlyElementwise = new boolean[n];
      for (int i = 0; i < n; i++) {
        Node node = nodes.get(i);
        parent[i] = i;
        kind[i] = node.subgraphs().isEmpty() || isFused(node) ? patternOf(node, ctx) : FusionPattern.OPAQUE;
        onlyElementwise[i] = kind[i] == FusionPattern.ELEMWISE || kind[i] == FusionPattern.BROADCAST;
        for (String o : node.outputs()) {
          if (!o.isEmpty()) {
            producer.put(o, i);
          }
        }
        for (String in : node.inputs()) {
          if (!in.isEmpty()) {
            consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
          }
        }
        for (Graph sub : node.subgraphs()) {
          for (String v : dev.nnvm.compiler.analysis.OuterReads.of(sub)) {
            consumers.computeIfAbsent(v, k -> new ArrayList<>()).add(i);
          }
        }
      }
      for (ValueInfo o : graph.outputs()) {
        graphOutputs.add(o.name());
      }
    }

    private static boolean isFused(Node n) {
      return n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.FUSED);
    }

    int find(int i) {
      while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
      }
      return i;
    }

    Graph run() {
      boolean changed = true;
      while (changed) {
        changed = false;
        for (int i = 0; i < nodes.size(); i++) {
          changed |= tryMergeIntoConsumer(i);
        }
      }
      return rewrite();
    }

    /** Tries to merge node i's group into the single group that reads its results. */
    private boolean tryMergeIntoConsumer(int i) {
      int p = find(i);
      if (kind[p] == FusionPattern.OPAQUE) {
        return false;
      }
      Integer target = null;
      for (int k = 0; k < nodes.size(); k++) {
        if (find(k) != p) {
          continue;
        }
        for (String o : nodes.get(k).outputs()) {
          if (o.isEmpty()) {
            continue;
          }
          for (int c : consumers.getOrDefault(o, List.of())) {
            int cg = find(c);
            if (cg == p) {
              continue;
            }
            if (graphOutputs.contains(o)) {
              return false;
            }
            if (target == null) {
              target = cg;
            } else if (target != cg) {
              return false;
            }
          }
          if (graphOutputs.contains(o) && target == null) {
            return false;
          }
        }
      }
      if (target == null || !compatible(p, target)) {
        return false;
      }
      merge(p, target);
      return true;
    }

    private boolean compatible(int producerGroup, int consumerGroup) {
      FusionPattern pk = kind[producerGroup];
      FusionPattern ck = kind[consumerGroup];
      if (pk == FusionPattern.OPAQUE || ck == FusionPattern.OPAQUE) {
        return false;
      }
      boolean pLight = pk.compareTo(FusionPattern.INJECTIVE) <= 0;
      boolean cLight = ck.compareTo(FusionPattern.INJECTIVE) <= 0;
      if (pLight && cLight) {
        return true;
      }
      if (pLight && ck == FusionPattern.REDUCE) {
        return true;
      }
      boolean pMaster = pk == FusionPattern.OUT_ELEMWISE_FUSABLE || pk == FusionPattern.REDUCE;
      return pMaster && cLight && onlyElementwise[consumerGroup] && sameShapeEpilogue(producerGroup, consumerGroup);
    }

    /**
     * Whether an elementwise consumer group stays in the shape of the values
     * it reads from a reduction or matrix product: an epilogue computes one
     * output element per result element, so a consumer that broadcasts the
     * result to a larger shape (x - ReduceMax(x) in an expanded softmax)
     * must stay a kernel of its own.
     */
    private boolean sameShapeEpilogue(int producerGroup, int consumerGroup) {
      Set<Shape> read = new HashSet<>();
      Set<Shape> written = new HashSet<>();
      for (int k = 0; k < nodes.size(); k++) {
        int g = find(k);
        if (g != producerGroup && g != consumerGroup) {
          continue;
        }
        for (String o : nodes.get(k).outputs()) {
          if (o.isEmpty()) {
            continue;
          }
          Optional<TensorType> t = graph.typeOf(o);
          if (t.isEmpty()) {
            return false;
          }
          if (g == consumerGroup) {
            written.add(t.get().shape());
          } else if (consumers.getOrDefault(o, List.of()).stream().anyMatch(c -> find(c) == consumerGroup)) {
            read.add(t.get().shape());
          }
        }
      }
      return read.size() == 1 && read.containsAll(written);
    }

    private void merge(int producerGroup, int consumerGroup) {
      parent[producerGroup] = consumerGroup;
      FusionPattern a = kind[producerGroup];
      FusionPattern b = kind[consumerGroup];
      kind[consumerGroup] = a.compareTo(b) >= 0 ? a : b;
      onlyElementwise[consumerGroup] &= onlyElementwise[producerGroup];
    }

    private Graph rewrite() {
      Map<Integer, List<Integer>> members = new LinkedHashMap<>();
      for (int i = 0; i < nodes.size(); i++) {
        members.computeIfAbsent(find(i), k -> new ArrayList<>()).add(i);
      }
      if (members.size() == nodes.size()) {
        return graph;
      }
      // Emit each group where its last member stood: all its external inputs are defined by then,
      // and every reader of its results comes after it (a group's results are read only after its last node).
      Map<Integer, Integer> lastMember = new HashMap<>();
      members.forEach((g, list) -> lastMember.put(list.get(list.size() - 1), g));
      List<Node> out = new ArrayList<>();
      Set<String> names = new HashSet<>();
      nodes.forEach(n -> names.add(n.name()));
      int counter = 0;
      for (int i = 0; i < nodes.size(); i++) {
        Integer g = lastMember.get(i);
        if (g == null) {
          continue;
        }
        List<Integer> group = members.get(g);
        if (group.size() == 1) {
          out.add(nodes.get(group.get(0)));
        } else {
          out.add(fusedNode(group, kind[g], counter++, names));
        }
      }
      Set<String> defined = new HashSet<>();
      out.forEach(n -> defined.addAll(n.outputs()));
      Map<String, TensorType> types = new LinkedHashMap<>(graph.valueTypes());
      types.keySet().retainAll(defined);
      return graph.toBuilder().nodes(out).valueTypes(types).build();
    }

    private Node fusedNode(List<Integer> group, FusionPattern pattern, int index, Set<String> names) {
      Set<Integer> inGroup = new HashSet<>(group);
      Set<String> defined = new HashSet<>();
      LinkedHashSet<String> inputs = new LinkedHashSet<>();
      List<Node> body = new ArrayList<>();
      for (int i : group) {
        Node n = nodes.get(i);
        for (String in : n.inputs()) {
          if (!in.isEmpty() && !defined.contains(in)) {
            inputs.add(in);
          }
        }
        defined.addAll(n.outputs());
        body.add(n);
      }
      List<String> outputs = new ArrayList<>();
      for (int i : group) {
        for (String o : nodes.get(i).outputs()) {
          if (o.isEmpty()) {
            continue;
          }
          boolean external = graphOutputs.contains(o);
          for (int c : consumers.getOrDefault(o, List.of())) {
            external |= !inGroup.contains(c);
          }
          if (external) {
            outputs.add(o);
          }
        }
      }
      StringBuilder label = new StringBuilder("fused");
      for (int i : group) {
        label.append('_').append(nodes.get(i).opType().toLowerCase(Locale.ROOT));
        if (label.length() > 60) {
          break;
        }
      }
      String name = SimplifyInference.fresh(label + "_" + index, names);
      Graph.Builder b = Graph.builder(name).opsets(graph.opsets());
      for (String in : inputs) {
        b.input(in, typeOf(in));
      }
      b.nodes(body);
      for (String o : outputs) {
        b.output(o, typeOf(o));
      }
      for (Node n : body) {
        for (String o : n.outputs()) {
          TensorType t = graph.valueTypes().get(o);
          if (t != null && !outputs.contains(o)) {
            b.valueType(o, t);
          }
        }
      }
      Map<String, Attribute> attrs = new LinkedHashMap<>();
      attrs.put("body", Attribute.ofGraph(b.build()));
      attrs.put("pattern", Attribute.ofString(pattern.name()));
      return new Node(name, NnvmOps.FUSED, NnvmOps.DOMAIN, new ArrayList<>(inputs), outputs, attrs);
    }

    private TensorType typeOf(String value) {
      return graph.typeOf(value).orElseThrow(() -> new IllegalStateException(
          "FuseOperators needs the type of '" + value + "': run InferTypes first"));
    }
  }
}
