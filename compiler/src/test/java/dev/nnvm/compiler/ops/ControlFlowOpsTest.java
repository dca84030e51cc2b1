package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ControlFlowOpsTest {
  /** Loop body: x_out = x_in + w (w from the enclosing graph); scan output: sum(x_out). */
  private static Graph loopBody() {
    return Graph.builder("body")
        .input("i", TensorType.of(DType.INT64))
        .input("c", TensorType.of(DType.BOOL))
        .input("x_in", TensorType.of(DType.FLOAT32, 2, 3))
        .node(Node.of("add", "Add", List.of("x_in", "w"), List.of("x_out")))
        .node(new Node("sum", "ReduceSum", "", List.of("x_out"), List.of("s"), Map.of("keepdims", Attribute.ofInt(0))))
        .output("c", TensorType.of(DType.BOOL))
        .output("x_out", TensorType.of(DType.FLOAT32, 2, 3))
        .output("s", TensorType.of(DType.FLOAT32))
        .build();
  }

  /**
   * A graph with one Loop node whose body reads {@code w} from the enclosing
   * graph (so w is a graph input, not a node input, which OpTester cannot express).
   */
  private static Graph loopGraph(Tensor maxTrips, boolean condAsInput, boolean omitCond) {
    Graph.Builder b = Graph.builder("loop").opset("", 16)
        .input("x", TensorType.of(DType.FLOAT32, 2, 3))
        .input("w", TensorType.of(DType.FLOAT32, 2, 3));
    if (condAsInput) {
      b.input("cond", TensorType.of(DType.BOOL));
    } else if (!omitCond) {
      b.constant("cond", Tensor.ofBools(new long[0], true));
    }
    b.constant("M", maxTrips);
    b.node(new Node("node", "Loop", "", List.of("M", omitCond ? "" : "cond", "x"), List.of("x_final", "sums"),
        Map.of("body", Attribute.ofGraph(loopBody()))));
    b.output("x_final", TensorType.unknownShape(DType.FLOAT32));
    b.output("sums", TensorType.unknownShape(DType.FLOAT32));
    Graph g = b.build();
    Graph typed = TypeInference.infer(g);
    List<ValueInfo> outs = List.of(new ValueInfo("x_final", typed.valueTypes().get("x_final")),
        new ValueInfo("sums", typed.valueTypes().get("sums")));
    return g.toBuilder().outputs(outs).build();
  }

  /** Runs our evaluator and ONNX Runtime on the graph and compares every output. */
  private static Map<String, Tensor> checkAgainstOrt(Graph g, Map<String, Tensor> feeds) throws Exception {
    Map<String, Tensor> ours = ReferenceEvaluator.standard().run(g, feeds);
    Map<String, Tensor> theirs = OrtOracle.run(OnnxExporter.toBytes(g), feeds);
    for (ValueInfo o : g.outputs()) {
      System.out.println(Comparison.assertClose(o.name(), theirs.get(o.name()), ours.get(o.name()), 1e-5, 1e-6));
      assertTrue(o.type().shape().rank() == ours.get(o.name()).rank(), "inferred rank of " + o.name());
    }
    return ours;
  }

  private final RandomTensors random = new RandomTensors();

  @Test
  void loopCarriesValuesAndStacksScanOutputs() throws Exception {
    for (long trips : new long[] {0, 1, 4}) {
      Map<String, Tensor> out = checkAgainstOrt(loopGraph(Tensor.scalarLong(DType.INT64, trips), false, false),
          Map.of("x", random.of(DType.FLOAT32, 2, 3), "w", random.of(DType.FLOAT32, 2, 3)));
      assertArrayEquals(new long[] {trips}, out.get("sums").shape());
    }
  }

  @Test
  void loopWithFalseConditionRunsNoIteration() throws Exception {
    Map<String, Tensor> out = checkAgainstOrt(loopGraph(Tensor.scalarLong(DType.INT64, 3), true, false),
        Map.of("x", random.of(DType.FLOAT32, 2, 3), "w", random.of(DType.FLOAT32, 2, 3),
            "cond", Tensor.ofBools(new long[0], false)));
    assertArrayEquals(new long[] {0}, out.get("sums").shape());
  }

  @Test
  void loopWithoutConditionInputRunsTripCount() throws Exception {
    Map<String, Tensor> out = checkAgainstOrt(loopGraph(Tensor.scalarLong(DType.INT64, 3), false, true),
        Map.of("x", random.of(DType.FLOAT32, 2, 3), "w", random.of(DType.FLOAT32, 2, 3)));
    assertArrayEquals(new long[] {3}, out.get("sums").shape());
  }

  @Test
  void loopStopsWhenBodyConditionIsFalse() throws Exception {
    Graph body = Graph.builder("body")
        .input("i", TensorType.of(DType.INT64))
        .input("c", TensorType.of(DType.BOOL))
        .input("x_in", TensorType.of(DType.FLOAT32, 2))
        .node(new Node("k", "Constant", "", List.of(), List.of("stop"),
            Map.of("value", Attribute.ofTensor(Tensor.ofBools(new long[0], false)))))
        .node(Node.of("add", "Add", List.of("x_in", "x_in"), List.of("x_out")))
        .output("stop", TensorType.of(DType.BOOL))
        .output("x_out", TensorType.of(DType.FLOAT32, 2))
        .output("x_in", TensorType.of(DType.FLOAT32, 2))
        .build();
    for (String cond : new String[] {"", "cond"}) {
      Graph g = Graph.builder("g").opset("", 13)
          .input("x", TensorType.of(DType.FLOAT32, 2))
          .constant("M", Tensor.scalarLong(DType.INT64, 3))
          .constant("cond", Tensor.ofBools(new long[0], true))
          .node(new Node("node", "Loop", "", List.of("M", cond, "x"), List.of("y", "seen"),
              Map.of("body", Attribute.ofGraph(body))))
          .output("y", TensorType.of(DType.FLOAT32, 2))
          .output("seen", TensorType.of(DType.FLOAT32, 1, 2))
          .build();
      Map<String, Tensor> out = checkAgainstOrt(g, Map.of("x", random.of(DType.FLOAT32, 2)));
      assertArrayEquals(new long[] {1, 2}, out.get("seen").shape());
    }
  }

  @Test
  void loopRejectsBodyArityMismatch() {
    Graph body = Graph.builder("body")
        .input("i", TensorType.of(DType.INT64))
        .input("c", TensorType.of(DType.BOOL))
        .input("x_in", TensorType.of(DType.FLOAT32, 2, 3))
        .node(Node.of("relu", "Relu", List.of("x_in"), List.of("x_out")))
        .output("c", TensorType.of(DType.BOOL))
        .output("x_out", TensorType.of(DType.FLOAT32, 2, 3))
        .build();
    ModelException e = assertThrows(ModelException.class, () -> OpTester.op("Loop").opset(13).outputs("a", "b")
        .constant("M", Tensor.scalarLong(DType.INT64, 3)).skipInput()
        .input("x", DType.FLOAT32, 2, 3).input("y", DType.FLOAT32, 2, 3)
        .attr("body", Attribute.ofGraph(body)).graph());
    assertTrue(e.getMessage().contains("Loop 'node'"), e.getMessage());
  }

  /** Scan body: s_out = s_in + x; y = relu(s_out). */
  private static Graph scanBody(long... sliceShape) {
    return Graph.builder("body")
        .input("s_in", TensorType.of(DType.FLOAT32, sliceShape))
        .input("x", TensorType.of(DType.FLOAT32, sliceShape))
        .node(Node.of("add", "Add", List.of("s_in", "x"), List.of("s_out")))
        .node(Node.of("relu", "Relu", List.of("s_out"), List.of("y")))
        .output("s_out", TensorType.of(DType.FLOAT32, sliceShape))
        .output("y", TensorType.of(DType.FLOAT32, sliceShape))
        .build();
  }

  @Test
  void scanForwardAndReverse() {
    for (long inDir = 0; inDir < 2; inDir++) {
      for (long outDir = 0; outDir < 2; outDir++) {
        OpTester.op("Scan").opset(11).outputs("s", "ys")
            .input("s0", DType.FLOAT32, 3)
            .input("xs", DType.FLOAT32, 5, 3)
            .attr("body", Attribute.ofGraph(scanBody(3)))
            .attr("num_scan_inputs", 1L)
            .attr("scan_input_directions", new long[] {inDir})
            .attr("scan_output_directions", new long[] {outDir})
            .check();
      }
    }
  }

  @Test
  void scanAlongOtherAxes() {
    OpTester.op("Scan").opset(11).outputs("s", "ys")
        .input("s0", DType.FLOAT32, 2, 3)
        .input("xs", DType.FLOAT32, 2, 4, 3)
        .attr("body", Attribute.ofGraph(scanBody(2, 3)))
        .attr("num_scan_inputs", 1L)
        .attr("scan_input_axes", new long[] {1})
        .attr("scan_output_axes", new long[] {-1})
        .check();
    OpTester.op("Scan").opset(9).outputs("s", "ys")
        .input("s0", DType.FLOAT32, 2, 3)
        .input("xs", DType.FLOAT32, 4, 2, 3)
        .attr("body", Attribute.ofGraph(scanBody(2, 3)))
        .attr("num_scan_inputs", 1L)
        .check();
  }

  @Test
  void scan8HasABatchAxisAndSequenceLengths() {
    Graph g = OpTester.op("Scan").opset(8).outputs("s", "ys")
        .skipInput()
        .input("s0", DType.FLOAT32, 2, 3)
        .input("xs", DType.FLOAT32, 2, 4, 3)
        .attr("body", Attribute.ofGraph(scanBody(3)))
        .attr("num_scan_inputs", 1L)
        .graph();
    assertEquals("f32[2, 4, 3]", g.outputs().get(1).type().toString());
    Tensor xs = Tensor.ofFloats(new long[] {2, 4, 1}, 1, 2, 3, 4, -1, -2, 5, 6);
    Tensor s0 = Tensor.ofFloats(new long[] {2, 1}, 0, 10);
    Graph one = OpTester.op("Scan").opset(8).outputs("s", "ys")
        .input("lens", Tensor.ofLongs(DType.INT64, new long[] {2}, 4, 2))
        .input("s0", s0).input("xs", xs)
        .attr("body", Attribute.ofGraph(scanBody(1)))
        .attr("num_scan_inputs", 1L)
        .attr("directions", new long[] {1})
        .graph();
    Map<String, Tensor> out = ReferenceEvaluator.standard().run(one,
        Map.of("lens", Tensor.ofLongs(DType.INT64, new long[] {2}, 4, 2), "s0", s0, "xs", xs));
    assertEquals(Tensor.ofFloats(new long[] {2, 1}, 10, 7), out.get("s"));
    assertEquals(Tensor.ofFloats(new long[] {2, 4, 1}, 4, 7, 9, 10, 8, 7, 0, 0), out.get("ys"));
  }

  @Test
  void scanRejectsMismatchedSteps() {
    Graph body = Graph.builder("body")
        .input("a", TensorType.of(DType.FLOAT32, 3))
        .input("b", TensorType.of(DType.FLOAT32, 3))
        .node(Node.of("add", "Add", List.of("a", "b"), List.of("y")))
        .output("y", TensorType.of(DType.FLOAT32, 3))
        .build();
    Graph g = OpTester.op("Scan").opset(11).outputs("ys")
        .input("xa", DType.FLOAT32, 4, 3).input("xb", DType.FLOAT32, 5, 3)
        .attr("body", Attribute.ofGraph(body)).attr("num_scan_inputs", 2L).graph();
    ModelException e = assertThrows(ModelException.class, () -> ReferenceEvaluator.standard().run(g,
        Map.of("xa", Tensor.zeros(DType.FLOAT32, new long[] {4, 3}), "xb", Tensor.zeros(DType.FLOAT32, new long[] {5, 3}))));
    assertTrue(e.getMessage().contains("Scan 'node'"), e.getMessage());
  }
}
