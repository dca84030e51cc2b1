package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.runtime.Shape;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options of every command that compiles an ONNX model: level, input shapes, targets and the cache. */
final class CompileOptionsMixin {
  @Option(names = "--opt-level", paramLabel = "N", defaultValue = "2",
      description = "Graph optimization level, 0 to 3. Default: ${DEFAULT-VALUE}.")
  int optLevel;

  @Option(names = "--input-shape", paramLabel = "NAME=SHAPE",
      description = "Compile for this input shape, e.g. --input-shape x=[N,3,640,640] (names stay symbolic);"
          + " repeatable.")
  Map<String, String> inputShapes = new LinkedHashMap<>();

  @Option(names = "--target", paramLabel = "TARGET", split = ",",
      description = "A CPU to build native code for: host (this CPU), x86-64-avx512 (AVX-512 F/BW/DQ/VL),"
          + " x86-64-avx2 (AVX2, FMA, F16C), x86-64 (the SSE2 baseline any x86-64 runs; x86-64-v4 and x86-64-v3"
          + " name the AVX-512 and AVX2 targets) or aarch64 (64-bit ARM Linux with NEON, cross-compiled);"
          + " repeatable or comma-separated, one variant each (the runtime picks the best its CPU runs)."
          + " Default: host and x86-64.")
  List<String> targets = new ArrayList<>();

  @Option(names = "--cache-dir", paramLabel = "DIR",
      description = "Where compiled artifacts are cached. Default: ~/.cache/nnvm.")
  Path cacheDir;

  @Option(names = "--no-cache", description = "Compile even when the cache holds the artifact, and store nothing.")
  boolean noCache;

  CompileOptions options() {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    inputShapes.forEach((name, text) -> {
      try {
        shapes.put(name, Shape.parse(text));
      } catch (IllegalArgumentException e) {
        throw new CliException("--input-shape " + name + ": " + e.getMessage(), e);
      }
    });
    try {
      return new CompileOptions(optLevel, shapes, targets.isEmpty() ? CompileOptions.DEFAULT_TARGETS : targets);
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), e);
    }
  }

  /** A compiler that prints a line per phase to {@code out}, with the cache unless --no-cache. */
  ModelCompiler compiler(PrintWriter out) {
    ModelCompiler c = ModelCompiler.create().withProgress(p -> {
      out.println("  " + p);
      out.flush();
    });
    return noCache ? c : c.withCache(cacheDir != null ? cacheDir : ArtifactCache.defaultDirectory());
  }
}
