package dev.nnvm.compiler.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nnvm.compiler.artifact.ArtifactWriter;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.standalone.StandaloneExport;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.runtime.nativeio.NativeMemory;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code nnvmc export}: two models compiled in the test (a convolution + Relu +
 * dense layer with a symbolic batch, and a model with two inputs and two outputs
 * over two symbols) and a hand-written library that checks the ABI's alignments
 * and fails on request are exported, their C programs built with the system C
 * compiler and run on seeded random raw inputs; the outputs must be the Java
 * runtime's, bit for bit, for the same variant and thread count. Tests that
 * need a C compiler are skipped, saying so, when there is none on the PATH.
 */
class ExportCommandTest {
  private static final long SEED = 20261206L;
  private static final String CONVNET = "graph convnet(%x: f32[N, 3, 8, 8]) -> (%y: f32[N, 10]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[4, 3, 3, 3] = dense<" + values(108, 0.3) + ">\n"
      + "  const %b: f32[4] = dense<" + values(4, 0.1) + ">\n"
      + "  const %wd: f32[256, 10] = dense<" + values(2560, 0.05) + ">\n"
      + "  const %bd: f32[10] = dense<" + values(10, 0.2) + ">\n"
      + "  %c = Conv(%x, %w, %b) {pads = [1, 1, 1, 1]}\n  %r = Relu(%c)\n  %f = Flatten(%r) {axis = 1}\n"
      + "  %m = MatMul(%f, %wd)\n  %y = Add(%m, %bd)\n  return %y\n}\n";
  private static final String TWO_IO = "graph two_io(%x: f32[B, S, 8], %ids: i64[B, S]) -> (%y: f32[B, S, 4],"
      + " %z: i64[B, S]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[8, 4] = dense<" + values(32, 0.5) + ">\n"
      + "  const %b: f32[4] = dense<[0.5, -0.25, 0.0, 1.0]>\n"
      + "  %p = MatMul(%x, %w)\n  %a = Add(%p, %b)\n  %y = Relu(%a)\n  %z = Add(%ids, %ids)\n"
      + "  return %y, %z\n}\n";
  /** A model library written by hand: checks the alignment of weights and workspace, fails when K > 3. */
  private static final String CHECKED_C = """
      #include <stdint.h>
      #include <stdio.h>
      #include <string.h>
      #include "nnvm_model_abi.h"

      int32_t checked_entry(const nnvm_call* call) {
        int64_t k = call->symbols[0];
        if ((uintptr_t) call->weights % 64 != 0 || (uintptr_t) call->workspace % 64 != 0) {
          snprintf(call->error, (size_t) call->error_capacity, "weights %p or workspace %p not 64-byte aligned",
              (const void*) call->weights, call->workspace);
          return 3;
        }
        if (k > 3) {
          snprintf(call->error, (size_t) call->error_capacity, "K = %lld is more than this model takes (3)",
              (long long) k);
          return 7;
        }
        memset(call->workspace, 0xab, (size_t) (64 * k + 64));
        const float* w = (const float*) call->weights;
        const float* x = (const float*) call->inputs[0];
        float* y = (float*) call->outputs[0];
        for (int64_t i = 0; i < 2 * k; i++) {
          y[i] = x[i] * w[i % 4] + (float) ((const unsigned char*) call->workspace)[64 * k + 63];
        }
        return 0;
      }
      """;

  @TempDir static Path shared;
  private static String cc;
  private static String noCompiler;
  private static Path convnet;
  private static Path twoIo;

  @TempDir Path dir;
  private NativeAllocator allocator;

  private record Result(int exitCode, String out, String err) {}

  private static String values(int n, double scale) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append((float) (scale * Math.sin(i * 0.7 + 0.3)));
    }
    return sb.append(']').toString();
  }

  @BeforeAll
  static void compileModels() throws IOException {
    cc = findOnPath("cc", "gcc");
    if (cc == null) {
      noCompiler = "no C compiler (cc or gcc) on the PATH: the exported programs cannot be built here";
      System.out.println("ExportCommandTest: " + noCompiler);
    }
    System.out.println("ExportCommandTest: random inputs with seed " + SEED);
    ModelCompiler compiler = ModelCompiler.create();
    convnet = shared.resolve("convnet.nnvm");
    Files.write(convnet, compiler.compile(GraphParser.parse(CONVNET),
        CompileOptions.defaults().withTargets(List.of("host", "x86-64"))).bytes());
    twoIo = shared.resolve("two_io.nnvm");
    Files.write(twoIo, compiler.compile(GraphParser.parse(TWO_IO),
        CompileOptions.defaults().withTargets(List.of("host"))).bytes());
  }

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("export-test");
  }

  @AfterEach
  void close() {
    allocator.close();
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

  private static void assumeCompiler() {
    assumeTrue(cc != null, noCompiler);
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

  private static Result exec(Path workDir, List<String> command) throws IOException, InterruptedException {
    Path out = Files.createTempFile(workDir, "stdout", ".txt");
    Path err = Files.createTempFile(workDir, "stderr", ".txt");
    Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectOutput(out.toFile())
        .redirectError(err.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + command);
    }
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  /** Exports with nnvmc and builds the program with the Makefile's flags, warnings as errors. */
  private static Path exportAndBuild(Path model, Path out, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("export", model.toString(), "--out", out.toString()));
    args.addAll(Arrays.asList(more));
    Result r = nnvmc(args.toArray(new String[0]));
    assertEquals(0, r.exitCode, r.err);
    System.out.print(r.out);
    List<String> build = new ArrayList<>(List.of(cc));
    build.addAll(Arrays.asList(StandaloneExport.CFLAGS.split(" ")));
    String stem = model.getFileName().toString().replace(".nnvm", "");
    build.addAll(List.of("-Werror", "-o", stem + "_run", stem + "_run.c"));
    build.addAll(Arrays.asList(StandaloneExport.LDLIBS.split(" ")));
    Result b = exec(out, build);
    assertEquals(0, b.exitCode, () -> "build failed: " + b.err);
    return out.resolve(stem + "_run");
  }

  /** Seeded random raw little-endian bytes for a tensor: floats in [-1, 1), integers in [0, 9]. */
  private static byte[] randomBytes(Random random, DType dtype, long[] shape) {
    int n = Math.toIntExact(NativeTensor.elementCount(shape));
    ByteBuffer b = ByteBuffer.allocate(n * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      switch (dtype) {
        case FLOAT32 -> b.putFloat(random.nextFloat() * 2 - 1);
        case INT64 -> b.putLong(random.nextInt(10));
        default -> throw new IllegalArgumentException("no random " + dtype);
      }
    }
    return b.array();
  }

  /** The Java runtime's outputs (raw bytes by name) for raw inputs, on a variant (null: this CPU's best). */
  private Map<String, byte[]> javaRun(ModelArtifact artifact, String variant, Map<String, byte[]> inputs,
      Map<String, Long> symbols, int threads) {
    Map<String, byte[]> outputs = new LinkedHashMap<>();
    List<NativeTensor> natives = new ArrayList<>();
    try (CompiledModel model = CompiledModels.load(artifact, allocator, variant);
        Executor exec = model.newExecutor(allocator)) {
      for (TensorSpec in : exec.inputs()) {
        NativeTensor t = NativeTensor.allocate(allocator, in.dtype(), in.shape().bind(symbols).toArray());
        natives.add(t);
        byte[] raw = inputs.get(in.name());
        NativeMemory.copyFromArray(raw, 0, raw.length, t.address());
        exec.setInput(in.name(), t);
      }
      exec.run(threads);
      for (TensorSpec o : exec.outputs()) {
        try (NativeTensor t = exec.output(o.name())) {
          byte[] bytes = new byte[Math.toIntExact(t.dataSize())];
          NativeMemory.copyToArray(t.address(), bytes, 0, bytes.length);
          outputs.put(o.name(), bytes);
        }
      }
    } finally {
      natives.forEach(NativeTensor::close);
    }
    return outputs;
  }

  /**
   * Runs the exported program and the Java runtime on the same random inputs, asserts equal bytes and
   * returns the largest absolute difference of the float outputs (0 when bit-identical).
   */
  private double compare(Path program, Path artifactFile, String variant, Map<String, Long> symbols, int threads,
      Random random) throws Exception {
    ModelArtifact artifact = ArtifactReader.read(artifactFile);
    Path work = Files.createTempDirectory(dir, "run");
    Map<String, byte[]> inputs = new LinkedHashMap<>();
    List<String> command = new ArrayList<>(List.of(program.toString(), "-t", Integer.toString(threads),
        "-o", "out"));
    symbols.forEach((s, v) -> command.add(s + "=" + v));
    for (TensorSpec in : artifact.manifest().inputs()) {
      byte[] bytes = randomBytes(random, in.dtype(), in.shape().bind(symbols).toArray());
      inputs.put(in.name(), bytes);
      Files.write(work.resolve(in.name() + ".bin"), bytes);
      command.add(in.name() + ".bin");
    }
    Result r = exec(work, command);
    assertEquals(0, r.exitCode, () -> "program failed: " + r.err);
    Map<String, byte[]> want = javaRun(artifact, variant, inputs, symbols, threads);
    double maxAbs = 0;
    for (TensorSpec o : artifact.manifest().outputs()) {
      byte[] got = Files.readAllBytes(work.resolve("out").resolve(o.name() + ".bin"));
      assertEquals(want.get(o.name()).length, got.length, o.name());
      if (o.dtype() == DType.FLOAT32) {
        ByteBuffer g = ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer w = ByteBuffer.wrap(want.get(o.name())).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < got.length; i += 4) {
          maxAbs = Math.max(maxAbs, Math.abs(g.getFloat(i) - w.getFloat(i)));
        }
      }
      assertArrayEquals(want.get(o.name()), got, () -> "output " + o.name() + " of " + program.getFileName()
          + " differs from the Java runtime's (seed " + SEED + ")");
    }
    System.out.printf(Locale.ROOT,
        "%s %s, %d thread%s: outputs bit-identical to the Java runtime's, max abs error %s%n", program.getFileName(),
        symbols, threads, threads == 1 ? "" : "s", maxAbs);
    return maxAbs;
  }

  @Test
  void exportsTheFilesOfTheVariantTheRuntimePicks() throws IOException {
    Path out = dir.resolve("convnet-c");
    Result r = nnvmc("export", convnet.toString(), "--out", out.toString());
    assertEquals(0, r.exitCode, r.err);
    ModelArtifact artifact = ArtifactReader.read(convnet);
    String best = artifact.selectVariant().name();
    assertTrue(r.out.contains("variant " + best + " (the best of"), r.out);
    for (String f : List.of("convnet.so", "convnet.weights", "nnvm_model_abi.h", "convnet.h", "convnet_run.c",
        "Makefile", "README.txt")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
      assertTrue(r.out.contains("  " + f + " "), () -> f + " in " + r.out);
    }
    assertArrayEquals(bytes(artifact.library(artifact.selectVariant())), Files.readAllBytes(out.resolve("convnet.so")));
    assertArrayEquals(bytes(artifact.weights()), Files.readAllBytes(out.resolve("convnet.weights")));
    Path abiSource = Path.of("..", "runtime", "src", "main", "c", "nnvm_model_abi.h");
    String abi = Files.readString(out.resolve("nnvm_model_abi.h"));
    assertEquals(Files.isRegularFile(abiSource) ? Files.readString(abiSource) : StandaloneExport.abiHeader(), abi);

    String header = Files.readString(out.resolve("convnet.h"));
    assertTrue(header.contains("#define CONVNET_ENTRY_SYMBOL \"nnvm_model_run\""), header);
    assertTrue(header.contains("#define CONVNET_VARIANT \"" + best + "\""), header);
    assertTrue(header.contains("static const char* const convnet_symbols[] = {\"N\"};"), header);
    assertTrue(header.contains("{\"x\", NNVM_DTYPE_F32, \"f32\", 4, 4, convnet_input0_dims, \"[N, 3, 8, 8]\"}"),
        header);
    assertTrue(header.contains("{\"y\", NNVM_DTYPE_F32, \"f32\", 4, 2, convnet_output0_dims, \"[N, 10]\"}"), header);
    assertTrue(header.contains("static inline int64_t convnet_workspace_bytes(const int64_t* symbols)"), header);
    assertTrue(header.contains("#define CONVNET_WEIGHTS_BYTES INT64_C(" + artifact.manifest().weights().size() + ")"),
        header);
    String readme = Files.readString(out.resolve("README.txt"));
    assertTrue(readme.contains("./convnet_run N=1 x.bin -o out"), readme);
    assertTrue(readme.contains("x: f32[N, 3, 8, 8]") && readme.contains("y: f32[N, 10] -> y.bin"), readme);

    Result other = nnvmc("export", convnet.toString(), "--out", dir.resolve("base").toString(), "--variant",
        "x86-64");
    assertEquals(0, other.exitCode, other.err);
    assertTrue(other.out.contains("variant x86-64 (as asked; this CPU runs it)"), other.out);
    assertArrayEquals(bytes(artifact.library(artifact.manifest().variants().get(1))),
        Files.readAllBytes(dir.resolve("base/convnet.so")));
  }

  @Test
  void commandLineErrors() {
    Result unknown = nnvmc("export", convnet.toString(), "--out", dir.toString(), "--variant", "arm");
    assertEquals(1, unknown.exitCode);
    assertTrue(unknown.err.contains("--variant arm: the artifact has the variants [host-"), unknown.err);
    Result missing = nnvmc("export", dir.resolve("none.nnvm").toString(), "--out", dir.toString());
    assertEquals(1, missing.exitCode);
    assertTrue(missing.err.contains("model file not found"), missing.err);
    assertEquals(2, nnvmc("export", convnet.toString()).exitCode);
  }

  @Test
  void convnetProgramMatchesTheJavaRuntime() throws Exception {
    assumeCompiler();
    Random random = new Random(SEED);
    Path program = exportAndBuild(convnet, dir.resolve("best"));
    double worst = 0;
    for (int threads : new int[] {1, 2}) {
      worst = Math.max(worst, compare(program, convnet, null, Map.of("N", 64L), threads, random));
    }
    worst = Math.max(worst, compare(program, convnet, null, Map.of("N", 1L), 1, random));
    Path baseline = exportAndBuild(convnet, dir.resolve("baseline"), "--variant", "x86-64");
    worst = Math.max(worst, compare(baseline, convnet, "x86-64", Map.of("N", 3L), 1, random));
    assertEquals(0.0, worst);
  }

  @Test
  void twoInputsAndOutputsOverTwoSymbols() throws Exception {
    assumeCompiler();
    Random random = new Random(SEED + 1);
    Path program = exportAndBuild(twoIo, dir.resolve("two"));
    Map<String, Long> symbols = new LinkedHashMap<>();
    symbols.put("B", 3L);
    symbols.put("S", 7L);
    assertEquals(0.0, compare(program, twoIo, null, symbols, 1, random));
    symbols.put("B", 0L);
    assertEquals(0.0, compare(program, twoIo, null, symbols, 2, random));
  }

  @Test
  void programErrorsAreOneLineWithTheirCause() throws Exception {
    assumeCompiler();
    Path program = exportAndBuild(convnet, dir.resolve("errors"));
    Path work = dir.resolve("errors");
    Files.write(work.resolve("x.bin"), new byte[2 * 3 * 8 * 8 * 4 - 4]);

    Result wrongSize = exec(work, List.of(program.toString(), "N=2", "x.bin"));
    assertEquals(1, wrongSize.exitCode, wrongSize.err);
    assertEquals("convnet_run: input x: f32[N, 3, 8, 8] = [2, 3, 8, 8] needs 1536 bytes, but x.bin has 1532",
        wrongSize.err.strip());

    Result noSymbol = exec(work, List.of(program.toString(), "x.bin"));
    assertEquals(2, noSymbol.exitCode, noSymbol.err);
    assertEquals("convnet_run: missing value of symbol N: give N=VALUE (see convnet_run --help)",
        noSymbol.err.strip());

    Files.write(work.resolve("x.bin"), new byte[2 * 3 * 8 * 8 * 4]);
    Result noInput = exec(work, List.of(program.toString(), "N=2"));
    assertEquals(2, noInput.exitCode);
    assertTrue(noInput.err.contains("missing input file for input x: f32[N, 3, 8, 8]"), noInput.err);
    Result unknownName = exec(work, List.of(program.toString(), "M=2", "x.bin"));
    assertEquals(2, unknownName.exitCode);
    assertTrue(unknownName.err.contains("'M' in M=2 is neither a symbol nor an input"), unknownName.err);
    Result noLibrary = exec(work, List.of(program.toString(), "N=2", "x.bin", "-l", "./missing.so"));
    assertEquals(1, noLibrary.exitCode);
    assertTrue(noLibrary.err.contains("cannot load the model library ./missing.so"), noLibrary.err);
    Files.write(work.resolve("short.weights"), new byte[8]);
    Result badWeights = exec(work, List.of(program.toString(), "N=2", "x.bin", "-w", "short.weights"));
    assertEquals(1, badWeights.exitCode);
    assertTrue(badWeights.err.contains("weights: short.weights has 8 bytes, but model convnet needs"), badWeights.err);
    for (Result r : List.of(wrongSize, noSymbol, noInput, unknownName, noLibrary, badWeights)) {
      assertEquals(1, r.err.lines().count(), r.err);
    }
  }

  @Test
  void modelErrorsAlignmentAndAnotherEntrySymbol() throws Exception {
    assumeCompiler();
    Path lib = dir.resolve("lib");
    Files.createDirectories(lib);
    Files.writeString(lib.resolve("nnvm_model_abi.h"), StandaloneExport.abiHeader());
    Files.writeString(lib.resolve("checked.c"), CHECKED_C);
    Result built = exec(lib, List.of(cc, "-O2", "-fPIC", "-shared", "-Wall", "-Werror", "-o", "checked.so",
        "checked.c"));
    assertEquals(0, built.exitCode, built.err);
    ByteBuffer weights = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(-2f)
        .putFloat(0.5f).putFloat(4f).flip();
    ByteBuffer code = ByteBuffer.wrap(Files.readAllBytes(lib.resolve("checked.so")));
    Shape shape = Shape.of(Dim.symbol("K"), Dim.of(2));
    byte[] artifact = ArtifactWriter.builder().compiler("test").created(Instant.EPOCH, "ExportCommandTest")
        .model("checked", "0".repeat(64)).symbols("K")
        .input(new TensorSpec("x", DType.FLOAT32, shape)).output(new TensorSpec("y", DType.FLOAT32, shape))
        .workspaceRegion(64, Map.of("K", 1)).workspaceRegion(64, Map.of())
        .constant("w", DType.FLOAT32, Shape.of(4), weights)
        .variant("future", "x86_64-unknown-linux-gnu", "future", List.of("madeup"), "checked_entry", code)
        .variant("x86-64", "x86_64-unknown-linux-gnu", "x86-64", List.of(), "checked_entry", code)
        .build().toBytes();
    Path file = dir.resolve("checked.nnvm");
    Files.write(file, artifact);
    Path program = exportAndBuild(file, dir.resolve("checked"));
    assertTrue(Files.readString(dir.resolve("checked/checked.h"))
        .contains("int32_t checked_entry(const nnvm_call* call);"));
    assertEquals(0.0, compare(program, file, null, Map.of("K", 3L), 1, new Random(SEED + 2)));

    Path work = dir.resolve("checked");
    Files.write(work.resolve("x5.bin"), new byte[5 * 2 * 4]);
    Result failed = exec(work, List.of(program.toString(), "K=5", "x5.bin"));
    assertEquals(1, failed.exitCode, failed.err);
    assertEquals("checked_run: model checked failed with status 7: K = 5 is more than this model takes (3)",
        failed.err.strip());

    Files.writeString(lib.resolve("other.c"), "int unrelated(void) { return 0; }\n");
    assertEquals(0, exec(lib, List.of(cc, "-fPIC", "-shared", "-o", "other.so", "other.c")).exitCode);
    Result noEntry = exec(work, List.of(program.toString(), "K=5", "x5.bin", "-l", lib.resolve("other.so").toString()));
    assertEquals(1, noEntry.exitCode, noEntry.err);
    assertTrue(noEntry.err.startsWith("checked_run: the model library " + lib.resolve("other.so")
        + " has no entry point checked_entry"), noEntry.err);

    Result future = nnvmc("export", file.toString(), "--out", dir.resolve("future").toString(), "--variant",
        "future");
    assertEquals(0, future.exitCode, future.err);
    assertTrue(future.out.contains("variant future (as asked, for another machine: this CPU lacks madeup)"), future.out);
    assertTrue(Files.readString(dir.resolve("future/checked.h")).contains("#define CHECKED_CPU_FEATURES \"madeup\""));
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
