package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * What a compute rule sees of the node it lowers: attributes (with
 * defaults), input and output types, constant inputs, and its inputs as
 * expressions at any index (which inlines the producers inside a fused group).
 */
public final class LowerContext extends OpContext {
  private final List<TensorType> inputTypes;
  private final TensorType outputType;
  private final Function<String, Tensor> constants;
  private final BiFunction<Integer, List<Expr>, Expr> inputs;

  LowerContext(Node node, OpDef def, int opset, List<TensorType> inputTypes, TensorType outputType,
      Function<String, Tensor> constants, BiFunction<Integer, List<Expr>, Expr> inputs) {
    super(node, def, opset);
    this.inputTypes = inputTypes;
    this.outputType = outputType;
    this.constants = constants;
    this.inputs = inputs;
  }

  public TensorType inputType(int i) {
    return inputTypes.get(i);
  }

  public TensorType outputType() {
    return outputType;
  }

  /** The value of input {@code i} when it is a constant of the graph. */
  public Optional<Tensor> constant(int i) {
    return node().hasInput(i) ? Optional.ofNullable(constants.apply(node().input(i))) : Optional.empty();
  }

  /** Input {@code i} at a multi-index of its own shape. */
  public Expr input(int i, List<Expr> index) {
    return inputs.apply(i, index);
  }

  /** The dimensions of a type as index expressions. */
  public static List<Expr> dims(TensorType t) {
    List<Expr> out = new ArrayList<>();
    for (Dim d : t.shape().dims()) {
      out.add(Exprs.dim(d));
    }
    return out;
  }

  /**
   * Input {@code i} at an output index under multidirectional broadcasting:
   * trailing dimensions align, and a dimension of size 1 is read at 0.
   */
  public Expr broadcastInput(int i, List<Expr> outIndex) {
    List<Dim> in = inputType(i).shape().dims();
    int offset = outIndex.size() - in.size();
    List<Expr> idx = new ArrayList<>();
    for (int k = 0; k < in.size(); k++) {
      Dim d = in.get(k);
      Expr o = outIndex.get(k + offset);
      Dim out = outputType.shape().dim(k + offset);
      if (d.isStatic() && d.value() == 1) {
        idx.add(Exprs.i64(0));
      } else if (d.equals(out) || d.isStatic()) {
        idx.add(o);
      } else {
        // A symbolic size that may be 1 at run time while the output's is not.
        idx.add(new Expr.Select(Exprs.compare(Expr.CompareOp.EQ, Exprs.dim(d), Exprs.i64(1)), Exprs.i64(0), o,
            dev.nnvm.runtime.DType.INT64));
      }
    }
    return input(i, idx);
  }
}
