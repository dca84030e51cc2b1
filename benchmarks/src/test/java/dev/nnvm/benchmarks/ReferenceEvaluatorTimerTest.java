package dev.nnvm.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReferenceEvaluatorTimerTest {
  @TempDir Path dir;

  @Test
  void timesEveryMeasuredRunAndReadsNamedInputs() throws IOException {
    Graph g = Graph.builder("add")
        .opset("", 17)
        .input("a", TensorType.of(DType.FLOAT32, 2, 2))
        .input("b", TensorType.of(DType.FLOAT32, 2, 2))
        .node(Node.of("add", "Add", List.of("a", "b"), List.of("c")))
        .output("c", TensorType.of(DType.FLOAT32, 2, 2))
        .build();
    Tensor a = Tensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4);
    OnnxTensors.write(a, "a", dir.resolve("input_0.pb"));
    OnnxTensors.write(a, "", dir.resolve("b.pb"));
    OnnxTensors.write(a, "a", dir.resolve("not-a-tensor.txt"));

    Map<String, Tensor> inputs = ReferenceEvaluatorTimer.readInputs(dir);
    assertEquals(List.of("b", "a"), List.copyOf(inputs.keySet()), "named from the file, else from its name");

    Samples s = new ReferenceEvaluatorTimer().time(g, inputs, 7, 2);
    assertEquals(7, s.count());
    assertTrue(s.min() >= 0 && s.min() <= s.median() && s.median() <= s.max());
    String line = ReferenceEvaluatorTimer.report("add", s);
    assertTrue(line.startsWith("add: 7 runs, min "), line);
    assertThrows(IllegalArgumentException.class, () -> new ReferenceEvaluatorTimer().time(g, inputs, 0, 0));
  }
}
