package dev.nnvm.compiler.ir.op;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import java.util.List;
import java.util.Optional;

/** The view of a node that a type rule gets: input types and, where known, constant input values. */
public final class InferContext extends OpContext {
  private final List<TensorType> inputTypes;
  private final List<Tensor> constantInputs;

  /**
   * @param inputTypes one entry per input slot, null for an omitted input
   * @param constantInputs one entry per input slot, null when the value is not known at compile time
   */
  public InferContext(Node node, OpDef def, int opset, List<TensorType> inputTypes, List<Tensor> constantInputs) {
    super(node, def, opset);
    this.inputTypes = inputTypes;
    this.constantInputs = constantInputs;
  }

  /** The type of input {@code i}; fails naming the node when the input is omitted. */
  public TensorType inputType(int i) {
    TensorType t = i < inputTypes.size() ? inputTypes.get(i) : null;
    if (t == null) {
      throw error("input %d is required but missing", i);
    }
    return t;
  }

  /** The value of input {@code i} when it is known at compile time (a constant or folded). */
  public Optional<Tensor> constant(int i) {
    return i < constantInputs.size() ? Optional.ofNullable(constantInputs.get(i)) : Optional.empty();
  }
}
