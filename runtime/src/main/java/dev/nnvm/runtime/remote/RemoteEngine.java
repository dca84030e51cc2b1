package dev.nnvm.runtime.remote;

import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * A model server reached over the network, for tools that run a compiled model either here or remotely
 * ({@code nnvmc run|bench --remote URI}). The runtime only names the contract; an implementation is found on the
 * class path through {@link ServiceLoader} (the {@code rpc} module provides one over Arrow Flight for
 * {@code grpc://} and {@code grpc+tls://}), so the runtime and the connectors carry no network stack.
 */
public interface RemoteEngine {
  /** Whether this engine serves {@code uri} (by its scheme). */
  boolean accepts(URI uri);

  /**
   * Connects to the server at {@code uri} with a bearer token (null: none), uploads the artifact unless the server
   * already holds it (the server checks it like any load) and opens a session with its own executor state.
   *
   * @throws IllegalArgumentException when the server refuses the artifact or the call, with the server's reason
   */
  Session open(URI uri, String token, byte[] artifact);

  /** The engines on the class path that accept {@code uri}, in discovery order. */
  static List<RemoteEngine> forUri(URI uri) {
    List<RemoteEngine> engines = new ArrayList<>();
    for (RemoteEngine e : ServiceLoader.load(RemoteEngine.class)) {
      if (e.accepts(uri)) {
        engines.add(e);
      }
    }
    return engines;
  }

  /** One model on one server. */
  interface Session extends AutoCloseable {
    /** Where and what runs, e.g. the server's address, the model and the native variant it picked. */
    String describe();

    /**
     * Runs the model once on the server: {@code inputs} by name (every model input), the outputs by name in
     * native memory from {@code allocator} (the caller closes them).
     */
    Map<String, NativeTensor> run(Map<String, NativeTensor> inputs, NativeAllocator allocator);

    /** Times the model on the server (random inputs at {@code dims}), measured in the server's clock. */
    Timing benchmark(Map<String, Long> dims, int warmup, int runs, int threads);

    @Override
    void close();
  }

  /** A remote benchmark: the variant that ran and its latencies in milliseconds. */
  record Timing(String variant, int warmup, int runs, int threads, double medianMs, double p90Ms, double minMs) {}
}
