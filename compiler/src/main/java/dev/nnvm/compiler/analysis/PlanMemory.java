package dev.nnvm.compiler.analysis;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.ops.NnvmOps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plans the workspace of a typed (usually fused) graph, as NNVM's
 * PlanMemory: each node is one kernel; each intermediate value gets a storage
 * slot.
 *
 * <p>How it works. Lifetimes come from node order: a value is live from its
 * producer to its last reader. Walking the nodes in order, an output first
 * tries to take over the slot of an input that dies at this node when the
 * kernel is elementwise (same element size and symbolic shape: in place);
 * otherwise it takes the free slot whose size fits best under a
 * representative binding of the symbols (the smallest that is large enough,
 * else the largest, which grows); otherwise a new slot. Slots are freed after
 * the last reader of their value. Sizes stay symbolic: a slot records every
 * size assigned to it and is as large as the largest under the actual
 * binding. An output nothing reads (an unused second result) still gets a
 * slot for the length of its kernel, since the kernel writes it.
 */
public final class PlanMemory {
  /** The binding used to compare symbolic sizes when choosing slots. */
  public static final long REPRESENTATIVE_SYMBOL_VALUE = 64;

  private final OpRegistry registry;

  public PlanMemory(OpRegistry registry) {
    this.registry = registry;
  }

  public static MemoryPlan plan(Graph typedGraph) {
    return new PlanMemory(OpRegistry.standard()).apply(typedGraph, Map.of());
  }

  /**
   * @param hints representative sizes of symbols (others count as
   *     {@link #REPRESENTATIVE_SYMBOL_VALUE}) for choosing between slots
   */
  public MemoryPlan apply(Graph g, Map<String, Long> hints) {
    Set<String> external = new HashSet<>(g.constants().keySet());
    for (ValueInfo v : g.inputs()) {
      external.add(v.name());
    }
    for (ValueInfo v : g.outputs()) {
      external.add(v.name());
    }
    List<Node> nodes = g.nodes();
    Map<String, Integer> lastUse = new HashMap<>();
    for (int k = 0; k < nodes.size(); k++) {
      for (String in : nodes.get(k).inputs()) {
        if (!in.isEmpty()) {
          lastUse.put(in, k);
        }
      }
      for (Graph sub : nodes.get(k).subgraphs()) {
        for (String v : OuterReads.of(sub)) {
          lastUse.put(v, k);
        }
      }
    }
    Map<String, Long> repr = new RepresentativeBinding(hints);
    Map<String, Integer> slotOf = new LinkedHashMap<>();
    Map<String, SymbolicSize> sizeOf = new HashMap<>();
    List<List<SymbolicSize>> slotSizes = new ArrayList<>();
    List<Integer> free = new ArrayList<>();
    List<String> unplanned = new ArrayList<>();
    List<List<SymbolicSize>> liveSets = new ArrayList<>();
    Set<String> live = new HashSet<>();
    int inPlace = 0;
    for (int k = 0; k < nodes.size(); k++) {
      Node n = nodes.get(k);
      List<String> dying = new ArrayList<>();
      for (String in : n.inputs()) {
        if (!in.isEmpty() && slotOf.containsKey(in) && lastUse.getOrDefault(in, -1) == k && !dying.contains(in)) {
          dying.add(in);
        }
      }
      boolean elementwise = isElementwise(n);
      for (String o : n.outputs()) {
        if (o.isEmpty() || external.contains(o)) {
          continue;
        }
        TensorType t = g.typeOf(o).orElse(null);
        SymbolicSize size = t == null ? null : SymbolicSize.of(t);
        if (size == null) {
          unplanned.add(o);
          continue;
        }
        Integer slot = null;
        if (elementwise) {
          for (String d : dying) {
            if (size.equals(sizeOf.get(d))) {
              slot = slotOf.get(d);
              dying.remove(d);
              inPlace++;
              break;
            }
          }
        }
        if (slot == null) {
          slot = bestFit(free, slotSizes, size, repr);
          if (slot != null) {
            free.remove(slot);
          } else {
            slot = slotSizes.size();
            slotSizes.add(new ArrayList<>());
          }
        }
        if (!slotSizes.get(slot).contains(size)) {
          slotSizes.get(slot).add(size);
        }
        slotOf.put(o, slot);
        sizeOf.put(o, size);
        live.add(o);
      }
      List<SymbolicSize> liveNow = new ArrayList<>();
      for (String v : live) {
        liveNow.add(sizeOf.get(v));
      }
      liveSets.add(liveNow);
      for (String d : dying) {
        free.add(slotOf.get(d));
      }
      for (String in : n.inputs()) {
        if (!in.isEmpty() && lastUse.getOrDefault(in, -1) == k) {
          live.remove(in);
        }
      }
      for (String o : n.outputs()) {
        if (live.contains(o) && !lastUse.containsKey(o)) {
          live.remove(o);
          free.add(slotOf.get(o));
        }
      }
    }
    return new MemoryPlan(slotOf, slotSizes, liveSets, unplanned, inPlace);
  }

  private boolean isElementwise(Node n) {
    FusionPattern p;
    if (n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.FUSED)) {
      p = FusionPattern.valueOf(n.attribute("pattern").asString());
    } else {
      p = registry.find(n.domain(), n.opType()).map(d -> d.pattern()).orElse(FusionPattern.OPAQUE);
    }
    return p == FusionPattern.ELEMWISE || p == FusionPattern.BROADCAST;
  }

  private static Integer bestFit(List<Integer> free, List<List<SymbolicSize>> slotSizes, SymbolicSize size,
      Map<String, Long> repr) {
    long want = size.evaluate(repr);
    Integer best = null;
    long bestSize = 0;
    Integer largest = null;
    long largestSize = -1;
    for (int s : free) {
      long have = 0;
      for (SymbolicSize x : slotSizes.get(s)) {
        have = Math.max(have, x.evaluate(repr));
      }
      if (have >= want && (best == null || have < bestSize)) {
        best = s;
        bestSize = have;
      }
      if (have > largestSize) {
        largest = s;
        largestSize = have;
      }
    }
    return best != null ? best : largest;
  }

  /** A binding that gives every symbol its hint or the representative value. */
  private static final class RepresentativeBinding extends HashMap<String, Long> {
    private static final long serialVersionUID = 1L;

    RepresentativeBinding(Map<String, Long> hints) {
      super(hints);
    }

    @Override
    public Long get(Object key) {
      Long v = super.get(key);
      return v != null ? v : REPRESENTATIVE_SYMBOL_VALUE;
    }
  }
}
