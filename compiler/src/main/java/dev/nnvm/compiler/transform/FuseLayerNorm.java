package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Recognizes layer normalization written out by exporters,
 * {@code (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * gamma + beta}
 * over the last axis, and replaces it with one {@code LayerNormalization}.
 * The anchor is the final {@code Add} of beta.
 */
public final class FuseLayerNorm extends PatternRewrite {
  public static final FuseLayerNorm INSTANCE = new FuseLayerNorm();

  private FuseLayerNorm() {}

  @Override
  public String name() {
    return "FuseLayerNorm";
  }

  @Override
  protected Match match(Node add, GraphIndex g, Names names) {
    if (!is(add, "Add")) {
      return null;
    }
    for (int side = 0; side < 2; side++) {
      Match m = matchFrom(add, add.input(side), add.input(1 - side), g);
      if (m != null) {
        return m;
      }
    }
    return null;
  }

  private Match matchFrom(Node add, String scaledName, String betaName, GraphIndex g) {
    Tensor beta = g.constant(betaName);
    Node mul = g.producer(scaledName, "Mul").orElse(null);
    if (beta == null || mul == null) {
      return null;
    }
    for (int side = 0; side < 2; side++) {
      Tensor gamma = g.constant(mul.input(1 - side));
      Node div = g.producer(mul.input(side), "Div").orElse(null);
      if (gamma == null || div == null) {
        continue;
      }
      Node sub = g.producer(div.input(0), "Sub").orElse(null);
      Node sqrt = g.producer(div.input(1), "Sqrt").orElse(null);
      if (sub == null || sqrt == null) {
        continue;
      }
      String x = sub.input(0);
      Node mean = g.producer(sub.input(1), "ReduceMean").orElse(null);
      Node addEps = g.producer(sqrt.input(0), "Add").orElse(null);
      if (mean == null || addEps == null || !mean.input(0).equals(x)) {
        continue;
      }
      Optional<Double> eps = g.scalar(addEps.input(1));
      Node var = g.producer(addEps.input(0), "ReduceMean").orElse(null);
      if (eps.isEmpty() || var == null) {
        continue;
      }
      Node pow = g.producer(var.input(0), "Pow").orElse(null);
      if (pow == null || !pow.input(0).equals(div.input(0)) || g.scalar(pow.input(1)).orElse(0.0) != 2.0) {
        continue;
      }
      Optional<TensorType> xt = g.type(x);
      if (xt.isEmpty() || !xt.get().shape().hasRank() || !lastAxisOnly(mean, g, xt.get().shape().rank())
          || !lastAxisOnly(var, g, xt.get().shape().rank()) || !xt.get().dtype().isFloatingPoint()) {
        continue;
      }
      int rank = xt.get().shape().rank();
      if (!isVectorOverLastAxis(gamma, xt.get()) || !isVectorOverLastAxis(beta, xt.get())) {
        continue;
      }
      Node ln = new Node(add.name().isEmpty() ? add.output(0) + "/layernorm" : add.name(), "LayerNormalization", "",
          List.of(x, mul.input(1 - side), add.input(add.input(0).equals(mul.output(0)) ? 1 : 0)),
          List.of(add.output(0)),
          attributes(rank - 1, eps.get().floatValue()));
      return new Match(List.of(mean, sub, pow, var, addEps, sqrt, div, mul, add), List.of(ln));
    }
    return null;
  }

  private static Map<String, Attribute> attributes(int axis, float epsilon) {
    Map<String, Attribute> m = new java.util.LinkedHashMap<>();
    m.put("axis", Attribute.ofInt(axis));
    m.put("epsilon", Attribute.ofFloat(epsilon));
    return m;
  }

  static boolean is(Node n, String op) {
    return n.domain().isEmpty() && n.opType().equals(op);
  }

  /** ReduceMean over only the last axis, keeping dims (axes as attribute or constant input). */
  private static boolean lastAxisOnly(Node mean, GraphIndex g, int rank) {
    Attribute keep = mean.attribute("keepdims");
    if (keep != null && keep.asInt() == 0) {
      return false;
    }
    long[] axes;
    if (mean.attribute("axes") != null) {
      axes = mean.attribute("axes").asInts();
    } else if (mean.hasInput(1) && g.constant(mean.input(1)) != null) {
      axes = g.constant(mean.input(1)).toLongArray();
    } else {
      return false;
    }
    return axes.length == 1 && (axes[0] == -1 || axes[0] == rank - 1);
  }

  /** A constant of shape [D] or [1, ..., D] matching x's last dimension. */
  private static boolean isVectorOverLastAxis(Tensor t, TensorType x) {
    var last = x.shape().dim(x.shape().rank() - 1);
    if (!last.isStatic() || t.dtype() != x.dtype() || t.rank() == 0 || t.dim(t.rank() - 1) != last.value()) {
      return false;
    }
    return t.size() == last.value();
  }
}
