package dev.nnvm.spark.job;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;

/**
 * Progress lines for long runs: one when a Spark stage starts, one at most every {@code intervalMillis} while
 * it runs (tasks done of all, records read and written so far, elapsed time), and one when it ends. It also sums
 * the connector's named accumulators ({@code nnvm.*}) over successful tasks, for the job's report. Registered on
 * the SparkContext by the job; callbacks arrive on Spark's listener-bus thread, and the job's thread reads the
 * sums, hence the concurrent maps.
 */
final class StageProgress extends SparkListener {
  private final PrintStream out;
  private final long intervalMillis;
  private final Map<Integer, Stage> stages = new ConcurrentHashMap<>();
  private final Map<String, Long> nnvmTotals = new ConcurrentHashMap<>();

  private static final class Stage {
    final String name;
    final int tasks;
    final long startMillis = System.currentTimeMillis();
    int done;
    final AtomicLong recordsRead = new AtomicLong();
    final AtomicLong recordsWritten = new AtomicLong();
    long lastPrint = System.currentTimeMillis();

    Stage(String name, int tasks) {
      this.name = name;
      this.tasks = tasks;
    }
  }

  StageProgress(PrintStream out, long intervalMillis) {
    this.out = out;
    this.intervalMillis = intervalMillis;
  }

  /** The sums of the connector's named accumulators over successful tasks so far, by name. */
  Map<String, Long> nnvmTotals() {
    return Map.copyOf(nnvmTotals);
  }

  /** Forgets the sums (between the job's phases). */
  void resetTotals() {
    nnvmTotals.clear();
  }

  private static String name(StageInfo info) {
    String n = info.name();
    // Spark names stages after the call site, "parquet at NnvmSparkJob.java:120": the action is enough.
    int at = n.indexOf(" at ");
    return at > 0 ? n.substring(0, at) : n;
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted event) {
    StageInfo info = event.stageInfo();
    Stage s = new Stage(name(info), info.numTasks());
    stages.put(info.stageId(), s);
    out.printf(Locale.ROOT, "   [stage %d] %s: %d tasks%n", info.stageId(), s.name, s.tasks);
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd event) {
    Stage s = stages.get(event.stageId());
    if (s == null) {
      return;
    }
    s.done++;
    // The connector's counters (ScoringMetrics' names, "nnvm.rows", "nnvm.nativeNanos", ...) are named
    // accumulators; each successful task reports its own update, which is summed here per name.
    if (event.reason() instanceof org.apache.spark.Success$) {
      scala.collection.Iterator<AccumulableInfo> it = event.taskInfo().accumulables().iterator();
      while (it.hasNext()) {
        AccumulableInfo a = it.next();
        if (a.name().isDefined() && a.name().get().startsWith("nnvm.") && a.update().isDefined()
            && a.update().get() instanceof Number) {
          nnvmTotals.merge(a.name().get(), ((Number) a.update().get()).longValue(), Long::sum);
        }
      }
    }
    if (event.taskMetrics() != null) {
      s.recordsRead.addAndGet(event.taskMetrics().inputMetrics().recordsRead()
          + event.taskMetrics().shuffleReadMetrics().recordsRead());
      s.recordsWritten.addAndGet(event.taskMetrics().outputMetrics().recordsWritten());
    }
    long now = System.currentTimeMillis();
    if (now - s.lastPrint >= intervalMillis && s.done < s.tasks) {
      s.lastPrint = now;
      print(event.stageId(), s, "running", now);
    }
  }

  @Override
  public void onStageCompleted(SparkListenerStageCompleted event) {
    StageInfo info = event.stageInfo();
    Stage s = stages.remove(info.stageId());
    if (s != null) {
      print(info.stageId(), s, info.failureReason().isDefined() ? "failed" : "done", System.currentTimeMillis());
    }
  }

  private void print(int id, Stage s, String state, long now) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "   [stage %d] %s: %s, %d/%d tasks",
        id, s.name, state, s.done, s.tasks));
    if (s.recordsRead.get() > 0) {
      sb.append(", ").append(s.recordsRead.get()).append(" records read");
    }
    if (s.recordsWritten.get() > 0) {
      sb.append(", ").append(s.recordsWritten.get()).append(" written");
    }
    sb.append(String.format(Locale.ROOT, ", %.1f s", (now - s.startMillis) / 1000.0));
    out.println(sb);
  }
}
