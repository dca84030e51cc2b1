package dev.nnvm.compiler.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
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
 * Runs {@code nnvmc} in-process on a small model (Add + Relu on f32, Add on
 * i64, with a symbolic batch dimension and awkward output names) and checks
 * what it prints, writes and returns, on success and on every kind of error.
 */
class NnvmcTest {
  private static final long[] XY = {2, 3};

  @TempDir Path dir;
  private Path model;
  private Path xFile;
  private Path idsFile;

  /** The captured result of one command line. */
  private record Result(int exitCode, String out, String err) {
    void assertOneLineError(int code, String... fragments) {
      assertEquals(code, exitCode, () -> "exit code; stderr was: " + err);
      List<String> lines = err.lines().toList();
      assertEquals(1, lines.size(), () -> "expected one error line, got:\n" + err);
      for (String f : fragments) {
        assertTrue(err.contains(f), () -> "stderr should mention '" + f + "': " + err);
      }
      assertFalse(err.contains("Exception"), () -> "no exception names without --verbose: " + err);
    }
  }

  @BeforeEach
  void writeModelAndInputs() throws IOException {
    Shape batchBy3 = Shape.parse("[batch, 3]");
    Graph g = Graph.builder("cli-test")
        .opset("", 17)
        .input("x", new TensorType(DType.FLOAT32, batchBy3))
        .input("ids", new TensorType(DType.INT64, batchBy3))
        .constant("bias", Tensor.ofFloats(new long[] {3}, 0.5f, -1f, 0f))
        .node(Node.of("add", "Add", List.of("x", "bias"), List.of("shifted")))
        .node(Node.of("relu", "Relu", List.of("shifted"), List.of("out/relu")))
        .node(Node.of("double", "Add", List.of("ids", "ids"), List.of("ids:2x")))
        .output("out/relu", new TensorType(DType.FLOAT32, batchBy3))
        .output("ids:2x", new TensorType(DType.INT64, batchBy3))
        .build();
    model = dir.resolve("model.onnx");
    OnnxExporter.write(g, model);
    xFile = dir.resolve("x.pb");
    OnnxTensors.write(Tensor.ofFloats(XY, 1f, 2f, 3f, -4f, 0.25f, -0.5f), "x", xFile);
    idsFile = dir.resolve("ids.pb");
    OnnxTensors.write(Tensor.ofLongs(DType.INT64, XY, 1, 2, 3, 4, 5, 6), "ids", idsFile);
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

  private String[] runArgs(String... more) {
    List<String> args = new ArrayList<>(List.of("run", model.toString()));
    args.addAll(Arrays.asList(more));
    return args.toArray(new String[0]);
  }

  @Test
  void runsWithInputFilesAndWritesOutputs() throws IOException {
    Path outDir = dir.resolve("out/nested");
    Result r = nnvmc(runArgs("--input", "x=" + xFile, "--input", "ids=" + idsFile, "--output-dir", outDir.toString()));

    assertEquals(0, r.exitCode, r.err);
    assertEquals("", r.err);
    Tensor relu = OnnxTensors.read(outDir.resolve("out_relu.pb"));
    assertArrayEquals(XY, relu.shape());
    assertArrayEquals(new float[] {1.5f, 1f, 3f, 0f, 0f, 0f}, relu.floats(), 0f);
    assertEquals("out/relu", OnnxTensors.readName(outDir.resolve("out_relu.pb")));
    Tensor doubled = OnnxTensors.read(outDir.resolve("ids_2x.pb"));
    assertEquals(Tensor.ofLongs(DType.INT64, XY, 2, 4, 6, 8, 10, 12), doubled);

    List<String> lines = r.out.lines().toList();
    assertEquals(3, lines.size(), r.out);
    assertEquals("output out/relu: f32 [2, 3] min=0 max=3 mean=0.916667 values=[1.5, 1, 3, 0, 0, ...] -> "
        + outDir.resolve("out_relu.pb"), lines.get(0));
    assertEquals("output ids:2x: i64 [2, 3] min=2 max=12 mean=7 values=[2, 4, 6, 8, 10, ...] -> "
        + outDir.resolve("ids_2x.pb"), lines.get(1));
    assertTrue(lines.get(2).matches("evaluated model\\.onnx with the reference engine in [0-9.]+ ms"
        + " \\(model loaded in [0-9.]+ ms\\)"), lines.get(2));
  }

  @Test
  void withoutOutputDirOnlySummarizes() throws IOException {
    Result r = nnvmc(runArgs("--input", "x=" + xFile, "--input", "ids=" + idsFile));
    assertEquals(0, r.exitCode, r.err);
    assertTrue(r.out.contains("output ids:2x: i64 [2, 3]"), r.out);
    assertFalse(r.out.contains("->"), r.out);
    try (var files = Files.list(dir)) {
      assertEquals(3, files.count(), "only the model and the two inputs");
    }
  }

  @Test
  void randomInputsFollowDimsRangeAndSeed() throws IOException {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    Result r = nnvmc(runArgs("--random-inputs", "--dim", "batch=4", "--int-range", "3:5", "--seed", "7",
        "--output-dir", a.toString()));
    assertEquals(0, r.exitCode, r.err);
    assertTrue(r.out.contains("input  x: f32 [4, 3] "), r.out);
    assertTrue(r.out.contains("(random)"), r.out);
    Tensor doubled = OnnxTensors.read(a.resolve("ids_2x.pb"));
    assertArrayEquals(new long[] {4, 3}, doubled.shape());
    for (long v : doubled.longs()) {
      assertTrue(v == 6 || v == 8 || v == 10, "2 * a value in 3..5, got " + v);
    }
    Tensor relu = OnnxTensors.read(a.resolve("out_relu.pb"));
    for (float v : relu.floats()) {
      assertTrue(v >= 0 && v < 1.5f, "relu(x + bias) with x in [-1, 1) and bias <= 0.5, got " + v);
    }

    assertEquals(0, nnvmc(runArgs("--random-inputs", "--dim", "batch=4", "--int-range", "3:5", "--seed", "7",
        "--output-dir", b.toString())).exitCode);
    assertArrayEquals(Files.readAllBytes(a.resolve("out_relu.pb")), Files.readAllBytes(b.resolve("out_relu.pb")));
    assertArrayEquals(Files.readAllBytes(a.resolve("ids_2x.pb")), Files.readAllBytes(b.resolve("ids_2x.pb")));

    Path saved = dir.resolve("saved");
    assertEquals(0, nnvmc(runArgs("--random-inputs", "--dim", "batch=4", "--int-range", "3:5", "--seed", "7",
        "--save-inputs", saved.toString())).exitCode);
    Tensor ids = OnnxTensors.read(saved.resolve("ids.pb"));
    assertEquals("ids", OnnxTensors.readName(saved.resolve("ids.pb")));
    for (int i = 0; i < ids.size(); i++) {
      assertEquals(2 * ids.longs()[i], doubled.longs()[i], "the saved inputs are the ones evaluated");
    }
    assertArrayEquals(new long[] {4, 3}, OnnxTensors.read(saved.resolve("x.pb")).shape());

    Path c = dir.resolve("c");
    assertEquals(0, nnvmc(runArgs("--random-inputs", "--dim", "batch=4", "--seed", "8",
        "--output-dir", c.toString())).exitCode);
    assertFalse(Arrays.equals(Files.readAllBytes(a.resolve("out_relu.pb")),
        Files.readAllBytes(c.resolve("out_relu.pb"))), "another seed gives other values");
  }

  @Test
  void randomInputsTakeSymbolicSizesFromGivenInputs() throws IOException {
    Result r = nnvmc(runArgs("--input", "x=" + xFile, "--random-inputs", "--output-dir", dir.toString()));
    assertEquals(0, r.exitCode, r.err);
    assertTrue(r.out.contains("input  ids: i64 [2, 3] "), r.out);
    assertFalse(r.out.contains("input  x:"), "x was given, not made up: " + r.out);
    assertArrayEquals(XY, OnnxTensors.read(dir.resolve("ids_2x.pb")).shape());
  }

  @Test
  void helpAndVersionOnEveryCommand() {
    for (String[] args : List.of(new String[] {"--help"}, new String[] {"run", "--help"})) {
      Result r = nnvmc(args);
      assertEquals(0, r.exitCode);
      assertTrue(r.out.startsWith("Usage: nnvmc"), r.out);
    }
    assertTrue(nnvmc("run", "--help").out.contains("--random-inputs"));
    for (String[] args : List.of(new String[] {"--version"}, new String[] {"run", "--version"})) {
      Result r = nnvmc(args);
      assertEquals(0, r.exitCode);
      assertTrue(r.out.startsWith("nnvmc "), r.out);
      assertTrue(r.out.contains("Java " + System.getProperty("java.version")), r.out);
    }
  }

  @Test
  void missingModelFile() {
    nnvmc("run", dir.resolve("nope.onnx").toString(), "--random-inputs")
        .assertOneLineError(1, "model file not found", "nope.onnx");
  }

  @Test
  void modelFileThatIsNotOnnx() throws IOException {
    Path bad = dir.resolve("bad.onnx");
    Files.write(bad, new byte[] {(byte) 0xff, 0x13, 0x37, 0x00, 0x42});
    nnvmc("run", bad.toString(), "--random-inputs").assertOneLineError(1, "bad.onnx", "not a valid ONNX model");
  }

  @Test
  void missingInputFile() {
    nnvmc(runArgs("--input", "x=" + dir.resolve("missing.pb"), "--random-inputs"))
        .assertOneLineError(1, "--input x", "file not found", "missing.pb");
  }

  @Test
  void inputFileThatIsNotATensor() throws IOException {
    Path bad = dir.resolve("bad.pb");
    Files.write(bad, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});
    nnvmc(runArgs("--input", "x=" + bad, "--random-inputs")).assertOneLineError(1, "bad.pb", "TensorProto");
  }

  @Test
  void unknownInputName() {
    nnvmc(runArgs("--input", "y=" + xFile, "--random-inputs"))
        .assertOneLineError(1, "no input named 'y'", "[x, ids]");
  }

  @Test
  void constantsAreNotInputs() {
    nnvmc(runArgs("--input", "bias=" + xFile, "--random-inputs")).assertOneLineError(1, "no input named 'bias'");
  }

  @Test
  void wrongInputShape() throws IOException {
    Path wide = dir.resolve("wide.pb");
    OnnxTensors.write(Tensor.ofFloats(new long[] {1, 4}, 1f, 2f, 3f, 4f), "x", wide);
    nnvmc(runArgs("--input", "x=" + wide, "--input", "ids=" + idsFile))
        .assertOneLineError(1, "input 'x' dimension 1", "expected 3", "got 4");
  }

  @Test
  void wrongInputElementType() {
    nnvmc(runArgs("--input", "x=" + idsFile, "--input", "ids=" + idsFile))
        .assertOneLineError(1, "input 'x'", "expected element type f32", "got i64");
  }

  @Test
  void inconsistentSymbolicSizes() throws IOException {
    Path oneRow = dir.resolve("one-row.pb");
    OnnxTensors.write(Tensor.ofLongs(DType.INT64, new long[] {1, 3}, 1, 2, 3), "ids", oneRow);
    nnvmc(runArgs("--input", "x=" + xFile, "--input", "ids=" + oneRow)).assertOneLineError(1, "batch");
    nnvmc(runArgs("--input", "x=" + xFile, "--random-inputs", "--dim", "batch=3"))
        .assertOneLineError(1, "input 'x' has batch = 2", "--dim batch=3");
  }

  @Test
  void missingInputsWithoutRandomInputs() {
    nnvmc(runArgs("--input", "x=" + xFile)).assertOneLineError(1, "missing model input ids", "--random-inputs");
  }

  @Test
  void unboundSymbolicDimension() {
    nnvmc(runArgs("--random-inputs")).assertOneLineError(1, "input 'x'", "batch", "--dim batch=N");
  }

  @Test
  void dimBindingErrors() {
    nnvmc(runArgs("--random-inputs", "--dim", "batch=2", "--dim", "seq=8"))
        .assertOneLineError(1, "--dim seq", "[batch]");
    nnvmc(runArgs("--random-inputs", "--dim", "batch=-1")).assertOneLineError(1, "batch=-1", ">= 0");
    nnvmc(runArgs("--input", "x=" + xFile, "--dim", "batch=2")).assertOneLineError(1, "add --random-inputs");
    nnvmc(runArgs("--random-inputs", "--dim", "batch=two")).assertOneLineError(2, "--dim", "'two'");
  }

  @Test
  void unknownEngine() {
    nnvmc(runArgs("--random-inputs", "--dim", "batch=1", "--engine", "tvm"))
        .assertOneLineError(1, "unknown engine 'tvm'", "'reference'", "'compiled'");
    assertEquals(0, nnvmc(runArgs("--random-inputs", "--dim", "batch=1", "--engine", "reference")).exitCode);
  }

  @Test
  void intRangeErrors() {
    nnvmc(runArgs("--random-inputs", "--dim", "batch=1", "--int-range", "5"))
        .assertOneLineError(2, "lo:hi", "'5'");
    nnvmc(runArgs("--random-inputs", "--dim", "batch=1", "--int-range", "5:1"))
        .assertOneLineError(2, "5:1");
    nnvmc(runArgs("--random-inputs", "--dim", "batch=1", "--int-range",
        Long.MIN_VALUE + ":" + Long.MAX_VALUE)).assertOneLineError(1, "does not fit input 'ids'");
  }

  @Test
  void usageErrors() {
    nnvmc().assertOneLineError(2, "missing command", "nnvmc run --help");
    nnvmc("run").assertOneLineError(2, "MODEL", "nnvmc run --help");
    nnvmc(runArgs("--no-such-option")).assertOneLineError(2, "--no-such-option");
    nnvmc("compile", model.toString()).assertOneLineError(2, "compile");
  }

  @Test
  void verboseAddsTheStackTrace() {
    Result r = nnvmc("run", "-v", dir.resolve("nope.onnx").toString());
    assertEquals(1, r.exitCode);
    assertTrue(r.err.startsWith("nnvmc run: model file not found"), r.err);
    assertTrue(r.err.contains("CliException") && r.err.contains("\tat "), r.err);
  }
}
