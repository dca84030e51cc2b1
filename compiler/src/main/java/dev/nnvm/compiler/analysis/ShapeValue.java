package dev.nnvm.compiler.analysis;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.List;

/**
 * What is known at compile time about the elements of a small integer
 * tensor (a scalar or a vector) that usually holds a shape: each element is
 * a number, a symbolic dimension ({@code N}), or unknown. This is how the
 * exporters' {@code Shape -> Gather -> Concat -> Reshape} chains keep their
 * meaning while the batch size is still a symbol.
 */
public final class ShapeValue {
  /** Vectors longer than this are not tracked. */
  public static final int MAX_ELEMENTS = 64;

  /** One element: a number, a symbol, or unknown. */
  public static final class Element {
    static final Element UNKNOWN = new Element(0, null, true);
    private final long number;
    private final String symbol;
    private final boolean unknown;

    private Element(long number, String symbol, boolean unknown) {
      this.number = number;
      this.symbol = symbol;
      this.unknown = unknown;
    }

    public static Element number(long v) {
      return new Element(v, null, false);
    }

    public static Element unknown() {
      return UNKNOWN;
    }

    /** The element for a dimension: its size, its symbol, or unknown. */
    public static Element of(Dim d) {
      if (d.isStatic()) {
        return number(d.value());
      }
      return d.isSymbolic() ? new Element(0, d.symbol(), false) : UNKNOWN;
    }

    public boolean isNumber() {
      return !unknown && symbol == null;
    }

    public boolean isSymbol() {
      return symbol != null;
    }

    public boolean isUnknown() {
      return unknown;
    }

    public long number() {
      if (!isNumber()) {
        throw new IllegalStateException("element is not a number");
      }
      return number;
    }

    public String symbol() {
      return symbol;
    }

    /** The element as a dimension (negative numbers and unknowns give an unknown dimension). */
    public Dim toDim() {
      if (isSymbol()) {
        return Dim.symbol(symbol);
      }
      return isNumber() && number >= 0 ? Dim.of(number) : Dim.unknown();
    }

    /** True when this element certainly equals the dimension. */
    public boolean sameAs(Dim d) {
      return isSymbol() ? d.isSymbolic() && d.symbol().equals(symbol) : isNumber() && d.isStatic() && d.value() == number;
    }

    @Override
    public String toString() {
      return unknown ? "?" : symbol != null ? symbol : Long.toString(number);
    }
  }

  private final boolean scalar;
  private final List<Element> elements;

  public ShapeValue(boolean scalar, List<Element> elements) {
    if (scalar && elements.size() != 1) {
      throw new IllegalArgumentException("a scalar has one element");
    }
    this.scalar = scalar;
    this.elements = List.copyOf(elements);
  }

  /** The value of a constant integer scalar or short vector, or null for anything else. */
  public static ShapeValue ofConstant(Tensor t) {
    if ((t.dtype() != DType.INT64 && t.dtype() != DType.INT32) || t.rank() > 1 || t.size() > MAX_ELEMENTS) {
      return null;
    }
    List<Element> e = new ArrayList<>();
    for (int i = 0; i < t.size(); i++) {
      e.add(Element.number(t.getLong(i)));
    }
    return t.rank() == 0 ? new ShapeValue(true, e) : new ShapeValue(false, e);
  }

  public boolean isScalar() {
    return scalar;
  }

  public List<Element> elements() {
    return elements;
  }

  public int size() {
    return elements.size();
  }

  public Element get(int i) {
    return elements.get(i);
  }

  public boolean allNumbers() {
    return elements.stream().allMatch(Element::isNumber);
  }

  /** The numbers, when all elements are numbers. */
  public long[] numbers() {
    return elements.stream().mapToLong(Element::number).toArray();
  }

  /** The elements as dimensions (see {@link Element#toDim()}). */
  public List<Dim> toDims() {
    List<Dim> out = new ArrayList<>();
    elements.forEach(e -> out.add(e.toDim()));
    return out;
  }

  @Override
  public String toString() {
    return scalar ? elements.get(0).toString() : elements.toString();
  }
}
