package dev.nnvm.compiler.codegen;

import static dev.nnvm.compiler.testing.GraphTexts.dense;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.NativeVariant;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Artifacts that run on every x86-64 worker: the default targets (this CPU and the baseline) and the portable
 * set (AVX-512, AVX2, baseline) are compiled, then loaded as three kinds of worker would load them (described by
 * their feature flags: an AVX-512 virtual machine whose hypervisor hides LZCNT, an AVX2-only CPU, the least an
 * x86-64 has). Each worker must get a variant its CPU runs; every variant this machine can run is run and compared
 * with ONNX Runtime. The baseline, which every x86-64 runs, is always run.
 */
class PortableArtifactTest {
  private static final List<String> BASE = List.of("fpu", "cx8", "cmov", "mmx", "fxsr", "sse", "sse2", "lm");
  /** The 2026-12-06 "AMD EPYC" VM: AVX-512 F/BW/DQ/VL, VNNI, BF16; no abm (LZCNT) listed. */
  private static final CpuFeatures AVX512_VM_NO_LZCNT = CpuFeatures.of("x86_64", "linux", concat(BASE,
      "pni ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt xsave avx f16c lahf_lm bmi1 avx2 bmi2 avx512f avx512dq avx512cd"
          + " avx512bw avx512vl avx512_vnni avx512_bf16 hypervisor"));
  /** AVX2 and FMA without AVX-512 (a Zen 3, say). */
  private static final CpuFeatures AVX2_ONLY = CpuFeatures.of("x86_64", "linux", concat(BASE,
      "pni ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt xsave avx f16c lahf_lm abm bmi1 avx2 bmi2"));
  /** The least an x86-64 CPU has. */
  private static final CpuFeatures BASELINE = CpuFeatures.of("x86_64", "linux", BASE);

  /** Blocked convolutions (the layout every variant must share) and a product with pre-packed weights. */
  private static final String PRODUCT = "graph main(%x: f32[N, 40]) -> (%y: f32[N, 24]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[40, 24] = dense<" + dense(40 * 24, 0.2) + ">\n"
      + "  const %b: f32[24] = dense<" + dense(24, 0.5) + ">\n"
      + "  %m = MatMul(%x, %w)\n  %a = Add(%m, %b)\n  %y = Softmax(%a) {axis = -1}\n  return %y\n}\n";

  private NativeAllocator allocator;

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("portable-artifact-test");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  private static List<String> concat(List<String> a, String more) {
    List<String> out = new java.util.ArrayList<>(a);
    out.addAll(List.of(more.split(" ")));
    return out;
  }

  @Test
  void aDefaultArtifactRunsOnEveryKindOfWorker() throws Exception {
    assertEquals(List.of("host", "x86-64"), CompileOptions.defaults().targets());
    for (String text : List.of(BlockedConvolutionTest.CHAIN, PRODUCT)) {
      Graph g = GraphParser.parse(text);
      try (CompiledModelRunner compiled = CompiledModelRunner.compile(g, CompileOptions.defaults(), allocator)) {
        List<NativeVariant> variants = compiled.compiled().manifest().variants();
        assertEquals(2, variants.size());
        assertTrue(variants.get(0).name().startsWith("host"), variants.get(0).name());
        assertEquals("x86-64", variants.get(1).name());
        assertEquals(List.of("cmov", "cx8", "fxsr", "sse", "sse2"), variants.get(1).features().stream().sorted()
            .toList(), "the baseline needs what every x86-64 CPU has");
        System.out.println("default targets: " + compiled.times());
        if (text.equals(BlockedConvolutionTest.CHAIN) && CpuTarget.host().vectorWidth() >= 8) {
          // The baseline generates the host's vector width, so the artifact keeps the blocked layout's kernels.
          int nr = 2 * CpuTarget.host().vectorWidth();
          assertTrue(compiled.storedConstants().stream().anyMatch(c -> c.endsWith("#packed-nchwc-nr" + nr)),
              "the default artifact should keep the blocked convolution kernel: " + compiled.storedConstants());
        }
        checkWorkers(g, compiled, Map.of(AVX512_VM_NO_LZCNT, "", AVX2_ONLY, "", BASELINE, "x86-64"));
      }
    }
  }

  @Test
  void aPortableArtifactGivesEachCpuClassItsVariant() throws Exception {
    Graph g = GraphParser.parse(BlockedConvolutionTest.CHAIN);
    CompileOptions portable = CompileOptions.defaults().withTargets(List.of("x86-64-avx512", "x86-64-avx2",
        "x86-64"));
    try (CompiledModelRunner compiled = CompiledModelRunner.compile(g, portable, allocator)) {
      System.out.println("portable targets: " + compiled.times());
      checkWorkers(g, compiled, Map.of(AVX512_VM_NO_LZCNT, "x86-64-avx512", AVX2_ONLY, "x86-64-avx2",
          BASELINE, "x86-64"));
    }
  }

  /**
   * Loads the artifact as each worker would; the variant must be the expected one (when named) and one the worker
   * runs; it is run here when this machine runs it too, and compared with ONNX Runtime.
   */
  private void checkWorkers(Graph g, CompiledModelRunner compiled, Map<CpuFeatures, String> expected)
      throws Exception {
    RandomTensors random = new RandomTensors(20261206L);
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (ValueInfo in : g.inputs()) {
      long[] shape = in.type().shape().dims().stream().mapToLong(d -> d.isStatic() ? d.value() : 2).toArray();
      inputs.put(in.name(), random.uniform(in.type().dtype(), -2, 2, shape));
    }
    Map<String, Tensor> want = OrtOracle.run(OnnxExporter.toBytes(g), inputs);
    for (Map.Entry<CpuFeatures, String> worker : expected.entrySet()) {
      try (CompiledModelRunner loaded = compiled.loadedFor(worker.getKey(), allocator)) {
        NativeVariant v = loaded.variant();
        assertEquals(List.of(), worker.getKey().missing(v.features()), "variant " + v.name() + " for " + worker);
        if (!worker.getValue().isEmpty()) {
          assertEquals(worker.getValue(), v.name(), "the variant a " + worker.getKey() + " worker gets");
        }
        List<String> missingHere = CpuFeatures.host().missing(v.features());
        if (!missingHere.isEmpty()) {
          System.out.println("variant " + v.name() + " not run: this machine lacks " + missingHere);
          continue;
        }
        for (int threads : new int[] {1, 2}) {
          Map<String, Tensor> got = loaded.run(inputs, threads);
          StringBuilder report = new StringBuilder("variant " + v.name() + " (seed " + random.seed() + ", "
              + threads + " threads)");
          for (Map.Entry<String, Tensor> e : want.entrySet()) {
            report.append("; ").append(Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), 1e-5,
                2e-4));
          }
          System.out.println(report);
        }
      }
    }
  }
}
