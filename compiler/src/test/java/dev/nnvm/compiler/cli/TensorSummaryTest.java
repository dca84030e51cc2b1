package dev.nnvm.compiler.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import org.junit.jupiter.api.Test;

class TensorSummaryTest {
  @Test
  void floatStatisticsAndFirstValues() {
    Tensor t = Tensor.ofFloats(new long[] {2, 3}, -1.5f, 2f, 0.1f, 4f, 5f, 6f);
    assertEquals("f32 [2, 3] min=-1.5 max=6 mean=2.6 values=[-1.5, 2, 0.1, 4, 5, ...]", TensorSummary.of(t));
  }

  @Test
  void nansAreCountedNotAveraged() {
    Tensor t = Tensor.ofDoubles(new long[] {3}, 1, Double.NaN, 3);
    assertEquals("f64 [3] min=1 max=3 mean=2 nan=1 values=[1, NaN, 3]", TensorSummary.of(t));
    assertEquals("f64 [1] nan=1 values=[NaN]", TensorSummary.of(Tensor.ofDoubles(new long[] {1}, Double.NaN)));
  }

  @Test
  void integersAreExact() {
    Tensor big = Tensor.ofLongs(DType.INT64, new long[] {2}, Long.MAX_VALUE, -3);
    assertEquals("i64 [2] min=-3 max=9223372036854775807 mean=4.61169e+18 values=[9223372036854775807, -3]",
        TensorSummary.of(big));
    Tensor nearMax = Tensor.ofLongs(DType.INT64, new long[] {2}, Long.MAX_VALUE - 1, Long.MAX_VALUE - 2);
    assertEquals("i64 [2] min=9223372036854775805 max=9223372036854775806 mean=9.22337e+18"
        + " values=[9223372036854775806, 9223372036854775805]", TensorSummary.of(nearMax));
    Tensor u64 = Tensor.ofLongs(DType.UINT64, new long[] {2}, -1L, 5);
    assertEquals("u64 [2] min=5 max=18446744073709551615 mean=9.22337e+18 values=[18446744073709551615, 5]",
        TensorSummary.of(u64));
  }

  @Test
  void boolsStringsScalarsAndEmpty() {
    assertEquals("bool [3] true=2/3 values=[true, false, true]",
        TensorSummary.of(Tensor.ofBools(new long[] {3}, true, false, true)));
    assertEquals("string [2] values=[\"a\", \"b c\"]", TensorSummary.of(Tensor.ofStrings(new long[] {2}, "a", "b c")));
    assertEquals("f32 [] min=0.5 max=0.5 mean=0.5 values=[0.5]", TensorSummary.of(Tensor.scalarFloat(0.5f)));
    assertEquals("f32 [0, 4] (empty)", TensorSummary.of(Tensor.zeros(DType.FLOAT32, new long[] {0, 4})));
  }

  @Test
  void numberFormat() {
    assertEquals("0.333333", TensorSummary.format(1.0 / 3));
    assertEquals("1.23457e+07", TensorSummary.format(12345678.9));
    assertEquals("1e-07", TensorSummary.format(1e-7));
    assertEquals("-Infinity", TensorSummary.format(Double.NEGATIVE_INFINITY));
  }
}
