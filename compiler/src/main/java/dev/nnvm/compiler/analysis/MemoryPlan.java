package dev.nnvm.compiler.analysis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Where each intermediate value lives: a storage slot in one workspace.
 * Values whose lifetimes do not overlap share a slot; an elementwise kernel
 * may write its result over an input that dies there (in place). A slot's
 * size is the largest of its values' sizes, which may be symbolic, so the
 * byte offsets are computed once per distinct binding of the symbols
 * ({@link #offsets(Map)}).
 *
 * <p>Graph inputs, outputs and constants are not in the workspace: the
 * caller owns inputs and outputs, and weights are stored once per model.
 */
public final class MemoryPlan {
  /** Byte alignment of every slot. */
  public static final int ALIGNMENT = 64;

  private final Map<String, Integer> slotOf;
  private final List<List<SymbolicSize>> slotSizes;
  private final List<List<SymbolicSize>> liveSets;
  private final List<String> unplanned;
  private final int inPlace;

  MemoryPlan(Map<String, Integer> slotOf, List<List<SymbolicSize>> slotSizes, List<List<SymbolicSize>> liveSets,
      List<String> unplanned, int inPlace) {
    this.slotOf = Collections.unmodifiableMap(slotOf);
    this.slotSizes = slotSizes;
    this.liveSets = liveSets;
    this.unplanned = List.copyOf(unplanned);
    this.inPlace = inPlace;
  }

  /** The slot of each planned intermediate value. */
  public Map<String, Integer> slots() {
    return slotOf;
  }

  public int slotCount() {
    return slotSizes.size();
  }

  /** Values whose size is not known at compile time (allocated on their own at run time). */
  public List<String> unplanned() {
    return unplanned;
  }

  /** How many values were written in place over a dying input. */
  public int inPlaceCount() {
    return inPlace;
  }

  /** The size of a slot under a binding of the symbols. */
  public long slotBytes(int slot, Map<String, Long> bindings) {
    long max = 0;
    for (SymbolicSize s : slotSizes.get(slot)) {
      max = Math.max(max, s.evaluate(bindings));
    }
    return align(max);
  }

  /** Byte offsets of the slots in the workspace under a binding of the symbols. */
  public long[] offsets(Map<String, Long> bindings) {
    long[] off = new long[slotSizes.size()];
    long at = 0;
    for (int i = 0; i < off.length; i++) {
      off[i] = at;
      at += slotBytes(i, bindings);
    }
    return off;
  }

  /** The planned workspace size in bytes. */
  public long workspaceBytes(Map<String, Long> bindings) {
    long total = 0;
    for (int i = 0; i < slotSizes.size(); i++) {
      total += slotBytes(i, bindings);
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

  private static long align(long bytes) {
    return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  /** A copy of the sizes assigned to each slot (for reports). */
  public List<List<SymbolicSize>> slotSizes() {
    List<List<SymbolicSize>> out = new ArrayList<>();
    slotSizes.forEach(l -> out.add(List.copyOf(l)));
    return out;
  }
}
