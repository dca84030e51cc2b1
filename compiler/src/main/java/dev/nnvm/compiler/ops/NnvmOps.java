package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Operators of the compiler's own domain {@value #DOMAIN}, created by graph
 * passes (never by the ONNX frontend): fused groups and fused patterns the
 * code generators emit as single kernels.
 */
public final class NnvmOps {
  /** The operator domain of compiler-created nodes. */
  public static final String DOMAIN = "nnvm";
  /** A fused group: attribute {@code body} is the group's sub-graph. */
  public static final String FUSED = "Fused";
  /** {@code softmax(Q @ KT * scale + mask) @ V}: multi-head attention on [..., heads, seq, dim] inputs. */
  public static final String ATTENTION = "Attention";
  /** {@code MatMul(A, B) + bias}, the bias broadcast against the product. */
  public static final String MATMUL_BIAS = "MatMulBias";

  private NnvmOps() {}

  /** Converts between NCHW and NCHW{block}c (attributes {@code block}, {@code to_blocked}). */
  public static final String LAYOUT_TRANSFORM = BlockedLayoutOps.LAYOUT_TRANSFORM;
  /** Convolution on NCHW{block}c data with packed weights. */
  public static final String CONV_BLOCKED = BlockedLayoutOps.CONV_BLOCKED;

  /** Packs Conv weights [O, I, KH, KW] as [O/b, I/bi, KH, KW, bi, b]. */
  public static Tensor packConvWeights(Tensor w, int blockIn, int block) {
    return BlockedLayoutOps.packWeights(w, blockIn, block);
  }

  static void register(OpRegistry r) {
    BlockedLayoutOps.register(r);
    OpDef.builder(DOMAIN, FUSED)
        .pattern(FusionPattern.OPAQUE)
        .inputs(0, Integer.MAX_VALUE)
        .outputs(1, Integer.MAX_VALUE)
        .attr(AttrSpec.required("body", Attribute.Kind.GRAPH))
        .attr(AttrSpec.ofString("pattern", FusionPattern.OPAQUE.name()))
        .infer(ctx -> {
          List<TensorType> out = new ArrayList<>();
          for (ValueInfo v : ctx.attrGraph("body").outputs()) {
            out.add(v.type());
          }
          return out;
        })
        .eval(ctx -> {
          Graph body = ctx.attrGraph("body");
          Map<String, Tensor> bindings = new LinkedHashMap<>();
          for (int i = 0; i < body.inputs().size(); i++) {
            bindings.put(body.inputs().get(i).name(), ctx.input(i));
          }
          return ctx.runSubgraph(body, bindings);
        })
        .doc("A fused group of operators, compiled into one kernel; evaluates its body sub-graph.")
        .register(r);

    OpDef.builder(DOMAIN, ATTENTION)
        .pattern(FusionPattern.OPAQUE)
        .inputs(3, 4)
        .attr(AttrSpec.ofFloat("scale", 1f))
        .infer(ctx -> {
          TensorType q = ctx.inputType(0);
          TensorType v = ctx.inputType(2);
          if (!q.shape().hasRank() || !v.shape().hasRank()) {
            return List.of(TensorType.unknownShape(q.dtype()));
          }
          if (q.shape().rank() < 2 || v.shape().rank() != q.shape().rank()) {
            throw ctx.error("Q and V need the same rank >= 2, got %s and %s", q.shape(), v.shape());
          }
          List<Dim> dims = new ArrayList<>(q.shape().dims());
          dims.set(dims.size() - 1, v.shape().dim(v.shape().rank() - 1));
          return List.of(new TensorType(q.dtype(), Shape.of(dims)));
        })
        .eval(ctx -> ctx.runSubgraph(attentionBody(ctx), bindInputs(ctx, "q", "kt", "v", "mask")))
        .doc("Scaled dot-product attention; KT is the key already transposed to [..., dim, seq].")
        .register(r);

    OpDef.builder(DOMAIN, MATMUL_BIAS)
        .pattern(FusionPattern.OUT_ELEMWISE_FUSABLE)
        .inputs(3)
        .infer(ctx -> {
          OpDef matmul = r.find("", "MatMul").orElseThrow();
          Node mm = Node.of(ctx.node().name(), "MatMul", ctx.node().inputs().subList(0, 2), ctx.node().outputs());
          List<TensorType> out = matmul.typeRule().infer(new InferContext(mm, matmul, 13,
              List.of(ctx.inputType(0), ctx.inputType(1)), List.of()));
          TensorType product = out.get(0);
          try {
            return List.of(new TensorType(product.dtype(),
                Broadcasting.shape(product.shape(), ctx.inputType(2).shape())));
          } catch (RuntimeException e) {
            throw ctx.error("bias of shape %s does not broadcast to the product %s", ctx.inputType(2).shape(),
                product.shape());
          }
        })
        .eval(ctx -> ctx.runSubgraph(composite(ctx, List.of("a", "b", "bias"),
            List.of(Node.of("mm", "MatMul", List.of("a", "b"), List.of("p")),
                Node.of("add", "Add", List.of("p", "bias"), List.of("y"))), "y"), bindInputs(ctx, "a", "b", "bias")))
        .doc("Matrix product plus a broadcast bias, the form code generators fuse into one kernel.")
        .register(r);
  }

  private static Graph attentionBody(EvalContext ctx) {
    Tensor scale = Tensor.fromDoubles(ctx.input(0).dtype(), new long[0], new double[] {ctx.attrFloat("scale")});
    List<Node> nodes = new ArrayList<>();
    nodes.add(Node.of("scores", "MatMul", List.of("q", "kt"), List.of("s")));
    nodes.add(Node.of("scaled", "Mul", List.of("s", "scale"), List.of("s1")));
    String logits = "s1";
    if (ctx.hasInput(3)) {
      nodes.add(Node.of("masked", "Add", List.of("s1", "mask"), List.of("s2")));
      logits = "s2";
    }
    nodes.add(new Node("probs", "Softmax", "", List.of(logits), List.of("p"),
        Map.of("axis", Attribute.ofInt(-1))));
    nodes.add(Node.of("context", "MatMul", List.of("p", "v"), List.of("y")));
    List<String> ins = ctx.hasInput(3) ? List.of("q", "kt", "v", "mask") : List.of("q", "kt", "v");
    return composite(ctx, ins, nodes, "y").toBuilder().constant("scale", scale).opset("", 13).build();
  }

  /** A sub-graph of standard operators that defines a composite operator's result. */
  private static Graph composite(EvalContext ctx, List<String> inputs, List<Node> nodes, String output) {
    Graph.Builder b = Graph.builder(ctx.node().opType()).opset("", 13);
    for (int i = 0; i < inputs.size(); i++) {
      b.input(inputs.get(i), ctx.input(i).type());
    }
    return b.nodes(nodes).output(output, TensorType.unknownShape(ctx.input(0).dtype())).build();
  }

  private static Map<String, Tensor> bindInputs(EvalContext ctx, String... names) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      if (ctx.hasInput(i)) {
        m.put(names[i], ctx.input(i));
      }
    }
    return m;
  }
}
