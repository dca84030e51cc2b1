package dev.nnvm.flink;

import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.compile.ModelFiles;
import dev.nnvm.scoring.ScoringSpec;
import java.util.Map;

/**
 * The client side of the connector: a model file to verified artifact bytes,
 * which then travel with the job inside a {@link ScoringSpec}. A compiled
 * {@code .nnvm} file is read and verified; anything else is compiled as ONNX
 * by {@link ModelCompiler} through the artifact cache
 * ({@link ArtifactCache#defaultDirectory()}: compiled once per machine and
 * options, not once per job submission). Needs the compiler and its LLVM
 * natives: call it where the job is built, never in a TaskManager.
 */
public final class ModelArtifacts {
  private ModelArtifacts() {}

  /**
   * Reads a {@code .nnvm} artifact or compiles an ONNX model for this CPU and the x86-64 baseline.
   *
   * @param path a local file
   * @param inputShapes shapes to specialize ONNX inputs for, e.g. {@code x -> "[N, 3, 48, 192]"}; ignored for an
   *     artifact
   * @throws IllegalArgumentException naming the file when it is missing, unreadable, a corrupt artifact, or not a
   *     model the compiler takes
   */
  public static byte[] load(String path, Map<String, String> inputShapes) {
    return ModelFiles.load(path, ModelFiles.withInputShapes(CompileOptions.defaults(), inputShapes)).artifact();
  }
}
