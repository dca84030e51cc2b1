package dev.nnvm.rpc;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringSpec;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A model the server holds: the scoring specs exchanges use (columns named
 * like the inputs and outputs, one native run per batch), the server's own
 * lease on the loaded model (the weights stay loaded while it is held), and
 * the counters {@code list} reports.
 */
final class HostedModel {
  private final ScoringSpec nullOutput;
  private final ScoringSpec strict;
  private final ModelCache.Lease lease;
  private final AtomicInteger exchanges = new AtomicInteger();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong rows = new AtomicLong();
  private final AtomicLong nativeNanos = new AtomicLong();

  HostedModel(ScoringSpec nullOutput, ScoringSpec strict, ModelCache.Lease lease) {
    this.nullOutput = nullOutput;
    this.strict = strict;
    this.lease = lease;
  }

  String hash() {
    return nullOutput.artifactId();
  }

  String name() {
    return nullOutput.modelName();
  }

  /** Short form for logs and messages: {@code model 'dense' (1a2b3c4d5e6f)}. */
  String label() {
    return "model '" + name() + "' (" + hash().substring(0, 12) + ")";
  }

  ScoringSpec spec(NullPolicy policy) {
    return policy == NullPolicy.STRICT ? strict : nullOutput;
  }

  CompiledModel model() {
    return lease.model();
  }

  ModelCache.Lease lease() {
    return lease;
  }

  void exchangeStarted() {
    exchanges.incrementAndGet();
  }

  void exchangeEnded() {
    exchanges.decrementAndGet();
  }

  void scored(long batchRows, long nanos) {
    batches.incrementAndGet();
    rows.addAndGet(batchRows);
    nativeNanos.addAndGet(nanos);
  }

  ModelInfo info() {
    CompiledModel m = lease.model();
    return new ModelInfo(hash(), name(), m.variant().name(), nullOutput.artifact().length, m.weightsBytes(),
        m.manifest().symbols(), ModelInfo.TensorInfo.of(m.inputs()), ModelInfo.TensorInfo.of(m.outputs()),
        exchanges.get(), batches.get(), rows.get(), nativeNanos.get() / 1e6);
  }
}
