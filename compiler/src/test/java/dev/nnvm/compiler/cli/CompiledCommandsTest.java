package dev.nnvm.compiler.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.DType;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code nnvmc compile}, {@code inspect MODEL.nnvm}, {@code run} with the
 * compiled engine and {@code bench}, in-process on a small model (matrix
 * product + bias + Relu on f32, doubling on i64, symbolic batch), on
 * success and on errors. Compiles go to a cache in the test's directory.
 */
class CompiledCommandsTest {
  private static final String MODEL = "graph small(%x: f32[batch, 8], %ids: i64[batch, 3]) -> (%y: f32[batch, 4],"
      + " %z: i64[batch, 3]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[8, 4] = dense<[" + values(32) + "]>\n"
      + "  const %b: f32[4] = dense<[0.5, -0.25, 0.0, 1.0]>\n"
      + "  %p = MatMul(%x, %w)\n  %a = Add(%p, %b)\n  %y = Relu(%a)\n  %z = Add(%ids, %ids)\n"
      + "  return %y, %z\n}\n";

  @TempDir Path dir;
  private Path model;
  private Path cache;

  private record Result(int exitCode, String out, String err) {
    void assertOneLineError(int code, String... fragments) {
      assertEquals(code, exitCode, () -> "exit code; stdout: " + out + "\nstderr: " + err);
      assertEquals(1, err.lines().count(), () -> "expected one error line, got:\n" + err);
      for (String f : fragments) {
        assertTrue(err.contains(f), () -> "stderr should mention '" + f + "': " + err);
      }
    }
  }

  private static String values(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append((float) Math.sin(i * 0.9));
    }
    return sb.toString();
  }

  @BeforeEach
  void writeModel() throws IOException {
    model = dir.resolve("small.onnx");
    OnnxExporter.write(GraphParser.parse(MODEL), model);
    cache = dir.resolve("cache");
  }

  private static Result nnvmc(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Nnvmc.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  private Result compile(Path output, String... more) {
    List<String> args = new ArrayList<>(List.of("compile", model.toString(), "-o", output.toString(),
        "--cache-dir", cache.toString()));
    args.addAll(Arrays.asList(more));
    return nnvmc(args.toArray(new String[0]));
  }

  @Test
  void compilePrintsEveryPhaseAndUsesTheCache() throws IOException {
    Path artifact = dir.resolve("out/small.nnvm");
    Result r = compile(artifact);
    assertEquals(0, r.exitCode, r.err);
    for (String phase : List.of("import", "optimize", "lower", "llvm", "link", "write", "cache")) {
      assertTrue(r.out.lines().anyMatch(l -> l.startsWith("  " + phase + " ") && l.contains(" ms ")),
          () -> "a line for phase " + phase + " in:\n" + r.out);
    }
    assertTrue(r.out.lines().anyMatch(
        l -> l.matches("compiled small\\.onnx in \\d+ ms -> .*small\\.nnvm \\(\\d+ bytes\\)")), r.out);
    assertTrue(Files.size(artifact) > 0);
    Result again = compile(dir.resolve("again.nnvm"));
    assertEquals(0, again.exitCode, again.err);
    assertTrue(again.out.contains("found small.onnx in"), again.out);
    assertArrayEquals(Files.readAllBytes(artifact), Files.readAllBytes(dir.resolve("again.nnvm")));
  }

  @Test
  void compileErrors() {
    nnvmc("compile", dir.resolve("nope.onnx").toString(), "-o", dir.resolve("x.nnvm").toString())
        .assertOneLineError(1, "model file not found", "nope.onnx");
    compile(dir.resolve("x.nnvm"), "--target", "cuda").assertOneLineError(1, "unknown target 'cuda'");
    compile(dir.resolve("x.nnvm"), "--opt-level", "7").assertOneLineError(1, "0 to 3");
    compile(dir.resolve("x.nnvm"), "--input-shape", "q=[1,8]").assertOneLineError(1, "no input named [q]");
    nnvmc("compile", model.toString()).assertOneLineError(2, "-o");
  }

  @Test
  void compileCrossCompilesForAarch64WithCommaSeparatedTargets() throws IOException {
    Path artifact = dir.resolve("arm.nnvm");
    Result c = compile(artifact, "--target", "host,x86-64,aarch64");
    assertEquals(0, c.exitCode, c.err);
    Result r = nnvmc("inspect", artifact.toString());
    assertEquals(0, r.exitCode, r.err);
    assertTrue(r.out.lines().anyMatch(l -> l.startsWith("  aarch64: aarch64-unknown-linux-gnu, cpu generic")
        && l.contains("[fp-armv8, neon]") && l.endsWith("; for aarch64 workers, not this x86_64 CPU")), r.out);
    assertTrue(r.out.lines().anyMatch(l -> l.startsWith("  x86-64: ") && l.endsWith("runs here")), r.out);
    Result run = nnvmc("run", artifact.toString(), "--random-inputs", "--dim", "batch=2", "--seed", "7");
    assertEquals(0, run.exitCode, run.err);
    nnvmc("run", artifact.toString(), "--random-inputs", "--dim", "batch=2", "--variant", "aarch64")
        .assertOneLineError(1, "--variant aarch64 is built for aarch64, this CPU is x86_64");
  }

  @Test
  void inspectSummarizesAnArtifact() throws IOException {
    Path artifact = dir.resolve("small.nnvm");
    assertEquals(0, compile(artifact, "--target", "host", "--target", "x86-64-v3").exitCode);
    Result r = nnvmc("inspect", artifact.toString());
    assertEquals(0, r.exitCode, r.err);
    assertTrue(r.out.contains("model 'small'"), r.out);
    assertTrue(r.out.contains("symbols: [batch]"), r.out);
    assertTrue(r.out.contains("  x: f32[batch, 8]") && r.out.contains("  ids: i64[batch, 3]"), r.out);
    assertTrue(r.out.contains("  y: f32[batch, 4]") && r.out.contains("  z: i64[batch, 3]"), r.out);
    assertTrue(r.out.contains("weights: ") && r.out.contains("workspace: "), r.out);
    // x86-64-v3 names the AVX2 target: the generic CPU with AVX2, FMA and F16C, without LZCNT, BMI or MOVBE.
    assertTrue(r.out.lines().anyMatch(l -> l.startsWith("  x86-64-avx2: x86_64-unknown-linux-gnu, cpu x86-64")
        && l.contains("avx2") && !l.contains("lzcnt")), r.out);
    assertTrue(r.out.lines().anyMatch(l -> l.startsWith("  host-") && l.endsWith("runs here")), r.out);

    byte[] bytes = Files.readAllBytes(artifact);
    bytes[bytes.length - 1] ^= 1;
    Path corrupted = dir.resolve("corrupted.nnvm");
    Files.write(corrupted, bytes);
    nnvmc("inspect", corrupted.toString()).assertOneLineError(1, "corrupted.nnvm", "is corrupted");
    nnvmc("inspect", dir.resolve("missing.nnvm").toString()).assertOneLineError(1, "not found");
  }

  @Test
  void theCompiledEngineGivesTheReferenceOutputs() throws IOException {
    Path artifact = dir.resolve("small.nnvm");
    assertEquals(0, compile(artifact).exitCode);
    String[] inputs = {"--random-inputs", "--dim", "batch=5", "--seed", "3"};
    Result reference = nnvmc(concat(new String[] {"run", model.toString(), "--output-dir", dir.resolve("ref")
        .toString()}, inputs));
    Result fromArtifact = nnvmc(concat(new String[] {"run", artifact.toString(), "--output-dir",
        dir.resolve("nnvm").toString(), "--threads", "2"}, inputs));
    Result fromOnnx = nnvmc(concat(new String[] {"run", model.toString(), "--engine", "compiled", "--cache-dir",
        cache.toString(), "--output-dir", dir.resolve("onnx").toString()}, inputs));
    for (Result r : List.of(reference, fromArtifact, fromOnnx)) {
      assertEquals(0, r.exitCode, r.err);
    }
    assertTrue(fromArtifact.out.contains("with the compiled engine"), fromArtifact.out);
    assertTrue(fromOnnx.out.contains("found small.onnx"), "compiled through the cache: " + fromOnnx.out);
    for (String out : List.of("y.pb", "z.pb")) {
      Tensor want = OnnxTensors.read(dir.resolve("ref").resolve(out));
      for (String engineDir : List.of("nnvm", "onnx")) {
        Tensor got = OnnxTensors.read(dir.resolve(engineDir).resolve(out));
        System.out.println(engineDir + ": " + Comparison.assertClose(out, want, got, 1e-5, 1e-6));
      }
    }
    assertEquals(OnnxTensors.read(dir.resolve("ref/z.pb")), OnnxTensors.read(dir.resolve("nnvm/z.pb")));
    assertEquals(DType.INT64, OnnxTensors.read(dir.resolve("nnvm/z.pb")).dtype());
  }

  @Test
  void compiledRunErrors() throws IOException {
    Path artifact = dir.resolve("small.nnvm");
    assertEquals(0, compile(artifact).exitCode);
    nnvmc("run", artifact.toString(), "--engine", "reference", "--random-inputs", "--dim", "batch=1")
        .assertOneLineError(1, "compiled artifact", "'compiled' engine only");
    Path wide = dir.resolve("wide.pb");
    OnnxTensors.write(Tensor.ofFloats(new long[] {1, 3}, 1f, 2f, 3f), "x", wide);
    nnvmc("run", artifact.toString(), "--input", "x=" + wide, "--random-inputs", "--dim", "batch=1")
        .assertOneLineError(1, "input 'x'", "dimension 1: expected 8, got 3");
    nnvmc("run", artifact.toString(), "--random-inputs").assertOneLineError(1, "--dim batch=N");
    nnvmc("run", artifact.toString(), "--random-inputs", "--dim", "batch=1", "--threads", "0")
        .assertOneLineError(1, "--threads must be at least 1");
  }

  @Test
  void benchPrintsLatencyAndThroughput() throws IOException {
    Result r = nnvmc("bench", model.toString(), "--cache-dir", cache.toString(), "--dim", "batch=16",
        "--warmup", "1", "--runs", "5");
    assertEquals(0, r.exitCode, r.err);
    assertTrue(r.out.contains("5 runs after 1 warm-up, 1 thread, {batch=16}"), r.out);
    assertTrue(r.out.lines().anyMatch(l -> l.matches("latency: median [0-9.]+ ms, p90 [0-9.]+ ms, min [0-9.]+ ms")),
        r.out);
    assertTrue(r.out.lines().anyMatch(l -> l.matches("throughput: [0-9.]+ runs/s, [0-9.]+ rows/s \\(16 rows a run:"
        + " dimension 0 of input 'x'\\)")), r.out);
    nnvmc("bench", model.toString(), "--cache-dir", cache.toString()).assertOneLineError(1, "--dim batch=N");
    nnvmc("bench", model.toString(), "--dim", "batch=1", "--runs", "0").assertOneLineError(1, "--runs >= 1");
    nnvmc("bench", model.toString(), "--dim", "batch=1", "--cache-dir", cache.toString(), "--dim", "seq=3")
        .assertOneLineError(1, "--dim seq", "no model input has a dimension named 'seq'");
    assertFalse(r.out.contains("Exception"));
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
