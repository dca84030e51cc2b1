package dev.nnvm.benchmarks;

import java.util.Arrays;

/**
 * An immutable set of measurements with exact order statistics.
 *
 * <p>Percentiles interpolate linearly between the two closest ranks: with the
 * {@code n} samples sorted as {@code x[0..n-1]}, percentile {@code p} sits at
 * position {@code h = (n - 1) * p / 100} and is
 * {@code x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])}.
 * So the median of an even count is the mean of the middle two, percentile 0
 * is the minimum and 100 the maximum.
 */
public final class Samples {
  private final double[] sorted;

  private Samples(double[] sorted) {
    this.sorted = sorted;
  }

  public static Samples of(double... values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no samples");
    }
    double[] s = values.clone();
    for (double v : s) {
      if (Double.isNaN(v)) {
        throw new IllegalArgumentException("a sample is NaN");
      }
    }
    Arrays.sort(s);
    return new Samples(s);
  }

  public int count() {
    return sorted.length;
  }

  public double min() {
    return sorted[0];
  }

  public double max() {
    return sorted[sorted.length - 1];
  }

  public double mean() {
    double sum = 0;
    for (double v : sorted) {
      sum += v;
    }
    return sum / sorted.length;
  }

  public double median() {
    return percentile(50);
  }

  /** Percentile {@code p} in [0, 100], interpolated as the class comment says. */
  public double percentile(double p) {
    if (!(p >= 0 && p <= 100)) {
      throw new IllegalArgumentException("percentile must be in [0, 100], got " + p);
    }
    double h = (sorted.length - 1) * p / 100;
    int lo = (int) Math.floor(h);
    if (lo == sorted.length - 1) {
      return sorted[lo];
    }
    return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
  }
}
