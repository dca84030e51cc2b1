package dev.nnvm.runtime.artifact;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The scratch memory one run needs: consecutive regions whose sizes are a
 * constant times a monomial of the symbolic dimensions ({@code 9280*batch*seq}).
 * Every value the compiler placed in a region sits at a constant times the
 * monomial, so the plan made once at compile time holds for every binding;
 * the runtime evaluates it once per distinct binding.
 *
 * @param alignment byte alignment of the workspace base and of every region size
 * @param regions the regions in workspace order
 */
public record WorkspacePlan(int alignment, List<Region> regions) {

  public WorkspacePlan {
    regions = List.copyOf(regions);
  }

  /**
   * One region: {@code coefficient} bytes per unit of the monomial.
   *
   * @param coefficient bytes per unit, a multiple of the plan's alignment
   * @param monomial symbol name to power, sorted by name; empty for a fixed size
   */
  public record Region(long coefficient, Map<String, Integer> monomial) {
    public Region {
      monomial = Collections.unmodifiableMap(new TreeMap<>(monomial));
    }

    /**
     * The region's size in bytes under a binding.
     *
     * @throws IllegalArgumentException naming the symbol when one is unbound or negative,
     *     or when the size does not fit a long
     */
    public long bytes(Map<String, Long> bindings) {
      long v = coefficient;
      for (Map.Entry<String, Integer> e : monomial.entrySet()) {
        Long b = bindings.get(e.getKey());
        if (b == null) {
          throw new IllegalArgumentException("workspace region " + this + ": symbol '" + e.getKey() + "' is not bound");
        }
        if (b < 0) {
          throw new IllegalArgumentException(
              "workspace region " + this + ": symbol '" + e.getKey() + "' must be >= 0, got " + b);
        }
        for (int i = 0; i < e.getValue(); i++) {
          try {
            v = Math.multiplyExact(v, b);
          } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("workspace region " + this + " overflows 64 bits for " + bindings);
          }
        }
      }
      return v;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder(Long.toString(coefficient));
      monomial.forEach((s, p) -> {
        for (int i = 0; i < p; i++) {
          sb.append('*').append(s);
        }
      });
      return sb.toString();
    }
  }

  /** The byte offset of each region from the workspace base under a binding. */
  public long[] regionOffsets(Map<String, Long> bindings) {
    long[] out = new long[regions.size()];
    long at = 0;
    for (int i = 0; i < out.length; i++) {
      out[i] = at;
      at = add(at, regions.get(i).bytes(bindings), bindings);
    }
    return out;
  }

  /** The workspace size in bytes under a binding. */
  public long totalBytes(Map<String, Long> bindings) {
    long total = 0;
    for (Region r : regions) {
      total = add(total, r.bytes(bindings), bindings);
    }
    return total;
  }

  private static long add(long a, long b, Map<String, Long> bindings) {
    try {
      return Math.addExact(a, b);
    } catch (ArithmeticException overflow) {
      throw new IllegalArgumentException("workspace size overflows 64 bits for " + bindings);
    }
  }

  @Override
  public String toString() {
    return regions.toString();
  }
}
