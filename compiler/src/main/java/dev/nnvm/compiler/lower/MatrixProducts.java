package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Recognizes kernels that are matrix products (MatMul, nnvm.MatMulBias, Gemm
 * without transposes or scaling and with a per-column or no C, alone
 * or as the master of a fused group with an elementwise epilogue) and says
 * how to run them with the packed GEMM: batches of row-major [M, K] x [K, N]
 * (+ bias) written into the kernel's output, then the epilogue as a loop
 * kernel that reads and writes that output in place.
 */
final class MatrixProducts {
  private MatrixProducts() {}

  /**
   * How to run one kernel as GEMM calls.
   *
   * @param a the left operand, [batches * M, K] row-major
   * @param b the right operand, [K, N] shared, or one [K, N] per batch when {@code batchedB}
   * @param bias per-column bias [N], or null
   * @param output the buffer the GEMM writes (the kernel's output)
   * @param result the product's own value name (read by the epilogue, stored in {@code output})
   * @param epilogue a fused node computing the kernel's output from {@code result}, or null
   */
  record Plan(String a, String b, String bias, String output, String result, Expr batches, Expr m, Expr n, Expr k,
      boolean batchedB, Node epilogue) {}

  /** The plan for {@code node}, or null when it is not a matrix product this path handles. */
  static Plan plan(Node node, Graph graph) {
    if (node.domain().equals(NnvmOps.DOMAIN) && node.opType().equals(NnvmOps.FUSED)) {
      Graph body = node.attribute("body").asGraph();
      if (body.nodes().isEmpty() || body.outputs().size() != 1) {
        return null;
      }
      Node master = body.nodes().get(0);
      Plan p = product(master, t -> body.typeOf(t).or(() -> graph.typeOf(t)).orElse(null));
      if (p == null) {
        return null;
      }
      String out = body.outputs().get(0).name();
      TensorType resultType = body.typeOf(master.output(0)).orElse(null);
      if (resultType == null || !resultType.equals(body.outputs().get(0).type())) {
        return null;
      }
      return new Plan(p.a(), p.b(), p.bias(), out, master.output(0), p.batches(), p.m(), p.n(), p.k(), p.batchedB(),
          epilogue(node, body, master, resultType));
    }
    Plan p = product(node, t -> graph.typeOf(t).orElse(null));
    return p;
  }

  private static Plan product(Node n, java.util.function.Function<String, TensorType> types) {
    boolean matmul = n.domain().isEmpty() && n.opType().equals("MatMul");
    boolean biased = n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.MATMUL_BIAS);
    boolean gemm = n.domain().isEmpty() && n.opType().equals("Gemm");
    if (gemm) {
      if (!plainGemm(n)) {
        return null;
      }
      biased = n.hasInput(2);
    } else if (!matmul && !biased) {
      return null;
    }
    TensorType a = types.apply(n.input(0));
    TensorType b = types.apply(n.input(1));
    TensorType out = types.apply(n.output(0));
    if (a == null || b == null || out == null || a.dtype() != DType.FLOAT32 || b.dtype() != DType.FLOAT32
        || !a.shape().hasRank() || !b.shape().hasRank() || a.shape().rank() < 2 || b.shape().rank() < 2) {
      return null;
    }
    List<Dim> ad = a.shape().dims();
    List<Dim> bd = b.shape().dims();
    Dim kDim = ad.get(ad.size() - 1);
    Dim nDim = bd.get(bd.size() - 1);
    if (kDim.isUnknown() || nDim.isUnknown() || !bd.get(bd.size() - 2).equals(kDim)) {
      return null;
    }
    boolean batchedB = bd.size() > 2;
    if (batchedB && !ad.subList(0, ad.size() - 2).equals(bd.subList(0, bd.size() - 2))) {
      return null;
    }
    if (biased) {
      TensorType bias = types.apply(n.input(2));
      if (bias == null || !nDim.isStatic() || !bias.shape().equals(dev.nnvm.runtime.Shape.of(nDim.value()))) {
        return null;
      }
    }
    Expr batches;
    Expr m;
    try {
      List<Expr> lead = new ArrayList<>();
      for (Dim d : ad.subList(0, ad.size() - 1)) {
        lead.add(Exprs.dim(d));
      }
      if (batchedB) {
        batches = Exprs.product(lead.subList(0, lead.size() - 1));
        m = lead.get(lead.size() - 1);
      } else {
        batches = Exprs.i64(1);
        m = Exprs.product(lead);
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    return new Plan(n.input(0), n.input(1), biased ? n.input(2) : null, n.output(0), n.output(0), batches, m,
        Exprs.dim(nDim), Exprs.dim(kDim), batchedB, null);
  }

  /** A Gemm that is {@code A @ B (+ C)}: no transposes, alpha and beta 1 (others run as loop kernels). */
  private static boolean plainGemm(Node n) {
    for (String flag : List.of("transA", "transB")) {
      if (n.attribute(flag) != null && n.attribute(flag).asInt() != 0) {
        return false;
      }
    }
    for (String scale : List.of("alpha", "beta")) {
      if (n.attribute(scale) != null && n.attribute(scale).asFloat() != 1f) {
        return false;
      }
    }
    return true;
  }

  /** The group minus its master, as a fused node that reads the product's result as an input. */
  private static Node epilogue(Node group, Graph body, Node master, TensorType resultType) {
    if (body.nodes().size() == 1) {
      return null;
    }
    Set<String> defined = new LinkedHashSet<>();
    Graph.Builder g = Graph.builder(group.name() + "_epilogue").opsets(body.opsets());
    g.input(master.output(0), resultType);
    defined.add(master.output(0));
    List<Node> rest = body.nodes().subList(1, body.nodes().size());
    Set<String> produced = new LinkedHashSet<>();
    rest.forEach(r -> produced.addAll(r.outputs()));
    List<String> inputs = new ArrayList<>(List.of(master.output(0)));
    for (Node r : rest) {
      for (String in : r.inputs()) {
        if (!in.isEmpty() && !produced.contains(in) && defined.add(in)) {
          TensorType t = body.typeOf(in).orElseThrow();
          g.input(in, t);
          inputs.add(in);
        }
      }
      g.node(r);
    }
    for (ValueInfo o : body.outputs()) {
      g.output(o.name(), o.type());
    }
    body.valueTypes().forEach((k, v) -> {
      if (produced.contains(k)) {
        g.valueType(k, v);
      }
    });
    Map<String, Attribute> attrs = new LinkedHashMap<>();
    attrs.put("body", Attribute.ofGraph(g.build()));
    attrs.put("pattern", Attribute.ofString("BROADCAST"));
    return new Node(group.name() + "_epilogue", NnvmOps.FUSED, NnvmOps.DOMAIN, inputs, group.outputs(), attrs);
  }
}
