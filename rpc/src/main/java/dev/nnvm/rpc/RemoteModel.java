package dev.nnvm.rpc;

import dev.nnvm.arrow.NullPolicy;
import java.util.Map;
import java.util.Objects;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * A model loaded on a server, seen from a client: its hash and description,
 * and the calls that use it. Holds nothing on either side (no need to
 * close); {@link #unload()} frees the server's copy.
 */
public final class RemoteModel {
  private final NnvmFlightClient client;
  private final ModelInfo info;

  RemoteModel(NnvmFlightClient client, ModelInfo info) {
    this.client = Objects.requireNonNull(client, "client");
    this.info = Objects.requireNonNull(info, "info");
  }

  /** The artifact id that names the model on the server. */
  public String hash() {
    return info.hash();
  }

  /** The description the server gave when this handle was made (its counters are not refreshed). */
  public ModelInfo info() {
    return info;
  }

  /** Scores one batch; the caller closes the result. */
  public VectorSchemaRoot score(VectorSchemaRoot batch) {
    return client.score(hash(), batch);
  }

  /** An exchange for many batches (null rows give null outputs). */
  public RemoteSession session() {
    return client.session(hash());
  }

  /** An exchange for many batches with the given null policy. */
  public RemoteSession session(NullPolicy nullPolicy) {
    return client.session(new ExchangeRequest(hash(), nullPolicy));
  }

  /** An executor on the server for this model, used like a local one (set inputs, run, read outputs). */
  public RemoteExecutor newExecutor() {
    return client.newExecutor(this);
  }

  /** Three warm-up and ten timed runs on one thread at these dimension sizes. */
  public BenchmarkResult benchmark(Map<String, Long> dims) {
    return client.benchmark(BenchmarkRequest.of(hash(), dims));
  }

  public void unload() {
    client.unload(hash());
  }

  @Override
  public String toString() {
    return "remote model '" + info.name() + "' (" + hash().substring(0, 12) + ") on " + client.uri();
  }
}
