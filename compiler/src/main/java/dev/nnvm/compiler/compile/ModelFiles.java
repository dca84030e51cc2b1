package dev.nnvm.compiler.compile;

import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactFormat;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the connectors' driver (Spark) or client (Flink) side does with a model file a user names: a compiled
 * {@code .nnvm} artifact is read and verified; anything else is compiled as ONNX through the artifact cache
 * ({@link ArtifactCache#defaultDirectory()}: once per machine, model and options, not once per job). Every failure
 * is an {@link IllegalArgumentException} naming the file, raised before any job starts.
 */
public final class ModelFiles {
  private static final Logger LOG = LoggerFactory.getLogger(ModelFiles.class);

  private ModelFiles() {}

  /**
   * A model file's verified artifact bytes, their manifest, where they came from, and how long getting them took
   * ({@code cacheHit}: compiled earlier and read from the artifact cache).
   */
  public record Loaded(byte[] artifact, Manifest manifest, String source, boolean cacheHit, long nanos) {
    public Loaded {
      Objects.requireNonNull(artifact, "artifact");
      Objects.requireNonNull(manifest, "manifest");
      Objects.requireNonNull(source, "source");
    }
  }

  /** {@code base} specialized for input shapes given as text, e.g. {@code x -> "[N, 3, 48, 192]"}. */
  public static CompileOptions withInputShapes(CompileOptions base, Map<String, String> inputShapes) {
    CompileOptions options = base;
    for (Map.Entry<String, String> e : inputShapes.entrySet()) {
      try {
        options = options.withInputShape(e.getKey(), Shape.parse(e.getValue()));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("input shape of '" + e.getKey() + "': " + ex.getMessage(), ex);
      }
    }
    return options;
  }

  /**
   * Reads a {@code .nnvm} artifact (by name or by its leading magic bytes) or compiles an ONNX model with
   * {@code options} through the default artifact cache.
   *
   * @throws IllegalArgumentException naming the file when it is missing, unreadable, a corrupt artifact, not an
   *     ONNX model, or a model the compiler cannot take
   */
  public static Loaded load(String path, CompileOptions options) {
    return load(path, options, ArtifactCache.defaultDirectory(), p -> { });
  }

  /**
   * As {@link #load(String, CompileOptions)}, caching compiles in {@code cacheDir} (null: no cache) and telling
   * {@code progress} about each compile phase as it ends.
   */
  public static Loaded load(String path, CompileOptions options, Path cacheDir,
      java.util.function.Consumer<CompileResult.Phase> progress) {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(options, "options");
    Path file = Path.of(path);
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("model file '" + path + "' does not exist or is not a file");
    }
    long t0 = System.nanoTime();
    if (path.endsWith(".nnvm") || startsWithArtifactMagic(file)) {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read model file '" + path + "': " + e.getMessage(), e);
      }
      Manifest manifest;
      try {
        manifest = ArtifactReader.read(bytes).manifest();
      } catch (ArtifactException e) {
        throw new IllegalArgumentException("model file '" + path + "' is a corrupt NNVM artifact: " + e.getMessage(),
            e);
      }
      return new Loaded(bytes, manifest, path, false, System.nanoTime() - t0);
    }
    CompileResult r;
    try {
      ModelCompiler compiler = ModelCompiler.create().withProgress(progress);
      r = (cacheDir == null ? compiler : compiler.withCache(cacheDir)).compile(file, options);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read model file '" + path + "': " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("model file '" + path + "' is neither an NNVM artifact (.nnvm) nor an ONNX"
          + " model the compiler takes: " + e.getMessage(), e);
    }
    long nanos = System.nanoTime() - t0;
    LOG.info("model '{}': {} in {} ms ({} bytes)", path, r.cached() ? "artifact cache hit" : "compiled",
        nanos / 1_000_000, r.bytes().length);
    return new Loaded(r.bytes(), r.manifest(), path, r.cached(), nanos);
  }

  private static boolean startsWithArtifactMagic(Path file) {
    byte[] magic = ArtifactFormat.magic();
    try (InputStream in = Files.newInputStream(file)) {
      return Arrays.equals(in.readNBytes(magic.length), magic);
    } catch (IOException e) {
      return false;
    }
  }
}
