package dev.nnvm.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An immutable tensor shape whose dimensions may be static, symbolic or
 * unknown; the rank itself may also be unknown ({@link #unknownRank()}).
 */
public final class Shape {
  private static final Shape UNKNOWN_RANK = new Shape(null);
  private static final Shape SCALAR = new Shape(new Dim[0]);

  private final Dim[] dims;

  private Shape(Dim[] dims) {
    this.dims = dims;
  }

  public static Shape of(long... dims) {
    if (dims.length == 0) {
      return SCALAR;
    }
    Dim[] d = new Dim[dims.length];
    for (int i = 0; i < dims.length; i++) {
      d[i] = Dim.of(dims[i]);
    }
    return new Shape(d);
  }

  public static Shape of(List<Dim> dims) {
    for (Dim d : dims) {
      if (d == null) {
        throw new NullPointerException("null dimension in " + dims);
      }
    }
    return dims.isEmpty() ? SCALAR : new Shape(dims.toArray(new Dim[0]));
  }

  public static Shape of(Dim... dims) {
    return of(Arrays.asList(dims));
  }

  public static Shape scalar() {
    return SCALAR;
  }

  public static Shape unknownRank() {
    return UNKNOWN_RANK;
  }

  /**
   * Parses {@code [N, 3, 224, 224]}-style text: integers are static, names are
   * symbolic, {@code ?} is unknown; the text {@code ?} alone is an unknown rank.
   */
  public static Shape parse(String text) {
    String t = text.trim();
    if (t.equals("?")) {
      return UNKNOWN_RANK;
    }
    if (!t.startsWith("[") || !t.endsWith("]")) {
      throw new IllegalArgumentException("shape must look like [d0, d1, ...], got '" + text + "'");
    }
    String body = t.substring(1, t.length() - 1).trim();
    if (body.isEmpty()) {
      return SCALAR;
    }
    List<Dim> dims = new ArrayList<>();
    for (String part : body.split(",")) {
      String p = part.trim();
      if (p.equals("?")) {
        dims.add(Dim.unknown());
      } else if (!p.isEmpty() && Character.isDigit(p.charAt(0))) {
        try {
          dims.add(Dim.of(Long.parseLong(p)));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("bad dimension '" + p + "' in shape '" + text + "'", e);
        }
      } else if (p.matches("[A-Za-z_][A-Za-z0-9_.:/-]*")) {
        dims.add(Dim.symbol(p));
      } else {
        throw new IllegalArgumentException("bad dimension '" + p + "' in shape '" + text + "'");
      }
    }
    return of(dims);
  }

  public boolean hasRank() {
    return dims != null;
  }

  public int rank() {
    if (dims == null) {
      throw new IllegalStateException("shape has unknown rank");
    }
    return dims.length;
  }

  public Dim dim(int i) {
    if (dims == null) {
      throw new IllegalStateException("shape has unknown rank");
    }
    return dims[i];
  }

  public List<Dim> dims() {
    if (dims == null) {
      throw new IllegalStateException("shape has unknown rank");
    }
    return Collections.unmodifiableList(Arrays.asList(dims));
  }

  /** True when the rank and every dimension are known numbers. */
  public boolean isStatic() {
    if (dims == null) {
      return false;
    }
    for (Dim d : dims) {
      if (!d.isStatic()) {
        return false;
      }
    }
    return true;
  }

  public long[] toArray() {
    if (!isStatic()) {
      throw new IllegalStateException("shape " + this + " is not static");
    }
    long[] out = new long[dims.length];
    for (int i = 0; i < dims.length; i++) {
      out[i] = dims[i].value();
    }
    return out;
  }

  /** The element count of a static shape. */
  public long elementCount() {
    long n = 1;
    for (long d : toArray()) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** Replaces symbolic dimensions with the sizes bound to them; unbound symbols stay. */
  public Shape bind(Map<String, Long> bindings) {
    if (dims == null) {
      return this;
    }
    Dim[] out = dims.clone();
    boolean changed = false;
    for (int i = 0; i < out.length; i++) {
      if (out[i].isSymbolic() && bindings.containsKey(out[i].symbol())) {
        out[i] = Dim.of(bindings.get(out[i].symbol()));
        changed = true;
      }
    }
    return changed ? new Shape(out) : this;
  }

  /** Renders a shape given as numbers, e.g. {@code [2, 3]}. */
  public static String toString(long[] dims) {
    return of(dims).toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Shape && Arrays.equals(dims, ((Shape) o).dims);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    if (dims == null) {
      return "?";
    }
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < dims.length; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(dims[i]);
    }
    return sb.append(']').toString();
  }
}
