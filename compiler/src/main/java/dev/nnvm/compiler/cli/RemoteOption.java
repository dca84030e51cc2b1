package dev.nnvm.compiler.cli;

import dev.nnvm.runtime.remote.RemoteEngine;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --remote URI [--token-file F]} of {@code run} and {@code bench}: the model runs on a model server
 * ({@code nnvmc serve}, or any server an engine on the class path speaks to) instead of this JVM.
 */
final class RemoteOption {
  @Option(names = "--remote", paramLabel = "URI",
      description = "Run on a model server instead of here, e.g. grpc://host:8815 (grpc+tls:// for TLS); the"
          + " artifact is uploaded unless the server holds it.")
  String remote;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "With --remote: a file holding the server's bearer token.")
  Path tokenFile;

  boolean isSet() {
    return remote != null;
  }

  /** Connects, uploads and opens a session; every failure is a one-line {@link CliException}. */
  RemoteEngine.Session open(byte[] artifact) {
    URI uri;
    try {
      uri = new URI(remote);
    } catch (URISyntaxException e) {
      throw new CliException("--remote " + remote + ": not a URI (" + e.getReason() + ")");
    }
    List<RemoteEngine> engines = RemoteEngine.forUri(uri);
    if (engines.isEmpty()) {
      throw new CliException("--remote " + remote + ": no remote engine for '" + uri.getScheme() + "' on the class"
          + " path (grpc:// needs the rpc module: bin/nnvmc adds it once it is built, mvn -q package -pl rpc -am)");
    }
    String token = null;
    if (tokenFile != null) {
      try {
        token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new CliException("--token-file " + tokenFile + ": " + e.getMessage());
      }
    }
    try {
      return engines.get(0).open(uri, token, artifact);
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new CliException("--remote " + remote + ": " + e.getMessage(), e);
    }
  }

  /** Refuses an option that does not go with --remote. */
  void refuseWith(boolean given, String option, String why) {
    if (isSet() && given) {
      throw new CliException(option + " does not go with --remote: " + why);
    }
  }
}
