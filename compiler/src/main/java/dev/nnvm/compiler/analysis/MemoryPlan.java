package dev.nnvm.compiler.analysis;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each intermediate value lives in one workspace.
 *
 * <p>The workspace is split into regions, one per monomial of symbolic
 * dimensions ({@code 1} for fixed sizes, {@code N*seq}, ...). Inside a
 * region every offset and size is a constant times the region's monomial,
 * so the plan made at compile time holds for every binding: a value's byte
 * offset is {@code regionBase + coefficient * monomial}, computed once per
 * distinct binding ({@link #offsets(Map)}). Values whose lifetimes do not
 * overlap share bytes; an elementwise kernel may write over an input that
 * dies there (in place).
 *
 * <p>Graph inputs, outputs and constants are not in the workspace: the
 * caller owns inputs and outputs, and weights are stored once per model.
 */
public final class MemoryPlan {
  /** Byte alignment of every allocation. */
  public static final int ALIGNMENT = 64;

  /** One value's place: its region and its offset in units of the region's monomial. */
  public static final class Allocation {
    private final int region;
    private final long offset;
    private final SymbolicSize size;

    Allocation(int region, long offset, SymbolicSize size) {
      this.region = region;
      this.offset = offset;
      this.size = size;
    }

    public int region() {
      return region;
    }

    /** Offset within the region, in bytes per unit of the region's monomial. */
    public long offset() {
      return offset;
    }

    public SymbolicSize size() {
      return size;
    }
  }

  private final Map<String, Allocation> allocations;
  private final List<SymbolicSize> regions;
  private final List<List<SymbolicSize>> liveSets;
  private final List<String> unplanned;
  private final int inPlace;

  MemoryPlan(Map<String, Allocation> allocations, List<SymbolicSize> regions, List<List<SymbolicSize>> liveSets,
      List<String> unplanned, int inPlace) {
    this.allocations = Collections.unmodifiableMap(new LinkedHashMap<>(allocations));
    this.regions = List.copyOf(regions);
    this.liveSets = liveSets;
    this.unplanned = List.copyOf(unplanned);
    this.inPlace = inPlace;
  }

  public Map<String, Allocation> allocations() {
    return allocations;
  }

  /** Region sizes (coefficient times monomial), in workspace order. */
  public List<SymbolicSize> regions() {
    return regions;
  }

  /** Values whose size is not known at compile time (allocated on their own at run time). */
  public List<String> unplanned() {
    return unplanned;
  }

  /** How many values were written in place over a dying input. */
  public int inPlaceCount() {
    return inPlace;
  }

  /** Byte offset of each region under a binding. */
  public long[] regionOffsets(Map<String, Long> bindings) {
    long[] out = new long[regions.size()];
    long at = 0;
    for (int i = 0; i < out.length; i++) {
      out[i] = at;
      at += regions.get(i).evaluate(bindings);
    }
    return out;
  }

  /** Byte offset of every planned value under a binding. */
  public Map<String, Long> offsets(Map<String, Long> bindings) {
    long[] base = regionOffsets(bindings);
    Map<String, Long> out = new LinkedHashMap<>();
    for (Map.Entry<String, Allocation> e : allocations.entrySet()) {
      Allocation a = e.getValue();
      long unit = SymbolicSize.evaluateMonomial(regions.get(a.region).monomial(), bindings);
      out.put(e.getKey(), base[a.region] + a.offset * unit);
    }
    return out;
  }

  /** The planned workspace size in bytes. */
  public long workspaceBytes(Map<String, Long> bindings) {
    long total = 0;
    for (SymbolicSize r : regions) {
      total += r.evaluate(bindings);
    }
    return total;
  }

  /**
   * The lower bound of any plan: the most bytes live at once (the largest sum
   * of the sizes of values live across one kernel), each rounded to the alignment.
   */
  public long lowerBoundBytes(Map<String, Long> bindings) {
    long best = 0;
    for (List<SymbolicSize> live : liveSets) {
      long sum = 0;
      for (SymbolicSize s : live) {
        sum += align(s.evaluate(bindings));
      }
      best = Math.max(best, sum);
    }
    return best;
  }

  public static long align(long bytes) {
    return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }
}
