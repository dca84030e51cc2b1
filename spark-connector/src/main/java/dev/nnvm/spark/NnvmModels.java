package dev.nnvm.spark;

import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.compile.ModelFiles;
import dev.nnvm.scoring.ScoringSpec;
import java.util.Map;
import java.util.Objects;

/**
 * The driver side of the connector: model files to verified artifact bytes,
 * ready for a {@link ScoringSpec}. A compiled {@code .nnvm} file is read and
 * verified; anything else is compiled as ONNX by {@link ModelCompiler}
 * through the artifact cache ({@link ArtifactCache#defaultDirectory()}, so a
 * model is compiled once per machine and options, not once per job). This
 * class needs the compiler (and its LLVM natives) and is meant for the
 * driver only: executors receive the bytes and never load it.
 *
 * <pre>{@code
 * NnvmModels.Compiled c = NnvmModels.compile("cls.onnx", Map.of("x", "[N, 3, 48, 192]"));
 * ScoringSpec spec = c.spec().mapInput("image", "x").build();
 * }</pre>
 */
public final class NnvmModels {
  private NnvmModels() {}

  /** The artifact of a model file, its source and how it was obtained. */
  public record Compiled(byte[] artifact, String source, boolean cacheHit, long compileNanos) {
    public Compiled {
      Objects.requireNonNull(artifact, "artifact");
      Objects.requireNonNull(source, "source");
    }

    /** A spec builder over the artifact (it verifies the bytes). */
    public ScoringSpec.Builder spec() {
      return ScoringSpec.builder(artifact);
    }

    @Override
    public String toString() {
      return "Compiled[" + source + ", " + artifact.length + " bytes, " + (cacheHit ? "cache hit" : "compiled") + " in "
          + compileNanos / 1_000_000 + " ms]";
    }
  }

  /** {@link #compile(String, Map)} without input shapes. */
  public static Compiled compile(String path) {
    return compile(path, Map.of());
  }

  /**
   * Reads a {@code .nnvm} artifact or compiles an ONNX model (default targets:
   * this CPU and the x86-64 baseline; default optimization level) through the
   * artifact cache ({@link ModelFiles}).
   *
   * @param path a local file
   * @param inputShapes shapes to specialize ONNX inputs for, e.g. {@code x -> "[N, 3, 48, 192]"} (names stay
   *     symbolic); ignored for an artifact
   * @throws IllegalArgumentException naming the file when it is missing, unreadable, a corrupt artifact, not an
   *     ONNX model, or a model the compiler cannot take
   */
  public static Compiled compile(String path, Map<String, String> inputShapes) {
    Objects.requireNonNull(path, "path");
    return compile(path, ModelFiles.withInputShapes(CompileOptions.defaults(), inputShapes));
  }

  /** As {@link #compile(String, Map)}, with explicit compile options. */
  public static Compiled compile(String path, CompileOptions options) {
    ModelFiles.Loaded m = ModelFiles.load(path, options);
    return new Compiled(m.artifact(), m.source(), m.cacheHit(), m.nanos());
  }
}
