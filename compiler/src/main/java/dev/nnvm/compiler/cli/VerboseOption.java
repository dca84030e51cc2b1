package dev.nnvm.compiler.cli;

import picocli.CommandLine.Option;

/** The {@code -v/--verbose} option every command takes: errors then come with their stack trace. */
final class VerboseOption {
  static final String NAME = "--verbose";

  @Option(names = {"-v", NAME}, description = "Print stack traces with errors, and debug logging when run from main.")
  boolean verbose;
}
