package dev.nnvm.compiler.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.artifact.ArtifactReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connectors' driver-side model loading: ONNX compiled through a cache, .nnvm read and verified, bad files named. */
class ModelFilesTest {
  private static final String SMALL = ModelCompilerTest.SMALL;

  @TempDir Path dir;

  @Test
  void onnxIsCompiledOnceThenReadFromTheCacheAndArtifactsAreReadAsTheyAre() throws Exception {
    Path onnx = dir.resolve("small.onnx");
    Files.write(onnx, OnnxExporter.toBytes(GraphParser.parse(SMALL)));
    CompileOptions options = ModelFiles.withInputShapes(CompileOptions.defaults(), Map.of("x", "[N, 8]"));
    assertEquals(Shape.parse("[N, 8]"), options.inputShapes().get("x"));
    List<String> phases = new ArrayList<>();
    Path cache = dir.resolve("cache");
    ModelFiles.Loaded first = ModelFiles.load(onnx.toString(), options, cache, p -> phases.add(p.name()));
    assertFalse(first.cacheHit());
    assertTrue(phases.contains("llvm"), phases.toString());
    ModelFiles.Loaded again = ModelFiles.load(onnx.toString(), options, cache, p -> { });
    assertTrue(again.cacheHit());
    assertArrayEquals(first.artifact(), again.artifact());
    assertEquals(List.of("x"), ArtifactReader.read(first.artifact()).manifest().inputs().stream()
        .map(dev.nnvm.runtime.TensorSpec::name).toList());

    // A compiled artifact is read and verified, by its name or by its leading bytes.
    for (String name : List.of("small.nnvm", "small.bin")) {
      Path artifact = dir.resolve(name);
      Files.write(artifact, first.artifact());
      ModelFiles.Loaded read = ModelFiles.load(artifact.toString(), options, null, p -> { });
      assertArrayEquals(first.artifact(), read.artifact());
      assertFalse(read.cacheHit());
    }
  }

  @Test
  void badFilesAreNamedInOneLine() throws Exception {
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> ModelFiles.load(dir.resolve("none.onnx").toString(), CompileOptions.defaults()));
    assertTrue(missing.getMessage().contains("none.onnx' does not exist"), missing.getMessage());

    Path text = dir.resolve("junk.onnx");
    Files.writeString(text, "this is not a model", StandardCharsets.UTF_8);
    IllegalArgumentException junk = assertThrows(IllegalArgumentException.class,
        () -> ModelFiles.load(text.toString(), CompileOptions.defaults(), null, p -> { }));
    assertTrue(junk.getMessage().contains("junk.onnx' is neither an NNVM artifact (.nnvm) nor an ONNX model"),
        junk.getMessage());

    Path onnx = dir.resolve("small.onnx");
    Files.write(onnx, OnnxExporter.toBytes(GraphParser.parse(SMALL)));
    byte[] bytes = ModelFiles.load(onnx.toString(), CompileOptions.defaults(), null, p -> { }).artifact();
    bytes[bytes.length - 1] ^= 1;
    Path corrupt = dir.resolve("corrupt.nnvm");
    Files.write(corrupt, bytes);
    IllegalArgumentException damaged = assertThrows(IllegalArgumentException.class,
        () -> ModelFiles.load(corrupt.toString(), CompileOptions.defaults()));
    assertTrue(damaged.getMessage().contains("corrupt.nnvm' is a corrupt NNVM artifact"), damaged.getMessage());

    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
        () -> ModelFiles.withInputShapes(CompileOptions.defaults(), Map.of("x", "[N, 8")));
    assertTrue(shape.getMessage().startsWith("input shape of 'x': "), shape.getMessage());
  }
}
