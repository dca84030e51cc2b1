package dev.nnvm.rpc.cli;

import dev.nnvm.rpc.NnvmFlightServer;
import dev.nnvm.rpc.ServerOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code serve}: runs an {@link NnvmFlightServer} until the process is
 * stopped (SIGINT/SIGTERM drain the calls in flight first). Prints exactly one
 * line on stdout once it listens, {@code nnvm serve: listening on
 * grpc+tcp://127.0.0.1:PORT}; the log goes to stderr.
 *
 * <p>Public with a no-argument constructor so that another command line
 * ({@code nnvmc}) can add it as a subcommand.
 */
@Command(name = "serve",
    description = "Serve compiled models over Arrow Flight: upload, list, unload, benchmark, score record batches.",
    footer = {"", "Examples:",
        "  serve --port 0                          # loopback, a free port, no token",
        "  serve --port 8815 --bind 0.0.0.0 --token-file token",
        "  serve --port 8815 --token-file token --tls-cert cert.pem --tls-key key.pem"})
public final class ServeCommand implements Callable<Integer> {
  /** The start of the one line printed once the server listens; the URI follows. */
  public static final String READY = "nnvm serve: listening on ";

  @Spec
  private CommandSpec spec;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  private boolean help;

  @Option(names = "--port", paramLabel = "P", required = true,
      description = "The port to listen on; 0 picks a free one (printed in the ready line).")
  private int port;

  @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
      description = "The address to listen on. Default: ${DEFAULT-VALUE}. Anything but loopback needs --token-file.")
  private String bind;

  @Option(names = "--token-file", paramLabel = "F",
      description = "A file holding the bearer token every call must carry (trailing newlines are ignored).")
  private Path tokenFile;

  @Option(names = "--upload-key-file", paramLabel = "F",
      description = "Take only uploads signed with the key in this file (HMAC-SHA256 of the artifact, action"
          + " 'upload-signed').")
  private Path uploadKeyFile;

  @Option(names = "--tls-cert", paramLabel = "C", description = "PEM certificate chain: serve TLS (grpc+tls).")
  private Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "K", description = "PEM (PKCS#8) private key of --tls-cert.")
  private Path tlsKey;

  @Option(names = "--device", paramLabel = "cpu", defaultValue = "cpu",
      description = "Where models run. Default: ${DEFAULT-VALUE} (the only device so far).")
  private String device;

  @Option(names = "--threads", paramLabel = "T", defaultValue = "1",
      description = "Intra-op threads of each native run. Default: ${DEFAULT-VALUE}.")
  private int threads;

  @Option(names = "--max-concurrent-runs", paramLabel = "R", defaultValue = "0",
      description = "Native runs at once; others wait. Default: available processors / threads.")
  private int maxConcurrentRuns;

  @Option(names = "--max-upload-bytes", paramLabel = "B", defaultValue = "1073741824",
      description = "The largest artifact an upload may carry. Default: ${DEFAULT-VALUE}.")
  private long maxUploadBytes;

  @Option(names = "--max-batch-rows", paramLabel = "N", defaultValue = "4096",
      description = "The most rows a batch may hold (one native run each). Default: ${DEFAULT-VALUE}.")
  private int maxBatchRows;

  @Option(names = "--max-loaded-models", paramLabel = "M", defaultValue = "8",
      description = "The most models loaded at once. Default: ${DEFAULT-VALUE}.")
  private int maxLoadedModels;

  @Option(names = "--drain-seconds", paramLabel = "S", defaultValue = "30",
      description = "On shutdown, how long calls in flight may take to finish. Default: ${DEFAULT-VALUE}.")
  private long drainSeconds;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (!device.equals("cpu")) {
      throw new ParameterException(spec.commandLine(), "--device " + device + ": only cpu is available so far");
    }
    ServerOptions options;
    try {
      options = ServerOptions.builder().bind(bind).port(port).token(token()).tls(tlsCert, tlsKey).threads(threads)
          .maxConcurrentRuns(maxConcurrentRuns).maxUploadBytes(maxUploadBytes).maxBatchRows(maxBatchRows)
          .maxLoadedModels(maxLoadedModels).drainTimeout(Duration.ofSeconds(drainSeconds)).uploadKey(uploadKey())
          .build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    NnvmFlightServer server = NnvmFlightServer.start(options);
    Thread hook = new Thread(server::close, "nnvm-serve-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    PrintWriter out = spec.commandLine().getOut();
    out.println(READY + server.uri());
    out.flush();
    server.awaitTermination();
    return 0;
  }

  private byte[] uploadKey() throws IOException {
    if (uploadKeyFile == null) {
      return null;
    }
    byte[] key = Files.readAllBytes(uploadKeyFile);
    if (key.length == 0) {
      throw new ParameterException(spec.commandLine(), "--upload-key-file " + uploadKeyFile + " is empty");
    }
    return key;
  }

  private String token() throws IOException {
    if (tokenFile == null) {
      return null;
    }
    String token = new String(Files.readAllBytes(tokenFile), StandardCharsets.UTF_8).strip();
    if (token.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--token-file " + tokenFile + " is empty");
    }
    return token;
  }
}
