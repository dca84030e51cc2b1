package dev.nnvm.runtime.artifact;

import java.io.IOException;

/**
 * The bytes are not a usable artifact: wrong magic, a format newer than this
 * runtime, truncated, a hash that does not match, an inconsistent manifest,
 * or no native code for this CPU. The message says which part or field is
 * wrong and how. Like {@link java.util.zip.ZipException}, it is an
 * {@link IOException}: it describes bad input data, not a programming error.
 */
public final class ArtifactException extends IOException {
  private static final long serialVersionUID = 1L;

  public ArtifactException(String message) {
    super(message);
  }

  public ArtifactException(String message, Throwable cause) {
    super(message, cause);
  }
}
