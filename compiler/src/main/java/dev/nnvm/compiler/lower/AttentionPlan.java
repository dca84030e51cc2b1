package dev.nnvm.compiler.lower;

import dev.nnvm.runtime.Dim;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.List;

/**
 * How an {@code nnvm.Attention} node runs on the fused attention kernel
 * ({@link dev.nnvm.compiler.codegen.llvm.AttentionGenerator}): the values it
 * reads and writes and the sizes and mask strides of the kernel's ABI, as
 * index expressions over the model's symbols. Nodes outside what the kernel
 * takes (other element types, more than two leading dimensions, leading
 * dimensions that differ between Q, K and V, a mask that is not contiguous
 * along the keys or whose broadcasting is only known at run time) have no
 * plan and lower to loops.
 *
 * @param q [..., Sq, D]
 * @param kt [..., D, Sk]
 * @param v [..., Sk, Dv]
 * @param mask the additive mask, or null
 * @param output [..., Sq, Dv]
 * @param heads the inner leading dimension (1 when there is one leading dimension)
 * @param maskOuter mask stride of the outer leading dimension (0 when broadcast)
 * @param maskInner mask stride of the inner leading dimension
 * @param maskRow mask stride of the query rows
 */
public record AttentionPlan(String q, String kt, String v, String mask, String output, Expr batch, Expr heads,
    Expr sq, Expr sk, Expr d, Expr dv, Expr maskOuter, Expr maskInner, Expr maskRow, float scale) {

  /** The plan of {@code n}, or null when it is not an attention node the kernel takes. */
  static AttentionPlan of(Node n, Graph graph) {
    if (!n.domain().equals(NnvmOps.DOMAIN) || !n.opType().equals(NnvmOps.ATTENTION)) {
      return null;
    }
    TensorType q = graph.typeOf(n.input(0)).orElse(null);
    TensorType kt = graph.typeOf(n.input(1)).orElse(null);
    TensorType v = graph.typeOf(n.input(2)).orElse(null);
    TensorType out = graph.typeOf(n.output(0)).orElse(null);
    String maskName = n.inputs().size() > 3 && !n.input(3).isEmpty() ? n.input(3) : null;
    TensorType mask = maskName == null ? null : graph.typeOf(maskName).orElse(null);
    if (q == null || kt == null || v == null || out == null || maskName != null && mask == null) {
      return null;
    }
    for (TensorType t : maskName == null ? List.of(q, kt, v, out) : List.of(q, kt, v, out, mask)) {
      if (t.dtype() != DType.FLOAT32 || !t.shape().hasRank()) {
        return null;
      }
    }
    int rank = q.shape().rank();
    if (rank < 3 || rank > 4 || kt.shape().rank() != rank || v.shape().rank() != rank
        || out.shape().rank() != rank) {
      return null;
    }
    List<Dim> lead = q.shape().dims().subList(0, rank - 2);
    if (!kt.shape().dims().subList(0, rank - 2).equals(lead) || !v.shape().dims().subList(0, rank - 2).equals(lead)
        || !out.shape().dims().subList(0, rank - 2).equals(lead)) {
      return null;
    }
    List<Expr> qd = LowerContext.dims(q);
    List<Expr> ktd = LowerContext.dims(kt);
    List<Expr> vd = LowerContext.dims(v);
    Expr batch = Exprs.product(qd.subList(0, rank - 2));
    Expr heads = rank == 4 ? qd.get(1) : Exprs.i64(1);
    Expr zero = Exprs.i64(0);
    Expr[] strides = {zero, zero, zero};
    if (mask != null) {
      // Scores are [lead..., Sq, Sk]; the mask broadcasts against them, trailing dimensions aligned.
      List<Dim> scores = new ArrayList<>(lead);
      scores.add(q.shape().dim(rank - 2));
      scores.add(kt.shape().dim(rank - 1));
      List<Dim> md = mask.shape().dims();
      int offset = scores.size() - md.size();
      if (offset < 0 || md.isEmpty() || !md.get(md.size() - 1).equals(scores.get(scores.size() - 1))) {
        return null;
      }
      // Kernel strides: outer leading dim, inner leading dim (rank 4 only), query rows.
      int[] slotOf = rank == 4 ? new int[] {0, 1, 2} : new int[] {0, 2};
      List<Expr> mdims = LowerContext.dims(mask);
      for (int a = 0; a < md.size() - 1; a++) {
        Dim dim = md.get(a);
        Dim target = scores.get(a + offset);
        if (dim.isStatic() && dim.value() == 1) {
          continue;
        }
        if (!dim.equals(target)) {
          return null;
        }
        strides[slotOf[a + offset]] = Exprs.product(mdims.subList(a + 1, md.size()));
      }
    }
    return new AttentionPlan(n.input(0), n.input(1), n.input(2), maskName, n.output(0), batch, heads,
        qd.get(rank - 2), ktd.get(rank - 1), qd.get(rank - 1), vd.get(rank - 1), strides[0], strides[1], strides[2],
        n.attribute("scale") == null ? 1f : n.attribute("scale").asFloat());
  }
}
