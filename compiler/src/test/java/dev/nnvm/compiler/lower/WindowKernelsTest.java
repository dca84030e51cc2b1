package dev.nnvm.compiler.lower;

import static dev.nnvm.compiler.testing.GraphTexts.dense;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.codegen.CompiledModelRunner;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.transform.PassContext;
import dev.nnvm.compiler.transform.PassManager;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Convolutions, pooling, padding, resizing and the blocked layout lowered to
 * loops: every kernel of the optimized graph runs through the kernel
 * interpreter (nothing falls back to the reference evaluator), and a few
 * graphs also run natively; outputs are compared with the reference
 * evaluator on the unoptimized graph.
 */
class WindowKernelsTest {
  private static Map<String, Tensor> inputs(Graph g, RandomTensors random) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    for (ValueInfo v : g.inputs()) {
      in.put(v.name(), random.uniform(v.type().dtype(), -2, 2, v.type().shape().toArray()));
    }
    return in;
  }

  /** Optimizes at {@code level}, checks that every kernel lowers, and compares the interpreted result. */
  private static Graph checkLowered(String text, int level) {
    Graph g = GraphParser.parse(text);
    Graph opt = PassManager.standard(level).run(g, PassContext.standard()).graph();
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = inputs(g, random);
    Map<String, Tensor> want = ReferenceEvaluator.standard().run(g, in);
    HybridEvaluator hybrid = new HybridEvaluator();
    Map<String, Tensor> got = hybrid.run(opt, in);
    assertEquals(0, hybrid.fallback(), "kernels left to the reference evaluator: " + hybrid.fallbackOps());
    StringBuilder report = new StringBuilder("level " + level + ", " + hybrid.lowered() + " kernels lowered (seed "
        + random.seed() + ")");
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      report.append("; ").append(Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), 1e-5, 1e-5));
    }
    System.out.println(report);
    return opt;
  }

  private static void checkNative(String text, int level) {
    Graph g = GraphParser.parse(text);
    Graph opt = PassManager.standard(level).run(g, PassContext.standard()).graph();
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = inputs(g, random);
    Map<String, Tensor> want = ReferenceEvaluator.standard().run(g, in);
    try (NativeAllocator allocator = NativeAllocator.newRoot("window-kernels");
        CompiledModelRunner runner = new CompiledModelRunner(opt, allocator)) {
      Map<String, Tensor> got = runner.run(in, 1);
      StringBuilder report = new StringBuilder("native, level " + level + ", " + opt.nodes().size()
          + " kernels compiled in " + runner.times() + " (seed " + random.seed() + ")");
      for (Map.Entry<String, Tensor> e : want.entrySet()) {
        report.append("; ").append(Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), 1e-5,
            1e-5));
      }
      System.out.println(report);
    }
  }

  private static final String CONV_EPILOGUE = "graph main(%x: f32[2, 3, 9, 8], %r: f32[2, 4, 5, 3]) -> "
      + "(%y: f32[2, 4, 5, 3]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[4, 3, 3, 3] = dense<" + dense(4 * 3 * 3 * 3, 0.4) + ">\n"
      + "  const %b: f32[4] = dense<[0.5, -0.25, 0.0, 1.0]>\n"
      + "  %c = Conv(%x, %w, %b) {strides = [2, 2], pads = [1, 0, 2, 1], dilations = [1, 2]}\n"
      + "  %a = Relu(%c)\n  %y = Add(%a, %r)\n  return %y\n}\n";

  @Test
  void convolutionWithBiasActivationAndResidualIsOneKernel() {
    Graph opt = checkLowered(CONV_EPILOGUE, 2);
    assertEquals(1, opt.nodes().size());
  }

  @Test
  void groupedDepthwiseAndOneDimensionalConvolutions() {
    checkLowered("graph main(%x: f32[1, 4, 7, 7], %s: f32[2, 4, 11]) -> (%g: f32[1, 6, 7, 7], "
        + "%d: f32[1, 4, 4, 4], %o: f32[2, 3, 6]) opset(ai.onnx=17) {\n"
        + "  const %wg: f32[6, 2, 3, 3] = dense<" + dense(6 * 2 * 9, 0.3) + ">\n"
        + "  const %wd: f32[4, 1, 3, 3] = dense<" + dense(4 * 9, 0.5) + ">\n"
        + "  const %w1: f32[3, 4, 2] = dense<" + dense(3 * 4 * 2, 0.5) + ">\n"
        + "  %g = Conv(%x, %wg) {group = 2, auto_pad = \"SAME_UPPER\"}\n"
        + "  %d = Conv(%x, %wd) {group = 4, strides = [2, 2], pads = [1, 1, 1, 1]}\n"
        + "  %o = Conv(%s, %w1) {strides = [2], pads = [1, 1]}\n"
        + "  return %g, %d, %o\n}\n", 2);
  }

  private static final String BLOCKED = "graph main(%x: f32[1, 8, 6, 6]) -> (%y: f32[1, 16, 3, 3]) "
      + "opset(ai.onnx=17) {\n"
      + "  const %w: f32[16, 8, 3, 3] = dense<" + dense(16 * 8 * 9, 0.2) + ">\n"
      + "  const %b: f32[16] = dense<" + dense(16, 0.5) + ">\n"
      + "  const %wd: f32[16, 1, 3, 3] = dense<" + dense(16 * 9, 0.5) + ">\n"
      + "  %c = Conv(%x, %w, %b) {pads = [1, 1, 1, 1]}\n  %a = Relu(%c)\n"
      + "  %d = Conv(%a, %wd) {group = 16, strides = [2, 2], pads = [1, 1, 1, 1]}\n"
      + "  %y = Sigmoid(%d)\n  return %y\n}\n";

  @Test
  void blockedLayoutConvolutionsAndLayoutTransforms() {
    Graph opt = checkLowered(BLOCKED, 3);
    assertTrue(opt.nodes().stream().anyMatch(n -> n.opType().equals("Fused")
        && n.attribute("body").asGraph().nodes().stream().map(Node::opType).anyMatch("ConvNCHWc"::equals)),
        "level 3 should run the convolutions in NCHW8c");
    int blocked = 0;
    for (Node n : opt.nodes()) {
      String loops = KernelInterpreter.describe(KernelLowering.standard().lower(n, opt));
      if (n.name().contains("convnchwc")) {
        assertTrue(loops.contains("i4 < 8 (VECTORIZABLE)"), "the lanes of a pixel accumulate together:\n" + loops);
        blocked++;
      }
    }
    assertEquals(2, blocked, "blocked convolution kernels");
  }

  private static final String TRANSPOSED = "graph main(%x: f32[1, 4, 5, 6]) -> (%u: f32[1, 3, 10, 12], "
      + "%v: f32[1, 6, 10, 12]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[4, 3, 2, 2] = dense<" + dense(4 * 3 * 4, 0.5) + ">\n"
      + "  const %b: f32[3] = dense<[0.1, 0.2, -0.3]>\n"
      + "  const %wg: f32[4, 3, 3, 3] = dense<" + dense(4 * 3 * 9, 0.4) + ">\n"
      + "  %t = ConvTranspose(%x, %w, %b) {strides = [2, 2]}\n  %u = Relu(%t)\n"
      + "  %v = ConvTranspose(%x, %wg) {group = 2, strides = [2, 2], pads = [1, 1, 1, 1], "
      + "output_padding = [1, 1]}\n"
      + "  return %u, %v\n}\n";

  @Test
  void transposedConvolutionsWithStridesPadsAndGroups() {
    checkLowered(TRANSPOSED, 2);
  }

  /** Squeeze-excite: a 1x1 convolution of the pooled image scales the image, fused with the broadcast Mul. */
  private static final String SQUEEZE_EXCITE = "graph main(%x: f32[1, 8, 5, 6]) -> (%y: f32[1, 8, 5, 6]) "
      + "opset(ai.onnx=17) {\n"
      + "  const %w: f32[8, 8, 1, 1] = dense<" + dense(64, 0.5) + ">\n  const %b: f32[8] = dense<" + dense(8, 0.3)
      + ">\n  const %w2: f32[8, 8, 3, 3] = dense<" + dense(8 * 8 * 9, 0.2) + ">\n"
      + "  %c0 = Conv(%x, %w2) {pads = [1, 1, 1, 1]}\n"
      + "  %p = GlobalAveragePool(%c0)\n  %c = Conv(%p, %w, %b)\n  %h = HardSigmoid(%c)\n  %s = Mul(%c0, %h)\n"
      + "  %y = Add(%s, %x)\n  return %y\n}\n";

  @Test
  void squeezeExciteScaleFusesWithTheBroadcastProduct() {
    checkLowered(SQUEEZE_EXCITE, 2);
    checkLowered(SQUEEZE_EXCITE, 3);
  }

  private static final String POOLS = "graph main(%x: f32[2, 3, 7, 8]) -> (%m: f32[2, 3, 4, 5], "
      + "%a: f32[2, 3, 4, 5], %p: f32[2, 3, 4, 5], %d: f32[2, 3, 3, 3]) opset(ai.onnx=17) {\n"
      + "  %m = MaxPool(%x) {kernel_shape = [3, 3], strides = [2, 2], pads = [1, 1, 1, 1], ceil_mode = 1}\n"
      + "  %a = AveragePool(%x) {kernel_shape = [3, 2], strides = [2, 2], pads = [1, 1, 1, 1]}\n"
      + "  %p = AveragePool(%x) {kernel_shape = [3, 2], strides = [2, 2], pads = [1, 1, 1, 1], "
      + "count_include_pad = 1}\n"
      + "  %d = MaxPool(%x) {kernel_shape = [2, 2], strides = [2, 2], dilations = [2, 2]}\n"
      + "  return %m, %a, %p, %d\n}\n";

  @Test
  void maxAndAveragePoolingWithPadsCeilModeAndDilations() {
    checkLowered(POOLS, 2);
  }

  private static final String PAD_RESIZE = "graph main(%x: f32[1, 2, 4, 5]) -> (%c: f32[1, 2, 7, 6], "
      + "%e: f32[1, 2, 5, 8], %r: f32[1, 2, 6, 7], %n: f32[1, 2, 8, 10], %l: f32[1, 2, 8, 10], "
      + "%k: f32[1, 2, 7, 9]) opset(ai.onnx=17) {\n"
      + "  const %pc: i64[8] = dense<[0, 0, 1, 0, 0, 0, 2, 1]>\n  const %v: f32[] = dense<[1.5]>\n"
      + "  const %pe: i64[8] = dense<[0, 0, 0, 2, 0, 0, 1, 1]>\n"
      + "  const %pr: i64[8] = dense<[0, 0, 1, 1, 0, 0, 1, 1]>\n"
      + "  const %roi: f32[0] = dense<[]>\n  const %sc: f32[4] = dense<[1.0, 1.0, 2.0, 2.0]>\n"
      + "  const %sz: i64[4] = dense<[1, 2, 7, 9]>\n"
      + "  %c = Pad(%x, %pc, %v)\n  %e = Pad(%x, %pe) {mode = \"edge\"}\n  %r = Pad(%x, %pr) {mode = \"reflect\"}\n"
      + "  %n = Resize(%x, %roi, %sc) {mode = \"nearest\", coordinate_transformation_mode = \"asymmetric\", "
      + "nearest_mode = \"floor\"}\n"
      + "  %l = Resize(%x, %roi, %sc) {mode = \"linear\"}\n"
      + "  %k = Resize(%x, %roi, _, %sz) {mode = \"linear\", coordinate_transformation_mode = \"align_corners\"}\n"
      + "  return %c, %e, %r, %n, %l, %k\n}\n";

  @Test
  void padModesAndResizeModes() {
    checkLowered(PAD_RESIZE, 2);
  }

  private static final String GEMMS = "graph main(%a: f32[3, 5], %at: f32[5, 3]) -> (%p: f32[3, 4], "
      + "%t: f32[3, 4]) opset(ai.onnx=17) {\n"
      + "  const %b: f32[5, 4] = dense<" + dense(20, 0.5) + ">\n"
      + "  const %bt: f32[4, 5] = dense<" + dense(20, 0.7) + ">\n"
      + "  const %c: f32[4] = dense<[0.5, -1.0, 0.25, 2.0]>\n  const %cm: f32[3, 1] = dense<[1.0, 2.0, 3.0]>\n"
      + "  %g = Gemm(%a, %b, %c)\n  %p = Relu(%g)\n"
      + "  %t = Gemm(%at, %bt, %cm) {transA = 1, transB = 1, alpha = 0.5, beta = 2.0}\n"
      + "  return %p, %t\n}\n";

  @Test
  void gemmWithTransposesAndScalingLowersToLoops() {
    checkLowered(GEMMS, 2);
  }

  @Test
  void convolutionsPoolingPaddingResizingAndGemmRunNatively() {
    checkNative(CONV_EPILOGUE, 2);
    checkNative(BLOCKED, 3);
    checkNative(POOLS, 2);
    checkNative(PAD_RESIZE, 2);
    checkNative(GEMMS, 2);
    checkNative(TRANSPOSED, 2);
    checkNative(SQUEEZE_EXCITE, 3);
  }

  @Test
  void maxPoolIndicesAreRefusedClearly() {
    Graph g = GraphParser.parse("graph main(%x: f32[1, 1, 4, 4]) -> (%y: f32[1, 1, 2, 2], %i: i64[1, 1, 2, 2]) "
        + "opset(ai.onnx=17) {\n  %y, %i = MaxPool(%x) {kernel_shape = [2, 2], strides = [2, 2]}\n"
        + "  return %y, %i\n}\n");
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> KernelLowering.standard().lower(g.nodes().get(0), g));
    assertTrue(e.getMessage().contains("Indices"), e.getMessage());
  }
}
