package dev.nnvm.compiler.ir.op;

import dev.nnvm.compiler.analysis.ShapeValue;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import java.util.List;
import java.util.Optional;

/** The view of a node that a type rule gets: input types and, where known, constant input values. */
public final class InferContext extends OpContext {
  private final List<TensorType> inputTypes;
  private final List<Tensor> constantInputs;
  private final List<ShapeValue> shapeValues;

  /**
   * @param inputTypes one entry per input slot, null for an omitted input
   * @param constantInputs one entry per input slot, null when the value is not known at compile time
   */
  public InferContext(Node node, OpDef def, int opset, List<TensorType> inputTypes, List<Tensor> constantInputs) {
    this(node, def, opset, inputTypes, constantInputs, List.of());
  }

  /**
   * @param shapeValues one entry per input slot: what is known of a small
   *     integer input's elements (numbers, symbolic dimensions), or null
   */
  public InferContext(Node node, OpDef def, int opset, List<TensorType> inputTypes, List<Tensor> constantInputs,
      List<ShapeValue> shapeValues) {
    super(node, def, opset);
    this.inputTypes = inputTypes;
    this.constantInputs = constantInputs;
    this.shapeValues = shapeValues;
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

  /**
   * What is known of the elements of a small integer input (a shape being
   * computed): numbers and symbolic dimensions, also when the value is not a
   * compile-time constant, e.g. {@code Concat(Shape(x)[0], [12, 32])} gives
   * {@code [N, 12, 32]}.
   */
  public Optional<ShapeValue> shapeValue(int i) {
    Optional<Tensor> c = constant(i);
    if (c.isPresent()) {
      return Optional.ofNullable(ShapeValue.ofConstant(c.get()));
    }
    return i < shapeValues.size() ? Optional.ofNullable(shapeValues.get(i)) : Optional.empty();
  }
}
