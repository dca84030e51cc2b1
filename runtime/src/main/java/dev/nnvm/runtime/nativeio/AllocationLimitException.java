package dev.nnvm.runtime.nativeio;

/** An allocation that would take an allocator (or one of its ancestors) over its byte limit. */
public class AllocationLimitException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AllocationLimitException(String message) {
    super(message);
  }
}
