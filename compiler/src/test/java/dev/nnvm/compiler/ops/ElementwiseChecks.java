package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks of elementwise operators that do not go through ONNX Runtime:
 * exact results for element types its Java API cannot carry, inferred types
 * of symbolic shapes, and errors naming the node.
 */
final class ElementwiseChecks {
  private ElementwiseChecks() {}

  /** Evaluates a one-node graph ("node" of {@code op}) with our reference evaluator on the given inputs. */
  static Tensor eval(String op, int opset, Map<String, Attribute> attrs, Tensor... inputs) {
    Graph.Builder b = Graph.builder("check_" + op).opset("", opset);
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    for (int i = 0; i < inputs.length; i++) {
      String name = "in" + i;
      names.add(name);
      b.input(name, inputs[i].type());
      feeds.put(name, inputs[i]);
    }
    b.node(new Node("node", op, "", names, List.of("out"), attrs));
    b.output("out", TensorType.unknownShape(DType.FLOAT32));
    Graph typed = TypeInference.infer(b.build());
    Tensor out = ReferenceEvaluator.standard().run(typed, feeds).get("out");
    assertEquals(out.type().dtype(), typed.valueTypes().get("out").dtype(), op + ": inferred element type");
    return out;
  }

  static Tensor eval(String op, Tensor... inputs) {
    return eval(op, 18, Map.of(), inputs);
  }

  /** The inferred output type of a one-node graph over inputs of the given types ("f32[N, 3]"). */
  static TensorType infer(String op, int opset, Map<String, Attribute> attrs, String... inputTypes) {
    Graph.Builder b = Graph.builder("infer_" + op).opset("", opset);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < inputTypes.length; i++) {
      String name = inputTypes[i].isEmpty() ? "" : "in" + i;
      names.add(name);
      if (!name.isEmpty()) {
        b.input(name, TensorType.parse(inputTypes[i]));
      }
    }
    b.node(new Node("node", op, "", names, List.of("out"), attrs));
    b.output("out", TensorType.unknownShape(DType.FLOAT32));
    return TypeInference.infer(b.build()).valueTypes().get("out");
  }

  static TensorType infer(String op, String... inputTypes) {
    return infer(op, 18, Map.of(), inputTypes);
  }

  /** Asserts that inferring the node's types fails with a message naming the node and containing {@code part}. */
  static void assertInferError(String part, String op, int opset, Map<String, Attribute> attrs, String... inputTypes) {
    ModelException e = assertThrows(ModelException.class, () -> infer(op, opset, attrs, inputTypes));
    assertTrue(e.getMessage().contains("'node'"), () -> "message should name the node: " + e.getMessage());
    assertTrue(e.getMessage().contains(part), () -> "message should contain '" + part + "': " + e.getMessage());
  }

  static Tensor longs(DType t, long... values) {
    return Tensor.ofLongs(t, new long[] {values.length}, values);
  }

  static void assertLongs(Tensor actual, DType t, long... expected) {
    assertEquals(t, actual.dtype());
    assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(actual.longs()));
  }
}
