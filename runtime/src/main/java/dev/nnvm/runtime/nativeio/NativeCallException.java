package dev.nnvm.runtime.nativeio;

/** A model entry point that returned a non-zero status, with the message it wrote. */
public class NativeCallException extends NativeException {
  private static final long serialVersionUID = 1L;

  private final String symbol;
  private final int status;
  private final String modelMessage;

  public NativeCallException(String symbol, int status, String modelMessage) {
    super("model entry point '" + symbol + "' failed with status " + status + ": "
        + (modelMessage.isEmpty() ? "(the model wrote no message)" : modelMessage));
    this.symbol = symbol;
    this.status = status;
    this.modelMessage = modelMessage;
  }

  public String symbol() {
    return symbol;
  }

  /** The non-zero value the entry point returned. */
  public int status() {
    return status;
  }

  /** The message the model wrote into the error buffer; empty when it wrote none. */
  public String modelMessage() {
    return modelMessage;
  }
}
