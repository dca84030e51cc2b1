package dev.nnvm.runtime.nativeio;

/** A failure reported by native code or by the system below it (dlopen, posix_memalign, ...). */
public class NativeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public NativeException(String message) {
    super(message);
  }

  public NativeException(String message, Throwable cause) {
    super(message, cause);
  }
}
