package dev.nnvm.compiler.analysis;

import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.Dim;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A byte size that is a product of a constant and symbolic dimensions
 * ({@code 1536 * N * seq}): a coefficient times a monomial, evaluated once
 * the symbols are bound.
 */
public final class SymbolicSize {
  private final long coefficient;
  private final Map<String, Integer> powers;

  private SymbolicSize(long coefficient, Map<String, Integer> powers) {
    this.coefficient = coefficient;
    this.powers = powers;
  }

  /** The byte size of a tensor type, or null when a dimension (or the rank) is unknown. */
  public static SymbolicSize of(TensorType t) {
    if (!t.shape().hasRank() || t.dtype().byteSize() == 0) {
      return null;
    }
    long c = t.dtype().byteSize();
    Map<String, Integer> p = new TreeMap<>();
    for (Dim d : t.shape().dims()) {
      if (d.isStatic()) {
        c = Math.multiplyExact(c, d.value());
      } else if (d.isSymbolic()) {
        p.merge(d.symbol(), 1, Integer::sum);
      } else {
        return null;
      }
    }
    return new SymbolicSize(c, p);
  }

  public static SymbolicSize constant(long bytes) {
    return new SymbolicSize(bytes, Map.of());
  }

  public long coefficient() {
    return coefficient;
  }

  /** The symbolic part: symbol name to power (empty for a fixed size). */
  public Map<String, Integer> monomial() {
    return powers;
  }

  public boolean isStatic() {
    return powers.isEmpty();
  }

  /** The same monomial with another coefficient. */
  public SymbolicSize withCoefficient(long c) {
    return new SymbolicSize(c, powers);
  }

  /** The value of the monomial alone (1 for a fixed size) under a binding. */
  public static long evaluateMonomial(Map<String, Integer> powers, Map<String, Long> bindings) {
    long v = 1;
    for (Map.Entry<String, Integer> e : powers.entrySet()) {
      Long b = bindings.get(e.getKey());
      if (b == null) {
        throw new IllegalArgumentException("symbolic dimension '" + e.getKey() + "' is not bound");
      }
      for (int i = 0; i < e.getValue(); i++) {
        v = Math.multiplyExact(v, b);
      }
    }
    return v;
  }

  /** The size with the symbols bound; symbols missing from {@code bindings} are an error. */
  public long evaluate(Map<String, Long> bindings) {
    return Math.multiplyExact(coefficient, evaluateMonomial(powers, bindings));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SymbolicSize && ((SymbolicSize) o).coefficient == coefficient
        && ((SymbolicSize) o).powers.equals(powers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(coefficient, powers);
  }

  /** Renders a monomial as {@code N*seq} ("1" when empty). */
  public static String monomialText(Map<String, Integer> powers) {
    if (powers.isEmpty()) {
      return "1";
    }
    StringBuilder sb = new StringBuilder();
    powers.forEach((s, p) -> {
      for (int i = 0; i < p; i++) {
        sb.append(sb.length() == 0 ? "" : "*").append(s);
      }
    });
    return sb.toString();
  }

  @Override
  public String toString() {
    return powers.isEmpty() ? Long.toString(coefficient) : coefficient + "*" + monomialText(powers);
  }
}
