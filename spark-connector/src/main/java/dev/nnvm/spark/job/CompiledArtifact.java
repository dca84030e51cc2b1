package dev.nnvm.spark.job;

import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelFiles;
import dev.nnvm.runtime.artifact.Manifest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The driver's half of the job: the model's artifact bytes, compiled from an ONNX file through the artifact
 * cache (a line per compile phase) or read from a {@code .nnvm} file ({@link ModelFiles}), and how long that took. Only the driver
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
    if (isArtifact(model) && !inputShapes.isEmpty()) {
      throw new JobException("--input-shape specializes ONNX models when they are compiled; " + model.getFileName()
          + " is compiled already");
    }
    CompileOptions options = ModelFiles.withInputShapes(CompileOptions.defaults().withOptLevel(optLevel), inputShapes);
    ModelFiles.Loaded m = ModelFiles.load(model.toString(), options, cacheDir, p -> out.println("   " + p));
    String summary;
    if (isArtifact(model)) {
      summary = String.format(Locale.ROOT, "read %s (%d bytes) in %.0f ms", model.getFileName(), m.artifact().length,
          m.nanos() / 1e6);
    } else {
      summary = String.format(Locale.ROOT, "%s %s in %.1f s, artifact %d bytes",
          m.cacheHit() ? "read the cached compile of" : "compiled", model.getFileName(), m.nanos() / 1e9,
          m.artifact().length);
    }
    return new CompiledArtifact(m.artifact(), m.manifest(), m.nanos(), m.cacheHit() || isArtifact(model), summary);
  }

  /** Where compiled artifacts are cached unless the command line says otherwise. */
  static Path defaultCacheDirectory() {
    return ArtifactCache.defaultDirectory();
  }
}
