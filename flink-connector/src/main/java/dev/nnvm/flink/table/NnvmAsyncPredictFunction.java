package dev.nnvm.flink.table;

import dev.nnvm.flink.FlinkMetrics;
import dev.nnvm.flink.Prediction;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The asynchronous predict function: Flink hands it one row at a time and
 * waits on a future per row; rows are queued and scored together when the
 * queue holds {@code batch-size} rows or its oldest row has waited
 * {@code max-latency}, on one scoring thread per subtask, and each row's
 * future completes with its prediction. Flink's async operator keeps the
 * rows in flight in its checkpoints and restores them after a failure, so
 * nothing here needs state; in ORDERED mode it also emits results in input
 * order.
 *
 * <p>Rows in flight are bounded by
 * {@code table.exec.async-ml-predict.max-concurrent-operations} (default 10):
 * a batch cannot grow beyond it, so set it to at least the batch size.
 */
public final class NnvmAsyncPredictFunction extends AsyncPredictFunction {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(NnvmAsyncPredictFunction.class);

  private final NnvmModelProvider.Plan plan;
  private transient PredictRunner runner;
  private transient FlinkMetrics metrics;
  private transient ScheduledExecutorService executor;
  private transient Object lock;
  private transient List<Pending> queue;
  private transient ScheduledFuture<?> timer;
  private transient long firstArrivalNanos;
  private transient long badRows;

  private record Pending(Object[] values, CompletableFuture<Collection<RowData>> future) {}

  NnvmAsyncPredictFunction(NnvmModelProvider.Plan plan) {
    this.plan = plan;
  }

  @Override
  public void open(FunctionContext context) throws Exception {
    super.open(context);
    int subtask = context.getTaskInfo().getIndexOfThisSubtask();
    lock = new Object();
    queue = new ArrayList<>();
    runner = new PredictRunner(plan, subtask);
    String name = "nnvm-predict-" + plan.modelName() + "-" + subtask;
    executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    metrics = FlinkMetrics.register(context.getMetricGroup(), this::queueLength);
    runner.follow(metrics);
    LOG.info("{}: scoring with {} {} (batch size {}, max latency {} ms)", name, plan.spec(),
        dev.nnvm.flink.BatchModel.DEVICE, plan.batchSize(), plan.maxLatencyMillis());
  }

  private int queueLength() {
    Object l = lock;
    if (l == null) {
      return 0;
    }
    synchronized (l) {
      return queue.size();
    }
  }

  @Override
  public CompletableFuture<Collection<RowData>> asyncPredict(RowData inputRow) {
    CompletableFuture<Collection<RowData>> future = new CompletableFuture<>();
    Object[] values;
    try {
      values = runner.values(inputRow);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
      return future;
    }
    synchronized (lock) {
      queue.add(new Pending(values, future));
      if (queue.size() == 1) {
        firstArrivalNanos = System.nanoTime();
        timer = executor.schedule(this::flushDue, plan.maxLatencyMillis(), TimeUnit.MILLISECONDS);
      }
      if (queue.size() >= plan.batchSize()) {
        List<Pending> batch = take();
        long first = firstArrivalNanos;
        executor.execute(() -> score(batch, first));
      }
    }
    return future;
  }

  /** Takes the queue (holding the lock). */
  private List<Pending> take() {
    List<Pending> batch = queue;
    queue = new ArrayList<>(plan.batchSize());
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    return batch;
  }

  private void flushDue() {
    List<Pending> batch;
    long first;
    synchronized (lock) {
      if (queue.isEmpty()) {
        return;
      }
      first = firstArrivalNanos;
      batch = take();
    }
    score(batch, first);
  }

  /** Scores a batch on the scoring thread and completes its futures. */
  private void score(List<Pending> batch, long firstArrival) {
    long t0 = System.nanoTime();
    try {
      List<Object[]> rows = new ArrayList<>(batch.size());
      for (Pending p : batch) {
        rows.add(p.values());
      }
      List<Prediction> predictions = runner.score(rows);
      int bad = 0;
      for (int i = 0; i < batch.size(); i++) {
        Prediction p = predictions.get(i);
        if (p.isNull()) {
          bad++;
          if (++badRows <= 20 || badRows % 1000 == 0) {
            LOG.warn("bad row {} (null prediction, null policy NULL_OUTPUT): {}", badRows, p.error());
          }
        }
        batch.get(i).future().complete(List.of(runner.row(p)));
      }
      long now = System.nanoTime();
      metrics.batch(batch.size(), bad, now - firstArrival, now - t0);
    } catch (Throwable t) {
      for (Pending p : batch) {
        p.future().completeExceptionally(t);
      }
    }
  }

  @Override
  public void close() throws Exception {
    if (executor != null) {
      // Batches already handed over (and the pending timer) still run; then nothing is left waiting.
      executor.shutdown();
      if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
      executor = null;
      synchronized (lock) {
        for (Pending p : queue) {
          p.future().completeExceptionally(new IllegalStateException("the predict function of model '"
              + plan.modelName() + "' was closed before this row was scored"));
        }
        queue.clear();
      }
    }
    if (runner != null) {
      runner.close();
      runner = null;
    }
    super.close();
  }
}
