package dev.nnvm.compiler.standalone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nnvm.compiler.artifact.ArtifactWriter;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.NativeVariant;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names a manifest may hold that C cannot take as they are (quotes, backslashes,
 * a comment terminator, non-ASCII, a leading digit, names equal but for case),
 * a model without symbols, weights or workspace, and a scalar output: the
 * export must still compile without warnings and print every name as the model
 * has it. The library is never loaded, so its bytes need not be code.
 */
class StandaloneExportTest {
  @TempDir Path dir;

  @Test
  void cText() {
    assertEquals("m_3d_model__", CText.identifier("3d model*/"));
    assertEquals("m__x", CText.identifier("_x"));
    assertEquals("model", CText.identifier(""));
    assertEquals("resnet50", CText.identifier("resnet50"));
    assertEquals("\"a\\\"b\\\\c\\?\"", CText.literal("a\"b\\c?"));
    assertEquals("\"\\303\\274\\012\"", CText.literal("\u00fc\n"));
    assertEquals("x* /y/ *z?", CText.comment("x*/y/*z\u00fc"));
    assertEquals(Map.of("y", "y.bin", "Y", "Y_2.bin", "a/b", "a_b.bin", "", "output.bin", ".h", "_.h.bin"),
        CText.fileNames(List.of("y", "Y", "a/b", "", ".h"), ".bin"));
  }

  private static ModelArtifact oddModel() throws Exception {
    byte[] bytes = ArtifactWriter.builder().compiler("test").created(Instant.EPOCH, "StandaloneExportTest")
        .model("3d model*/ \"odd\"", "0".repeat(64))
        .input(new TensorSpec("a\"b\\c", DType.INT8, Shape.of(2, 3)))
        .input(new TensorSpec("\u00fcber*/", DType.FLOAT64, Shape.of(4)))
        .output(new TensorSpec("y", DType.FLOAT32, Shape.scalar()))
        .output(new TensorSpec("Y", DType.BFLOAT16, Shape.of(Dim.of(5))))
        .variant("x86-64", "x86_64-unknown-linux-gnu", "x86-64", List.of(), "odd_entry",
            ByteBuffer.wrap("not code".getBytes(StandardCharsets.US_ASCII)))
        .build().toBytes();
    return ArtifactReader.read(bytes);
  }

  @Test
  void oddNamesCompileAndPrintAsTheModelHasThem() throws Exception {
    ModelArtifact artifact = oddModel();
    NativeVariant v = artifact.manifest().variants().get(0);
    StandaloneExport.Exported e = StandaloneExport.write(artifact, v, dir);
    assertEquals("m_3d_model____odd_", e.names().prefix());
    assertEquals("m_3d_model____odd__run", e.names().program());
    assertEquals(0, Files.size(dir.resolve("m_3d_model____odd_.weights")));
    String header = Files.readString(dir.resolve(e.names().header()));
    assertTrue(header.contains("#define M_3D_MODEL____ODD__WORKSPACE_ALIGNMENT 64"), header);
    assertTrue(header.contains("static const char* const m_3d_model____odd__symbols[] = {NULL};"), header);
    assertTrue(header.contains("#define M_3D_MODEL____ODD__ENTRY_SYMBOL \"odd_entry\""), header);
    assertTrue(header.contains("int32_t odd_entry(const nnvm_call* call);"), header);
    String readme = Files.readString(dir.resolve("README.txt"));
    assertTrue(readme.contains("y: f32[] -> y.bin") && readme.contains("Y: bf16[5] -> Y_2.bin"), readme);

    String cc = findOnPath("cc", "gcc");
    assumeTrue(cc != null, "no C compiler (cc or gcc) on the PATH: the export is not compiled");
    List<String> build = new ArrayList<>(List.of(cc));
    build.addAll(Arrays.asList(StandaloneExport.CFLAGS.split(" ")));
    build.addAll(List.of("-Werror", "-pedantic", "-o", e.names().program(), e.names().source()));
    build.addAll(Arrays.asList(StandaloneExport.LDLIBS.split(" ")));
    String built = exec(build);
    assertEquals("", built);
    String help = exec(List.of(dir.resolve(e.names().program()).toString(), "--help"));
    assertTrue(help.contains("runs model 3d model*/ \"odd\" (variant x86-64)"), help);
    assertTrue(help.contains("symbols, in entry order: none"), help);
    assertTrue(help.contains("  a\"b\\c: i8[2, 3]\n  \u00fcber*/: f64[4]\n"), help);
    assertTrue(help.contains("  y: f32[] -> OUT_DIR/y.bin\n  Y: bf16[5] -> OUT_DIR/Y_2.bin\n"), help);
  }

  @Test
  void refusesAVariantOfAnotherArtifact() throws Exception {
    ModelArtifact artifact = oddModel();
    NativeVariant v = artifact.manifest().variants().get(0);
    NativeVariant other = new NativeVariant("other", v.triple(), v.cpu(), v.features(), v.entry(), v.library());
    assertEquals("variant 'other' is not one of the artifact's [x86-64]", assertThrows(
        IllegalArgumentException.class, () -> StandaloneExport.write(artifact, other, dir)).getMessage());
  }

  private String exec(List<String> command) throws Exception {
    Path out = Files.createTempFile(dir, "out", ".txt");
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(out.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + command);
    }
    String text = Files.readString(out);
    assertEquals(0, p.exitValue(), () -> command + ": " + text);
    return text;
  }

  private static String findOnPath(String... names) {
    for (String name : names) {
      for (String p : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
        if (!p.isEmpty() && Files.isExecutable(Path.of(p, name))) {
          return Path.of(p, name).toString();
        }
      }
    }
    return null;
  }
}
