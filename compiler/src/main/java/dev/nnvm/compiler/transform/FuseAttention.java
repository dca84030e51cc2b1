package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ops.NnvmOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Recognizes scaled dot-product attention,
 * {@code MatMul(Softmax(MatMul(Q, KT) / c [+ mask]), V)} with the softmax
 * over the last axis, and replaces it with one {@code nnvm.Attention} so the
 * code generator can emit a fused kernel that never materializes the score
 * matrix. The anchor is the second {@code MatMul}.
 */
public final class FuseAttention extends PatternRewrite {
  public static final FuseAttention INSTANCE = new FuseAttention();

  private FuseAttention() {}

  @Override
  public String name() {
    return "FuseAttention";
  }


  @Override
  protected Match match(Node context, GraphIndex g, Names names) {
    if (!FuseLayerNorm.is(context, "MatMul")) {
      return null;
    }
    Node softmax = g.producer(context.input(0), "Softmax").orElse(null);
    if (softmax == null) {
      return null;
    }
    Optional<TensorType> st = g.type(softmax.input(0));
    if (st.isEmpty() || !st.get().shape().hasRank() || st.get().shape().rank() < 2) {
      return null;
    }
    int rank = st.get().shape().rank();
    Attribute axis = softmax.attribute("axis");
    long ax = axis == null ? -1 : axis.asInt();
    // Before opset 13 the default axis is 1 (rows are flattened from there): only the last axis is a per-row softmax.
    if (axis == null && g.graph().opset("", 13) < 13 && rank != 2 || ax != -1 && ax != rank - 1) {
      return null;
    }
    List<Node> matched = new ArrayList<>();
    String logits = softmax.input(0);
    String mask = null;
    Node maskAdd = g.producer(logits, "Add").orElse(null);
    if (maskAdd != null) {
      for (int side = 0; side < 2; side++) {
        Node scaled = g.producer(maskAdd.input(side));
        if (scaled != null && scaled.domain().isEmpty()
            && (scaled.opType().equals("Div") || scaled.opType().equals("Mul"))) {
          mask = maskAdd.input(1 - side);
          logits = maskAdd.input(side);
          matched.add(maskAdd);
          break;
        }
      }
    }
    Node scale = g.producer(logits);
    if (scale == null || !scale.domain().isEmpty()) {
      return null;
    }
    Optional<Double> c = g.scalar(scale.input(1));
    double factor;
    if (scale.opType().equals("Div") && c.isPresent() && c.get() != 0) {
      factor = 1 / c.get();
    } else if (scale.opType().equals("Mul") && c.isPresent()) {
      factor = c.get();
    } else {
      return null;
    }
    Node scores = g.producer(scale.input(0), "MatMul").orElse(null);
    if (scores == null) {
      return null;
    }
    List<Node> all = new ArrayList<>(List.of(scores, scale));
    all.addAll(matched);
    all.add(softmax);
    all.add(context);
    List<String> inputs = new ArrayList<>(List.of(scores.input(0), scores.input(1), context.input(1)));
    if (mask != null) {
      inputs.add(mask);
    }
    Node attention = new Node(context.name().isEmpty() ? context.output(0) + "/attention" : context.name(),
        NnvmOps.ATTENTION, NnvmOps.DOMAIN, inputs, List.of(context.output(0)),
        Map.of("scale", Attribute.ofFloat((float) factor)));
    return new Match(all, List.of(attention));
  }
}
