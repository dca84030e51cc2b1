package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Graph;
import java.util.List;

/** The result of a pass-manager run: the optimized graph and what each pass did. */
public final class PassReport {
  /** One pass's record. */
  public static final class Step {
    private final String pass;
    private final boolean ran;
    private final String skipReason;
    private final long nanos;
    private final int nodesBefore;
    private final int nodesAfter;
    private final boolean changed;

    private Step(String pass, boolean ran, String skipReason, long nanos, int nodesBefore, int nodesAfter,
        boolean changed) {
      this.pass = pass;
      this.ran = ran;
      this.skipReason = skipReason;
      this.nanos = nanos;
      this.nodesBefore = nodesBefore;
      this.nodesAfter = nodesAfter;
      this.changed = changed;
    }

    static Step ran(String pass, long nanos, int before, int after, boolean changed) {
      return new Step(pass, true, null, nanos, before, after, changed);
    }

    static Step skipped(String pass, String reason) {
      return new Step(pass, false, reason, 0, 0, 0, false);
    }

    public String pass() {
      return pass;
    }

    public boolean ran() {
      return ran;
    }

    public String skipReason() {
      return skipReason;
    }

    public double millis() {
      return nanos / 1e6;
    }

    public int nodesBefore() {
      return nodesBefore;
    }

    public int nodesAfter() {
      return nodesAfter;
    }

    public boolean changed() {
      return changed;
    }

    @Override
    public String toString() {
      if (!ran) {
        return String.format("%-34s skipped (%s)", pass, skipReason);
      }
      return String.format("%-34s %8.1f ms %6d -> %6d nodes%s", pass, millis(), nodesBefore, nodesAfter,
          changed ? "" : " (no change)");
    }
  }

  private final Graph input;
  private final Graph output;
  private final List<Step> steps;

  PassReport(Graph input, Graph output, List<Step> steps) {
    this.input = input;
    this.output = output;
    this.steps = List.copyOf(steps);
  }

  public Graph input() {
    return input;
  }

  public Graph graph() {
    return output;
  }

  public List<Step> steps() {
    return steps;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Step s : steps) {
      sb.append(s).append('\n');
    }
    return sb.append(String.format("nodes: %d -> %d", input.nodes().size(), output.nodes().size())).toString();
  }
}
