package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import org.junit.jupiter.api.Test;

class LayoutOpsTest {
  private static Tensor i64(long... v) {
    return Tensor.vector(v);
  }

  @Test
  void transpose() {
    OpTester.op("Transpose").opset(13).input("x", DType.FLOAT32, 2, 3, 4).check();
    OpTester.op("Transpose").opset(13).input("x", DType.INT32, 2, 3, 4, 5).attr("perm", 0L, 3L, 1L, 2L).check();
    OpTester.op("Transpose").opset(21).input("x", DType.BOOL, 2, 3).attr("perm", 1L, 0L).check();
  }

  @Test
  void concat() {
    OpTester.op("Concat").opset(13).input("a", DType.FLOAT32, 2, 3).input("b", DType.FLOAT32, 2, 1)
        .input("c", DType.FLOAT32, 2, 4).attr("axis", -1L).check();
    OpTester.op("Concat").opset(11).input("a", DType.INT64, 1, 3).input("b", DType.INT64, 2, 3).attr("axis", 0L).check();
    OpTester.op("Concat").opset(13).input("a", DType.FLOAT32, 2, 0).input("b", DType.FLOAT32, 2, 2).attr("axis", 1L).check();
  }

  @Test
  void splitForms() {
    OpTester.op("Split").opset(11).input("x", DType.FLOAT32, 6, 2).attr("split", 2L, 4L).outputs("a", "b").check();
    OpTester.op("Split").opset(11).input("x", DType.FLOAT32, 2, 6).attr("axis", -1L).outputs("a", "b", "c").check();
    OpTester.op("Split").opset(13).input("x", DType.FLOAT32, 5, 2).constant("s", i64(1, 4)).outputs("a", "b").check();
    OpTester.op("Split").opset(18).input("x", DType.INT32, 7, 2).attr("num_outputs", 3L).outputs("a", "b", "c").check();
  }

  @Test
  void sliceForms() {
    OpTester.op("Slice").opset(9).input("x", DType.FLOAT32, 5, 6).attr("starts", 1L, -4L).attr("ends", 3L, 100L).check();
    OpTester.op("Slice").opset(9).input("x", DType.FLOAT32, 5, 6).attr("starts", Attribute.ofInts(1)).attr("ends", Attribute.ofInts(-1))
        .attr("axes", Attribute.ofInts(1)).check();
    OpTester.op("Slice").opset(13).input("x", DType.FLOAT32, 5, 6, 3).constant("s", i64(-1, 0))
        .constant("e", i64(Long.MIN_VALUE, 6)).constant("a", i64(0, -2)).constant("st", i64(-2, 3)).check();
    OpTester.op("Slice").opset(13).input("x", DType.INT64, 5, 6).constant("s", i64(10))
        .constant("e", i64(-10)).constant("a", i64(1)).constant("st", i64(-1)).check();
    OpTester.op("Slice").opset(13).input("x", DType.FLOAT32, 5, 6).constant("s", i64(3))
        .constant("e", i64(1)).check();
  }

  @Test
  void tile() {
    OpTester.op("Tile").opset(13).input("x", DType.FLOAT32, 2, 3).constant("r", i64(2, 3)).check();
    OpTester.op("Tile").opset(13).input("x", DType.INT64, 2, 1, 3).constant("r", i64(1, 4, 0)).check();
  }

  @Test
  void padModesAndForms() {
    for (String mode : new String[] {"constant", "reflect", "edge"}) {
      OpTester.op("Pad").opset(2).input("x", DType.FLOAT32, 3, 4).attr("pads", 1L, 2L, 2L, 1L).attr("mode", mode).check();
      OpTester.op("Pad").opset(13).input("x", DType.FLOAT32, 3, 4).constant("p", i64(0, 2, 2, 3)).attr("mode", mode)
          .check();
    }
    OpTester.op("Pad").opset(2).input("x", DType.FLOAT32, 3, 4).attr("pads", 1L, 0L, 0L, 1L).attr("value", 1.5f).check();
    OpTester.op("Pad").opset(13).input("x", DType.INT32, 3, 4).constant("p", i64(1, -1, 0, 2))
        .constant("v", Tensor.scalarLong(DType.INT32, 9)).check();
    OpTester.op("Pad").opset(19).input("x", DType.FLOAT32, 3, 4).constant("p", i64(2, 3, 1, 5)).attr("mode", "wrap").check();
    OpTester.op("Pad").opset(18).input("x", DType.FLOAT32, 2, 3, 4).constant("p", i64(1, 2, 0, 1))
        .constant("v", Tensor.scalarFloat(-1f)).constant("a", i64(-1, 0)).check();
  }

  @Test
  void depthSpace() {
    OpTester.op("DepthToSpace").opset(13).input("x", DType.FLOAT32, 2, 8, 2, 3).attr("blocksize", 2L).check();
    OpTester.op("DepthToSpace").opset(13).input("x", DType.FLOAT32, 1, 18, 2, 2).attr("blocksize", 3L)
        .attr("mode", "CRD").check();
    OpTester.op("SpaceToDepth").opset(13).input("x", DType.FLOAT32, 2, 3, 4, 6).attr("blocksize", 2L).check();
  }

  @Test
  void triluAndReverseSequence() {
    OpTester.op("Trilu").opset(14).input("x", DType.FLOAT32, 2, 4, 5).check();
    OpTester.op("Trilu").opset(14).input("x", DType.INT64, 4, 5).constant("k", Tensor.scalarLong(DType.INT64, -1))
        .attr("upper", 0L).check();
    OpTester.op("Trilu").opset(14).input("x", DType.FLOAT32, 3, 3).constant("k", Tensor.scalarLong(DType.INT64, 2)).check();
    OpTester.op("ReverseSequence").opset(10).input("x", DType.FLOAT32, 4, 3, 2).constant("l", i64(1, 4, 3)).check();
    OpTester.op("ReverseSequence").opset(10).input("x", DType.FLOAT32, 3, 4).constant("l", i64(2, 1, 4))
        .attr("batch_axis", 0L).attr("time_axis", 1L).check();
  }

  /** ONNX Runtime has no f16 or i16 Pad kernel, so Pad skips those two types here. */
  @Test
  void elementTypes() {
    for (DType t : new DType[] {DType.FLOAT16, DType.FLOAT64, DType.INT8, DType.UINT8, DType.INT16, DType.BOOL}) {
      OpTester.op("Transpose").opset(13).input("x", t, 2, 3, 4).attr("perm", 2L, 0L, 1L).check();
      OpTester.op("Concat").opset(13).input("a", t, 2, 3).input("b", t, 1, 3).attr("axis", 0L).check();
      OpTester.op("Slice").opset(13).input("x", t, 4, 5).constant("s", i64(1)).constant("e", i64(4)).check();
      if (t != DType.FLOAT16 && t != DType.INT16) {
        OpTester.op("Pad").opset(13).input("x", t, 2, 3).constant("p", i64(1, 1, 0, 2)).attr("mode", "edge").check();
      }
    }
  }

  @Test
  void errorsNameTheNode() {
    ModelException e = assertThrows(ModelException.class, () -> OpTester.op("Concat").opset(13)
        .input("a", DType.FLOAT32, 2, 3).input("b", DType.FLOAT32, 3, 3).attr("axis", 1L).graph());
    assertTrue(e.getMessage().contains("Concat 'node'"), e.getMessage());
    ModelException s = assertThrows(ModelException.class, () -> OpTester.op("Split").opset(13)
        .input("x", DType.FLOAT32, 5).constant("s", i64(1, 2)).outputs("a", "b").graph());
    assertTrue(s.getMessage().contains("Split 'node'") && s.getMessage().contains("sums to 3"), s.getMessage());
    ModelException t = assertThrows(ModelException.class, () -> OpTester.op("Transpose").opset(13)
        .input("x", DType.FLOAT32, 2, 3).attr("perm", 0L, 0L).graph());
    assertTrue(t.getMessage().contains("Transpose 'node'"), t.getMessage());
    ModelException sl = assertThrows(ModelException.class, () -> OpTester.op("Slice").opset(13)
        .input("x", DType.FLOAT32, 4).constant("s", Tensor.ofFloats(new long[] {1}, 1f)).constant("e", i64(3)).graph());
    assertTrue(sl.getMessage().contains("Slice 'node': input 1 has element type f32"), sl.getMessage());
  }
}
