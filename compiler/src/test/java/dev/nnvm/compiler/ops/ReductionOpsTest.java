package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import org.junit.jupiter.api.Test;

class ReductionOpsTest {
  private static final String[] REDUCE = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
      "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};

  @Test
  void reduceWithAxesAttribute() {
    for (String op : REDUCE) {
      OpTester.op(op).opset(11).input("x", DType.FLOAT32, 2, 3, 4).attr("axes", 1L, -1L).check();
      OpTester.op(op).opset(11).input("x", DType.FLOAT32, 2, 3, 4).attr("axes", new long[] {0}).attr("keepdims", 0L).check();
      OpTester.op(op).opset(11).input("x", DType.FLOAT64, 3, 4).check();
    }
  }

  @Test
  void reduceWithAxesInput() {
    for (String op : REDUCE) {
      OpTester.op(op).opset(18).input("x", DType.FLOAT32, 2, 3, 4).constant("axes", Tensor.vector(0, 2)).check();
      OpTester.op(op).opset(18).input("x", DType.FLOAT32, 2, 3, 4).constant("axes", Tensor.vector(1))
          .attr("keepdims", 0L).check();
      OpTester.op(op).opset(18).input("x", DType.FLOAT32, 2, 3).check();
      OpTester.op(op).opset(18).input("x", DType.FLOAT32, 2, 3).constant("axes", Tensor.vector())
          .attr("noop_with_empty_axes", 1L).check();
    }
    OpTester.op("ReduceSum").opset(13).input("x", DType.FLOAT32, 2, 3, 4).constant("axes", Tensor.vector(-2)).check();
    OpTester.op("ReduceSum").opset(13).input("x", DType.FLOAT32, 2, 3, 4).input("axes", Tensor.vector(0)).check();
  }

  @Test
  void reduceIntegers() {
    for (String op : new String[] {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
        "ReduceSumSquare"}) {
      OpTester.op(op).opset(18).input("x", DType.INT64, 3, 4).constant("axes", Tensor.vector(1)).check();
      OpTester.op(op).opset(18).input("x", DType.INT32, 3, 4).constant("axes", Tensor.vector(0)).check();
    }
  }

  @Test
  void halfPrecision() {
    for (String op : new String[] {"ReduceSum", "ReduceMean", "ReduceMax"}) {
      OpTester.op(op).opset(18).input("x", DType.FLOAT16, 4, 6).constant("axes", Tensor.vector(1))
          .tolerance(2e-3, 2e-3).check();
    }
    OpTester.op("Softmax").opset(13).input("x", DType.FLOAT16, 3, 8).tolerance(2e-3, 2e-3).check();
  }

  @Test
  void reduceRejectsBadKeepdims() {
    ModelException e = assertThrows(ModelException.class,
        () -> OpTester.op("ReduceMax").opset(11).input("x", DType.FLOAT32, 2, 3).attr("keepdims", 2L).graph());
    assertTrue(e.getMessage().contains("ReduceMax 'node'"), e.getMessage());
  }

  @Test
  void reduceRejectsBadAxis() {
    ModelException e = assertThrows(ModelException.class,
        () -> OpTester.op("ReduceSum").opset(11).input("x", DType.FLOAT32, 2, 3).attr("axes", 5L).graph());
    assertTrue(e.getMessage().contains("node"), e.getMessage());
  }

  @Test
  void argMaxArgMin() {
    for (String op : new String[] {"ArgMax", "ArgMin"}) {
      OpTester.op(op).opset(13).input("x", DType.FLOAT32, 3, 4, 5).attr("axis", 1L).check();
      OpTester.op(op).opset(13).input("x", DType.FLOAT32, 3, 4, 5).attr("axis", -1L).attr("keepdims", 0L).check();
      OpTester.op(op).opset(13).input("x", DType.INT32, 6, 5).attr("select_last_index", 1L).check();
      OpTester.op(op).opset(13).input("x", DType.INT64, 6, 5).check();
    }
  }

  @Test
  void softmaxFamily() {
    for (String op : new String[] {"Softmax", "LogSoftmax", "Hardmax"}) {
      OpTester.op(op).opset(11).input("x", DType.FLOAT32, 2, 3, 4).attr("axis", 2L).check();
      OpTester.op(op).opset(11).input("x", DType.FLOAT32, 2, 3, 4).check();
      OpTester.op(op).opset(11).input("x", DType.FLOAT32, 2, 3, 4).attr("axis", 0L).check();
    }
    // ONNX Runtime 1.23 has no Hardmax-13 kernel; the conformance cases cover it.
    for (String op : new String[] {"Softmax", "LogSoftmax"}) {
      OpTester.op(op).opset(13).input("x", DType.FLOAT32, 2, 3, 4).check();
      OpTester.op(op).opset(13).input("x", DType.FLOAT32, 2, 3, 4).attr("axis", 1L).check();
      OpTester.op(op).opset(13).input("x", DType.FLOAT64, 3, 5).attr("axis", 0L).check();
    }
  }

  @Test
  void cumSum() {
    for (long ex = 0; ex < 2; ex++) {
      for (long rev = 0; rev < 2; rev++) {
        OpTester.op("CumSum").opset(14).input("x", DType.FLOAT32, 3, 4).constant("axis", Tensor.vector(1).reshape())
            .attr("exclusive", ex).attr("reverse", rev).check();
        OpTester.op("CumSum").opset(14).input("x", DType.INT64, 3, 4)
            .constant("axis", Tensor.scalarLong(DType.INT32, 0)).attr("exclusive", ex).attr("reverse", rev).check();
      }
    }
  }

  @Test
  void topK() {
    OpTester.op("TopK").opset(11).outputs("v", "i").input("x", DType.FLOAT32, 3, 7).constant("k", Tensor.vector(3))
        .check();
    OpTester.op("TopK").opset(11).outputs("v", "i").input("x", DType.FLOAT32, 5, 4, 3)
        .constant("k", Tensor.vector(2)).attr("axis", 1L).attr("largest", 0L).check();
    OpTester.op("TopK").opset(11).outputs("v", "i").input("x", DType.INT64, 4, 9).constant("k", Tensor.vector(4))
        .check();
    OpTester.op("TopK").opset(9).outputs("v", "i").input("x", DType.FLOAT32, 3, 7).attr("k", 2L).check();
  }

  @Test
  void einsum() {
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 2, 3).input("b", DType.FLOAT32, 3, 4)
        .attr("equation", "ij,jk->ik").check();
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 2, 3).input("b", DType.FLOAT32, 3, 4)
        .attr("equation", "ij,jk").check();
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 5, 2, 3).input("b", DType.FLOAT32, 5, 3, 4)
        .attr("equation", "bij,bjk->bik").check();
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 4, 4).attr("equation", "ii->i").check();
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 4, 4).attr("equation", "ii").check();
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 2, 3, 4).attr("equation", "...ij->...ji").check();
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 2, 3, 4).input("b", DType.FLOAT32, 1, 4, 5)
        .attr("equation", "...ij,...jk->...ik").check();
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 3).input("b", DType.FLOAT32, 4)
        .attr("equation", "i,j->ij").check();
    OpTester.op("Einsum").opset(12).input("a", DType.FLOAT32, 3, 5).input("b", DType.FLOAT32, 5)
        .input("c", DType.FLOAT32, 3).attr("equation", "ij,j,i->").check();
    OpTester.op("Einsum").opset(12).input("a", DType.INT64, 3, 4).input("b", DType.INT64, 4, 2)
        .attr("equation", "ij, jk -> ki").check();
  }

  @Test
  void einsumRejectsBadEquation() {
    ModelException e = assertThrows(ModelException.class, () -> OpTester.op("Einsum").opset(12)
        .input("a", DType.FLOAT32, 2, 3).attr("equation", "ijk->i").graph());
    assertTrue(e.getMessage().contains("Einsum"), e.getMessage());
  }
}
