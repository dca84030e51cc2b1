package dev.nnvm.rpc;

import java.util.Iterator;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightClient;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.VectorUnloader;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;

/**
 * One scoring exchange with a remote model: the server keeps an executor for
 * it, and answers each batch sent with one batch of outputs, in order.
 *
 * <pre>{@code
 * try (RemoteSession s = model.session()) {
 *   try (VectorSchemaRoot out = s.score(batch)) { ... }       // send one, receive its answer
 *   s.scoreAll(batches, out -> ...);                          // many, a window of them in flight
 * }
 * }</pre>
 *
 * <p>Every batch must have the schema of the first. Not thread-safe (gRPC
 * calls are not): use a session from one thread at a time. Closing an
 * unfinished session cancels the exchange on the server.
 */
public final class RemoteSession implements AutoCloseable {
  private final FlightClient.ExchangeReaderWriter exchange;
  private final BufferAllocator allocator;
  private final String model;
  private VectorSchemaRoot staging;
  private int pending;
  private boolean finished;
  private boolean closed;

  RemoteSession(FlightClient.ExchangeReaderWriter exchange, BufferAllocator allocator, String model) {
    this.exchange = exchange;
    this.allocator = allocator;
    this.model = model;
  }

  /**
   * Sends a batch (its buffers are serialized before this returns: the caller
   * may reuse or close it). Its answer comes from {@link #receive()}; keep
   * only a few batches unanswered, since a server whose answers are not read
   * stops reading.
   */
  public void send(VectorSchemaRoot batch) {
    Objects.requireNonNull(batch, "batch");
    checkSending();
    if (staging == null) {
      staging = VectorSchemaRoot.create(batch.getSchema(), allocator);
      exchange.getWriter().start(staging);
    } else if (!staging.getSchema().equals(batch.getSchema())) {
      throw new IllegalArgumentException("every batch of a session must have the schema of the first: "
          + staging.getSchema() + ", got " + batch.getSchema());
    }
    try (ArrowRecordBatch data = new VectorUnloader(batch).getRecordBatch()) {
      new VectorLoader(staging).load(data);
    }
    try {
      exchange.getWriter().putNext();
    } finally {
      staging.clear();
    }
    pending++;
  }

  /**
   * The answer to the oldest batch sent and not yet received, in a root of
   * the client's allocator (the caller closes it).
   *
   * @throws FlightRuntimeException the server's error (INVALID_ARGUMENT naming the column and row of a bad
   *     batch, ...), or INTERNAL when the server ended the exchange early
   */
  public VectorSchemaRoot receive() {
    checkOpen();
    if (pending == 0) {
      throw new IllegalStateException("no batch is waiting for its answer");
    }
    if (!exchange.getReader().next()) {
      throw CallStatus.INTERNAL.withDescription("the server ended the exchange with model " + model + " with "
          + pending + " batch(es) unanswered").toRuntimeException();
    }
    pending--;
    VectorSchemaRoot in = exchange.getReader().getRoot();
    VectorSchemaRoot out = VectorSchemaRoot.create(in.getSchema(), allocator);
    try (ArrowRecordBatch data = new VectorUnloader(in).getRecordBatch()) {
      new VectorLoader(out).load(data);
      return out;
    } catch (RuntimeException | Error e) {
      out.close();
      throw e;
    }
  }

  /** Sends one batch and returns its answer; no other batch may be waiting. */
  public VectorSchemaRoot score(VectorSchemaRoot batch) {
    if (pending != 0) {
      throw new IllegalStateException(pending + " batch(es) sent earlier wait for their answers; receive them first");
    }
    send(batch);
    return receive();
  }

  /**
   * Scores every batch of {@code batches}, keeping up to {@code window}
   * batches in flight, and hands each answer, in order, to {@code answers}.
   * An answer root is valid only during the call (it belongs to the
   * exchange): copy or transfer what must outlive it. A window of 1 never
   * stalls; a larger one overlaps transfer and compute, as long as the
   * unanswered batches fit gRPC's flow-control window (about 1 MiB).
   *
   * @return the number of batches scored
   */
  public long scoreAll(Iterator<VectorSchemaRoot> batches, Consumer<VectorSchemaRoot> answers, int window) {
    Objects.requireNonNull(batches, "batches");
    Objects.requireNonNull(answers, "answers");
    if (window < 1) {
      throw new IllegalArgumentException("window must be at least 1, got " + window);
    }
    if (pending != 0) {
      throw new IllegalStateException(pending + " batch(es) sent earlier wait for their answers; receive them first");
    }
    long scored = 0;
    while (batches.hasNext() || pending > 0) {
      while (pending < window && batches.hasNext()) {
        send(batches.next());
      }
      if (!exchange.getReader().next()) {
        throw CallStatus.INTERNAL.withDescription("the server ended the exchange with model " + model + " with "
            + pending + " batch(es) unanswered").toRuntimeException();
      }
      pending--;
      answers.accept(exchange.getReader().getRoot());
      scored++;
    }
    return scored;
  }

  /** {@link #scoreAll(Iterator, Consumer, int)} with one batch in flight. */
  public long scoreAll(Iterator<VectorSchemaRoot> batches, Consumer<VectorSchemaRoot> answers) {
    return scoreAll(batches, answers, 1);
  }

  /**
   * Ends the exchange: no more batches; waits for the server to finish and
   * surfaces its error, if any.
   *
   * @throws IllegalStateException when answers were not received
   */
  public void finish() {
    checkOpen();
    if (pending != 0) {
      throw new IllegalStateException(pending + " answer(s) not received; receive them before finishing");
    }
    if (!finished) {
      finished = true;
      exchange.getWriter().completed();
      if (exchange.getReader().next()) {
        throw CallStatus.INTERNAL.withDescription("the server sent more answers than batches").toRuntimeException();
      }
    }
  }

  private void checkSending() {
    checkOpen();
    if (finished) {
      throw new IllegalStateException("the session with model " + model + " is finished");
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the session with model " + model + " is closed");
    }
  }

  /**
   * Ends the exchange and frees its buffers: finishes it when every answer
   * was received, else cancels it on the server.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (!finished && pending == 0) {
      finished = true;
      try {
        exchange.getWriter().completed();
        while (exchange.getReader().next()) {
          // answers nobody asked for: dropped with the exchange
        }
      } catch (FlightRuntimeException e) {
        // the exchange failed; whoever sent or received saw the error, closing goes on
      }
    }
    RuntimeException failure = null;
    try {
      exchange.close();
    } catch (Exception e) {
      failure = e instanceof RuntimeException r ? r : new IllegalStateException("closing the session failed", e);
    }
    if (staging != null) {
      staging.close();
    }
    if (failure != null && !(failure instanceof FlightRuntimeException)) {
      throw failure;
    }
  }
}
