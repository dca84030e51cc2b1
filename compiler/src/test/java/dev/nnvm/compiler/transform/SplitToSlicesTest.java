package dev.nnvm.compiler.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nnvm.compiler.codegen.CompiledModelRunner;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Split with constant sizes, rewritten into slices, compiled and compared with the reference on random data. */
class SplitToSlicesTest {
  @Test
  void constantSplitCompilesAndMatchesTheReference() {
    Graph g = Graph.builder("split")
        .opset(Node.ONNX_DOMAIN, 13)
        .input("x", TensorType.of(DType.FLOAT32, 3, 7))
        .constant("parts", Tensor.vector(2, 4, 1))
        .node(new Node("split", "Split", Node.ONNX_DOMAIN, List.of("x", "parts"), List.of("a", "b", "c"),
            Map.of("axis", Attribute.ofInt(-1))))
        .node(Node.of("relu", "Relu", List.of("b"), List.of("rb")))
        .output("a", TensorType.of(DType.FLOAT32, 3, 2))
        .output("rb", TensorType.of(DType.FLOAT32, 3, 4))
        .output("c", TensorType.of(DType.FLOAT32, 3, 1))
        .build();
    Graph rewritten = SplitToSlices.apply(g);
    assertEquals(0, rewritten.nodes().stream().filter(n -> n.opType().equals("Split")).count(),
        "Split should become slices: " + rewritten.nodes());

    Random random = new Random();
    float[] data = new float[21];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextGaussian();
    }
    Map<String, Tensor> feeds = Map.of("x", Tensor.ofFloats(new long[] {3, 7}, data));
    Map<String, Tensor> expected = ReferenceEvaluator.standard().run(g, feeds);
    try (NativeAllocator allocator = NativeAllocator.newRoot("split-to-slices");
        CompiledModelRunner runner = CompiledModelRunner.optimizing(g, allocator)) {
      Map<String, Tensor> actual = runner.run(feeds, 1);
      for (String out : List.of("a", "rb", "c")) {
        Comparison c = Comparison.assertClose(out, expected.get(out), actual.get(out), 0, 0);
        System.out.println("SplitToSlices " + out + ": " + c);
      }
    }
  }
}
