package dev.nnvm.compiler.analysis;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.ops.NnvmOps;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plans the workspace of a typed (usually fused) graph, as NNVM's
 * PlanMemory does, with static offsets: each node is one kernel, each
 * intermediate value gets a byte range.
 *
 * <p>How it works.
 * <ol>
 *   <li>Lifetimes come from node order: a value lives from its producer to
 *       its last reader (an output nothing reads still lives for its own
 *       kernel, which writes it).</li>
 *   <li>In place: an elementwise kernel's output takes over the buffer of an
 *       input of the same size that dies at that kernel, and so does a fused
 *       blocked convolution's over the residual it adds, when the code
 *       generator runs it on its direct kernel; the two share one buffer
 *       whose lifetime is the union.</li>
 *   <li>Buffers are grouped by the monomial of their size ({@code 1},
 *       {@code N*seq}, ...). In each group, largest first, a buffer goes to the
 *       lowest offset that does not overlap any already placed buffer whose
 *       lifetime intersects its own ("greedy by size"). Offsets are constants
 *       in units of the monomial, so one plan serves every binding.</li>
 * </ol>
 * The lower bound reported next to the plan is the largest total size of
 * buffers live across one kernel.
 */
public final class PlanMemory {
  private final OpRegistry registry;
  private final int directConvolutionBlock;

  public PlanMemory(OpRegistry registry) {
    this(registry, 0);
  }

  /**
   * @param directConvolutionBlock the channel block whose one-group, unit-dilation blocked convolutions the
   *     code generator runs on its direct convolution kernel (which may write over a residual), or 0
   */
  public PlanMemory(OpRegistry registry, int directConvolutionBlock) {
    this.registry = registry;
    this.directConvolutionBlock = directConvolutionBlock;
  }

  public static MemoryPlan plan(Graph typedGraph) {
    return new PlanMemory(OpRegistry.standard()).apply(typedGraph);
  }

  /** A plan for a code generator that runs blocked convolutions of {@code block} on its direct kernel. */
  public static MemoryPlan plan(Graph typedGraph, int directConvolutionBlock) {
    return new PlanMemory(OpRegistry.standard(), directConvolutionBlock).apply(typedGraph);
  }

  /** A set of values sharing bytes (several only when written in place). */
  private static final class Buffer {
    final SymbolicSize size;
    final List<String> values = new ArrayList<>();
    int start;
    int end;
    long offset;

    Buffer(SymbolicSize size, int start, int end) {
      this.size = size;
      this.start = start;
      this.end = end;
    }

    long alignedCoefficient() {
      return MemoryPlan.align(size.coefficient());
    }

    boolean overlaps(Buffer o) {
      return start <= o.end && o.start <= end;
    }
  }

  public MemoryPlan apply(Graph g) {
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
    Map<String, Integer> readers = new HashMap<>();
    nodes.forEach(x -> x.inputs().forEach(in -> readers.merge(in, 1, Integer::sum)));
    g.outputs().forEach(o -> readers.merge(o.name(), 1, Integer::sum));
    Map<String, Buffer> bufferOf = new LinkedHashMap<>();
    List<Buffer> buffers = new ArrayList<>();
    List<String> unplanned = new ArrayList<>();
    int inPlace = 0;
    for (int k = 0; k < nodes.size(); k++) {
      Node n = nodes.get(k);
      List<Buffer> dying = new ArrayList<>();
      for (String in : n.inputs()) {
        Buffer b = bufferOf.get(in);
        if (b != null && lastUse.getOrDefault(in, -1) == k && b.end == k && !dying.contains(b)) {
          dying.add(b);
        }
      }
      boolean elementwise = isElementwise(n);
      Set<String> residuals = elementwise ? Set.of() : blockedConvolutionResiduals(n, g, readers);
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
        int end = lastUse.getOrDefault(o, k);
        Buffer target = null;
        for (Buffer d : dying) {
          if (d.size.equals(size) && (elementwise || d.values.stream().anyMatch(residuals::contains))) {
            target = d;
            break;
          }
        }
        if (target != null) {
          dying.remove(target);
          target.end = Math.max(target.end, end);
          inPlace++;
        } else {
          target = new Buffer(size, k, end);
          buffers.add(target);
        }
        target.values.add(o);
        bufferOf.put(o, target);
      }
    }
    Map<Map<String, Integer>, List<Buffer>> groups = new LinkedHashMap<>();
    buffers.stream()
        .sorted(Comparator.comparing((Buffer b) -> !b.size.isStatic()))
        .forEach(b -> groups.computeIfAbsent(b.size.monomial(), m -> new ArrayList<>()).add(b));
    List<SymbolicSize> regions = new ArrayList<>();
    Map<String, MemoryPlan.Allocation> allocations = new LinkedHashMap<>();
    int region = 0;
    for (List<Buffer> group : groups.values()) {
      long extent = placeGreedyBySize(group);
      regions.add(group.get(0).size.withCoefficient(extent));
      for (Buffer b : group) {
        for (String v : b.values) {
          allocations.put(v, new MemoryPlan.Allocation(region, b.offset, b.size));
        }
      }
      region++;
    }
    List<List<SymbolicSize>> liveSets = new ArrayList<>();
    for (int k = 0; k < nodes.size(); k++) {
      List<SymbolicSize> live = new ArrayList<>();
      for (Buffer b : buffers) {
        if (b.start <= k && k <= b.end) {
          live.add(b.size);
        }
      }
      liveSets.add(live);
    }
    return new MemoryPlan(allocations, regions, liveSets, unplanned, inPlace);
  }

  /** Places buffers of one monomial group; returns the group's extent (coefficient). */
  private static long placeGreedyBySize(List<Buffer> group) {
    List<Buffer> order = new ArrayList<>(group);
    order.sort(Comparator.comparingLong(Buffer::alignedCoefficient).reversed()
        .thenComparingInt(b -> b.start));
    List<Buffer> placed = new ArrayList<>();
    long extent = 0;
    for (Buffer b : order) {
      List<Buffer> conflicts = new ArrayList<>();
      for (Buffer p : placed) {
        if (p.overlaps(b)) {
          conflicts.add(p);
        }
      }
      conflicts.sort(Comparator.comparingLong(p -> p.offset));
      long candidate = 0;
      long need = b.alignedCoefficient();
      for (Buffer p : conflicts) {
        if (candidate + need <= p.offset) {
          break;
        }
        candidate = Math.max(candidate, p.offset + p.alignedCoefficient());
      }
      b.offset = candidate;
      placed.add(b);
      extent = Math.max(extent, candidate + need);
    }
    return extent;
  }

  /**
   * The inputs a fused blocked convolution that runs on the direct convolution kernel
   * ({@code nnvm.ConvNCHWc} of {@link #directConvolutionBlock}, one group, unit dilations, with an Add
   * after it) adds to its result: it may write its output over them, as an elementwise kernel over its
   * input, because the kernel stores each output element right after it reads its residual element, once
   * (no K blocks writing partial sums). Loop forms may store the convolution before they add, so other
   * blocked convolutions never do. At batch 8 ResNet-50's residual tensors outgrow the L3 cache; written
   * in place, the stores find their lines already there.
   */
  private Set<String> blockedConvolutionResiduals(Node n, Graph g, Map<String, Integer> readers) {
    if (directConvolutionBlock == 0 || !n.domain().equals(NnvmOps.DOMAIN) || !n.opType().equals(NnvmOps.FUSED)) {
      return Set.of();
    }
    Graph body = n.attribute("body").asGraph();
    if (body.nodes().isEmpty() || !directConvolution(body.nodes().get(0))
        || body.inputs().size() != n.inputs().size()) {
      return Set.of();
    }
    // The group's value for each of its body's inputs.
    Map<String, String> outer = new HashMap<>();
    for (int i = 0; i < body.inputs().size(); i++) {
      outer.put(body.inputs().get(i).name(), n.input(i));
    }
    Node conv = body.nodes().get(0);
    // The kernel takes weights stored packed for it: a constant only this convolution reads.
    String weights = outer.get(conv.input(1));
    if (weights == null || !g.constants().containsKey(weights) || readers.getOrDefault(weights, 0) != 1) {
      return Set.of();
    }
    Set<String> out = new HashSet<>();
    for (Node x : body.nodes().subList(1, body.nodes().size())) {
      if (x.domain().isEmpty() && (x.opType().equals("Add") || x.opType().equals("Sum")) && x.inputs().size() == 2) {
        for (String in : x.inputs()) {
          if (outer.containsKey(in)) {
            out.add(outer.get(in));
          }
        }
      }
    }
    // Never the convolution's own operands (its image is read at other positions than it writes).
    conv.inputs().forEach(in -> out.remove(outer.get(in)));
    return out;
  }

  private boolean directConvolution(Node conv) {
    if (!conv.opType().equals("ConvNCHWc") || conv.attribute("block").asInt() != directConvolutionBlock
        || conv.attribute("weight_block_in").asInt() != directConvolutionBlock
        || conv.attribute("group") != null && conv.attribute("group").asInt() != 1) {
      return false;
    }
    if (conv.attribute("dilations") != null) {
      for (long d : conv.attribute("dilations").asInts()) {
        if (d != 1) {
          return false;
        }
      }
    }
    return true;
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
}
