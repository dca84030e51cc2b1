package dev.nnvm.spark.job;

/** A failure the job reports as one line without a stack trace: a missing file, a bad option value. */
public final class JobException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public JobException(String message) {
    super(message);
  }

  public JobException(String message, Throwable cause) {
    super(message, cause);
  }
}
