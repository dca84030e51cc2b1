package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.runtime.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Random generators: shape, element type and statistics, against ONNX Runtime's shape and type. */
class RandomOpsTest {
  private static final int N = 20000;

  /** Runs both engines; checks they agree on type and shape and returns ours. */
  private static Tensor run(OpTester t, Map<String, Tensor> feeds) throws Exception {
    Graph g = t.graph();
    Tensor ours = ReferenceEvaluator.standard().run(g, feeds).get("out");
    Tensor theirs = OrtOracle.run(OnnxExporter.toBytes(g), feeds).get("out");
    assertEquals(theirs.dtype(), ours.dtype());
    assertArrayEquals(theirs.shape(), ours.shape());
    assertEquals(g.outputs().get(0).type(), ours.type(), "inferred type");
    return ours;
  }

  private static double mean(Tensor t) {
    double s = 0;
    for (int i = 0; i < t.size(); i++) {
      s += t.getDouble(i);
    }
    return s / t.size();
  }

  private static double std(Tensor t) {
    double m = mean(t);
    double s = 0;
    for (int i = 0; i < t.size(); i++) {
      s += (t.getDouble(i) - m) * (t.getDouble(i) - m);
    }
    return Math.sqrt(s / t.size());
  }

  @Test
  void randomNormal() throws Exception {
    Tensor t = run(OpTester.op("RandomNormal").opset(17).attr("shape", 100L, 200L).attr("mean", 2f)
        .attr("scale", 3f), Map.of());
    assertEquals(2, mean(t), 0.1);
    assertEquals(3, std(t), 0.1);
    Tensor d = run(OpTester.op("RandomNormal").opset(17).attr("shape", new long[] {N}).attr("dtype", 11L), Map.of());
    assertEquals(DType.FLOAT64, d.dtype());
    assertEquals(1, std(d), 0.05);
  }

  @Test
  void randomUniform() throws Exception {
    Tensor t = run(OpTester.op("RandomUniform").opset(17).attr("shape", new long[] {N}).attr("low", -2f)
        .attr("high", 4f), Map.of());
    for (int i = 0; i < t.size(); i++) {
      assertTrue(t.getDouble(i) >= -2 && t.getDouble(i) <= 4);
    }
    assertEquals(1, mean(t), 0.1);
    assertEquals(6 / Math.sqrt(12), std(t), 0.05);
  }

  @Test
  void likeFormsTakeShapeAndTypeFromInput() throws Exception {
    Tensor x = Tensor.zeros(DType.FLOAT64, new long[] {50, 400});
    Tensor n = run(OpTester.op("RandomNormalLike").opset(17).input("x", x).attr("mean", -1f), Map.of("x", x));
    assertEquals(DType.FLOAT64, n.dtype());
    assertEquals(-1, mean(n), 0.05);
    Tensor u = run(OpTester.op("RandomUniformLike").opset(17).input("x", x).attr("dtype", 1L), Map.of("x", x));
    assertEquals(DType.FLOAT32, u.dtype());
    assertEquals(0.5, mean(u), 0.05);
  }

  @Test
  void bernoulli() throws Exception {
    float[] p = new float[N];
    for (int i = 0; i < N; i++) {
      p[i] = i % 2 == 0 ? 0.2f : 1f;
    }
    Tensor probs = Tensor.ofFloats(new long[] {N}, p);
    Tensor b = run(OpTester.op("Bernoulli").opset(15).input("p", probs), Map.of("p", probs));
    double evenOnes = 0;
    for (int i = 0; i < N; i++) {
      double v = b.getDouble(i);
      assertTrue(v == 0 || v == 1);
      if (i % 2 == 1) {
        assertEquals(1, v);
      } else {
        evenOnes += v;
      }
    }
    assertEquals(0.2, evenOnes / (N / 2), 0.03);
    Tensor i32 = run(OpTester.op("Bernoulli").opset(15).input("p", probs).attr("dtype", 6L), Map.of("p", probs));
    assertEquals(DType.INT32, i32.dtype());
  }

  @Test
  void seedMakesRunsRepeatable() {
    Graph g = OpTester.op("RandomUniform").opset(17).attr("shape", 4L, 4L).attr("seed", 5f).graph();
    assertEquals(ReferenceEvaluator.standard().run(g, Map.of()).get("out"),
        ReferenceEvaluator.standard().run(g, Map.of()).get("out"));
    Graph unseeded = OpTester.op("RandomUniform").opset(17).attr("shape", 4L, 4L).graph();
    assertNotEquals(ReferenceEvaluator.standard().run(unseeded, Map.of()).get("out"),
        ReferenceEvaluator.standard().run(unseeded, Map.of()).get("out"));
  }

  @Test
  void rejectsIntegerDtype() {
    ModelException e = assertThrows(ModelException.class,
        () -> OpTester.op("RandomNormal").opset(17).attr("shape", 2L, 2L).attr("dtype", 7L).graph());
    assertTrue(e.getMessage().contains("RandomNormal 'node'"), e.getMessage());
  }
}
