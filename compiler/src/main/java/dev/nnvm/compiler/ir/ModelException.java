package dev.nnvm.compiler.ir;

/**
 * A problem with a model or its inputs that the user can act on: malformed or
 * inconsistent graphs, bad attributes, wrong input shapes. The message names
 * the node, input or attribute concerned.
 */
public class ModelException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
