package dev.nnvm.compiler.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** {@code nnvmc serve} when the rpc module is not on the class path: says what to build instead of failing oddly. */
@Command(name = "serve", description = "Serve models over Arrow Flight (needs the rpc module on the class path).")
final class ServeUnavailable implements Callable<Integer> {
  @Unmatched
  private java.util.List<String> ignored;

  @Override
  public Integer call() {
    throw new CliException("serve needs the rpc module on the class path: build it (mvn -q package -pl rpc -am),"
        + " then bin/nnvmc adds it");
  }
}
