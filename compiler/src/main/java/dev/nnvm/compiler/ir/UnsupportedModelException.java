package dev.nnvm.compiler.ir;

/**
 * A well-formed model that uses something this project does not implement:
 * an operator, an opset version, an attribute value or an element type.
 */
public class UnsupportedModelException extends ModelException {
  private static final long serialVersionUID = 1L;

  public UnsupportedModelException(String message) {
    super(message);
  }
}
