package dev.nnvm.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SamplesTest {
  @Test
  void medianOfOddAndEvenCounts() {
    assertEquals(2.0, Samples.of(3, 1, 2).median());
    assertEquals(2.5, Samples.of(4, 1, 3, 2).median());
    assertEquals(7.0, Samples.of(7).median());
    assertEquals(-0.5, Samples.of(-1, 0).median());
  }

  @Test
  void percentilesInterpolateBetweenRanks() {
    Samples oneToTen = Samples.of(10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    assertEquals(1.0, oneToTen.percentile(0));
    assertEquals(10.0, oneToTen.percentile(100));
    assertEquals(5.5, oneToTen.median());
    assertEquals(9.1, oneToTen.percentile(90), 1e-12); // position 8.1: 9 + 0.1 * (10 - 9)
    assertEquals(3.25, oneToTen.percentile(25));        // position 2.25: 3 + 0.25 * 1
    Samples skewed = Samples.of(100, 1, 2, 3, 4);
    assertEquals(3.0, skewed.median(), "the median ignores the outlier");
    assertEquals(61.6, skewed.percentile(90), 1e-12);  // position 3.6: 4 + 0.6 * 96
    assertEquals(22.0, skewed.mean());
    assertEquals(1.0, skewed.min());
    assertEquals(100.0, skewed.max());
    assertEquals(5, skewed.count());
  }

  @Test
  void repeatedValuesAndInputOrderDoNotMatter() {
    assertEquals(2.0, Samples.of(2, 2, 2, 2).percentile(37));
    double[] values = {5, 3, 9, 1};
    Samples s = Samples.of(values);
    values[0] = 1000;
    assertEquals(4.0, s.median(), "the samples are a copy");
  }

  @Test
  void badInputsAreRefused() {
    assertThrows(IllegalArgumentException.class, Samples::of);
    assertThrows(IllegalArgumentException.class, () -> Samples.of(1, Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> Samples.of(1, 2).percentile(101));
    assertThrows(IllegalArgumentException.class, () -> Samples.of(1, 2).percentile(-0.1));
    assertThrows(IllegalArgumentException.class, () -> Samples.of(1, 2).percentile(Double.NaN));
  }
}
