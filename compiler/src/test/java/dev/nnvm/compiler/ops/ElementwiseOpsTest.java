package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import org.junit.jupiter.api.Test;

class ElementwiseOpsTest {
  @Test
  void addBroadcasts() {
    OpTester.op("Add").input("a", DType.FLOAT32, 2, 3, 4).input("b", DType.FLOAT32, 3, 1).check();
    OpTester.op("Add").input("a", DType.INT64, 5).input("b", DType.INT64).check();
  }

  @Test
  void relu() {
    OpTester.op("Relu").input("x", DType.FLOAT32, 4, 5).check();
  }
}
