package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Type rules of the reduction and quantization families keep symbolic dimensions. */
class SymbolicShapeInferenceTest {
  /** Infers the types of a one-node graph; inputs are "name:type" (e.g. "x:f32[N, seq, 8]"). */
  private static List<String> infer(String op, int opset, Map<String, Tensor> constants, Map<String, Attribute> attrs,
      int outputs, String... inputs) {
    Graph.Builder b = Graph.builder("g").opset("", opset);
    List<String> names = new ArrayList<>();
    for (String in : inputs) {
      String[] p = in.split(":", 2);
      names.add(p[0]);
      if (!constants.containsKey(p[0])) {
        b.input(p[0], TensorType.parse(p[1]));
      }
    }
    constants.forEach(b::constant);
    List<String> outs = new ArrayList<>();
    for (int i = 0; i < outputs; i++) {
      outs.add("y" + i);
      b.output("y" + i, TensorType.unknownShape(dev.nnvm.runtime.DType.FLOAT32));
    }
    b.node(new Node("n", op, "", names, outs, attrs));
    Graph typed = TypeInference.infer(b.build());
    List<String> types = new ArrayList<>();
    outs.forEach(o -> types.add(typed.valueTypes().get(o).toString()));
    return types;
  }

  private static Map<String, Attribute> attrs(Object... kv) {
    Map<String, Attribute> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      Object v = kv[i + 1];
      m.put((String) kv[i], v instanceof long[] ? Attribute.ofInts((long[]) v)
          : v instanceof String ? Attribute.ofString((String) v) : Attribute.ofInt((Long) v));
    }
    return m;
  }

  @Test
  void reductions() {
    assertEquals(List.of("f32[N, 1, 8]"), infer("ReduceSum", 13, Map.of("a", Tensor.vector(1)), Map.of(), 1,
        "x:f32[N, seq, 8]", "a:"));
    assertEquals(List.of("f32[N, 8]"), infer("ReduceMean", 11, Map.of(),
        attrs("axes", new long[] {1}, "keepdims", 0L), 1, "x:f32[N, seq, 8]"));
    assertEquals(List.of("f32[?, ?, ?]"), infer("ReduceMax", 18, Map.of(), Map.of(), 1, "x:f32[N, seq, 8]",
        "a:i64[1]"));
    assertEquals(List.of("i64[N, 8]"), infer("ArgMax", 13, Map.of(), attrs("axis", 1L, "keepdims", 0L), 1,
        "x:f32[N, seq, 8]"));
    assertEquals(List.of("f32[N, seq, 8]"), infer("Softmax", 13, Map.of(), Map.of(), 1, "x:f32[N, seq, 8]"));
    assertEquals(List.of("f32[N, 3]", "i64[N, 3]"), infer("TopK", 11, Map.of("k", Tensor.vector(3)), Map.of(), 2,
        "x:f32[N, seq]", "k:"));
    assertEquals(List.of("f32[N, seq, 4]"), infer("Einsum", 12, Map.of(), attrs("equation", "bij,bjk->bik"), 1,
        "a:f32[N, seq, 8]", "b:f32[N, 8, 4]"));
  }

  @Test
  void quantization() {
    assertEquals(List.of("i32[N, seq, 64]"), infer("MatMulInteger", 10, Map.of(), Map.of(), 1,
        "a:u8[N, seq, 32]", "b:i8[32, 64]"));
    assertEquals(List.of("u8[N, seq]", "f32[]", "u8[]"), infer("DynamicQuantizeLinear", 11, Map.of(), Map.of(), 3,
        "x:f32[N, seq]"));
    assertEquals(List.of("i8[N, 4]"), infer("QuantizeLinear", 13,
        Map.of("s", Tensor.scalarFloat(0.5f), "z", Tensor.scalarLong(dev.nnvm.runtime.DType.INT8, 0)), Map.of(), 1,
        "x:f32[N, 4]", "s:", "z:"));
  }
}
