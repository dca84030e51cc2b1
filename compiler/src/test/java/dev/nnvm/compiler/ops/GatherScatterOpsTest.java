package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatherScatterOpsTest {
  private final RandomTensors random = new RandomTensors(11);

  private static Tensor i64(long... v) {
    return Tensor.vector(v);
  }

  @Test
  void gather() {
    OpTester.op("Gather").opset(13).input("x", DType.FLOAT32, 5, 4)
        .input("i", random.ints(DType.INT64, -5, 5, 2, 3)).check();
    OpTester.op("Gather").opset(13).input("x", DType.INT64, 3, 4, 2)
        .input("i", random.ints(DType.INT32, -4, 4, 3)).attr("axis", -2L).check();
    OpTester.op("Gather").opset(11).input("x", DType.FLOAT32, 3, 4)
        .constant("i", Tensor.scalarLong(DType.INT64, -1)).attr("axis", 1L).check();
  }

  @Test
  void gatherElementsAndNd() {
    OpTester.op("GatherElements").opset(13).input("x", DType.FLOAT32, 3, 4)
        .input("i", random.ints(DType.INT64, -3, 3, 5, 4)).check();
    OpTester.op("GatherElements").opset(13).input("x", DType.FLOAT32, 3, 4)
        .input("i", random.ints(DType.INT32, -4, 4, 3, 2)).attr("axis", -1L).check();
    OpTester.op("GatherND").opset(13).input("x", DType.FLOAT32, 3, 4, 2)
        .input("i", random.ints(DType.INT64, 0, 3, 5, 2)).check();
    OpTester.op("GatherND").opset(13).input("x", DType.INT32, 2, 3, 4)
        .input("i", random.ints(DType.INT64, -3, 3, 2, 1)).attr("batch_dims", 1L).check();
    OpTester.op("GatherND").opset(13).input("x", DType.FLOAT32, 2, 3, 4)
        .input("i", random.ints(DType.INT64, 0, 2, 2, 5, 2)).attr("batch_dims", 1L).check();
  }

  @Test
  void scatterElementsReductions() {
    Tensor unique = Tensor.ofLongs(DType.INT64, new long[] {2, 3}, 1, 0, -1, 0, 2, 1);
    OpTester.op("ScatterElements").opset(13).input("x", DType.FLOAT32, 3, 3).input("i", unique)
        .input("u", DType.FLOAT32, 2, 3).check();
    OpTester.op("Scatter").opset(10).input("x", DType.FLOAT32, 3, 3).input("i", unique)
        .input("u", DType.FLOAT32, 2, 3).attr("axis", 1L).check();
    for (String red : new String[] {"add", "mul", "max", "min"}) {
      OpTester.op("ScatterElements").opset(18).input("x", DType.FLOAT32, 3, 4)
          .input("i", random.ints(DType.INT64, -3, 3, 5, 2)).input("u", DType.FLOAT32, 5, 2)
          .attr("reduction", red).check();
      OpTester.op("ScatterND").opset(18).input("x", DType.FLOAT32, 4, 3)
          .input("i", random.ints(DType.INT64, -4, 4, 5, 1)).input("u", DType.FLOAT32, 5, 3)
          .attr("reduction", red).check();
    }
    OpTester.op("ScatterElements").opset(16).input("x", DType.INT32, 3, 4)
        .input("i", random.ints(DType.INT64, 0, 4, 3, 4)).input("u", DType.INT32, 3, 4)
        .attr("axis", 1L).attr("reduction", "add").check();
  }

  @Test
  void scatterNd() {
    OpTester.op("ScatterND").opset(11).input("x", DType.FLOAT32, 4, 3, 2)
        .input("i", Tensor.ofLongs(DType.INT64, new long[] {2, 2}, 1, 2, 3, 0)).input("u", DType.FLOAT32, 2, 2).check();
    OpTester.op("ScatterND").opset(13).input("x", DType.INT64, 4, 3)
        .input("i", Tensor.ofLongs(DType.INT64, new long[] {2, 1}, 2, -4)).input("u", DType.INT64, 2, 3).check();
  }

  @Test
  void oneHot() {
    OpTester.op("OneHot").opset(11).input("i", random.ints(DType.INT64, -5, 5, 2, 3))
        .constant("d", Tensor.scalarLong(DType.INT64, 5)).constant("v", Tensor.ofFloats(new long[] {2}, -1f, 3f)).check();
    OpTester.op("OneHot").opset(11).input("i", random.ints(DType.INT32, 0, 6, 4))
        .constant("d", Tensor.ofFloats(new long[] {1}, 4f)).constant("v", Tensor.ofFloats(new long[] {2}, 0f, 1f)).attr("axis", 0L).check();
  }

  @Test
  void nonZeroCompressUnique() {
    OpTester.op("NonZero").opset(13).input("x", DType.INT32, 3, 4).check();
    OpTester.op("NonZero").opset(13).input("x", DType.BOOL, 5).check();
    OpTester.op("Compress").opset(11).input("x", DType.FLOAT32, 3, 4)
        .constant("c", Tensor.ofBools(new long[] {3}, true, false, true)).attr("axis", 0L).check();
    OpTester.op("Compress").opset(11).input("x", DType.FLOAT32, 3, 4)
        .constant("c", Tensor.ofBools(new long[] {3}, false, true, true)).attr("axis", -1L).check();
    OpTester.op("Compress").opset(11).input("x", DType.INT64, 2, 3)
        .constant("c", Tensor.ofBools(new long[] {5}, false, true, true, false, true)).check();
    OpTester.op("Unique").opset(11).input("x", random.ints(DType.INT64, 0, 5, 9))
        .outputs("y", "idx", "inv", "cnt").check();
    OpTester.op("Unique").opset(11).input("x", random.ints(DType.FLOAT32, 0, 4, 9)).attr("sorted", 0L)
        .outputs("y", "idx", "inv", "cnt").check();
    OpTester.op("Unique").opset(11).input("x", random.ints(DType.INT64, 0, 2, 4, 3)).attr("axis", 0L)
        .outputs("y", "idx", "inv", "cnt").check();
  }

  @Test
  void outOfRangeIndexNamesTheNode() {
    OpTester t = OpTester.op("Gather").opset(13).input("x", DType.FLOAT32, 3).input("i", i64(3));
    ModelException e = assertThrows(ModelException.class,
        () -> dev.nnvm.compiler.eval.ReferenceEvaluator.standard().run(t.graph(),
            Map.of("x", Tensor.ofFloats(new long[] {3}, 1, 2, 3), "i", i64(3))));
    assertTrue(e.getMessage().contains("Gather 'node'") && e.getMessage().contains("index 3"), e.getMessage());
  }
}
