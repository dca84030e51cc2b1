package dev.nnvm.compiler.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;

/**
 * Compares an actual tensor with an expected one and reports the maximum
 * absolute and relative errors. Floating values pass when
 * {@code |a - e| <= atol + rtol * |e|} (NaN matches NaN, infinities must be
 * equal); integers, bools and strings must match exactly.
 */
public final class Comparison {
  private final String name;
  private double maxAbs;
  private double maxRel;
  private int elements;

  private Comparison(String name) {
    this.name = name;
  }

  public double maxAbs() {
    return maxAbs;
  }

  public double maxRel() {
    return maxRel;
  }

  public static Comparison assertClose(String name, Tensor expected, Tensor actual, double rtol, double atol) {
    Comparison c = new Comparison(name);
    assertEquals(expected.dtype(), actual.dtype(), name + ": element type");
    assertArrayEquals(expected.shape(), actual.shape(),
        name + ": shape " + Shape.toString(actual.shape()) + ", expected " + Shape.toString(expected.shape()));
    c.elements = expected.size();
    DType t = expected.dtype();
    for (int i = 0; i < expected.size(); i++) {
      if (t.isFloatingPoint()) {
        double e = expected.getDouble(i);
        double a = actual.getDouble(i);
        if (Double.isNaN(e) || Double.isNaN(a)) {
          if (Double.isNaN(e) != Double.isNaN(a)) {
            fail(name + "[" + i + "]: expected " + e + ", got " + a);
          }
          continue;
        }
        if (Double.isInfinite(e) || Double.isInfinite(a)) {
          if (e != a) {
            fail(name + "[" + i + "]: expected " + e + ", got " + a);
          }
          continue;
        }
        double abs = Math.abs(a - e);
        double rel = abs / Math.max(Math.abs(e), 1e-30);
        c.maxAbs = Math.max(c.maxAbs, abs);
        if (Math.abs(e) > 1e-6) {
          c.maxRel = Math.max(c.maxRel, rel);
        }
        if (abs > atol + rtol * Math.abs(e)) {
          fail(String.format("%s[%d]: expected %.9g, got %.9g (abs err %.3g, rel err %.3g; rtol %.1g, atol %.1g)",
              name, i, e, a, abs, rel, rtol, atol));
        }
      } else if (t == DType.STRING) {
        assertEquals(expected.strings()[i], actual.strings()[i], name + "[" + i + "]");
      } else if (t == DType.BOOL) {
        assertEquals(expected.getBool(i), actual.getBool(i), name + "[" + i + "]");
      } else {
        long e = expected.getLong(i);
        long a = actual.getLong(i);
        if (e != a) {
          fail(name + "[" + i + "]: expected " + e + ", got " + a);
        }
        c.maxAbs = Math.max(c.maxAbs, Math.abs((double) a - e));
      }
    }
    return c;
  }

  @Override
  public String toString() {
    return String.format("%s: %d elements, max abs err %.3g, max rel err %.3g", name, elements, maxAbs, maxRel);
  }
}
