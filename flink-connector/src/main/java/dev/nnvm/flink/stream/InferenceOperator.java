package dev.nnvm.flink.stream;

import dev.nnvm.flink.Allocators;
import dev.nnvm.flink.BatchModel;
import dev.nnvm.flink.FlinkMetrics;
import dev.nnvm.flink.Prediction;
import dev.nnvm.flink.RecordNamer;
import dev.nnvm.flink.ResultMapper;
import dev.nnvm.scoring.ScoringMetrics;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.YieldingOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores a stream in micro-batches: records are buffered until the batch holds
 * {@code batchSize} of them or the first one has waited {@code maxLatency}
 * (a processing-time timer), then the whole batch goes through the model in
 * one call and the results are emitted, each with its input's timestamp.
 *
 * <p>Two output modes ({@link OutputMode}):
 * <ul>
 *   <li>{@code ORDERED} (default): the batch runs on the task thread and its
 *       results are emitted in input order. A batch's latency is at most
 *       {@code maxLatency} plus one batch's compute time; while a batch is
 *       scored no new records are read.</li>
 *   <li>{@code UNORDERED}: a full (or timed-out) batch is handed to a small
 *       scoring pool owned by the operator (one thread and one runner per
 *       in-flight batch, at most {@code maxInFlight}), and the task thread
 *       goes on reading records into the next batch. A finished batch's
 *       results come back through the task's mailbox, so they are emitted on
 *       the task thread (Flink's rule for outputs), in the batch's order,
 *       batches in the order they finish. When {@code maxInFlight} batches
 *       are in flight, the next flush waits for one of them by yielding to
 *       the mailbox (backpressure).</li>
 * </ul>
 *
 * <p>How it stays exactly-once without state of its own: the buffer is
 * flushed, and in the unordered mode every in-flight batch drained (scored
 * and emitted), before every checkpoint barrier
 * ({@link #prepareSnapshotPreBarrier}), before every watermark is forwarded
 * (so no buffered record becomes late downstream), and at the end of input.
 * A checkpoint therefore never holds a half-scored batch: after a failure the
 * source replays exactly the records the checkpoint had not yet seen, and
 * they are scored again.
 *
 * <p>Under load batches fill to {@code batchSize} before the timer fires
 * (throughput); under a low rate the timer flushes small batches (latency).
 * The model (in the {@link BatchModel}'s spec) was compiled on the client;
 * each subtask opens its runners with the model from the TaskManager's
 * per-JVM cache, so a TaskManager loads it once however many slots (and
 * in-flight batches) run this operator.
 *
 * <p>Records that do not fit the model follow the spec's null policy (see
 * {@link BatchModel.Runner#score}); under the lenient policy they are
 * counted ({@code nnvm.badRecords}), the first ones are logged with their
 * name and reason, and the job goes on.
 *
 * @param <IN> the input record type
 * @param <OUT> the output record type
 */
public final class InferenceOperator<IN, OUT> extends AbstractStreamOperator<OUT>
    implements OneInputStreamOperator<IN, OUT>, BoundedOneInput, YieldingOperator<OUT> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(InferenceOperator.class);
  /** Bad records logged one by one per subtask before only every 1000th is. */
  private static final int LOGGED_BAD_RECORDS = 20;
  /** How long closing waits for native runs still going on the scoring pool (they take milliseconds). */
  private static final long CLOSE_WAIT_SECONDS = 60;
  private static final AtomicInteger POOLS = new AtomicInteger();

  /** How results leave the operator. */
  public enum OutputMode {
    /** Batches are scored one at a time on the task thread; results in input order. */
    ORDERED,
    /** Up to {@code maxInFlight} batches are scored at once on the operator's pool; results as batches finish. */
    UNORDERED
  }

  private final BatchModel<IN> model;
  private final ResultMapper<? super IN, OUT> mapper;
  private final RecordNamer<? super IN> namer;
  private final int batchSize;
  private final long maxLatencyMillis;
  private final OutputMode mode;
  private final int maxInFlight;

  private transient BufferAllocator allocator;
  private transient BatchModel.Runner<IN> runner;
  private transient FlinkMetrics metrics;
  private transient List<IN> buffer;
  /** With object reuse on, the input's serializer: upstream may reuse a record object once it is handed over. */
  private transient TypeSerializer<IN> copier;
  private transient long[] timestamps;
  private transient long firstArrivalNanos;
  private transient long seen;
  private transient long badRecords;
  private transient ScheduledFuture<?> timer;
  private transient long generation;
  // Unordered mode only; all of it is touched on the task thread only (the pool threads touch a Slot's runner
  // between taking it and posting the batch's mail, and nothing else).
  private transient MailboxExecutor mailbox;
  private transient ExecutorService pool;
  private transient List<Slot<IN>> slots;
  private transient ArrayDeque<Slot<IN>> idle;
  private transient int inFlight;

  /** An ordered operator (see {@link #InferenceOperator(BatchModel, ResultMapper, RecordNamer, int, long, OutputMode, int)}). */
  public InferenceOperator(BatchModel<IN> model, ResultMapper<? super IN, OUT> mapper, RecordNamer<? super IN> namer,
      int batchSize, long maxLatencyMillis) {
    this(model, mapper, namer, batchSize, maxLatencyMillis, OutputMode.ORDERED, 1);
  }

  /**
   * @param batchSize records per micro-batch (at least 1)
   * @param maxLatencyMillis the most a record waits for its batch to fill, in ms (0: every record is its own batch)
   * @param mode ordered (one batch at a time, input order) or unordered (overlapping batches)
   * @param maxInFlight batches scored at once in the unordered mode (at least 1; ignored when ordered)
   */
  public InferenceOperator(BatchModel<IN> model, ResultMapper<? super IN, OUT> mapper, RecordNamer<? super IN> namer,
      int batchSize, long maxLatencyMillis, OutputMode mode, int maxInFlight) {
    this.model = Objects.requireNonNull(model, "model");
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    this.namer = Objects.requireNonNull(namer, "namer");
    this.mode = Objects.requireNonNull(mode, "mode");
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
    }
    if (maxLatencyMillis < 0) {
      throw new IllegalArgumentException("maxLatency must not be negative, got " + maxLatencyMillis + " ms");
    }
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1, got " + maxInFlight);
    }
    this.batchSize = batchSize;
    this.maxLatencyMillis = maxLatencyMillis;
    this.maxInFlight = mode == OutputMode.UNORDERED ? maxInFlight : 1;
  }

  /** Called by Flink before {@link #open()}: the unordered mode hands finished batches back through it. */
  @Override
  public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
    this.mailbox = mailboxExecutor;
  }

  @Override
  public void open() throws Exception {
    super.open();
    buffer = new ArrayList<>(batchSize);
    timestamps = new long[batchSize];
    // Object reuse lets the operator before this one hand over the same record object again and again, so a
    // record kept for a later flush is copied (the copy Flink itself makes between chained operators otherwise).
    boolean kept = mode == OutputMode.UNORDERED || (batchSize > 1 && maxLatencyMillis > 0);
    copier = getExecutionConfig().isObjectReuseEnabled() && kept ? config.getTypeSerializerIn(0, getUserCodeClassloader()) : null;
    int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    String name = "nnvm-" + model.spec().modelName() + "-" + subtask;
    allocator = Allocators.child(name);
    metrics = FlinkMetrics.register(getMetricGroup(), () -> buffer == null ? 0 : buffer.size());
    getMetricGroup().gauge(FlinkMetrics.IN_FLIGHT_BATCHES, (Gauge<Integer>) () -> inFlight);
    long loads = 0;
    try {
      if (mode == OutputMode.ORDERED) {
        runner = model.open(allocator);
        metrics.follow(runner.metrics());
        loads = runner.metrics().modelLoads();
      } else {
        if (mailbox == null) {
          throw new IllegalStateException("the unordered mode needs the task's mailbox; Flink did not hand it over");
        }
        slots = new ArrayList<>(maxInFlight);
        idle = new ArrayDeque<>(maxInFlight);
        for (int i = 0; i < maxInFlight; i++) {
          Slot<IN> slot = new Slot<>(model.open(allocator));
          slots.add(slot);
          idle.add(slot);
          loads += slot.last.modelLoads();
        }
        metrics.follow(sumOfSlots());
        String prefix = name + "-scoring-" + POOLS.incrementAndGet() + "-";
        AtomicInteger threads = new AtomicInteger();
        pool = Executors.newFixedThreadPool(maxInFlight, r -> {
          Thread t = new Thread(r, prefix + threads.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
      }
    } catch (RuntimeException | Error e) {
      closeRunners();
      throw e;
    }
    LOG.info("{}: scoring with {} {} ({}, batch size {}, max latency {} ms); {}", name, model.spec(),
        BatchModel.DEVICE, mode == OutputMode.ORDERED ? "ordered" : "unordered, " + maxInFlight + " batches in flight", batchSize,
        maxLatencyMillis, loads > 0 ? "loaded the model in this TaskManager"
            : "the model was already loaded in this TaskManager");
  }

  @Override
  public void processElement(StreamRecord<IN> element) throws Exception {
    if (buffer.isEmpty()) {
      firstArrivalNanos = System.nanoTime();
      if (maxLatencyMillis > 0 && batchSize > 1) {
        long due = getProcessingTimeService().getCurrentProcessingTime() + maxLatencyMillis;
        long expected = ++generation;
        timer = getProcessingTimeService().registerTimer(due, time -> {
          if (generation == expected) {
            timer = null;
            flush();
          }
        });
      }
    }
    timestamps[buffer.size()] = element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE;
    buffer.add(copier == null ? element.getValue() : copier.copy(element.getValue()));
    if (buffer.size() >= batchSize || maxLatencyMillis == 0) {
      flush();
    }
  }

  /** Scores (ordered) or hands off (unordered) the buffered records, if any. */
  private void flush() throws InterruptedException {
    if (mode == OutputMode.UNORDERED) {
      submit();
      return;
    }
    if (buffer.isEmpty()) {
      return;
    }
    cancelTimer();
    int n = buffer.size();
    long t0 = System.nanoTime();
    List<Prediction> predictions = runner.score(buffer, namer, seen);
    long scoreNanos = System.nanoTime() - t0;
    emit(buffer, timestamps, predictions, firstArrivalNanos, scoreNanos);
    seen += n;
    buffer.clear();
  }

  /**
   * Unordered: waits for a free slot (yielding to the mailbox, where finished batches are emitted), then hands
   * the buffer to the pool. The records stay in the buffer while it waits, so a flush nested in the wait (the
   * timer's) takes them instead and nothing is submitted twice.
   */
  private void submit() throws InterruptedException {
    while (idle.isEmpty() && !buffer.isEmpty()) {
      mailbox.yield();
    }
    if (buffer.isEmpty()) {
      return;
    }
    cancelTimer();
    List<IN> records = buffer;
    long[] times = timestamps;
    long arrived = firstArrivalNanos;
    long firstIndex = seen;
    seen += records.size();
    buffer = new ArrayList<>(batchSize);
    timestamps = new long[batchSize];
    Slot<IN> slot = idle.poll();
    inFlight++;
    try {
      pool.execute(() -> scoreOnPool(slot, records, times, arrived, firstIndex));
    } catch (RejectedExecutionException e) {
      inFlight--;
      idle.add(slot);
      throw e;
    }
  }

  /** On a pool thread: scores one batch with the slot's runner and posts its results to the task thread. */
  private void scoreOnPool(Slot<IN> slot, List<IN> records, long[] times, long arrived, long firstIndex) {
    long t0 = System.nanoTime();
    List<Prediction> predictions = null;
    Throwable failure = null;
    try {
      predictions = slot.runner.score(records, namer, firstIndex);
    } catch (Throwable t) {
      failure = t;
    }
    long scoreNanos = System.nanoTime() - t0;
    slot.last = slot.runner.metrics().snapshot();
    List<Prediction> done = predictions;
    Throwable error = failure;
    try {
      mailbox.execute(() -> {
        inFlight--;
        idle.add(slot);
        metrics.follow(sumOfSlots());
        if (error != null) {
          if (error instanceof Exception e) {
            throw e;
          }
          throw (Error) error;
        }
        emit(records, times, done, arrived, scoreNanos);
      }, "nnvm: emit a scored batch of %d records", records.size());
    } catch (RejectedExecutionException e) {
      // The task is closing (failure or cancellation): these results are dropped and replayed from the checkpoint.
      LOG.debug("task closing; dropped the results of a batch of {} records", records.size());
    }
  }

  /** Emits one scored batch on the task thread, in the batch's order, with the inputs' timestamps. */
  private void emit(List<IN> records, long[] times, List<Prediction> predictions, long arrived, long scoreNanos) {
    int n = records.size();
    int bad = 0;
    for (int i = 0; i < n; i++) {
      Prediction p = predictions.get(i);
      if (p.isNull()) {
        bad++;
        logBad(p.error());
      }
      StreamRecord<OUT> out = new StreamRecord<>(mapper.map(records.get(i), p));
      if (times[i] != Long.MIN_VALUE) {
        out.setTimestamp(times[i]);
      }
      output.collect(out);
    }
    metrics.batch(n, bad, System.nanoTime() - arrived, scoreNanos);
  }

  /** Flushes the buffer and, unordered, waits until every batch in flight has been emitted. */
  private void drain() throws InterruptedException {
    flush();
    while (inFlight > 0) {
      mailbox.yield();
    }
  }

  private void cancelTimer() {
    generation++;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private ScoringMetrics sumOfSlots() {
    ScoringMetrics sum = new ScoringMetrics();
    for (Slot<IN> s : slots) {
      sum.add(s.last);
    }
    return sum;
  }

  private void logBad(String error) {
    badRecords++;
    if (badRecords <= LOGGED_BAD_RECORDS || badRecords % 1000 == 0) {
      LOG.warn("bad record {} of this subtask (null prediction, null policy NULL_OUTPUT): {}", badRecords, error);
    }
  }

  /** Records waiting for the next flush (for tests). */
  public int queueLength() {
    return buffer == null ? 0 : buffer.size();
  }

  /** Batches handed to the scoring pool and not yet emitted (unordered mode; for tests). */
  public int inFlightBatches() {
    return inFlight;
  }

  @Override
  public void processWatermark(Watermark mark) throws Exception {
    drain();
    super.processWatermark(mark);
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    drain();
    super.prepareSnapshotPreBarrier(checkpointId);
  }

  @Override
  public void endInput() throws Exception {
    drain();
  }

  @Override
  public void finish() throws Exception {
    drain();
    super.finish();
  }

  @Override
  public void close() throws Exception {
    generation++;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    try {
      closeRunners();
    } finally {
      super.close();
    }
  }

  /** Stops the pool (letting native runs in progress finish: their memory must not go away under them), then closes the runners and the allocator. */
  private void closeRunners() {
    boolean stopped = true;
    if (pool != null) {
      pool.shutdown();
      try {
        stopped = pool.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopped = pool.isTerminated();
      }
      pool = null;
    }
    if (!stopped) {
      // Closing a runner under a native run could crash the JVM; leaking its memory is the lesser harm.
      LOG.error("scoring threads still running after {} s; leaving their runners and memory open",
          CLOSE_WAIT_SECONDS);
      return;
    }
    RuntimeException failure = null;
    List<BatchModel.Runner<IN>> runners = new ArrayList<>();
    if (runner != null) {
      runners.add(runner);
    }
    if (slots != null) {
      slots.forEach(s -> runners.add(s.runner));
    }
    for (BatchModel.Runner<IN> r : runners) {
      try {
        r.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    runner = null;
    slots = null;
    idle = null;
    if (allocator != null) {
      try {
        allocator.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
      allocator = null;
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** A runner of the unordered mode and its counters after its last batch. */
  private static final class Slot<IN> {
    final BatchModel.Runner<IN> runner;
    /** Written by the pool thread before it posts the batch's mail, read on the task thread after. */
    volatile ScoringMetrics last;

    Slot(BatchModel.Runner<IN> runner) {
      this.runner = runner;
      this.last = runner.metrics().snapshot();
    }
  }
}
