package dev.nnvm.compiler.codegen;

import static dev.nnvm.compiler.testing.GraphTexts.dense;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.codegen.llvm.BlockedConvGenerator;
import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.lower.BlockedConvolutions;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.transform.Optimizer;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Convolutions on the blocked layout NCHW{b}c, compiled as a user compiles
 * (the CPU pipeline moves one-group convolutions to the target's channel
 * block) and run natively with 1-3 threads, compared with ONNX Runtime on
 * the plain graph: that every convolution took the direct convolution
 * kernel is checked (its packed weights are in the artifact).
 */
class BlockedConvolutionTest {
  /** Sums of up to 1152 products of values in [-2, 2] x [-0.3, 0.3]: rounding differs from the reference's order. */
  private static final double ATOL = 2e-4;

  private NativeAllocator allocator;

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("blocked-conv-test");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  /**
   * A ResNet-like chain and the shapes around it: a 3x3 with padding, bias and ReLU over rows of 28
   * (tiles of 14 on AVX-512, 5 and 6 on AVX2); a 1x1 with a residual Add and ReLU applied as it stores; a 3x3 with stride 2;
   * a 1x1 with stride 2 (the downsample branch); asymmetric pads over rows of 13 (tiles 7 + 6); a 1x1
   * over 5x7 pixels (one flat row of 35); 48 and 80 output channels (a strip of one channel block on
   * AVX-512); a Sigmoid after a convolution (an epilogue the kernel does not store, run after it); and
   * a global average pool on the blocked layout; and a block whose second convolution adds a residual
   * that dies there, so it writes its output over it (in place); a 3x3 over rows 2 pixels wide (a tile
   * under half a register block: the clamped full-width micro-kernel); batch symbolic.
   */
  static final String CHAIN = "graph main(%x: f32[N, 32, 20, 28], %z: f32[N, 16, 13, 13], "
      + "%p: f32[N, 32, 5, 7]) -> (%y: f32[N, 64, 20, 28], %s: f32[N, 48, 10, 14], %d: f32[N, 48, 10, 14], "
      + "%a: f32[N, 80, 14, 12], %f: f32[N, 48, 5, 7], %g: f32[N, 80, 1, 1], %q: f32[N, 32, 5, 7], "
      + "%n: f32[N, 32, 5, 2]) opset(ai.onnx=17) {\n"
      + "  const %w1: f32[64, 32, 3, 3] = dense<" + dense(64 * 32 * 9, 0.08) + ">\n"
      + "  const %b1: f32[64] = dense<" + dense(64, 0.5) + ">\n"
      + "  const %w2: f32[64, 64, 1, 1] = dense<" + dense(64 * 64, 0.15) + ">\n"
      + "  const %w3: f32[48, 64, 3, 3] = dense<" + dense(48 * 64 * 9, 0.05) + ">\n"
      + "  const %b3: f32[48] = dense<" + dense(48, 0.2) + ">\n"
      + "  const %w4: f32[48, 64, 1, 1] = dense<" + dense(48 * 64, 0.2) + ">\n"
      + "  const %w5: f32[80, 16, 3, 3] = dense<" + dense(80 * 16 * 9, 0.1) + ">\n"
      + "  const %w6: f32[48, 32, 1, 1] = dense<" + dense(48 * 32, 0.3) + ">\n"
      + "  %c1 = Conv(%x, %w1, %b1) {pads = [1, 1, 1, 1]}\n  %r1 = Relu(%c1)\n"
      + "  %c2 = Conv(%r1, %w2)\n  %e2 = Add(%c2, %r1)\n  %y = Relu(%e2)\n"
      + "  %c3 = Conv(%y, %w3, %b3) {strides = [2, 2], pads = [1, 1, 1, 1]}\n  %s = Relu(%c3)\n"
      + "  %c4 = Conv(%y, %w4) {strides = [2, 2]}\n  %d = Add(%c4, %s)\n"
      + "  %c5 = Conv(%z, %w5) {pads = [1, 0, 2, 1]}\n  %a = Sigmoid(%c5)\n"
      + "  %f = Conv(%p, %w6)\n"
      + "  %g = GlobalAveragePool(%a)\n"
      + "  const %w8: f32[32, 32, 3, 3] = dense<" + dense(32 * 32 * 9, 0.1) + ">\n"
      + "  const %w9: f32[32, 32, 1, 1] = dense<" + dense(32 * 32, 0.2) + ">\n"
      + "  %pr = Relu(%p)\n  %q1 = Conv(%pr, %w8) {pads = [1, 1, 1, 1]}\n  %q2 = Relu(%q1)\n"
      + "  %q3 = Conv(%q2, %w9)\n  %q = Add(%q3, %pr)\n"
      + "  const %w10: f32[32, 32, 3, 3] = dense<" + dense(32 * 32 * 9, 0.1) + ">\n"
      + "  const %b10: f32[32] = dense<" + dense(32, 0.4) + ">\n"
      + "  %n0 = Slice(%q2, %st, %en, %ax)\n  %n = Conv(%n0, %w10, %b10) {pads = [1, 1, 1, 1]}\n"
      + "  const %st: i64[2] = dense<[0, 0]>\n  const %en: i64[2] = dense<[6, 2]>\n"
      + "  const %ax: i64[2] = dense<[2, 3]>\n"
      + "  return %y, %s, %d, %a, %f, %g, %q, %n\n}\n";

  /** The weights that must be stored for the blocked kernel (one per convolution of CHAIN). */
  private static final int CONVOLUTIONS = 9;

  @Test
  void blockedConvolutionsRunNatively() throws Exception {
    run(null, 1, 2);
  }

  /** The AVX2 variant (8-channel blocks, 6-pixel register blocks), when this CPU has AVX2 and FMA. */
  @Test
  void avx2VariantRunsNatively() throws Exception {
    CpuTarget avx2 = CpuTarget.named(CpuTarget.AVX2);
    Assumptions.assumeTrue(avx2.runsHere(), "this CPU cannot run the AVX2 variant: " + avx2.missingHere());
    run(List.of(CpuTarget.AVX2), 1, 3);
  }

  @Test
  void tileWidthsSplitRowsEvenly() {
    assertEquals(List.of(11, 12), BlockedConvGenerator.tileWidths(56, 12));
    assertEquals(List.of(9, 10), BlockedConvGenerator.tileWidths(28, 12));
    assertEquals(List.of(7), BlockedConvGenerator.tileWidths(14, 12));
    assertEquals(List.of(7), BlockedConvGenerator.tileWidths(7, 12));
    assertEquals(List.of(12), BlockedConvGenerator.tileWidths(12, 12));
    assertEquals(List.of(5, 6), BlockedConvGenerator.tileWidths(28, 6));
    // AVX-512's 14-pixel blocks: ResNet's rows of 56, 28 and 14 are whole tiles, its 7x7 images one row of 49.
    assertEquals(List.of(14), BlockedConvGenerator.tileWidths(56, 14));
    assertEquals(List.of(14), BlockedConvGenerator.tileWidths(28, 14));
    assertEquals(List.of(12, 13), BlockedConvGenerator.tileWidths(49, 14));
  }

  @Test
  void weightsPackIntoChannelStrips() {
    // [O=3, I=2, 1, 2] into strips of 2 output channels, input blocks of 2: k = kw * 2 + ci.
    float[] w = new float[12];
    for (int i = 0; i < w.length; i++) {
      w[i] = i + 1;
    }
    float[] p = BlockedConvGenerator.packWeights(w, 3, 2, 1, 2, 2, 2);
    // Strip 0 (channels 0, 1): k0 = (kw 0, ci 0) -> w[0][0][0][0] = 1, w[1][0][0][0] = 5; k1 = (kw 0, ci 1): 3, 7;
    // k2 = (kw 1, ci 0): 2, 6; k3: 4, 8. Strip 1 (channel 2, then zeros): 9, 0, 11, 0, 10, 0, 12, 0.
    assertEquals(List.of(1f, 5f, 3f, 7f, 2f, 6f, 4f, 8f, 9f, 0f, 11f, 0f, 10f, 0f, 12f, 0f), boxed(p));
  }

  private void run(List<String> targets, long... batches) throws Exception {
    Graph g = GraphParser.parse(CHAIN);
    List<CpuTarget> cpus = targets == null ? List.of(CpuTarget.host())
        : targets.stream().map(CpuTarget::named).toList();
    int block = cpus.get(0).vectorWidth();
    Graph opt = Optimizer.optimize(g, ModelCompiler.cpuPipeline(cpus), 2, List.of(), Map.of()).graph();
    long blocked = opt.nodes().stream().filter(n -> n.opType().equals("ConvNCHWc") || n.opType().equals("Fused")
        && n.attribute("body").asGraph().nodes().stream().map(Node::opType).anyMatch("ConvNCHWc"::equals)).count();
    assertEquals(CONVOLUTIONS, blocked, "every convolution should move to the blocked layout");
    String residual = "pr/nchw" + cpus.get(0).vectorWidth() + "c";
    Node last = opt.nodes().stream().filter(n -> n.opType().equals("Fused") && n.inputs().contains(residual)
        && n.attribute("body").asGraph().nodes().get(0).opType().equals("ConvNCHWc")).reduce((a, b) -> b)
        .orElseThrow();
    dev.nnvm.compiler.analysis.MemoryPlan plan = dev.nnvm.compiler.analysis.PlanMemory.plan(opt, block);
    assertEquals(plan.allocations().get(residual).offset(), plan.allocations().get(last.output(0)).offset(),
        "the last convolution should write over its residual");
    int nr = 2 * cpus.get(0).vectorWidth();
    try (CompiledModelRunner runner = targets == null ? CompiledModelRunner.optimizing(g, allocator)
        : CompiledModelRunner.forTargets(g, targets, allocator)) {
      long packed = runner.storedConstants().stream().filter(c -> c.endsWith("#packed-nchwc-nr" + nr)).count();
      assertEquals(CONVOLUTIONS, packed, "every convolution should run on the blocked kernel, weights stored as "
          + BlockedConvolutions.packedName("w", nr) + ": " + runner.storedConstants());
      System.out.println("blocked convolutions (" + (targets == null ? "host" : targets) + "): " + runner.times());
      for (long n : batches) {
        RandomTensors random = new RandomTensors();
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (ValueInfo in : g.inputs()) {
          long[] shape = in.type().shape().dims().stream().mapToLong(d -> d.isStatic() ? d.value() : n).toArray();
          inputs.put(in.name(), random.uniform(in.type().dtype(), -2, 2, shape));
        }
        // ONNX Runtime on the plain graph is the oracle; the reference evaluator must agree with it too.
        Map<String, Tensor> want = OrtOracle.run(OnnxExporter.toBytes(g), inputs);
        Map<String, Tensor> reference = ReferenceEvaluator.standard().run(g, inputs);
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
          Comparison.assertClose("reference " + e.getKey(), e.getValue(), reference.get(e.getKey()), 1e-5, ATOL);
        }
        for (int threads : new int[] {1, 2, 3}) {
          Map<String, Tensor> got = runner.run(inputs, threads);
          StringBuilder report = new StringBuilder("batch " + n + ", " + threads + " threads (seed " + random.seed()
              + ")");
          for (Map.Entry<String, Tensor> e : want.entrySet()) {
            report.append("; ").append(Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), 1e-5,
                ATOL));
          }
          System.out.println(report);
        }
      }
    }
  }

  private static List<Float> boxed(float[] v) {
    List<Float> out = new java.util.ArrayList<>();
    for (float f : v) {
      out.add(f);
    }
    return out;
  }
}
