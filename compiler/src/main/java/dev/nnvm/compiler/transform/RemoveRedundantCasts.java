package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Optional;

/**
 * Removes casts that change nothing: a {@code Cast} to the type its input
 * already has becomes an {@code Identity}; {@code Cast(Cast(x, wider), t)}
 * becomes {@code Cast(x, t)} when the first cast is exact (it widens within
 * floats or within integers of the same signedness).
 */
public final class RemoveRedundantCasts extends PatternRewrite {
  public static final RemoveRedundantCasts INSTANCE = new RemoveRedundantCasts();

  private RemoveRedundantCasts() {}

  @Override
  public String name() {
    return "RemoveRedundantCasts";
  }

  @Override
  public int minLevel() {
    return 1;
  }

  @Override
  protected Match match(Node cast, GraphIndex g, Names names) {
    if (!FuseLayerNorm.is(cast, "Cast") || cast.attribute("to") == null) {
      return null;
    }
    Optional<TensorType> in = g.type(cast.input(0));
    if (in.isEmpty()) {
      return null;
    }
    DType to = DType.fromOnnx((int) cast.attribute("to").asInt());
    String name = cast.name().isEmpty() ? cast.output(0) + "/cast" : cast.name();
    if (in.get().dtype() == to) {
      return new Match(List.of(cast), List.of(Node.of(name, "Identity", List.of(cast.input(0)),
          List.of(cast.output(0)))));
    }
    Node inner = g.producer(cast.input(0), "Cast").orElse(null);
    if (inner == null) {
      return null;
    }
    Optional<TensorType> x = g.type(inner.input(0));
    if (x.isEmpty() || !exactWidening(x.get().dtype(), in.get().dtype())) {
      return null;
    }
    Node direct = cast.withInputs(List.of(inner.input(0)));
    return new Match(List.of(inner, cast), List.of(direct));
  }

  /** True when every value of {@code from} is represented exactly in {@code to}. */
  static boolean exactWidening(DType from, DType to) {
    if (from.isFloatingPoint() && to.isFloatingPoint()) {
      return to == DType.FLOAT64 || to == DType.FLOAT32 && (from == DType.FLOAT16 || from == DType.BFLOAT16);
    }
    if (from.isInteger() && to.isInteger()) {
      return from.isSigned() == to.isSigned() && to.byteSize() >= from.byteSize()
          || !from.isSigned() && to.isSigned() && to.byteSize() > from.byteSize();
    }
    return from == DType.BOOL && (to.isInteger() || to.isFloatingPoint());
  }
}
