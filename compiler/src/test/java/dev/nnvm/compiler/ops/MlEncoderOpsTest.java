package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * LabelEncoder (opsets 1 and 2), CategoryMapper and OneHotEncoder ({@code ai.onnx.ml}) against ONNX Runtime's
 * kernels, on fixed inputs with values outside the mapping (which get the default).
 */
class MlEncoderOpsTest {
  private static final String ML = TreeEnsembleOps.ML;

  private static OpTester op(String name, int opset, Tensor x) {
    OpTester t = OpTester.op(name).domain(ML, opset).input("X", x).outputs("Y");
    return t;
  }

  private static Tensor strings(String... s) {
    return Tensor.ofStrings(new long[] {s.length}, s);
  }

  @Test
  void encodersMatchOnnxRuntime() {
    Tensor words = strings("cat", "dog", "eel", "cat", "yak");
    op("LabelEncoder", 2, words).attr("keys_strings", Attribute.ofStrings(List.of("cat", "dog", "eel")))
        .attr("values_int64s", 7L, 8L, 9L).attr("default_int64", 42L).check();
    op("LabelEncoder", 2, Tensor.ofLongs(DType.INT64, new long[] {2, 3}, 1, 2, 3, 4, 5, 1))
        .attr("keys_int64s", 1L, 2L, 3L).attr("values_strings", Attribute.ofStrings(List.of("a", "b", "c")))
        .attr("default_string", "none").check();
    op("LabelEncoder", 2, Tensor.ofLongs(DType.INT64, new long[] {4}, 1, 2, 3, 9))
        .attr("keys_int64s", 1L, 2L, 3L).attr("values_floats", 0.5f, -1f, 2.25f).attr("default_float", 7f).check();
    op("CategoryMapper", 1, words).attr("cats_strings", Attribute.ofStrings(List.of("dog", "cat")))
        .attr("cats_int64s", 1L, 2L).attr("default_int64", -5L).check();
    op("CategoryMapper", 1, Tensor.ofLongs(DType.INT64, new long[] {4}, 2, 1, 3, 2))
        .attr("cats_strings", Attribute.ofStrings(List.of("dog", "cat"))).attr("cats_int64s", 1L, 2L)
        .attr("default_string", "?").check();
    op("OneHotEncoder", 1, Tensor.ofLongs(DType.INT64, new long[] {2, 3}, 4, 8, 15, 16, 4, 42))
        .attr("cats_int64s", 4L, 8L, 15L, 16L).attr("zeros", 1L).check();
    op("OneHotEncoder", 1, words).attr("cats_strings", Attribute.ofStrings(List.of("cat", "dog", "eel")))
        .check();
  }

  @Test
  void oneHotWithoutZerosRefusesAnUnknownValue() {
    OpTester t = op("OneHotEncoder", 1, Tensor.ofLongs(DType.INT64, new long[] {3}, 4, 5, 6))
        .attr("cats_int64s", 4L, 5L).attr("zeros", 0L);
    Exception e = assertThrows(Exception.class,
        () -> ReferenceEvaluator.standard().run(t.graph(), Map.of("X", Tensor.ofLongs(DType.INT64,
            new long[] {3}, 4, 5, 6))));
    System.out.println("refused: " + e.getMessage());
    assertTrue(e.getMessage().contains("value 6 (element 2) is not one of the categories"), e.getMessage());
  }
}
