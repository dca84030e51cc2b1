package dev.nnvm.rpc;

import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ScoringSpec;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightProducer.ServerStreamListener;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One scoring exchange: a {@link BatchScorer} of its own (an executor with
 * its call frame and workspace, an Arrow bridge on a child allocator) over
 * the server's shared copy of the model; each batch the client sends is
 * checked, run once (with a run permit) and answered with one batch of
 * outputs, in order. The next batch is read only once the client can take
 * the answer (Flight's readiness), so a client that stops reading stops the
 * exchange instead of filling the server's memory.
 *
 * <p>Every path closes what the exchange opened and ends the call exactly
 * once ({@code completed} or {@code error}); a failure is the call's alone.
 */
final class ScoringExchange {
  private static final Logger LOG = LoggerFactory.getLogger(ScoringExchange.class);
  private static final AtomicLong IDS = new AtomicLong();

  private final ModelHost host;
  private final FlightStream reader;
  private final ServerStreamListener writer;
  private final long id = IDS.incrementAndGet();
  private final Object ready = new Object();
  private final Object busy = new Object();
  private boolean cancelled;
  private long batches;
  private long rows;
  private long nativeNanos;

  ScoringExchange(ModelHost host, FlightStream reader, ServerStreamListener writer) {
    this.host = host;
    this.reader = reader;
    this.writer = writer;
  }

  void run() {
    writer.setOnCancelHandler(this::cancelled);
    writer.setOnReadyHandler(this::signalReady);
    try {
      host.enter();
    } catch (FlightRuntimeException e) {
      writer.error(e);
      return;
    }
    HostedModel model = null;
    long t0 = System.nanoTime();
    try {
      ExchangeRequest request;
      try {
        request = ExchangeRequest.parse(reader.getDescriptor());
      } catch (IllegalArgumentException e) {
        throw CallStatus.INVALID_ARGUMENT.withDescription(e.getMessage()).toRuntimeException();
      }
      model = host.model(request.model());
      model.exchangeStarted();
      ScoringSpec spec = model.spec(request.nullPolicy());
      try (BufferAllocator memory = host.arrow().newChildAllocator("exchange-" + id + "-"
              + model.hash().substring(0, 12), 0, Long.MAX_VALUE);
          BatchScorer scorer = BatchScorer.open(spec, memory, host.cache());
          VectorSchemaRoot answer = VectorSchemaRoot.create(scorer.outputSchema(), memory)) {
        score(model, scorer, memory, answer);
      }
      writer.completed();
      LOG.info("exchange {} with {}: {} batches, {} rows, {} ms native, {} ms in all", id, model.label(), batches,
          rows, String.format("%.1f", nativeNanos / 1e6), String.format("%.1f", (System.nanoTime() - t0) / 1e6));
    } catch (FlightRuntimeException e) {
      if (e.status().code() == FlightStatusCode.CANCELLED || writer.isCancelled()) {
        LOG.info("exchange {}{}: the client went away after {} batches, {} rows ({})", id,
            model == null ? "" : " with " + model.label(), batches, rows, e.getMessage());
      } else {
        LOG.warn("exchange {}{} failed after {} batches: {} {}", id, model == null ? "" : " with " + model.label(),
            batches, e.status().code(), e.getMessage());
      }
      writer.error(e);
    } catch (RuntimeException | Error e) {
      LOG.error("exchange {}{} failed after {} batches", id, model == null ? "" : " with " + model.label(), batches,
          e);
      writer.error(CallStatus.INTERNAL.withDescription("the server failed: " + e).withCause(e).toRuntimeException());
    } finally {
      if (model != null) {
        model.exchangeEnded();
        host.evictUnloaded();
      }
      host.exit();
    }
  }

  /**
   * The batch loop. Each batch's buffers are first moved out of the reader's
   * root into one of the exchange's own (under {@link #busy}, which the
   * cancel handler takes before Flight closes the reader), so a client that
   * goes away never frees memory a native run is reading.
   */
  private void score(HostedModel model, BatchScorer scorer, BufferAllocator memory, VectorSchemaRoot answer) {
    VectorSchemaRoot input = null;
    try {
      while (reader.next()) {
        int n;
        synchronized (busy) {
          if (cancelled) {
            throw CallStatus.CANCELLED.withDescription("the client cancelled the exchange").toRuntimeException();
          }
          VectorSchemaRoot batch = reader.getRoot();
          if (input == null) {
            validate(model, scorer, batch);
            writer.start(answer);
            input = VectorSchemaRoot.create(batch.getSchema(), memory);
          }
          n = batch.getRowCount();
          if (n > host.options().maxBatchRows()) {
            throw invalid(model, "a batch of " + n + " rows is more than this server takes ("
                + host.options().maxBatchRows() + " rows, --max-batch-rows); send smaller batches");
          }
          move(batch, input);
        }
        long before = scorer.metrics().nativeNanos();
        VectorSchemaRoot in = input;
        VectorSchemaRoot out;
        try {
          out = host.withRunPermit(() -> scorer.score(in));
        } catch (IllegalArgumentException e) {
          throw invalid(model, e.getMessage());
        } finally {
          input.clear();
        }
        try (VectorSchemaRoot scored = out) {
          move(scored, answer);
        }
        long nanos = scorer.metrics().nativeNanos() - before;
        model.scored(n, nanos);
        nativeNanos += nanos;
        LOG.debug("exchange {} batch {}: {} rows, {} ms native", id, batches, n, nanos / 1e6);
        awaitReady();
        writer.putNext();
        answer.clear();
        batches++;
        rows += n;
      }
      if (input == null) {
        synchronized (busy) {
          if (!cancelled && reader.hasRoot()) {
            validate(model, scorer, reader.getRoot());
          }
        }
        writer.start(answer);
      }
    } finally {
      if (input != null) {
        input.close();
      }
    }
  }

  private void cancelled() {
    synchronized (busy) {
      cancelled = true;
    }
    signalReady();
  }

  private static void validate(HostedModel model, BatchScorer scorer, VectorSchemaRoot batch) {
    try {
      scorer.validate(batch.getSchema());
    } catch (IllegalArgumentException e) {
      throw CallStatus.INVALID_ARGUMENT.withDescription(model.label() + ": the batches do not fit the model: "
          + e.getMessage()).withCause(e).toRuntimeException();
    }
  }

  private FlightRuntimeException invalid(HostedModel model, String why) {
    return CallStatus.INVALID_ARGUMENT.withDescription(model.label() + ", batch " + batches + ": " + why)
        .toRuntimeException();
  }

  /** Hands the scored columns to the root the writer sends (no copy: the buffers change owner). */
  private static void move(VectorSchemaRoot from, VectorSchemaRoot to) {
    try (ArrowRecordBatch batch = new VectorUnloader(from).getRecordBatch()) {
      new VectorLoader(to).load(batch);
    }
  }

  private boolean isCancelled() {
    synchronized (busy) {
      return cancelled;
    }
  }

  private void signalReady() {
    synchronized (ready) {
      ready.notifyAll();
    }
  }

  /** Waits until the client can take another batch, or fails with CANCELLED once it went away. */
  private void awaitReady() {
    synchronized (ready) {
      while (!writer.isReady()) {
        if (writer.isCancelled() || isCancelled()) {
          throw CallStatus.CANCELLED.withDescription("the client cancelled the exchange").toRuntimeException();
        }
        try {
          ready.wait(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw CallStatus.CANCELLED.withDescription("interrupted while the client was not reading")
              .toRuntimeException();
        }
      }
    }
  }
}
