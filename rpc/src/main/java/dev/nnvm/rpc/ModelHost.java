package dev.nnvm.rpc;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringSpec;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.memory.BufferAllocator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's models and limits, apart from Flight's plumbing: uploads are
 * verified and loaded into a {@link ModelCache} of the server's own (so
 * exchanges share one copy of the weights), at most
 * {@link ServerOptions#maxLoadedModels()} at once; native runs take a permit
 * of a semaphore of {@link ServerOptions#maxConcurrentRuns()}; calls in
 * flight are counted so that closing can wait for them.
 *
 * <p>Failures are {@link FlightRuntimeException}s carrying the status the
 * client sees, with a message that names the model and the problem.
 */
final class ModelHost implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelHost.class);
  /** Bounds a benchmark's requests: sizes and run counts beyond these are refused before anything is allocated. */
  static final long MAX_BENCHMARK_INPUT_BYTES = 1L << 30;
  static final int MAX_BENCHMARK_RUNS = 100_000;
  private static final int SIGNATURE_BYTES = 32;

  private final ServerOptions options;
  private final BufferAllocator arrow;
  private final ModelCache cache;
  private final Map<String, HostedModel> models = new LinkedHashMap<>();
  private final Semaphore runs;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger peakRunning = new AtomicInteger();
  private final Object flight = new Object();
  private int callsInFlight;
  private boolean draining;
  private boolean closed;

  ModelHost(ServerOptions options, BufferAllocator arrow, String name) {
    this.options = options;
    this.arrow = arrow;
    this.cache = ModelCache.create(name);
    this.runs = new Semaphore(options.maxConcurrentRuns(), true);
  }

  ServerOptions options() {
    return options;
  }

  /** The Arrow allocator exchanges take their child allocators from. */
  BufferAllocator arrow() {
    return arrow;
  }

  ModelCache cache() {
    return cache;
  }

  /**
   * Verifies and loads an artifact (or finds it loaded already).
   *
   * @throws FlightRuntimeException RESOURCE_EXHAUSTED over the size or model limit, INVALID_ARGUMENT for bytes
   *     that are not an intact artifact, a model the Arrow bridge cannot feed, or one whose native variants
   *     this CPU cannot run (Flight has no FAILED_PRECONDITION)
   */
  ModelInfo upload(byte[] artifact) {
    if (options.uploadKey() != null) {
      throw CallStatus.UNAUTHENTICATED.withDescription("this server takes signed uploads only (action '"
          + FlightProtocol.UPLOAD_SIGNED + "': HMAC-SHA256 of the artifact under the server's upload key, then the"
          + " artifact)").toRuntimeException();
    }
    return load(artifact);
  }

  /**
   * An upload whose body is the artifact's HMAC-SHA256 under the server's
   * upload key (32 bytes), then the artifact; the signature is checked (in
   * constant time) before anything else reads the bytes.
   *
   * @throws FlightRuntimeException UNAUTHENTICATED for a wrong signature, INVALID_ARGUMENT when the server has
   *     no upload key; otherwise as {@link #upload}
   */
  ModelInfo uploadSigned(byte[] body) {
    byte[] key = options.uploadKey();
    if (key == null) {
      throw CallStatus.INVALID_ARGUMENT.withDescription("this server has no upload key; use '"
          + FlightProtocol.UPLOAD + "'").toRuntimeException();
    }
    if (body.length < SIGNATURE_BYTES) {
      throw CallStatus.UNAUTHENTICATED.withDescription("a signed upload starts with a " + SIGNATURE_BYTES
          + "-byte signature; got " + body.length + " bytes in all").toRuntimeException();
    }
    byte[] artifact = Arrays.copyOfRange(body, SIGNATURE_BYTES, body.length);
    byte[] expected = FlightProtocol.sign(key, artifact);
    if (!MessageDigest.isEqual(expected, Arrays.copyOf(body, SIGNATURE_BYTES))) {
      throw CallStatus.UNAUTHENTICATED.withDescription("upload refused: the signature does not match the artifact"
          + " under this server's upload key").toRuntimeException();
    }
    return load(artifact);
  }

  private ModelInfo load(byte[] artifact) {
    if (artifact.length > options.maxUploadBytes()) {
      throw CallStatus.RESOURCE_EXHAUSTED.withDescription("upload of " + artifact.length
          + " bytes refused: this server takes artifacts of at most " + options.maxUploadBytes()
          + " bytes (--max-upload-bytes)").toRuntimeException();
    }
    ScoringSpec.Builder b;
    try {
      b = ScoringSpec.builder(artifact);
    } catch (IllegalArgumentException e) {
      throw CallStatus.INVALID_ARGUMENT.withDescription("upload refused: " + e.getMessage()).withCause(e)
          .toRuntimeException();
    }
    ScoringSpec nullOutput;
    ScoringSpec strict;
    try {
      b.batchSize(options.maxBatchRows()).threads(options.threads());
      nullOutput = b.nullPolicy(NullPolicy.NULL_OUTPUT).build();
      strict = b.nullPolicy(NullPolicy.STRICT).build();
    } catch (IllegalArgumentException e) {
      throw CallStatus.INVALID_ARGUMENT.withDescription("upload refused: model '" + b.manifest().model().name()
          + "' cannot be scored over Arrow batches: " + e.getMessage()).withCause(e).toRuntimeException();
    }
    synchronized (this) {
      checkOpen();
      HostedModel present = models.get(nullOutput.artifactId());
      if (present != null) {
        LOG.info("upload of {}: already loaded", present.label());
        return present.info();
      }
      if (models.size() >= options.maxLoadedModels()) {
        throw CallStatus.RESOURCE_EXHAUSTED.withDescription("upload of model '" + nullOutput.modelName()
            + "' refused: the server holds " + models.size() + " models, its limit (--max-loaded-models); unload"
            + " one first").toRuntimeException();
      }
      ModelCache.Lease lease;
      try {
        lease = cache.acquire(nullOutput);
      } catch (IllegalArgumentException e) {
        throw CallStatus.INVALID_ARGUMENT.withDescription("upload refused: " + e.getMessage()).withCause(e)
            .toRuntimeException();
      }
      HostedModel m = new HostedModel(nullOutput, strict, lease);
      models.put(m.hash(), m);
      LOG.info("uploaded {}: {} bytes, variant {}, {} bytes of weights; {} model(s) loaded", m.label(),
          artifact.length, m.model().variant().name(), m.model().weightsBytes(), models.size());
      return m.info();
    }
  }

  synchronized List<ModelInfo> list() {
    List<ModelInfo> out = new ArrayList<>();
    for (HostedModel m : models.values()) {
      out.add(m.info());
    }
    return out;
  }

  ModelInfo describe(String hash) {
    return model(hash).info();
  }

  /**
   * The model of {@code hash}.
   *
   * @throws FlightRuntimeException NOT_FOUND, listing what is loaded
   */
  synchronized HostedModel model(String hash) {
    HostedModel m = hash == null ? null : models.get(hash);
    if (m == null) {
      List<String> loaded = new ArrayList<>();
      for (HostedModel h : models.values()) {
        loaded.add(h.hash().substring(0, 12) + " (" + h.name() + ")");
      }
      throw CallStatus.NOT_FOUND.withDescription("no model " + hash + " is loaded on this server; loaded: "
          + (loaded.isEmpty() ? "none" : String.join(", ", loaded))).toRuntimeException();
    }
    return m;
  }

  /**
   * Forgets the model and releases the server's hold on it; exchanges still
   * scoring with it keep it loaded until they end.
   */
  void unload(String hash) {
    HostedModel m;
    synchronized (this) {
      m = model(hash);
      models.remove(hash);
    }
    m.lease().close();
    int evicted = cache.evictIdle();
    LOG.info("unloaded {}{}", m.label(), evicted > 0 ? "" : " (its running exchanges keep it until they end)");
  }

  /** Called when an exchange ends: unloads the models that were unloaded while it ran. */
  void evictUnloaded() {
    cache.evictIdle();
  }

  /**
   * Runs {@code work} (one native run, or a benchmark) once a run permit is
   * free; at most {@link ServerOptions#maxConcurrentRuns()} run at once.
   */
  <T> T withRunPermit(Supplier<T> work) {
    try {
      runs.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CallStatus.CANCELLED.withDescription("interrupted while waiting for a run permit").toRuntimeException();
    }
    try {
      peakRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
      return work.get();
    } finally {
      running.decrementAndGet();
      runs.release();
    }
  }

  /** The most native runs that were running at once so far. */
  int peakConcurrentRuns() {
    return peakRunning.get();
  }

  /**
   * Times {@code runs} warm runs of one executor on seeded random inputs.
   *
   * @throws FlightRuntimeException NOT_FOUND for an unknown model, INVALID_ARGUMENT for counts out of range or
   *     a symbol without a size (naming it), before anything is allocated
   */
  BenchmarkResult benchmark(BenchmarkRequest request) {
    HostedModel m = model(request.hash());
    CompiledModel model = m.model();
    List<String> problems = new ArrayList<>();
    if (request.warmup() < 0 || request.runs() < 1 || request.warmup() + (long) request.runs() > MAX_BENCHMARK_RUNS) {
      problems.add("warmup must be >= 0 and runs >= 1, at most " + MAX_BENCHMARK_RUNS + " together; got "
          + request.warmup() + " and " + request.runs());
    }
    if (request.threads() < 1) {
      problems.add("threads must be at least 1, got " + request.threads());
    }
    Set<String> symbols = new LinkedHashSet<>(model.manifest().symbols());
    for (String s : request.dims().keySet()) {
      if (!symbols.contains(s)) {
        problems.add("dimension '" + s + "' is not a symbol of the model (its symbols: " + symbols + ")");
      }
    }
    request.dims().forEach((s, size) -> {
      if (size == null || size < 1) {
        problems.add("dimension '" + s + "' must be 1 or more, got " + size);
      }
    });
    List<long[]> shapes = new ArrayList<>();
    long bytes = 0;
    if (problems.isEmpty()) {
      for (TensorSpec in : model.inputs()) {
        try {
          long[] shape = in.shape().bind(request.dims()).toArray();
          bytes += Math.multiplyExact(NativeTensor.elementCount(shape), (long) in.dtype().byteSize());
          shapes.add(shape);
        } catch (IllegalArgumentException | IllegalStateException | ArithmeticException e) {
          problems.add("input '" + in.name() + "' " + in.dtype() + in.shape() + " needs a size for each symbol"
              + " (given " + request.dims() + "): " + e.getMessage());
        }
      }
      if (bytes > MAX_BENCHMARK_INPUT_BYTES) {
        problems.add("the inputs would take " + bytes + " bytes, more than a benchmark may ("
            + MAX_BENCHMARK_INPUT_BYTES + ")");
      }
    }
    if (!problems.isEmpty()) {
      throw CallStatus.INVALID_ARGUMENT.withDescription("benchmark of " + m.label() + ": "
          + String.join("; ", problems)).toRuntimeException();
    }
    long[] nanos = withRunPermit(() -> time(m, shapes, request));
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    List<Double> millis = new ArrayList<>();
    for (long n : nanos) {
      millis.add(n / 1e6);
    }
    double median = (sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2e6;
    double p90 = sorted[(int) Math.ceil(0.9 * sorted.length) - 1] / 1e6;
    BenchmarkResult r = new BenchmarkResult(m.hash(), m.name(), model.variant().name(), request.dims(),
        request.warmup(), request.runs(), request.threads(), median, p90, sorted[0] / 1e6,
        sorted[sorted.length - 1] / 1e6, millis);
    LOG.info("benchmark of {} at {}: median {} ms, p90 {} ms over {} runs, {} thread(s)", m.label(), request.dims(),
        String.format("%.3f", median), String.format("%.3f", p90), request.runs(), request.threads());
    return r;
  }

  private static long[] time(HostedModel m, List<long[]> shapes, BenchmarkRequest request) {
    long[] nanos = new long[request.runs()];
    List<NativeTensor> inputs = new ArrayList<>();
    try (NativeAllocator memory = NativeAllocator.newRoot("benchmark-" + m.hash().substring(0, 12));
        Executor executor = m.model().newExecutor(memory)) {
      try {
        RandomTensors random = new RandomTensors(request.seed());
        List<TensorSpec> specs = m.model().inputs();
        for (int i = 0; i < specs.size(); i++) {
          NativeTensor t = random.allocate(memory, specs.get(i).dtype(), shapes.get(i));
          inputs.add(t);
          executor.setInput(specs.get(i).name(), t);
        }
        for (int i = 0; i < request.warmup(); i++) {
          executor.run(request.threads());
        }
        for (int i = 0; i < nanos.length; i++) {
          long t0 = System.nanoTime();
          executor.run(request.threads());
          nanos[i] = System.nanoTime() - t0;
        }
      } finally {
        inputs.forEach(NativeTensor::close);
      }
    }
    return nanos;
  }

  /**
   * Counts a call in flight.
   *
   * @throws FlightRuntimeException UNAVAILABLE once the server is shutting down
   */
  void enter() {
    synchronized (flight) {
      if (draining) {
        throw CallStatus.UNAVAILABLE.withDescription("the server is shutting down").toRuntimeException();
      }
      callsInFlight++;
    }
  }

  void exit() {
    synchronized (flight) {
      callsInFlight--;
      flight.notifyAll();
    }
  }

  int callsInFlight() {
    synchronized (flight) {
      return callsInFlight;
    }
  }

  /** Refuses new calls from now on (UNAVAILABLE); calls in flight go on. */
  void beginShutdown() {
    synchronized (flight) {
      draining = true;
    }
  }

  boolean isDraining() {
    synchronized (flight) {
      return draining;
    }
  }

  /** Waits until no call is in flight, at most {@code timeout}; true when none is. */
  boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (flight) {
      while (callsInFlight > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        flight.wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  private void checkOpen() {
    if (closed) {
      throw CallStatus.UNAVAILABLE.withDescription("the server is shut down").toRuntimeException();
    }
  }

  /** Native bytes the loaded models' weights take. */
  long nativeBytes() {
    return cache.nativeBytes();
  }

  synchronized int loadedModels() {
    return models.size();
  }

  /** Releases every model and the cache; call once no call is in flight. */
  @Override
  public void close() {
    List<HostedModel> all;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      all = new ArrayList<>(models.values());
      models.clear();
    }
    for (HostedModel m : all) {
      m.lease().close();
    }
    cache.close();
  }
}
