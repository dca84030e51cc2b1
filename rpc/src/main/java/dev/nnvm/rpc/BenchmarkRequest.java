package dev.nnvm.rpc;

import java.util.Map;
import java.util.Objects;

/**
 * A remote benchmark: {@code warmup} untimed runs, then {@code runs} timed
 * ones, of one executor on seeded random inputs whose symbolic dimensions
 * take the sizes in {@code dims} (every symbol of the inputs needs one).
 * Integer inputs are drawn from 0 to 9, floating-point ones from [-1, 1).
 *
 * @param hash the model
 * @param dims sizes of the symbolic dimensions, e.g. {@code {"N": 32}}
 * @param warmup untimed runs first (0 or more)
 * @param runs timed runs (1 or more)
 * @param threads intra-op threads of each run (1 or more)
 * @param seed seed of the random inputs
 */
public record BenchmarkRequest(String hash, Map<String, Long> dims, int warmup, int runs, int threads, long seed) {
  public BenchmarkRequest {
    Objects.requireNonNull(hash, "hash");
    dims = dims == null ? Map.of() : Map.copyOf(dims);
  }

  /** Three warm-up runs, ten timed runs, one thread, seed 1. */
  public static BenchmarkRequest of(String hash, Map<String, Long> dims) {
    return new BenchmarkRequest(hash, dims, 3, 10, 1, 1);
  }

  public BenchmarkRequest withRuns(int warmupRuns, int timedRuns) {
    return new BenchmarkRequest(hash, dims, warmupRuns, timedRuns, threads, seed);
  }

  public BenchmarkRequest withThreads(int intraOpThreads) {
    return new BenchmarkRequest(hash, dims, warmup, runs, intraOpThreads, seed);
  }
}
