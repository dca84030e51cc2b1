package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import java.util.List;
import java.util.Optional;

/**
 * Recognizes GELU in its exact (erf) form,
 * {@code 0.5 * x * (1 + erf(x / sqrt(2)))} with the factors in any order
 * and {@code x * 0.7071...} for the division, and replaces it with one
 * {@code Gelu}. The anchor is the last {@code Mul}.
 */
public final class FuseGelu extends PatternRewrite {
  public static final FuseGelu INSTANCE = new FuseGelu();

  private static final double SQRT2 = Math.sqrt(2.0);
  private static final double TOLERANCE = 1e-4;

  private FuseGelu() {}

  @Override
  public String name() {
    return "FuseGelu";
  }

  @Override
  protected Match match(Node last, GraphIndex g, Names names) {
    if (!FuseLayerNorm.is(last, "Mul")) {
      return null;
    }
    // Form A: Mul(Mul(x, 1 + erf), 0.5); form B: Mul(Mul(x, 0.5), 1 + erf); form C: Mul(x, Mul(1 + erf, 0.5)).
    for (int side = 0; side < 2; side++) {
      String a = last.input(side);
      String b = last.input(1 - side);
      if (near(g.scalar(b), 0.5)) {
        Node inner = g.producer(a, "Mul").orElse(null);
        if (inner != null) {
          for (int s2 = 0; s2 < 2; s2++) {
            Match m = finish(g, last, inner.input(s2), inner.input(1 - s2), List.of(inner, last));
            if (m != null) {
              return m;
            }
          }
        }
      }
      Node half = g.producer(a, "Mul").orElse(null);
      if (half != null) {
        for (int s2 = 0; s2 < 2; s2++) {
          if (near(g.scalar(half.input(1 - s2)), 0.5)) {
            Match m = finish(g, last, half.input(s2), b, List.of(half, last));
            if (m == null) {
              m = finish(g, last, b, half.input(s2), List.of(half, last));
            }
            if (m != null) {
              return m;
            }
          }
        }
      }
    }
    return null;
  }

  /** Checks that {@code onePlusErf} is {@code 1 + erf(x / sqrt 2)} of the same {@code x}. */
  private Match finish(GraphIndex g, Node last, String x, String onePlusErf, List<Node> outer) {
    Node add = g.producer(onePlusErf, "Add").orElse(null);
    if (add == null) {
      return null;
    }
    for (int side = 0; side < 2; side++) {
      if (!near(g.scalar(add.input(1 - side)), 1.0)) {
        continue;
      }
      Node erf = g.producer(add.input(side), "Erf").orElse(null);
      if (erf == null) {
        continue;
      }
      Node scale = g.producer(erf.input(0));
      if (scale == null || !scale.domain().isEmpty() || !scale.input(0).equals(x)) {
        continue;
      }
      boolean ok = scale.opType().equals("Div") && near(g.scalar(scale.input(1)), SQRT2)
          || scale.opType().equals("Mul") && near(g.scalar(scale.input(1)), 1 / SQRT2);
      Optional<TensorType> xt = g.type(x);
      if (!ok || xt.isEmpty() || !xt.get().dtype().isFloatingPoint()) {
        continue;
      }
      Node gelu = Node.of(last.name().isEmpty() ? last.output(0) + "/gelu" : last.name(), "Gelu", List.of(x),
          List.of(last.output(0)));
      List<Node> matched = new java.util.ArrayList<>(List.of(scale, erf, add));
      matched.addAll(outer);
      return new Match(matched, List.of(gelu));
    }
    return null;
  }

  private static boolean near(Optional<Double> v, double want) {
    return v.isPresent() && Math.abs(v.get() - want) <= TOLERANCE * Math.abs(want);
  }
}
