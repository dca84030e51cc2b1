package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
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

  private NnvmOps() {}

  static void register(OpRegistry r) {
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
  }
}
