package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ops.NnvmOps;
import java.util.List;
import java.util.Optional;

/**
 * Turns {@code Add(MatMul(A, B), bias)} with a constant bias over the last
 * axis into {@code nnvm.MatMulBias(A, B, bias)}, the biased matrix product
 * whose bias the GEMM kernel adds in registers. The anchor is the {@code Add}.
 */
public final class FuseMatMulBias extends PatternRewrite {
  public static final FuseMatMulBias INSTANCE = new FuseMatMulBias();

  private FuseMatMulBias() {}

  @Override
  public String name() {
    return "FuseMatMulBias";
  }

  @Override
  protected Match match(Node add, GraphIndex g, Names names) {
    if (!FuseLayerNorm.is(add, "Add")) {
      return null;
    }
    for (int side = 0; side < 2; side++) {
      Node mm = g.producer(add.input(side), "MatMul").orElse(null);
      Tensor bias = g.constant(add.input(1 - side));
      Optional<TensorType> out = g.type(add.output(0));
      Optional<TensorType> prod = g.type(add.input(side));
      if (mm == null || bias == null || out.isEmpty() || prod.isEmpty() || !out.get().equals(prod.get())
          || bias.rank() != 1 || !prod.get().shape().hasRank()) {
        continue;
      }
      var last = prod.get().shape().dim(prod.get().shape().rank() - 1);
      if (!last.isStatic() || last.value() != bias.size() || bias.dtype() != prod.get().dtype()) {
        continue;
      }
      Node fused = new Node(add.name().isEmpty() ? add.output(0) + "/matmul_bias" : add.name(),
          NnvmOps.MATMUL_BIAS, NnvmOps.DOMAIN, List.of(mm.input(0), mm.input(1), add.input(1 - side)),
          List.of(add.output(0)), java.util.Map.of());
      return new Match(List.of(mm, add), List.of(fused));
    }
    return null;
  }
}
