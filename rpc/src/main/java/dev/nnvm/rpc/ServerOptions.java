package dev.nnvm.rpc;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How an {@link NnvmFlightServer} listens and what it allows; immutable, made
 * by {@link #builder()}. {@link Builder#build()} refuses, listing every
 * problem, a server that would listen beyond loopback without a token (an
 * upload is native code the server will run: remote code execution for
 * whoever may call it).
 */
public final class ServerOptions {
  /** The default port of {@code serve}; 0 picks a free one. */
  public static final int DEFAULT_PORT = 8815;

  private final String bind;
  private final int port;
  private final String token;
  private final Path tlsCertificate;
  private final Path tlsKey;
  private final int threads;
  private final int maxConcurrentRuns;
  private final long maxUploadBytes;
  private final int maxBatchRows;
  private final int maxLoadedModels;
  private final Duration drainTimeout;
  private final byte[] uploadKey;

  private ServerOptions(Builder b) {
    this.bind = b.bind;
    this.port = b.port;
    this.token = b.token;
    this.tlsCertificate = b.tlsCertificate;
    this.tlsKey = b.tlsKey;
    this.threads = b.threads;
    this.maxConcurrentRuns = b.maxConcurrentRuns > 0 ? b.maxConcurrentRuns
        : Math.max(1, Runtime.getRuntime().availableProcessors() / b.threads);
    this.maxUploadBytes = b.maxUploadBytes;
    this.maxBatchRows = b.maxBatchRows;
    this.maxLoadedModels = b.maxLoadedModels;
    this.drainTimeout = b.drainTimeout;
    this.uploadKey = b.uploadKey;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The address to listen on (default 127.0.0.1). */
  public String bind() {
    return bind;
  }

  /** The port (0: a free one, see {@link NnvmFlightServer#port()}). */
  public int port() {
    return port;
  }

  /** The bearer token every call must carry, or null when calls need none (loopback only). */
  public String token() {
    return token;
  }

  /** The PEM certificate chain when serving TLS, else null. */
  public Path tlsCertificate() {
    return tlsCertificate;
  }

  /** The PEM (PKCS#8) private key when serving TLS, else null. */
  public Path tlsKey() {
    return tlsKey;
  }

  public boolean tls() {
    return tlsCertificate != null;
  }

  /** Intra-op threads of each native run. */
  public int threads() {
    return threads;
  }

  /** Native runs (scoring batches and benchmarks) that may run at once; the others wait their turn. */
  public int maxConcurrentRuns() {
    return maxConcurrentRuns;
  }

  /** The largest artifact an upload may carry. */
  public long maxUploadBytes() {
    return maxUploadBytes;
  }

  /** The most rows a batch of an exchange may hold (each batch is one native run). */
  public int maxBatchRows() {
    return maxBatchRows;
  }

  /** The most models loaded at once. */
  public int maxLoadedModels() {
    return maxLoadedModels;
  }

  /** How long closing the server waits for calls in flight to finish before cancelling them. */
  public Duration drainTimeout() {
    return drainTimeout;
  }

  /**
   * The key uploads must be signed with (HMAC-SHA256 of the artifact, action
   * {@value FlightProtocol#UPLOAD_SIGNED}), or null when unsigned uploads are taken.
   */
  public byte[] uploadKey() {
    return uploadKey == null ? null : uploadKey.clone();
  }

  @Override
  public String toString() {
    return "ServerOptions[" + bind + ":" + port + (token == null ? ", no token" : ", token") + (tls() ? ", TLS" : "")
        + (uploadKey == null ? "" : ", signed uploads only")
        + ", " + threads + " thread(s) a run, " + maxConcurrentRuns + " concurrent run(s), uploads up to "
        + maxUploadBytes + " bytes, batches up to " + maxBatchRows + " rows, " + maxLoadedModels + " model(s)]";
  }

  /** Collects the settings; {@link #build()} checks them together. */
  public static final class Builder {
    private String bind = "127.0.0.1";
    private int port = DEFAULT_PORT;
    private String token;
    private Path tlsCertificate;
    private Path tlsKey;
    private int threads = 1;
    private int maxConcurrentRuns;
    private long maxUploadBytes = 1L << 30;
    private int maxBatchRows = 4096;
    private int maxLoadedModels = 8;
    private Duration drainTimeout = Duration.ofSeconds(30);
    private byte[] uploadKey;

    private Builder() {}

    public Builder bind(String address) {
      this.bind = Objects.requireNonNull(address, "address");
      return this;
    }

    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The bearer token calls must carry; null or empty for none (then only a loopback bind is allowed). */
    public Builder token(String token) {
      this.token = token == null || token.isEmpty() ? null : token;
      return this;
    }

    /** Serve TLS with this PEM certificate chain and PKCS#8 PEM private key. */
    public Builder tls(Path certificate, Path key) {
      this.tlsCertificate = certificate;
      this.tlsKey = key;
      return this;
    }

    public Builder threads(int threads) {
      this.threads = threads;
      return this;
    }

    /** Native runs at once; 0 (the default) means available processors / threads, at least 1. */
    public Builder maxConcurrentRuns(int runs) {
      this.maxConcurrentRuns = runs;
      return this;
    }

    public Builder maxUploadBytes(long bytes) {
      this.maxUploadBytes = bytes;
      return this;
    }

    public Builder maxBatchRows(int rows) {
      this.maxBatchRows = rows;
      return this;
    }

    public Builder maxLoadedModels(int models) {
      this.maxLoadedModels = models;
      return this;
    }

    public Builder drainTimeout(Duration timeout) {
      this.drainTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** Take only uploads signed with this key (HMAC-SHA256); null or empty for unsigned uploads. */
    public Builder uploadKey(byte[] key) {
      this.uploadKey = key == null || key.length == 0 ? null : key.clone();
      return this;
    }

    /**
     * Checks the settings together.
     *
     * @throws IllegalArgumentException listing every problem: a bind beyond loopback without a token, half a
     *     TLS setting, files that do not exist, limits below 1
     */
    public ServerOptions build() {
      List<String> problems = new ArrayList<>();
      try {
        InetAddress address = InetAddress.getByName(bind);
        if (!address.isLoopbackAddress() && token == null) {
          problems.add("binding " + bind + " (not a loopback address) needs a token: an upload is native code the"
              + " server runs, so anyone who can reach the port could run code here; give --token-file or bind"
              + " 127.0.0.1");
        }
      } catch (UnknownHostException e) {
        problems.add("cannot resolve the bind address '" + bind + "': " + e.getMessage());
      }
      if (port < 0 || port > 65535) {
        problems.add("port must be 0 to 65535, got " + port);
      }
      if ((tlsCertificate == null) != (tlsKey == null)) {
        problems.add("TLS needs both a certificate and a key, got only the "
            + (tlsCertificate == null ? "key" : "certificate"));
      }
      for (Path p : new Path[] {tlsCertificate, tlsKey}) {
        if (p != null && !p.toFile().isFile()) {
          problems.add("TLS file " + p + " does not exist");
        }
      }
      if (threads < 1) {
        problems.add("threads must be at least 1, got " + threads);
      }
      if (maxConcurrentRuns < 0) {
        problems.add("maxConcurrentRuns must be at least 1 (or 0 for the default), got " + maxConcurrentRuns);
      }
      if (maxUploadBytes < 1 || maxUploadBytes > Integer.MAX_VALUE - (1 << 20)) {
        problems.add("maxUploadBytes must be 1 to " + (Integer.MAX_VALUE - (1 << 20)) + " (a gRPC message), got "
            + maxUploadBytes);
      }
      if (maxBatchRows < 1) {
        problems.add("maxBatchRows must be at least 1, got " + maxBatchRows);
      }
      if (maxLoadedModels < 1) {
        problems.add("maxLoadedModels must be at least 1, got " + maxLoadedModels);
      }
      if (drainTimeout.isNegative()) {
        problems.add("drainTimeout must not be negative, got " + drainTimeout);
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("server options: " + String.join("; ", problems));
      }
      return new ServerOptions(this);
    }
  }
}
