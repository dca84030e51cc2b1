package dev.nnvm.runtime;

import java.util.Objects;

/**
 * One dimension of a shape: a fixed size, a named symbolic size ({@code N},
 * {@code seq}) bound when the model runs, or unknown.
 */
public final class Dim {
  private static final Dim UNKNOWN = new Dim(-1, null);
  private static final Dim[] SMALL = new Dim[65];

  static {
    for (int i = 0; i < SMALL.length; i++) {
      SMALL[i] = new Dim(i, null);
    }
  }

  private final long value;
  private final String symbol;

  private Dim(long value, String symbol) {
    this.value = value;
    this.symbol = symbol;
  }

  public static Dim of(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("dimension must be >= 0, got " + value);
    }
    return value < SMALL.length ? SMALL[(int) value] : new Dim(value, null);
  }

  public static Dim symbol(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("symbolic dimension needs a name");
    }
    return new Dim(-1, name);
  }

  public static Dim unknown() {
    return UNKNOWN;
  }

  public boolean isStatic() {
    return value >= 0;
  }

  public boolean isSymbolic() {
    return symbol != null;
  }

  public boolean isUnknown() {
    return value < 0 && symbol == null;
  }

  /** The fixed size; only for static dimensions. */
  public long value() {
    if (value < 0) {
      throw new IllegalStateException("dimension " + this + " is not static");
    }
    return value;
  }

  /** The symbol's name; only for symbolic dimensions. */
  public String symbol() {
    if (symbol == null) {
      throw new IllegalStateException("dimension " + this + " is not symbolic");
    }
    return symbol;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Dim)) {
      return false;
    }
    Dim d = (Dim) o;
    return value == d.value && Objects.equals(symbol, d.symbol);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(value) * 31 + Objects.hashCode(symbol);
  }

  @Override
  public String toString() {
    return value >= 0 ? Long.toString(value) : symbol != null ? symbol : "?";
  }
}
