package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Graph;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Runs passes in order at an optimization level, as NNVM's
 * {@code OPT_PASS_LEVEL}: 0 = no optimization (only analyses), 1 = fusion,
 * 2 = default, 3 = aggressive. Named passes can be disabled. Each run records
 * per-pass time and node counts, and can hand the IR after each pass to a
 * dump callback.
 */
public final class PassManager {
  private final List<Pass> passes;
  private final int level;
  private final Set<String> disabled;
  private final BiConsumer<String, Graph> dump;

  private PassManager(List<Pass> passes, int level, Set<String> disabled, BiConsumer<String, Graph> dump) {
    this.passes = List.copyOf(passes);
    this.level = level;
    this.disabled = Set.copyOf(disabled);
    this.dump = dump;
  }

  /** The standard pipeline at a level. */
  public static PassManager standard(int level) {
    return new PassManager(StandardPasses.pipeline(), checkLevel(level), Set.of(), null);
  }

  public static PassManager of(List<Pass> passes, int level) {
    return new PassManager(passes, checkLevel(level), Set.of(), null);
  }

  private static int checkLevel(int level) {
    if (level < 0 || level > 3) {
      throw new IllegalArgumentException("optimization level must be 0 to 3, got " + level);
    }
    return level;
  }

  /** A copy that skips the named passes; unknown names are an error. */
  public PassManager disable(String... names) {
    Set<String> d = new HashSet<>(disabled);
    for (String n : names) {
      if (passes.stream().noneMatch(p -> p.name().equals(n))) {
        List<String> known = new ArrayList<>();
        passes.forEach(p -> known.add(p.name()));
        throw new IllegalArgumentException("no pass named '" + n + "'; passes: " + known);
      }
      d.add(n);
    }
    return new PassManager(passes, level, d, dump);
  }

  /** A copy that gives the graph after every pass that ran to {@code callback(passName, graph)}. */
  public PassManager dumpAfterEachPass(BiConsumer<String, Graph> callback) {
    return new PassManager(passes, level, disabled, Objects.requireNonNull(callback));
  }

  public List<Pass> passes() {
    return passes;
  }

  /** Runs the pipeline; the input graph is not changed. */
  public PassReport run(Graph graph, PassContext ctx) {
    Set<String> have = new HashSet<>();
    List<PassReport.Step> steps = new ArrayList<>();
    Graph g = graph;
    for (Pass p : passes) {
      if (p.minLevel() > level) {
        steps.add(PassReport.Step.skipped(p.name(), "needs level " + p.minLevel()));
        continue;
      }
      if (disabled.contains(p.name())) {
        steps.add(PassReport.Step.skipped(p.name(), "disabled"));
        continue;
      }
      for (String need : p.requires()) {
        if (!have.contains(need)) {
          throw new IllegalStateException("pass " + p.name() + " needs '" + need + "', which no earlier pass provides");
        }
      }
      int before = g.nodes().size();
      long t0 = System.nanoTime();
      Graph next = p.apply(g, ctx);
      long nanos = System.nanoTime() - t0;
      if (next != g && !p.preservesProperties()) {
        have.clear();
      }
      have.addAll(p.provides());
      steps.add(PassReport.Step.ran(p.name(), nanos, before, next.nodes().size(), next != g));
      g = next;
      if (dump != null) {
        dump.accept(p.name(), g);
      }
    }
    return new PassReport(graph, g, steps);
  }
}
