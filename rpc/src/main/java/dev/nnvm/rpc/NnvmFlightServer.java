package dev.nnvm.rpc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.flight.FlightServer;
import org.apache.arrow.flight.Location;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Flight server hosting the NNVM runtime: clients upload compiled artifacts,
 * list, unload and benchmark them with Flight actions, and score record
 * batches through {@code DoExchange} ({@link FlightProtocol} describes the
 * calls). Models are loaded once and shared by every exchange; each exchange
 * has its own executor.
 *
 * <pre>{@code
 * try (NnvmFlightServer server = NnvmFlightServer.start(ServerOptions.builder().port(0).token(token).build())) {
 *   URI uri = server.uri();          // grpc+tcp://127.0.0.1:<port>
 *   ...
 * }                                  // drains the calls in flight, then unloads everything
 * }</pre>
 *
 * <p>Owns an Arrow root allocator and a model cache; {@link #close()} waits
 * up to {@link ServerOptions#drainTimeout()} for calls in flight (new ones are
 * refused with {@code UNAVAILABLE}), then cancels what is left, unloads every
 * model and closes the allocator, failing loudly if memory leaked.
 */
public final class NnvmFlightServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NnvmFlightServer.class);

  private final ServerOptions options;
  private final BufferAllocator allocator;
  private final ModelHost host;
  private final FlightServer server;
  private final ExecutorService calls;
  private boolean closed;

  private NnvmFlightServer(ServerOptions options, BufferAllocator allocator, ModelHost host, FlightServer server,
      ExecutorService calls) {
    this.options = options;
    this.allocator = allocator;
    this.host = host;
    this.server = server;
    this.calls = calls;
  }

  /**
   * Starts a server; it is listening when this returns.
   *
   * @throws UncheckedIOException when the port cannot be bound or the TLS files cannot be read
   */
  public static NnvmFlightServer start(ServerOptions options) {
    Objects.requireNonNull(options, "options");
    BufferAllocator allocator = new RootAllocator();
    // The server's own call executor: Flight shuts down the executor it makes itself as soon as shutdown()
    // begins, which would strand the exchanges that closing means to drain.
    ExecutorService calls = Executors.newCachedThreadPool(new ThreadFactory() {
      private final AtomicInteger count = new AtomicInteger();

      @Override
      public Thread newThread(Runnable r) {
        Thread t = new Thread(r, "nnvm-flight-" + count.incrementAndGet());
        t.setDaemon(true);
        return t;
      }
    });
    ModelHost host = null;
    try {
      host = new ModelHost(options, allocator, "nnvm-flight-models");
      Location location = options.tls() ? Location.forGrpcTls(options.bind(), options.port())
          : Location.forGrpcInsecure(options.bind(), options.port());
      FlightServer.Builder b = FlightServer.builder(allocator, location, new HostProducer(host)).executor(calls)
          .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, options.maxUploadBytes() + (1 << 20)));
      if (options.token() != null) {
        b.headerAuthenticator(new TokenAuthenticator(options.token()));
      }
      if (options.tls()) {
        b.useTls(options.tlsCertificate().toFile(), options.tlsKey().toFile());
      }
      FlightServer server = b.build().start();
      NnvmFlightServer s = new NnvmFlightServer(options, allocator, host, server, calls);
      LOG.info("NNVM Flight server listening on {} ({})", s.uri(), options);
      return s;
    } catch (IOException e) {
      calls.shutdownNow();
      closeAfterFailure(e, host, allocator);
      throw new UncheckedIOException("cannot start the Flight server on " + options.bind() + ":" + options.port()
          + ": " + e.getMessage(), e);
    } catch (RuntimeException | Error e) {
      calls.shutdownNow();
      closeAfterFailure(e, host, allocator);
      throw e;
    }
  }

  private static void closeAfterFailure(Throwable failure, AutoCloseable... resources) {
    for (AutoCloseable c : resources) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          failure.addSuppressed(e);
        }
      }
    }
  }

  public ServerOptions options() {
    return options;
  }

  /** The port listened on (the free one picked when the options said 0). */
  public int port() {
    return server.getPort();
  }

  /** Where clients connect: {@code grpc+tcp://host:port}, or {@code grpc+tls://...}. */
  public URI uri() {
    return server.getLocation().getUri();
  }

  /** Models loaded now. */
  public int loadedModels() {
    return host.loadedModels();
  }

  /** Calls (exchanges and actions) running now. */
  public int callsInFlight() {
    return host.callsInFlight();
  }

  /** Arrow memory the server holds now (batches in flight). */
  public long arrowBytes() {
    return allocator.getAllocatedMemory();
  }

  /** Native memory the loaded models' weights take now. */
  public long nativeBytes() {
    return host.nativeBytes();
  }

  /** The most native runs that ran at once since the start (never above {@link ServerOptions#maxConcurrentRuns()}). */
  public int peakConcurrentRuns() {
    return host.peakConcurrentRuns();
  }

  /** True once {@link #close()} began: new calls are refused while the ones in flight finish. */
  public boolean isDraining() {
    return host.isDraining();
  }

  /** Blocks until the server has shut down (another thread closes it). */
  public void awaitTermination() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * Drains and stops: refuses new calls, waits up to the drain timeout for
   * the calls in flight, cancels what is left, then unloads every model and
   * closes the allocator. Closing twice is harmless.
   *
   * @throws IllegalStateException when calls would not end or memory leaked (naming how much)
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    URI where = uri();
    host.beginShutdown();
    server.shutdown();
    boolean drained;
    try {
      drained = host.awaitIdle(options.drainTimeout());
      if (!drained) {
        LOG.warn("{} call(s) still running after {}; cancelling them", host.callsInFlight(), options.drainTimeout());
      }
      server.close();
      if (!drained && !host.awaitIdle(Duration.ofSeconds(10))) {
        throw new IllegalStateException("the Flight server cannot close: " + host.callsInFlight()
            + " call(s) would not end");
      }
      server.awaitTermination(1, TimeUnit.SECONDS);
      calls.shutdown();
      if (!calls.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("Flight call threads still running after close: {}", calls.shutdownNow().size());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while closing the Flight server", e);
    }
    host.close();
    allocator.close();
    LOG.info("NNVM Flight server {} closed", where);
  }
}
