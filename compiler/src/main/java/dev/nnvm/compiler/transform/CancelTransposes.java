package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Composes two consecutive {@code Transpose}s into one, or into an
 * {@code Identity} (removed by SimplifyInference) when they cancel.
 */
public final class CancelTransposes extends PatternRewrite {
  public static final CancelTransposes INSTANCE = new CancelTransposes();

  private CancelTransposes() {}

  @Override
  public String name() {
    return "CancelTransposes";
  }

  @Override
  public int minLevel() {
    return 1;
  }

  @Override
  protected Match match(Node outer, GraphIndex g, Names names) {
    if (!FuseLayerNorm.is(outer, "Transpose")) {
      return null;
    }
    Node inner = g.producer(outer.input(0), "Transpose").orElse(null);
    if (inner == null) {
      return null;
    }
    Optional<TensorType> xt = g.type(inner.input(0));
    if (xt.isEmpty() || !xt.get().shape().hasRank()) {
      return null;
    }
    int rank = xt.get().shape().rank();
    long[] p1 = perm(inner, rank);
    long[] p2 = perm(outer, rank);
    long[] composed = new long[rank];
    boolean identity = true;
    for (int i = 0; i < rank; i++) {
      composed[i] = p1[(int) p2[i]];
      identity &= composed[i] == i;
    }
    String name = outer.name().isEmpty() ? outer.output(0) + "/transpose" : outer.name();
    Node replacement = identity
        ? Node.of(name, "Identity", List.of(inner.input(0)), List.of(outer.output(0)))
        : new Node(name, "Transpose", "", List.of(inner.input(0)), List.of(outer.output(0)),
            Map.of("perm", Attribute.ofInts(composed)));
    return new Match(List.of(inner, outer), List.of(replacement));
  }

  private static long[] perm(Node t, int rank) {
    Attribute p = t.attribute("perm");
    if (p != null) {
      return p.asInts();
    }
    long[] r = new long[rank];
    for (int i = 0; i < rank; i++) {
      r[i] = rank - 1 - i;
    }
    return r;
  }
}
