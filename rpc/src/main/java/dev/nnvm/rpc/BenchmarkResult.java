package dev.nnvm.rpc;

import java.util.List;
import java.util.Map;

/**
 * What a remote benchmark measured, in the server's clock.
 *
 * @param hash the model
 * @param model the model's name
 * @param variant the native variant that ran
 * @param dims the sizes of the symbolic dimensions
 * @param warmup untimed runs
 * @param runs timed runs
 * @param threads intra-op threads of each run
 * @param medianMillis median latency of the timed runs
 * @param p90Millis 90th percentile latency
 * @param minMillis fastest run
 * @param maxMillis slowest run
 * @param millis every timed run, in order
 */
public record BenchmarkResult(String hash, String model, String variant, Map<String, Long> dims, int warmup,
    int runs, int threads, double medianMillis, double p90Millis, double minMillis, double maxMillis,
    List<Double> millis) {

  public BenchmarkResult {
    dims = Map.copyOf(dims);
    millis = List.copyOf(millis);
  }
}
