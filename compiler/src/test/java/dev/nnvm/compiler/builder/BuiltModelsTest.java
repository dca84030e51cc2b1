package dev.nnvm.compiler.builder;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.text.GraphPrinter;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Small models built with {@link GraphBuilder}, run by the reference evaluator
 * and by ONNX Runtime (through the ONNX exporter) on random inputs.
 */
class BuiltModelsTest {
  private final RandomTensors random = new RandomTensors();

  private static void assumeOps(String... ops) {
    List<String> missing = new ArrayList<>();
    for (String op : ops) {
      if (OpRegistry.standard().find("", op).isEmpty()) {
        missing.add(op);
      }
    }
    assumeTrue(missing.isEmpty(), () -> "operators not registered yet: " + missing);
  }

  private Value weight(GraphBuilder b, long... shape) {
    return b.constant(random.uniform(DType.FLOAT32, -0.5, 0.5, shape));
  }

  /** Runs both engines and compares every output; also round-trips the graph through its text form. */
  private void check(Graph g, Map<String, Tensor> inputs, double tol) throws Exception {
    System.out.println(g.name() + ": seed " + random.seed() + ", " + g.nodes().size() + " nodes");
    org.junit.jupiter.api.Assertions.assertEquals(g, GraphParser.parse(GraphPrinter.print(g)));
    Map<String, Tensor> ours = ReferenceEvaluator.standard().run(g, inputs);
    Map<String, Tensor> ort = OrtOracle.run(OnnxExporter.toBytes(g), inputs);
    for (String name : ours.keySet()) {
      Comparison c = Comparison.assertClose(g.name() + "/" + name, ort.get(name), ours.get(name), tol, tol);
      System.out.println("  " + c);
    }
  }

  @Test
  void mlp() throws Exception {
    assumeOps("Gemm", "Relu", "Tanh", "Softmax");
    GraphBuilder b = new GraphBuilder("mlp");
    Value x = b.input("x", DType.FLOAT32, "N", 16);
    Value h = b.relu(b.dense(x, weight(b, 32, 16), weight(b, 32)));
    h = b.tanh(b.dense(h, weight(b, 24, 32), weight(b, 24)));
    b.output("probs", b.softmax(b.dense(h, weight(b, 10, 24), null), -1));
    check(b.build(), Map.of("x", random.of(DType.FLOAT32, 5, 16)), 1e-5);
  }

  @Test
  void convNetWithBatchNormAndPooling() throws Exception {
    assumeOps("Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Gemm",
        "Sigmoid");
    GraphBuilder b = new GraphBuilder("convnet");
    Value x = b.input("image", DType.FLOAT32, "N", 3, 16, 16);
    Value c = b.conv2d(x, weight(b, 8, 3, 3, 3), weight(b, 8), new long[] {1, 1}, new long[] {1, 1, 1, 1},
        new long[] {1, 1}, 1);
    c = b.batchNorm(c, weight(b, 8), weight(b, 8), weight(b, 8),
        b.constant(random.uniform(DType.FLOAT32, 0.5, 1.5, 8)), 1e-5f);
    c = b.maxPool2d(b.relu(c), new long[] {2, 2}, new long[] {2, 2}, new long[] {0, 0, 0, 0});
    c = b.conv2d(c, weight(b, 16, 4, 3, 3), null, new long[] {2, 2}, new long[] {1, 1, 1, 1},
        new long[] {1, 1}, 2);
    c = b.avgPool2d(b.relu(c), new long[] {3, 3}, new long[] {1, 1}, new long[] {1, 1, 1, 1}, false);
    c = b.conv2d(c, weight(b, 16, 16, 1, 1), weight(b, 16));
    Value features = b.flatten(b.globalAvgPool(c), 1);
    b.output("score", b.sigmoid(b.dense(features, weight(b, 4, 16), weight(b, 4))));
    check(b.build(), Map.of("image", random.of(DType.FLOAT32, 2, 3, 16, 16)), 1e-4);
  }

  @Test
  void attentionBlock() throws Exception {
    assumeOps("LayerNormalization", "MatMul", "Add", "Reshape", "Transpose", "Mul", "Div", "Softmax", "Erf", "Sqrt",
        "ReduceMean", "Sub", "Pow");
    int d = 16;
    int heads = 2;
    int dh = d / heads;
    GraphBuilder b = new GraphBuilder("attention");
    Value x = b.input("x", DType.FLOAT32, "B", "S", d);
    Value ln = b.layerNorm(x, weight(b, d), weight(b, d), -1, 1e-5f);
    Value[] qkv = new Value[3];
    for (int i = 0; i < 3; i++) {
      Value proj = b.add(b.matmul(ln, weight(b, d, d)), weight(b, d));
      qkv[i] = b.transpose(b.reshape(proj, 0, 0, heads, dh), 0, 2, 1, 3);
    }
    Value scores = b.div(b.matmul(qkv[0], b.transpose(qkv[1], 0, 1, 3, 2)), b.scalar(DType.FLOAT32, Math.sqrt(dh)));
    Value context = b.matmul(b.softmax(scores, -1), qkv[2]);
    Value merged = b.reshape(b.transpose(context, 0, 2, 1, 3), 0, 0, d);
    Value attended = b.add(x, b.matmul(merged, weight(b, d, d)));
    Value mean = b.reduceMean(attended, true, -1);
    Value centered = b.sub(attended, mean);
    Value variance = b.reduceMean(b.pow(centered, b.scalar(DType.FLOAT32, 2)), true, -1);
    Value normed = b.div(centered, b.sqrt(b.add(variance, b.scalar(DType.FLOAT32, 1e-5))));
    Value hidden = b.gelu(b.add(b.matmul(normed, weight(b, d, 2 * d)), weight(b, 2 * d)));
    b.output("y", b.add(attended, b.matmul(hidden, weight(b, 2 * d, d))));
    check(b.build(), Map.of("x", random.of(DType.FLOAT32, 2, 5, d)), 1e-4);
  }

  @Test
  void geluAtOpset20IsTheGeluOperator() throws Exception {
    assumeOps("Gelu");
    GraphBuilder b = new GraphBuilder("gelu20", 20);
    b.output("y", b.gelu(b.input("x", DType.FLOAT32, "N", 7)));
    Graph g = b.build();
    org.junit.jupiter.api.Assertions.assertEquals("Gelu", g.nodes().get(0).opType());
    check(g, Map.of("x", random.uniform(DType.FLOAT32, -3, 3, 4, 7)), 1e-5);
  }

  @Test
  void opsetSpecificFormsAtOpset13And18() throws Exception {
    assumeOps("ReduceMean", "ReduceSum", "Squeeze", "Unsqueeze", "Erf");
    for (int opset : new int[] {13, 18}) {
      GraphBuilder b = new GraphBuilder("forms" + opset, opset);
      Value x = b.input("x", DType.FLOAT32, "N", 4, 3);
      Value m = b.squeeze(b.reduceMean(x, true, 1), 1);
      Value s = b.reduceSum(b.unsqueeze(b.gelu(m), 0), false, 0, 2);
      b.output("y", s);
      Graph g = b.build();
      String axesOf = g.nodes().get(0).attribute("axes") == null ? "input" : "attribute";
      org.junit.jupiter.api.Assertions.assertEquals(opset >= 18 ? "input" : "attribute", axesOf);
      check(g, Map.of("x", random.of(DType.FLOAT32, 2, 4, 3)), 1e-5);
    }
  }

  @Test
  void shapeAndSelectionOps() throws Exception {
    assumeOps("Slice", "Concat", "Unsqueeze", "Squeeze", "Gather", "Cast", "Clip", "Where", "ReduceSum", "Erf",
        "Mul", "Sub");
    GraphBuilder b = new GraphBuilder("shapes");
    Value x = b.input("x", DType.FLOAT32, "N", 6);
    Value mask = b.input("mask", DType.BOOL, "N", 3);
    Value left = b.slice(x, new long[] {0}, new long[] {3}, new long[] {1});
    Value right = b.slice(x, new long[] {5}, new long[] {-100}, new long[] {1}, new long[] {-2});
    Value picked = b.where(mask, left, b.erf(right));
    Value stacked = b.concat(1, b.unsqueeze(picked, 1), b.unsqueeze(left, 1));
    Value gathered = b.gather(b.squeeze(b.slice(stacked, new long[] {0}, new long[] {1}, new long[] {1}), 1),
        b.constant(Tensor.ofLongs(DType.INT64, new long[] {4}, 2, 0, -1, 1)), 1);
    Value asDouble = b.cast(b.clip(gathered, -0.25, 0.5), DType.FLOAT64);
    b.output("sum", b.reduceSum(asDouble, false, 1));
    b.output("gathered", gathered);
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    inputs.put("x", random.of(DType.FLOAT32, 3, 6));
    inputs.put("mask", random.of(DType.BOOL, 3, 3));
    check(b.build(), inputs, 1e-6);
  }
}
