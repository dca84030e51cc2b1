package dev.nnvm.compiler.lower;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.transform.PassContext;
import dev.nnvm.compiler.transform.PassManager;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KernelLoweringTest {
  /** Optimizes the text graph, evaluates it kernel by kernel with lowered loops, compares with the reference. */
  private static HybridEvaluator checkLowered(String text, long symbolSize) {
    return checkLowered(text, symbolSize, 2);
  }

  private static HybridEvaluator checkLowered(String text, long symbolSize, int level) {
    Graph g = GraphParser.parse(text);
    Graph opt = PassManager.standard(level).run(g, PassContext.standard()).graph();
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (ValueInfo in : g.inputs()) {
      List<Long> dims = new ArrayList<>();
      for (Dim d : in.type().shape().dims()) {
        dims.add(d.isStatic() ? d.value() : symbolSize);
      }
      long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
      inputs.put(in.name(), in.type().dtype().isFloatingPoint() ? random.uniform(in.type().dtype(), -2, 2, shape)
          : random.of(in.type().dtype(), shape));
    }
    Map<String, Tensor> want = ReferenceEvaluator.standard().run(g, inputs);
    HybridEvaluator hybrid = new HybridEvaluator();
    Map<String, Tensor> got = hybrid.run(opt, inputs);
    StringBuilder report = new StringBuilder("lowered " + hybrid.lowered() + ", fallback " + hybrid.fallbackOps()
        + " (seed " + random.seed() + ")");
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      report.append("; ").append(Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), 1e-5, 1e-6));
    }
    System.out.println(report);
    return hybrid;
  }

  @Test
  void elementwiseChainWithBroadcastingBecomesOneLoopNest() {
    String text = "graph main(%x: f32[N, 3, 4], %b: f32[4]) -> (%y: f32[N, 3, 4]) opset(ai.onnx=17) {\n"
        + "  const %half: f32[] = dense<[0.5]>\n"
        + "  %a = Add(%x, %b)\n  %s = Sigmoid(%a)\n  %m = Mul(%s, %half)\n  %y = Tanh(%m)\n  return %y\n}\n";
    HybridEvaluator h = checkLowered(text, 2);
    assertEquals(1, h.lowered());
    Graph opt = PassManager.standard(2).run(GraphParser.parse(text), PassContext.standard()).graph();
    Kernel k = KernelLowering.standard().lower(opt.nodes().get(0), opt);
    assertEquals(List.of("N"), k.symbols());
    assertEquals("kernel fused_add_sigmoid_mul_tanh_0([x, b, half] -> [y]) symbols [N]\n"
        + "  for i0 < N (PARALLEL)\n"
        + "    for i1 < 3 (SERIAL)\n"
        + "      for i2 < 4 (VECTORIZABLE)\n"
        + "        y[((((i0 * 3) + i1) * 4) + i2)] = tanh(((1.0 / (1.0 + exp(neg((x[((((i0 * 3) + i1) * 4) + i2)]"
        + " + b[i2]))))) * half[0]))", KernelInterpreter.describe(k));
  }

  @Test
  void injectiveOperatorsLowerToIndexMaps() {
    checkLowered("graph main(%x: f32[N, 4, 6], %y: f32[N, 4, 2]) -> (%z: f32[N, 2, 8]) opset(ai.onnx=17) {\n"
        + "  const %starts: i64[1] = dense<[1]>\n  const %ends: i64[1] = dense<[7]>\n"
        + "  const %axes: i64[1] = dense<[2]>\n  const %steps: i64[1] = dense<[3]>\n"
        + "  const %shape: i64[3] = dense<[0, 2, 8]>\n"
        + "  %s = Slice(%x, %starts, %ends, %axes, %steps)\n"
        + "  %c = Concat(%s, %y) {axis = 2}\n"
        + "  %t = Transpose(%c) {perm = [0, 2, 1]}\n"
        + "  %r = Reshape(%t, %shape)\n"
        + "  %z = Relu(%r)\n  return %z\n}\n", 3);
  }

  @Test
  void gatherCastWhereAndComparisons() {
    checkLowered("graph main(%ids: i64[N, 5], %table: f32[10, 4], %t: f32[N, 5, 4]) -> (%y: f32[N, 5, 4]) "
        + "opset(ai.onnx=17) {\n"
        + "  const %zero: f32[] = dense<[0.0]>\n  const %lo: f32[] = dense<[-0.5]>\n"
        + "  const %hi: f32[] = dense<[0.75]>\n"
        + "  %e = Gather(%table, %ids)\n"
        + "  %p = Greater(%e, %zero)\n"
        + "  %w = Where(%p, %e, %t)\n"
        + "  %y = Clip(%w, %lo, %hi)\n  return %y\n}\n", 2);
  }

  @Test
  void reductionsAbsorbProducersAndFeedElementwiseConsumers() {
    HybridEvaluator h = checkLowered("graph main(%x: f32[N, 6, 5]) -> (%y: f32[N, 6, 1]) opset(ai.onnx=17) {\n"
        + "  const %two: f32[] = dense<[2.0]>\n"
        + "  %t = Transpose(%x) {perm = [0, 1, 2]}\n"
        + "  %p = Pow(%t, %two)\n"
        + "  %m = ReduceMean(%p) {axes = [-1]}\n"
        + "  %y = Sqrt(%m)\n  return %y\n}\n", 3);
    assertEquals(1, h.lowered());
    checkLowered("graph main(%x: f32[N, 3, 4, 5]) -> (%a: f32[N, 3, 1, 1], %b: f32[5], %c: f32[N, 5]) "
        + "opset(ai.onnx=13) {\n"
        + "  %a = GlobalAveragePool(%x)\n"
        + "  %b = ReduceMax(%x) {axes = [0, 1, 2], keepdims = 0}\n"
        + "  %c = ReduceSum(%x, %axes) {keepdims = 0}\n"
        + "  const %axes: i64[2] = dense<[1, 2]>\n  return %a, %b, %c\n}\n", 2);
  }

  @Test
  void integerAndBoolKernels() {
    checkLowered("graph main(%a: i64[N, 4], %b: i32[4]) -> (%y: i64[N, 4], %z: bool[N, 4]) opset(ai.onnx=17) {\n"
        + "  %c = Cast(%b) {to = 7}\n  %s = Add(%a, %c)\n  %y = Mul(%s, %s)\n"
        + "  %l = Less(%a, %c)\n  %z = Not(%l)\n  return %y, %z\n}\n", 3);
  }

  @Test
  void operatorsWithoutLoopRulesAreReportedNotGuessed() {
    Graph g = PassManager.standard(0).run(GraphParser.parse(
        "graph main(%x: f32[2, 3], %w: f32[3, 4]) -> (%y: f32[2, 4]) opset(ai.onnx=17) {\n"
            + "  %y = MatMul(%x, %w)\n  return %y\n}\n"), PassContext.standard()).graph();
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> KernelLowering.standard().lower(g.nodes().get(0), g));
    assertTrue(e.getMessage().contains("no loop lowering for MatMul"), e.getMessage());
  }

  @Test
  void softmaxAndLayerNormLowerToRowKernels() {
    HybridEvaluator h = checkLowered("graph main(%x: f32[N, 3, 7]) -> (%a: f32[N, 3, 7], %b: f32[N, 3, 7], "
        + "%c: f32[N, 3, 7], %d: f32[N, 3, 7]) opset(ai.onnx=17) {\n"
        + "  const %g: f32[7] = dense<[1.0, 2.0, 0.5, -1.0, 1.5, 0.25, 3.0]>\n"
        + "  const %bias: f32[7] = dense<[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]>\n"
        + "  %a = Softmax(%x) {axis = -1}\n"
        + "  %b = LogSoftmax(%x) {axis = 1}\n"
        + "  %c = LayerNormalization(%x, %g, %bias) {axis = -1, epsilon = 1.0e-5}\n"
        + "  %d = Softmax(%x) {axis = 1}\n"
        + "  return %a, %b, %c, %d\n}\n", 2);
    assertEquals(4, h.lowered(), "every kernel lowered: " + h.fallbackOps());
    // Before opset 13 Softmax normalizes over everything from the axis on.
    HybridEvaluator legacy = checkLowered("graph main(%x: f32[N, 3, 4]) -> (%y: f32[N, 3, 4]) opset(ai.onnx=11) {\n"
        + "  %y = Softmax(%x)\n  return %y\n}\n", 2);
    assertEquals(1, legacy.lowered());
  }

  @Test
  void attentionAndShapeLowerToLoops() {
    HybridEvaluator h = checkLowered("graph main(%q: f32[N, 2, S, 4], %k: f32[N, 2, S, 4], %v: f32[N, 2, S, 3], "
        + "%mask: f32[N, 1, 1, S]) -> (%y: f32[N, 2, S, 3], %s: i64[4]) opset(ai.onnx=13) {\n"
        + "  const %c: f32[] = dense<[2.0]>\n"
        + "  %kt = Transpose(%k) {perm = [0, 1, 3, 2]}\n"
        + "  %sc = MatMul(%q, %kt)\n  %s1 = Div(%sc, %c)\n  %s2 = Add(%s1, %mask)\n"
        + "  %p = Softmax(%s2) {axis = -1}\n  %y = MatMul(%p, %v)\n"
        + "  %s = Shape(%y)\n  return %y, %s\n}\n", 5);
    assertEquals(List.of(), h.fallbackOps(), "attention, the key transpose and Shape all lower");
  }
}
