package dev.nnvm.compiler.cli;

/**
 * A mistake in how the command line was used (a missing file, an unknown
 * input, a dimension without a size): reported as one line, never with a
 * stack trace.
 */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }

  CliException(String message, Throwable cause) {
    super(message, cause);
  }
}
