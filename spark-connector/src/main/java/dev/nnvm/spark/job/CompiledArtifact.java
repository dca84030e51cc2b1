package dev.nnvm.spark.job;

import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.CompileResult;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.Manifest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The driver's half of the job: the model's artifact bytes, compiled from an ONNX file through the artifact
 * cache (a line per compile phase) or read from a {@code .nnvm} file, and how long that took. Only the driver
 * runs this class, so only the driver needs the compiler and LLVM on its class path.
 */
final class CompiledArtifact {
  final byte[] bytes;
  final Manifest manifest;
  final long nanos;
  final boolean cached;
  final String summary;

  private CompiledArtifact(byte[] bytes, Manifest manifest, long nanos, boolean cached, String summary) {
    this.bytes = bytes;
    this.manifest = manifest;
    this.nanos = nanos;
    this.cached = cached;
    this.summary = summary;
  }

  static boolean isArtifact(Path model) {
    return model.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".nnvm");
  }

  /**
   * Compiles {@code model} ({@code .onnx}; external data beside it; inputs specialized to {@code inputShapes},
   * e.g. {@code x -> [N, 3, 48, 192]}) with {@code cacheDir} as the artifact cache (null: none), or reads it
   * ({@code .nnvm}); phases are printed to {@code out} as they end.
   */
  static CompiledArtifact of(Path model, int optLevel, Map<String, String> inputShapes, Path cacheDir,
      PrintStream out) throws IOException {
    if (!Files.isRegularFile(model)) {
      throw new JobException("model file not found: " + model);
    }
    long start = System.nanoTime();
    if (isArtifact(model)) {
      if (!inputShapes.isEmpty()) {
        throw new JobException("--input-shape specializes ONNX models when they are compiled; " + model.getFileName()
            + " is compiled already");
      }
      byte[] bytes = Files.readAllBytes(model);
      Manifest manifest = ArtifactReader.read(bytes).manifest();
      long nanos = System.nanoTime() - start;
      return new CompiledArtifact(bytes, manifest, nanos, true,
          String.format(Locale.ROOT, "read %s (%d bytes) in %.0f ms", model.getFileName(), bytes.length, nanos / 1e6));
    }
    ModelCompiler compiler = ModelCompiler.create().withProgress(p -> out.println("   " + p));
    if (cacheDir != null) {
      compiler = compiler.withCache(cacheDir);
    }
    CompileOptions options = CompileOptions.defaults().withOptLevel(optLevel);
    for (Map.Entry<String, String> e : inputShapes.entrySet()) {
      options = options.withInputShape(e.getKey(), Shape.parse(e.getValue()));
    }
    CompileResult r = compiler.compile(model, options);
    long nanos = System.nanoTime() - start;
    String summary = String.format(Locale.ROOT, "%s %s in %.1f s (%s), artifact %d bytes%s",
        r.cached() ? "read the cached compile of" : "compiled", model.getFileName(), nanos / 1e9, r.phaseSummary(),
        r.bytes().length, r.cacheFile() == null ? "" : ", cache " + r.cacheFile());
    return new CompiledArtifact(r.bytes(), r.manifest(), nanos, r.cached(), summary);
  }

  /** Where compiled artifacts are cached unless the command line says otherwise. */
  static Path defaultCacheDirectory() {
    return ArtifactCache.defaultDirectory();
  }
}
