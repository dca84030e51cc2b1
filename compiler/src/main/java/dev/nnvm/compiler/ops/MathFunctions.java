package dev.nnvm.compiler.ops;

/** Scalar functions that {@link Math} lacks, in double precision. */
public final class MathFunctions {
  private MathFunctions() {}

  private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

  /**
   * The error function. Uses the series
   * {@code erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))},
   * whose terms are all positive (no cancellation); beyond |x| = 6 erf is 1
   * to double precision.
   */
  public static double erf(double x) {
    if (Double.isNaN(x)) {
      return x;
    }
    double ax = Math.abs(x);
    if (ax >= 6) {
      return Math.copySign(1, x);
    }
    double x2 = ax * ax;
    double term = ax;
    double sum = 0;
    for (int n = 0; term > sum * 1e-17; n++) {
      sum += term;
      term *= 2 * x2 / (2 * n + 3);
    }
    return Math.copySign(Math.min(1, TWO_OVER_SQRT_PI * Math.exp(-x2) * sum), x);
  }

  public static double asinh(double x) {
    double ax = Math.abs(x);
    if (ax > 1e150) {
      return Math.copySign(Math.log(ax) + Math.log(2), x);
    }
    return Math.copySign(Math.log1p(ax + ax * ax / (1 + Math.sqrt(1 + ax * ax))), x);
  }

  public static double acosh(double x) {
    if (x > 1e150) {
      return Math.log(x) + Math.log(2);
    }
    return Math.log(x + Math.sqrt(x * x - 1));
  }

  public static double atanh(double x) {
    return 0.5 * Math.log1p(2 * x / (1 - x));
  }

  /** log(1 + exp(x)) without overflow. */
  static double softplus(double x) {
    return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
  }

  static double sigmoid(double x) {
    if (x >= 0) {
      return 1 / (1 + Math.exp(-x));
    }
    double e = Math.exp(x);
    return e / (1 + e);
  }
}
