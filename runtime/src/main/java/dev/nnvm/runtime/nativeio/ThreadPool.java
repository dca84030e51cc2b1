package dev.nnvm.runtime.nativeio;

/**
 * The process-wide native thread pool that compiled models use for intra-op
 * parallelism (the {@code parallel_for} of {@code nnvm_model_abi.h}).
 *
 * <p>Policy, chosen so that the runtime never oversubscribes the machine on
 * its own:
 * <ul>
 *   <li>Each call picks its thread count ({@link NativeCall#invoke}); the
 *       default is 1, which runs every kernel on the calling thread and never
 *       touches the pool. That is right inside Spark or Flink, which already
 *       run one task per core.</li>
 *   <li>A parallel loop of a call with {@code t} threads runs on the calling
 *       thread plus at most {@code t - 1} pool workers that are idle at that
 *       moment. In the whole process at most {@link #maxThreads()}{@code - 1}
 *       workers are busy at once; a loop that finds none free runs on fewer
 *       threads (down to the caller alone) instead of waiting.</li>
 *   <li>Loops nested inside a parallel loop run inline.</li>
 *   <li>Workers start on first need, stay for the life of the process and
 *       block asynchronous signals (those are the JVM's to handle).</li>
 * </ul>
 * So one caller never uses more than {@code maxThreads} threads, and several
 * callers add at most {@code maxThreads - 1} workers to their own threads.
 * The limit starts at the system property {@code nnvm.runtime.maxThreads},
 * or else at the number of processors available to the JVM.
 */
public final class ThreadPool {
  /** The largest limit the native pool accepts. */
  public static final int MAX_THREADS_LIMIT = 256;

  private ThreadPool() {}

  /** The most threads (caller included) that one parallel loop may use. */
  public static int maxThreads() {
    NativeLoader.ensureLoaded();
    return Natives.maxThreads();
  }

  /**
   * Changes the process-wide limit. Workers already started stay, but no
   * more than {@code maxThreads - 1} are used at once from then on.
   */
  public static void setMaxThreads(int maxThreads) {
    if (maxThreads < 1 || maxThreads > MAX_THREADS_LIMIT) {
      throw new IllegalArgumentException("maxThreads must be in [1, " + MAX_THREADS_LIMIT + "], got " + maxThreads);
    }
    NativeLoader.ensureLoaded();
    Natives.setMaxThreads(maxThreads);
  }

  /** Workers started so far (they are never stopped). */
  public static int workers() {
    NativeLoader.ensureLoaded();
    return Natives.poolWorkers();
  }

  static int defaultMaxThreads() {
    int processors = Runtime.getRuntime().availableProcessors();
    int configured = Integer.getInteger("nnvm.runtime.maxThreads", processors);
    if (configured < 1 || configured > MAX_THREADS_LIMIT) {
      throw new NativeException("system property nnvm.runtime.maxThreads must be in [1, " + MAX_THREADS_LIMIT
          + "], got " + configured);
    }
    return configured;
  }
}
