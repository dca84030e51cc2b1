package dev.nnvm.it;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.lower.HybridEvaluator;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.transform.Optimizer;
import dev.nnvm.compiler.transform.SpecializeInputs;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Real models evaluated kernel by kernel after optimization, every kernel
 * that lowers to loops run through the kernel interpreter: the lowering of
 * whole models must match the reference evaluator. Prints how many kernels
 * lowered and which operators still need hand-written kernels.
 */
class LoweredKernelsTest {
  @Test
  void miniLmLoweredKernelsMatchTheReference() throws Exception {
    RandomTensors random = new RandomTensors();
    check("all-MiniLM-L6-v2", ModelCheck.resource("/all-minilm-l6-v2.onnx"), Map.of(),
        MiniLmTest.inputs(random.random()), random.seed());
  }

  @Test
  void ocrClassifierLoweredKernelsMatchTheReference() throws Exception {
    RandomTensors random = new RandomTensors();
    check("ch_ppocr_mobile_v2.0_cls_infer", ModelCheck.resource("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"),
        // One narrow crop: its convolutions run in the Java interpreter of the lowered kernels.
        Map.of("x", Shape.parse("[N, 3, 48, 64]")), Map.of("x", random.of(DType.FLOAT32, 1, 3, 48, 64)),
        random.seed());
  }

  private static void check(String what, byte[] model, Map<String, Shape> shapes, Map<String, Tensor> inputs,
      long seed) {
    Graph g = SpecializeInputs.apply(new OnnxImporter(OpRegistry.standard()).read(model, null, what), shapes);
    Map<String, Tensor> want = ReferenceEvaluator.standard().run(g, inputs);
    Graph opt = Optimizer.optimize(g, 2, List.of(), Map.of()).graph();
    HybridEvaluator hybrid = new HybridEvaluator();
    Map<String, Tensor> got = hybrid.run(opt, inputs);
    Map<String, Integer> rest = new TreeMap<>();
    hybrid.fallbackOps().forEach(op -> rest.merge(op, 1, Integer::sum));
    StringBuilder report = new StringBuilder(what + " (seed " + seed + "): " + hybrid.lowered()
        + " kernels lowered to loops, " + hybrid.fallback() + " not yet " + rest);
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      report.append("; ").append(Comparison.assertClose(what + " " + e.getKey(), e.getValue(), got.get(e.getKey()),
          1e-4, 1e-5));
    }
    System.out.println(report);
  }
}
