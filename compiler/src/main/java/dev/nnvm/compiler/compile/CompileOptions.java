package dev.nnvm.compiler.compile;

import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * How {@link ModelCompiler} compiles a model: the graph optimization level,
 * input shapes to specialize for (names in a shape stay symbolic), and the
 * CPU targets to build native variants for. Immutable; {@link #describe()}
 * is the canonical text the artifact records and the cache keys on.
 *
 * @param optLevel graph optimization level, 0 to 3 (see {@code nnvmc inspect --help})
 * @param inputShapes shapes by input name, e.g. {@code x -> [N, 3, 640, 640]}
 * @param targets {@code host}, {@code x86-64-avx512}, {@code x86-64-avx2}, {@code x86-64} (the baseline every
 *     x86-64 CPU runs; {@code x86-64-v4} and {@code x86-64-v3} are accepted for the AVX-512 and AVX2 targets),
 *     {@code aarch64} (64-bit ARM with NEON, cross-compiled), without duplicates; the artifact lists them best
 *     first, the other architecture's after this one's
 */
public record CompileOptions(int optLevel, Map<String, Shape> inputShapes, List<String> targets) {
  /** The default graph optimization level. */
  public static final int DEFAULT_OPT_LEVEL = 2;
  /** Target names, best first: the order variants take in an artifact. */
  public static final List<String> TARGETS = List.of("host", "x86-64-avx512", "x86-64-avx2", "x86-64", "aarch64");
  /**
   * The default targets: this machine's CPU, and the baseline any x86-64 worker runs (chosen there with a logged
   * warning naming what it lacks), so an artifact compiled on a driver never fails to load on an executor.
   */
  public static final List<String> DEFAULT_TARGETS = List.of("host", "x86-64");

  public CompileOptions {
    if (optLevel < 0 || optLevel > 3) {
      throw new IllegalArgumentException("optimization level must be 0 to 3, got " + optLevel);
    }
    inputShapes = Collections.unmodifiableMap(new TreeMap<>(inputShapes));
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("at least one target is needed, e.g. host");
    }
    List<String> canonical = new ArrayList<>();
    for (String t : targets) {
      String c = CpuTarget.canonicalName(Objects.requireNonNull(t, "target"));
      if (!TARGETS.contains(c)) {
        throw new IllegalArgumentException("unknown target '" + t + "': expected one of " + TARGETS
            + " (x86-64-v4 and x86-64-v3 name the AVX-512 and AVX2 targets)");
      }
      canonical.add(c);
    }
    targets = canonical;
    if (new LinkedHashSet<>(targets).size() != targets.size()) {
      throw new IllegalArgumentException("a target is listed twice in " + targets);
    }
    List<String> sorted = new ArrayList<>(targets);
    sorted.sort((a, b) -> TARGETS.indexOf(a) - TARGETS.indexOf(b));
    targets = List.copyOf(sorted);
  }

  /** Level 2, no specialization, the {@link #DEFAULT_TARGETS}: this CPU and the x86-64 baseline. */
  public static CompileOptions defaults() {
    return new CompileOptions(DEFAULT_OPT_LEVEL, Map.of(), DEFAULT_TARGETS);
  }

  public CompileOptions withOptLevel(int level) {
    return new CompileOptions(level, inputShapes, targets);
  }

  public CompileOptions withInputShape(String input, Shape shape) {
    Map<String, Shape> m = new TreeMap<>(inputShapes);
    m.put(Objects.requireNonNull(input, "input"), Objects.requireNonNull(shape, "shape"));
    return new CompileOptions(optLevel, m, targets);
  }

  public CompileOptions withTargets(List<String> names) {
    return new CompileOptions(optLevel, inputShapes, names);
  }

  /** The options as sorted name/value pairs, as the artifact's manifest records them. */
  public Map<String, String> describe() {
    Map<String, String> m = new TreeMap<>();
    m.put("opt-level", Integer.toString(optLevel));
    m.put("targets", String.join(",", targets));
    inputShapes.forEach((name, shape) -> m.put("input-shape." + name, shape.toString()));
    return m;
  }
}
