package dev.nnvm.compiler.lower;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.nnvm.compiler.codegen.CompiledModelRunner;
import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.transform.PassContext;
import dev.nnvm.compiler.transform.PassManager;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scaled dot-product attention compiled to the fused kernel
 * ({@code AttentionGenerator}) and run natively, against ONNX Runtime on the
 * unfused model: several key blocks and query-row blocks with partial ones,
 * head sizes that are not whole vectors, cross attention, masks broadcast in
 * each supported way and with -inf entries, one and several threads. Each
 * case first checks that the attention nodes took the fused kernel (a plan),
 * not the loop fallback, unless the case is about the fallback.
 */
class FusedAttentionTest {
  /**
   * Sums of up to 300 products of values in [-1, 1] and exponentials
   * summed in another order than ONNX Runtime's: float rounding of a few
   * 1e-7 relative; a wrong key, row or mask entry is off by 1e-2 or more.
   */
  private static final double RTOL = 1e-4;
  private static final double ATOL = 1e-5;

  private NativeAllocator allocator;

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("attention-test");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  private static String attention(String q, String k, String v, String maskAdd, String perm) {
    return "  %kt = Transpose(" + k + ") {perm = " + perm + "}\n"
        + "  %sc = MatMul(" + q + ", %kt)\n  %s1 = Mul(%sc, %scale)\n"
        + (maskAdd == null ? "  %s2 = Identity(%s1)\n" : "  %s2 = Add(%s1, " + maskAdd + ")\n")
        + "  %p = Softmax(%s2) {axis = -1}\n  %y = MatMul(%p, " + v + ")\n";
  }

  /**
   * Optimizes {@code text}, checks that its attention nodes have a kernel
   * plan (or, with {@code fused} false, that they fall back to loops),
   * compiles it and compares it with ONNX Runtime on the unoptimized model
   * for each binding of the symbols.
   */
  private void check(String text, boolean fused, List<Map<String, Long>> bindings,
      BiFunction<ValueInfo, long[], Tensor> inputs) throws Exception {
    check(text, fused, bindings, inputs, null);
  }

  /** As above, compiled for {@code targets} (null: the host). */
  private void check(String text, boolean fused, List<Map<String, Long>> bindings,
      BiFunction<ValueInfo, long[], Tensor> inputs, List<String> targets) throws Exception {
    Graph g = GraphParser.parse(text);
    Graph opt = PassManager.standard(2).run(g, PassContext.standard()).graph();
    List<Node> attention = opt.nodes().stream()
        .filter(n -> n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.ATTENTION)).toList();
    assertFalse(attention.isEmpty(), "FuseAttention did not match:\n" + opt);
    for (Node n : attention) {
      if (fused) {
        assertNotNull(AttentionPlan.of(n, opt), n.describe() + " would lower to loops");
      } else {
        assertNull(AttentionPlan.of(n, opt), n.describe() + " was expected to lower to loops");
      }
    }
    byte[] onnx = OnnxExporter.toBytes(g);
    try (CompiledModelRunner runner = targets == null ? new CompiledModelRunner(opt, allocator)
        : CompiledModelRunner.forTargets(g, targets, allocator)) {
      for (Map<String, Long> binding : bindings) {
        Map<String, Tensor> feeds = new LinkedHashMap<>();
        for (ValueInfo in : g.inputs()) {
          long[] shape = in.type().shape().dims().stream()
              .mapToLong(d -> d.isStatic() ? d.value() : binding.get(d.symbol())).toArray();
          feeds.put(in.name(), inputs.apply(in, shape));
        }
        Map<String, Tensor> want = OrtOracle.run(onnx, feeds);
        for (int threads : new int[] {1, 2, 3}) {
          Map<String, Tensor> got = runner.run(feeds, threads);
          StringBuilder report = new StringBuilder("attention " + binding + ", " + threads + " threads");
          for (Map.Entry<String, Tensor> e : want.entrySet()) {
            report.append("; ").append(Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), RTOL,
                ATOL));
          }
          System.out.println(report);
        }
      }
    }
  }

  /** Fresh random inputs, the seed printed so that a failure can be replayed. */
  private static RandomTensors seeded() {
    RandomTensors random = new RandomTensors();
    System.out.println("seed " + random.seed());
    return random;
  }

  private static BiFunction<ValueInfo, long[], Tensor> uniform(RandomTensors random) {
    return (in, shape) -> in.type().dtype() == DType.INT64 ? random.ints(DType.INT64, 0, 2, shape)
        : random.uniform(in.type().dtype(), -1, 1, shape);
  }

  @Test
  void selfAttentionWithPaddingMaskOverSeveralKeyAndRowBlocks() throws Exception {
    // BERT's extended mask: [N, S] of 0/1 -> (1 - m) * -10000 as [N, 1, 1, S].
    String text = "graph main(%q: f32[N, 3, S, 20], %k: f32[N, 3, S, 20], %v: f32[N, 3, S, 20], "
        + "%mask: i64[N, S]) -> (%y: f32[N, 3, S, 20]) opset(ai.onnx=13) {\n"
        + "  const %scale: f32[] = dense<[0.223606798]>\n  const %one: f32[] = dense<[1.0]>\n"
        + "  const %big: f32[] = dense<[-10000.0]>\n  const %ax: i64[2] = dense<[1, 2]>\n"
        + "  %mu = Unsqueeze(%mask, %ax)\n  %mf = Cast(%mu) {to = 1}\n  %inv = Sub(%one, %mf)\n"
        + "  %madd = Mul(%inv, %big)\n"
        + attention("%q", "%k", "%v", "%madd", "[0, 1, 3, 2]") + "  return %y\n}\n";
    RandomTensors random = seeded();
    check(text, true, List.of(Map.of("N", 1L, "S", 1L), Map.of("N", 2L, "S", 7L), Map.of("N", 2L, "S", 150L),
        Map.of("N", 1L, "S", 300L)), uniform(random));
  }

  @Test
  void avx2VariantRunsNatively() throws Exception {
    // 8-lane vectors and 6-row register blocks: the kernel the host gets on an AVX2-only CPU.
    CpuTarget avx2 = CpuTarget.named(CpuTarget.AVX2);
    Assumptions.assumeTrue(avx2.runsHere(), "this CPU cannot run the AVX2 variant: " + avx2.missingHere());
    String text = "graph main(%q: f32[2, 3, S, 20], %k: f32[2, 3, S, 20], %v: f32[2, 3, S, 12], "
        + "%m: f32[2, 1, 1, S]) -> (%y: f32[2, 3, S, 12]) opset(ai.onnx=13) {\n"
        + "  const %scale: f32[] = dense<[0.223606798]>\n"
        + attention("%q", "%k", "%v", "%m", "[0, 1, 3, 2]") + "  return %y\n}\n";
    check(text, true, List.of(Map.of("S", 150L), Map.of("S", 3L)), uniform(seeded()), List.of(CpuTarget.AVX2));
  }

  @Test
  void crossAttentionWithoutMaskAndWideValues() throws Exception {
    // Sq != Sk, D = 16, Dv = 40 (two value tiles, the second partial), no mask.
    String text = "graph main(%q: f32[2, 4, 30, 16], %k: f32[2, 4, 260, 16], %v: f32[2, 4, 260, 40]) "
        + "-> (%y: f32[2, 4, 30, 40]) opset(ai.onnx=13) {\n"
        + "  const %scale: f32[] = dense<[0.25]>\n"
        + attention("%q", "%k", "%v", null, "[0, 1, 3, 2]") + "  return %y\n}\n";
    RandomTensors random = seeded();
    check(text, true, List.of(Map.of()), uniform(random));
  }

  @Test
  void rankThreeWithCausalMaskOfMinusInfinity() throws Exception {
    // [S, S] mask input: -inf above the diagonal (every row keeps its own key), rows spanning two key blocks.
    String text = "graph main(%q: f32[5, S, 8], %k: f32[5, S, 8], %v: f32[5, S, 8], %m: f32[S, S]) "
        + "-> (%y: f32[5, S, 8]) opset(ai.onnx=13) {\n"
        + "  const %scale: f32[] = dense<[0.35355339]>\n"
        + attention("%q", "%k", "%v", "%m", "[0, 2, 1]") + "  return %y\n}\n";
    RandomTensors random = seeded();
    check(text, true, List.of(Map.of("S", 140L), Map.of("S", 5L)), (in, shape) -> {
      if (!in.name().equals("m")) {
        return random.uniform(DType.FLOAT32, -1, 1, shape);
      }
      int s = (int) shape[0];
      float[] m = new float[s * s];
      for (int i = 0; i < s; i++) {
        for (int j = 0; j < s; j++) {
          m[i * s + j] = j <= i ? (float) random.random().nextGaussian() : Float.NEGATIVE_INFINITY;
        }
      }
      return Tensor.ofFloats(shape, m);
    });
  }

  @Test
  void fullMaskPerHeadAndRowMaskBroadcastOverHeads() throws Exception {
    String text = "graph main(%q: f32[2, 3, 40, 32], %k: f32[2, 3, 40, 32], %v: f32[2, 3, 40, 32], "
        + "%m: f32[2, 3, 40, 40], %r: f32[2, 1, 40, 40]) -> (%y: f32[2, 3, 40, 32], %z: f32[2, 3, 40, 32]) "
        + "opset(ai.onnx=13) {\n"
        + "  const %scale: f32[] = dense<[0.17677669]>\n"
        + attention("%q", "%k", "%v", "%m", "[0, 1, 3, 2]")
        + "  %kt2 = Transpose(%k) {perm = [0, 1, 3, 2]}\n  %sc2 = MatMul(%v, %kt2)\n  %t1 = Mul(%sc2, %scale)\n"
        + "  %t2 = Add(%t1, %r)\n  %p2 = Softmax(%t2) {axis = -1}\n  %z = MatMul(%p2, %q)\n"
        + "  return %y, %z\n}\n";
    RandomTensors random = seeded();
    check(text, true, List.of(Map.of()), uniform(random));
  }

  @Test
  void maskConstantAlongKeysFallsBackToLoops() throws Exception {
    // A mask [N, 1, S, 1] is not contiguous along the keys: the node lowers to loops, still correct.
    String text = "graph main(%q: f32[2, 2, 9, 8], %k: f32[2, 2, 9, 8], %v: f32[2, 2, 9, 8], %m: f32[2, 1, 9, 1]) "
        + "-> (%y: f32[2, 2, 9, 8]) opset(ai.onnx=13) {\n"
        + "  const %scale: f32[] = dense<[0.5]>\n"
        + attention("%q", "%k", "%v", "%m", "[0, 1, 3, 2]") + "  return %y\n}\n";
    RandomTensors random = seeded();
    check(text, false, List.of(Map.of()), uniform(random));
  }
}
