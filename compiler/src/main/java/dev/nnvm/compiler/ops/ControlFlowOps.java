package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.ir.Attribute;
import java.util.List;
import java.util.Map;

/** Constants and control flow (If; Loop and Scan are parsed and evaluated where supported). */
final class ControlFlowOps {
  private ControlFlowOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("Constant")
        .inputs(0)
        .attr(AttrSpec.of("value", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("value_float", Attribute.Kind.FLOAT))
        .attr(AttrSpec.of("value_floats", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("value_int", Attribute.Kind.INT))
        .attr(AttrSpec.of("value_ints", Attribute.Kind.INTS))
        .attr(AttrSpec.of("value_string", Attribute.Kind.STRING))
        .attr(AttrSpec.of("value_strings", Attribute.Kind.STRINGS))
        .infer(ctx -> List.of(constantValue(ctx).type()))
        .eval(ctx -> List.of(constantValue(ctx)))
        .register(r);

    OpDef.builder("If")
        .inputs(1)
        .outputs(1, Integer.MAX_VALUE)
        .attr(AttrSpec.required("then_branch", Attribute.Kind.GRAPH))
        .attr(AttrSpec.required("else_branch", Attribute.Kind.GRAPH))
        .infer(ctx -> {
          List<TensorType> out = new java.util.ArrayList<>();
          for (var v : ctx.attrGraph("then_branch").outputs()) {
            out.add(v.type());
          }
          return out;
        })
        .eval(ctx -> {
          boolean cond = ctx.input(0).getBool(0);
          return ctx.runSubgraph(ctx.attrGraph(cond ? "then_branch" : "else_branch"), Map.of());
        })
        .register(r);
  }

  private static Tensor constantValue(dev.nnvm.compiler.ir.op.OpContext ctx) {
    if (ctx.hasAttr("value")) {
      return ctx.attrTensor("value");
    }
    if (ctx.hasAttr("value_float")) {
      return Tensor.scalarFloat(ctx.attrFloat("value_float"));
    }
    if (ctx.hasAttr("value_floats")) {
      float[] v = ctx.attrFloats("value_floats");
      return Tensor.ofFloats(new long[] {v.length}, v);
    }
    if (ctx.hasAttr("value_int")) {
      return Tensor.scalarLong(dev.nnvm.runtime.DType.INT64, ctx.attrInt("value_int"));
    }
    if (ctx.hasAttr("value_ints")) {
      return Tensor.vector(ctx.attrInts("value_ints"));
    }
    if (ctx.hasAttr("value_string")) {
      return Tensor.ofStrings(new long[0], ctx.attrString("value_string"));
    }
    if (ctx.hasAttr("value_strings")) {
      return Tensor.ofStrings(new long[] {ctx.node().attribute("value_strings").asStrings().size()},
          ctx.node().attribute("value_strings").asStrings().toArray(new String[0]));
    }
    throw ctx.error("needs one of the value attributes");
  }
}
