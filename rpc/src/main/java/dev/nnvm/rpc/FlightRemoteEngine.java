package dev.nnvm.rpc;

import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.runtime.remote.RemoteEngine;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.arrow.flight.FlightRuntimeException;

/**
 * The runtime's {@link RemoteEngine} over Arrow Flight, found through {@code ServiceLoader} when this module is on
 * the class path: {@code nnvmc run|bench MODEL --remote grpc://HOST:PORT} upload the artifact (the server keeps
 * one copy per hash) and run it there with a {@link RemoteExecutor} or the server's benchmark action. Server
 * refusals become {@link IllegalArgumentException}s carrying the server's message.
 */
public final class FlightRemoteEngine implements RemoteEngine {
  private static final Set<String> SCHEMES = Set.of("grpc", "grpc+tcp", "grpc+tls");

  @Override
  public boolean accepts(URI uri) {
    return uri.getScheme() != null && SCHEMES.contains(uri.getScheme().toLowerCase(Locale.ROOT));
  }

  @Override
  public Session open(URI uri, String token, byte[] artifact) {
    NnvmFlightClient client = NnvmFlightClient.connect(uri, token);
    try {
      RemoteModel model = client.upload(artifact);
      return new FlightSession(uri, client, model);
    } catch (FlightRuntimeException e) {
      client.close();
      throw refused(uri, e);
    } catch (RuntimeException | Error e) {
      client.close();
      throw e;
    }
  }

  private static IllegalArgumentException refused(URI uri, FlightRuntimeException e) {
    return new IllegalArgumentException(uri + " refused: " + e.status().code() + ": " + e.getMessage(), e);
  }

  /** A client, the uploaded model and (once it has run) its remote executor. */
  private static final class FlightSession implements Session {
    private final URI uri;
    private final NnvmFlightClient client;
    private final RemoteModel model;
    private RemoteExecutor executor;

    FlightSession(URI uri, NnvmFlightClient client, RemoteModel model) {
      this.uri = uri;
      this.client = client;
      this.model = model;
    }

    @Override
    public String describe() {
      ModelInfo info = model.info();
      return String.format(Locale.ROOT, "model '%s' (artifact %s) on %s, variant %s", info.name(),
          info.hash().substring(0, Math.min(12, info.hash().length())), uri, info.variant());
    }

    @Override
    public Map<String, NativeTensor> run(Map<String, NativeTensor> inputs, NativeAllocator allocator) {
      try {
        if (executor == null) {
          executor = model.newExecutor();
        }
        inputs.forEach(executor::setInput);
        executor.run();
        Map<String, NativeTensor> out = new LinkedHashMap<>();
        try {
          for (ModelInfo.TensorInfo o : executor.model().outputs()) {
            out.put(o.name(), executor.output(o.name(), allocator));
          }
        } catch (RuntimeException | Error e) {
          out.values().forEach(NativeTensor::close);
          throw e;
        }
        return out;
      } catch (FlightRuntimeException e) {
        throw refused(uri, e);
      }
    }

    @Override
    public Timing benchmark(Map<String, Long> dims, int warmup, int runs, int threads) {
      try {
        BenchmarkResult r = client.benchmark(BenchmarkRequest.of(model.hash(), dims).withRuns(warmup, runs)
            .withThreads(threads));
        return new Timing(r.variant(), r.warmup(), r.runs(), r.threads(), r.medianMillis(), r.p90Millis(),
            r.minMillis());
      } catch (FlightRuntimeException e) {
        throw refused(uri, e);
      }
    }

    @Override
    public void close() {
      try {
        if (executor != null) {
          executor.close();
        }
      } finally {
        client.close();
      }
    }
  }
}
