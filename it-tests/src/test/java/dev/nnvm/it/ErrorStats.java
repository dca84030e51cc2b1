package dev.nnvm.it;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.Shape;
import java.util.Arrays;

/**
 * Element-wise error of an actual tensor against an expected one over the
 * whole tensor: the maximum absolute error, the maximum relative error (over
 * elements with |expected| above {@code atol}, where a relative error means
 * something), and the worst element under the tolerance
 * {@code |a - e| <= atol + rtol * |e|}. Unlike a first-failure assertion it
 * always measures every element, so the report shows how far off a model is.
 */
record ErrorStats(String name, int elements, double maxAbs, double maxRel, int violations, int worstIndex,
    double worstExpected, double worstActual, double rtol, double atol) {

  static ErrorStats of(String name, Tensor expected, Tensor actual, double rtol, double atol) {
    if (expected.dtype() != actual.dtype() || !Arrays.equals(expected.shape(), actual.shape())) {
      throw new AssertionError(name + ": expected " + expected.type() + ", got " + actual.type());
    }
    double maxAbs = 0;
    double maxRel = 0;
    int violations = 0;
    int worst = -1;
    double worstExcess = 0;
    for (int i = 0; i < expected.size(); i++) {
      double e = expected.getDouble(i);
      double a = actual.getDouble(i);
      double abs = Double.isNaN(e) && Double.isNaN(a) ? 0 : e == a ? 0 : Math.abs(a - e);
      if (Double.isNaN(abs)) {
        abs = Double.POSITIVE_INFINITY;
      }
      maxAbs = Math.max(maxAbs, abs);
      if (Math.abs(e) > atol) {
        maxRel = Math.max(maxRel, abs / Math.abs(e));
      }
      double excess = abs - (atol + rtol * Math.abs(e));
      if (excess > 0) {
        violations++;
        if (worst < 0 || excess > worstExcess) {
          worst = i;
          worstExcess = excess;
        }
      }
    }
    return new ErrorStats(name, expected.size(), maxAbs, maxRel, violations, worst,
        worst < 0 ? 0 : expected.getDouble(worst), worst < 0 ? 0 : actual.getDouble(worst), rtol, atol);
  }

  boolean ok() {
    return violations == 0;
  }

  @Override
  public String toString() {
    String s = String.format("%s: %d elements, max abs err %.3g, max rel err %.3g (rtol %.0e, atol %.0e)", name,
        elements, maxAbs, maxRel, rtol, atol);
    if (!ok()) {
      s += String.format("; %d element(s) out of tolerance, worst [%d] expected %.7g got %.7g", violations,
          worstIndex, worstExpected, worstActual);
    }
    return s;
  }

  static String shapeOf(Tensor t) {
    return Shape.toString(t.shape());
  }
}
