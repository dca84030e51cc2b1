package dev.nnvm.compiler.compile;

import dev.nnvm.runtime.artifact.Manifest;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A compiled model: the artifact's bytes and manifest, the time of every
 * phase, and the sizes of what was made.
 *
 * @param bytes the artifact, ready to write or broadcast
 * @param manifest its manifest
 * @param phases the phases in the order they ran (only {@code cache} on a cache hit)
 * @param sizes bytes by item: {@code artifact}, {@code weights}, {@code library/<variant>}
 * @param cacheFile the cache entry read or written, or null without a cache
 * @param cached whether the artifact came from the cache
 */
public record CompileResult(byte[] bytes, Manifest manifest, List<Phase> phases, Map<String, Long> sizes,
    Path cacheFile, boolean cached) {

  public CompileResult {
    Objects.requireNonNull(bytes, "bytes");
    Objects.requireNonNull(manifest, "manifest");
    phases = List.copyOf(phases);
    sizes = Map.copyOf(sizes);
  }

  /** One phase of a compile: its name, how long it took, and what it made. */
  public record Phase(String name, long nanos, String detail) {
    public double millis() {
      return nanos / 1e6;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%-9s %8.1f ms  %s", name, millis(), detail);
    }
  }

  public long totalNanos() {
    return phases.stream().mapToLong(Phase::nanos).sum();
  }

  /** {@code import 120 ms, optimize 300 ms, ...}. */
  public String phaseSummary() {
    StringBuilder sb = new StringBuilder();
    for (Phase p : phases) {
      sb.append(sb.length() == 0 ? "" : ", ").append(p.name()).append(' ')
          .append(String.format(Locale.ROOT, "%.0f ms", p.millis()));
    }
    return sb.toString();
  }
}
