package dev.nnvm.rpc;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.CallOption;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.Location;
import org.apache.arrow.flight.Result;
import org.apache.arrow.flight.auth2.BearerCredentialWriter;
import org.apache.arrow.flight.grpc.CredentialCallOption;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * A Java client of an {@link NnvmFlightServer} (or of any server that speaks
 * {@link FlightProtocol}).
 *
 * <pre>{@code
 * try (NnvmFlightClient client = NnvmFlightClient.connect(URI.create("grpc://127.0.0.1:8815"), token)) {
 *   RemoteModel model = client.upload(artifactBytes);            // or client.model(hash): already loaded
 *   try (VectorSchemaRoot out = model.score(batch)) { ... }      // one batch in, its outputs out
 *   try (RemoteSession s = model.session()) {                    // many batches over one exchange
 *     s.scoreAll(batches, out -> ...);
 *   }
 *   BenchmarkResult b = model.benchmark(Map.of("N", 32L));       // median and p90 in the server's clock
 * }
 * }</pre>
 *
 * <p>Failures arrive as {@link org.apache.arrow.flight.FlightRuntimeException}
 * with the server's status ({@code UNAUTHENTICATED}, {@code INVALID_ARGUMENT},
 * {@code NOT_FOUND}, {@code RESOURCE_EXHAUSTED}, ...) and message.
 *
 * <p>Result roots come from the client's allocator (the one given to the
 * builder, or a root allocator of the client's own); the caller closes them,
 * before closing the client when the allocator is the client's.
 */
public final class NnvmFlightClient implements AutoCloseable {
  private final URI uri;
  private final BufferAllocator allocator;
  private final boolean ownsAllocator;
  private final FlightClient client;
  private final CallOption[] options;
  private final byte[] uploadKey;
  private boolean closed;

  private NnvmFlightClient(Builder b) {
    this.uri = b.uri;
    this.ownsAllocator = b.allocator == null;
    this.allocator = ownsAllocator ? new RootAllocator() : b.allocator;
    BufferAllocator flightMemory = null;
    FlightClient c;
    try {
      flightMemory = allocator.newChildAllocator("nnvm-flight-client", 0, Long.MAX_VALUE);
      FlightClient.Builder fb = FlightClient.builder(flightMemory, new Location(uri));
      if (b.trustedCertificate != null) {
        // Flight reads the stream when the client is built: hand it the bytes, not an open file.
        fb.trustedCertificates(new ByteArrayInputStream(Files.readAllBytes(b.trustedCertificate)));
      }
      c = fb.build();
    } catch (IOException e) {
      closeAfterFailure(flightMemory);
      throw new UncheckedIOException("cannot read the trusted certificate " + b.trustedCertificate, e);
    } catch (RuntimeException | Error e) {
      closeAfterFailure(flightMemory);
      throw e;
    }
    this.client = c;
    this.uploadKey = b.uploadKey;
    this.options = b.token == null ? new CallOption[0]
        : new CallOption[] {new CredentialCallOption(new BearerCredentialWriter(b.token))};
  }

  /** Connects to {@code uri} ({@code grpc://}, {@code grpc+tcp://} or {@code grpc+tls://host:port}). */
  public static NnvmFlightClient connect(URI uri, String token) {
    return builder(uri).token(token).connect();
  }

  public static Builder builder(URI uri) {
    return new Builder(uri);
  }

  public URI uri() {
    return uri;
  }

  /** The allocator result roots come from. */
  public BufferAllocator allocator() {
    return allocator;
  }

  /**
   * Uploads an artifact, signed when the builder was given an upload key; the
   * server verifies and loads it (or finds it loaded).
   *
   * @throws org.apache.arrow.flight.FlightRuntimeException INVALID_ARGUMENT for bytes that are not an intact
   *     artifact or a model whose variants the server's CPU cannot run (the message says which),
   *     RESOURCE_EXHAUSTED over the server's size or model limit
   */
  public RemoteModel upload(byte[] artifact) {
    Objects.requireNonNull(artifact, "artifact");
    if (uploadKey != null) {
      byte[] signature = FlightProtocol.sign(uploadKey, artifact);
      byte[] body = Arrays.copyOf(signature, signature.length + artifact.length);
      System.arraycopy(artifact, 0, body, signature.length, artifact.length);
      return new RemoteModel(this, action(FlightProtocol.UPLOAD_SIGNED, body, ModelInfo.class));
    }
    return new RemoteModel(this, action(FlightProtocol.UPLOAD, artifact, ModelInfo.class));
  }

  /** Uploads a {@code .nnvm} file. */
  public RemoteModel upload(Path artifact) throws IOException {
    return upload(Files.readAllBytes(artifact));
  }

  /**
   * A model the server has loaded already.
   *
   * @throws org.apache.arrow.flight.FlightRuntimeException NOT_FOUND when it has no such model
   */
  public RemoteModel model(String hash) {
    Objects.requireNonNull(hash, "hash");
    return new RemoteModel(this, action(FlightProtocol.DESCRIBE,
        FlightProtocol.toJson(new FlightProtocol.HashRequest(hash)), ModelInfo.class));
  }

  /** The models loaded on the server, with their inputs, outputs and counters. */
  public List<ModelInfo> list() {
    return action(FlightProtocol.LIST, new byte[0], FlightProtocol.ModelList.class).models();
  }

  /** Unloads a model (exchanges still running with it finish first). */
  public void unload(String hash) {
    Objects.requireNonNull(hash, "hash");
    action(FlightProtocol.UNLOAD, FlightProtocol.toJson(new FlightProtocol.HashRequest(hash)),
        FlightProtocol.UnloadResult.class);
  }

  /** Times warm runs on the server (median and p90 in its clock). */
  public BenchmarkResult benchmark(BenchmarkRequest request) {
    return action(FlightProtocol.BENCHMARK, FlightProtocol.toJson(request), BenchmarkResult.class);
  }

  /** Scores one batch (its columns named like the model's inputs); the caller closes the result. */
  public VectorSchemaRoot score(String hash, VectorSchemaRoot batch) {
    try (RemoteSession s = session(new ExchangeRequest(hash, null))) {
      VectorSchemaRoot out = s.score(batch);
      try {
        s.finish();
        return out;
      } catch (RuntimeException | Error e) {
        out.close();
        throw e;
      }
    }
  }

  /** Opens an exchange for scoring many batches with one model. */
  public RemoteSession session(String hash) {
    return session(new ExchangeRequest(hash, null));
  }

  /** Opens an exchange with the given null policy. */
  public RemoteSession session(ExchangeRequest request) {
    checkOpen();
    return new RemoteSession(client.doExchange(request.descriptor(), options), allocator, request.model());
  }

  /** An executor on the server for {@code model}: inputs and outputs as tensors, one exchange. */
  public RemoteExecutor newExecutor(RemoteModel model) {
    return new RemoteExecutor(session(model.hash()), model.info(), allocator);
  }

  private <T> T action(String type, byte[] body, Class<T> answer) {
    checkOpen();
    Iterator<Result> results = client.doAction(new Action(type, body), options);
    if (!results.hasNext()) {
      throw CallStatus.INTERNAL.withDescription("the server answered '" + type + "' with no result")
          .toRuntimeException();
    }
    T value = FlightProtocol.fromJson(results.next().getBody(), answer);
    while (results.hasNext()) {
      results.next();
    }
    return value;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the Flight client of " + uri + " is closed");
    }
  }

  private void closeAfterFailure(BufferAllocator flightMemory) {
    if (flightMemory != null) {
      flightMemory.close();
    }
    closeOwned();
  }

  private void closeOwned() {
    if (ownsAllocator) {
      allocator.close();
    }
  }

  /**
   * Closes the connection (and the allocator, when it is the client's own:
   * that fails while result roots are still open).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      client.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      closeOwned();
    }
  }

  /** Where to connect and how. */
  public static final class Builder {
    private final URI uri;
    private String token;
    private Path trustedCertificate;
    private BufferAllocator allocator;
    private byte[] uploadKey;

    private Builder(URI uri) {
      this.uri = Objects.requireNonNull(uri, "uri");
    }

    /** The bearer token every call carries; null for none. */
    public Builder token(String token) {
      this.token = token == null || token.isEmpty() ? null : token;
      return this;
    }

    /** For {@code grpc+tls}: trust this PEM certificate (a self-signed server's) instead of the system's roots. */
    public Builder trustedCertificate(Path pem) {
      this.trustedCertificate = pem;
      return this;
    }

    /** Sign uploads with this key (for a server started with the same upload key). */
    public Builder uploadKey(byte[] key) {
      this.uploadKey = key == null || key.length == 0 ? null : key.clone();
      return this;
    }

    /** Result roots come from this allocator (default: a root allocator the client owns). */
    public Builder allocator(BufferAllocator allocator) {
      this.allocator = allocator;
      return this;
    }

    public NnvmFlightClient connect() {
      return new NnvmFlightClient(this);
    }
  }
}
