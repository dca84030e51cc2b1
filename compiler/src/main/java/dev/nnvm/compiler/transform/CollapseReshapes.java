package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import java.util.List;
import java.util.Optional;

/**
 * Collapses {@code Reshape(Reshape(x, s1), s2)} into {@code Reshape(x, s2)}
 * when {@code s2} is a constant without 0 entries (which would copy
 * dimensions of the intermediate), and into an {@code Identity} when the
 * result has the type of {@code x}.
 */
public final class CollapseReshapes extends PatternRewrite {
  public static final CollapseReshapes INSTANCE = new CollapseReshapes();

  private CollapseReshapes() {}

  @Override
  public String name() {
    return "CollapseReshapes";
  }

  @Override
  public int minLevel() {
    return 1;
  }

  @Override
  protected Match match(Node outer, GraphIndex g, Names names) {
    if (!FuseLayerNorm.is(outer, "Reshape") || outer.attribute("allowzero") != null) {
      return null;
    }
    Node inner = g.producer(outer.input(0), "Reshape").orElse(null);
    Tensor shape = g.constant(outer.input(1));
    if (inner == null || shape == null || inner.attribute("allowzero") != null) {
      return null;
    }
    for (long d : shape.toLongArray()) {
      if (d == 0) {
        return null;
      }
    }
    String name = outer.name().isEmpty() ? outer.output(0) + "/reshape" : outer.name();
    Optional<TensorType> in = g.type(inner.input(0));
    Optional<TensorType> out = g.type(outer.output(0));
    if (in.isPresent() && out.isPresent() && in.get().equals(out.get()) && in.get().shape().isStatic()) {
      return new Match(List.of(inner, outer), List.of(Node.of(name, "Identity", List.of(inner.input(0)),
          List.of(outer.output(0)))));
    }
    return new Match(List.of(inner, outer), List.of(Node.of(name, "Reshape",
        List.of(inner.input(0), outer.input(1)), List.of(outer.output(0)))));
  }
}
