package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.analysis.MemoryPlan;
import dev.nnvm.compiler.analysis.PlanMemory;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ops.NnvmOps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Runs the standard pipeline and memory planning on a graph and summarizes
 * what they did: the entry point the command line and the code generators use.
 */
public final class Optimizer {
  private Optimizer() {}

  /** The outcome of one optimization. */
  public static final class Result {
    private final PassReport report;
    private final MemoryPlan plan;
    private final Map<String, Long> bindings;

    Result(PassReport report, MemoryPlan plan, Map<String, Long> bindings) {
      this.report = report;
      this.plan = plan;
      this.bindings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(bindings));
    }

    public Graph graph() {
      return report.graph();
    }

    public PassReport passes() {
      return report;
    }

    public MemoryPlan memory() {
      return plan;
    }

    /** The symbol binding the byte figures of {@link #summary()} use. */
    public Map<String, Long> bindings() {
      return bindings;
    }

    /** Kernels after fusion, by fused pattern ("fused:OUT_ELEMWISE_FUSABLE") or operator name. */
    public Map<String, Integer> kernelCounts() {
      Map<String, Integer> m = new TreeMap<>();
      for (Node n : graph().nodes()) {
        String key = isFused(n) ? "fused:" + n.attribute("pattern").asString() : n.qualifiedOp();
        m.merge(key, 1, Integer::sum);
      }
      return m;
    }

    /** Each fused group: its name, pattern and operators. */
    public List<String> fusedGroups() {
      List<String> out = new ArrayList<>();
      for (Node n : graph().nodes()) {
        if (isFused(n)) {
          List<String> ops = new ArrayList<>();
          n.attribute("body").asGraph().nodes().forEach(b -> ops.add(b.qualifiedOp()));
          out.add(n.name() + " [" + n.attribute("pattern").asString() + "]: " + String.join(" -> ", ops));
        }
      }
      return out;
    }

    public long fusedCount() {
      return graph().nodes().stream().filter(Optimizer::isFused).count();
    }

    public String summary() {
      StringBuilder sb = new StringBuilder();
      sb.append(String.format("nodes: %d before, %d kernels after (%d fused groups)%n",
          report.input().nodes().size(), graph().nodes().size(), fusedCount()));
      sb.append(String.format("constants: %d before, %d after%n", report.input().constants().size(),
          graph().constants().size()));
      long ws = plan.workspaceBytes(bindings);
      long lb = plan.lowerBoundBytes(bindings);
      sb.append(String.format("workspace at %s: %d bytes planned, lower bound %d bytes (%.1f%% over), "
          + "%d regions %s, %d values in place%s%n", bindings, ws, lb, lb == 0 ? 0.0 : 100.0 * (ws - lb) / lb,
          plan.regions().size(), plan.regions(),
          plan.inPlaceCount(), plan.unplanned().isEmpty() ? "" : ", unplanned: " + plan.unplanned()));
      sb.append("kernels:\n");
      kernelCounts().forEach((k, v) -> sb.append(String.format("  %-40s %d%n", k, v)));
      sb.append("passes:\n");
      for (PassReport.Step s : report.steps()) {
        sb.append("  ").append(s).append('\n');
      }
      return sb.toString();
    }
  }

  static boolean isFused(Node n) {
    return n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.FUSED);
  }

  /**
   * Optimizes at a level (0 to 3) with some passes disabled; the byte figures
   * use {@code bindings} for symbolic dimensions (missing symbols count as 1).
   */
  public static Result optimize(Graph graph, int level, List<String> disabled, Map<String, Long> bindings) {
    return optimize(graph, StandardPasses.pipeline(), level, disabled, bindings);
  }

  /** As above, with another pipeline (a target's own instances of the standard passes). */
  public static Result optimize(Graph graph, List<Pass> pipeline, int level, List<String> disabled,
      Map<String, Long> bindings) {
    return optimize(graph, pipeline, level, disabled, bindings, 0);
  }

  /**
   * As above, planning memory for a code generator that runs blocked convolutions of
   * {@code directConvolutionBlock} channels on its direct kernel (see {@link PlanMemory}; 0: none).
   */
  public static Result optimize(Graph graph, List<Pass> pipeline, int level, List<String> disabled,
      Map<String, Long> bindings, int directConvolutionBlock) {
    PassContext ctx = PassContext.standard();
    PassManager pm = PassManager.of(pipeline, level).disable(disabled.toArray(new String[0]));
    PassReport report = pm.run(graph, ctx);
    MemoryPlan plan = new PlanMemory(ctx.registry(), directConvolutionBlock).apply(report.graph());
    Map<String, Long> full = new LinkedHashMap<>(bindings);
    collectSymbols(report.graph(), full);
    return new Result(report, plan, full);
  }

  private static void collectSymbols(Graph g, Map<String, Long> bindings) {
    g.inputs().forEach(v -> {
      if (v.type().shape().hasRank()) {
        v.type().shape().dims().forEach(d -> {
          if (d.isSymbolic()) {
            bindings.putIfAbsent(d.symbol(), 1L);
          }
        });
      }
    });
    g.valueTypes().values().forEach(t -> {
      if (t.shape().hasRank()) {
        t.shape().dims().forEach(d -> {
          if (d.isSymbolic()) {
            bindings.putIfAbsent(d.symbol(), 1L);
          }
        });
      }
    });
  }
}
