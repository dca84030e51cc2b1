package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.Locale;

/**
 * One line describing a tensor: element type, shape, statistics and its
 * first values, e.g.
 * {@code f32 [2, 3] min=-1 max=2.5 mean=0.25 values=[-1, 0, 2.5, ...]}.
 *
 * <p>Numeric tensors get min/max/mean over their non-NaN elements (and a NaN
 * count when there are any); bool tensors count their true elements; string
 * tensors show only their first values.
 */
final class TensorSummary {
  static final int FIRST_VALUES = 5;

  private TensorSummary() {}

  static String of(Tensor t) {
    StringBuilder sb = new StringBuilder();
    sb.append(t.dtype()).append(' ').append(Shape.toString(t.shape()));
    if (t.size() == 0) {
      return sb.append(" (empty)").toString();
    }
    DType d = t.dtype();
    if (d == DType.BOOL) {
      int trues = 0;
      for (boolean b : t.bools()) {
        trues += b ? 1 : 0;
      }
      sb.append(" true=").append(trues).append('/').append(t.size());
    } else if (d.isNumeric()) {
      appendStatistics(sb, t);
    }
    sb.append(" values=[");
    int n = Math.min(FIRST_VALUES, t.size());
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(element(t, i));
    }
    return sb.append(t.size() > n ? ", ...]" : "]").toString();
  }

  private static void appendStatistics(StringBuilder sb, Tensor t) {
    if (t.dtype().isInteger()) {
      appendIntegerStatistics(sb, t);
      return;
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    double sum = 0;
    int nans = 0;
    for (int i = 0; i < t.size(); i++) {
      double v = t.getDouble(i);
      if (Double.isNaN(v)) {
        nans++;
        continue;
      }
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    int counted = t.size() - nans;
    if (counted > 0) {
      sb.append(" min=").append(format(min)).append(" max=").append(format(max))
          .append(" mean=").append(format(sum / counted));
    }
    if (nans > 0) {
      sb.append(" nan=").append(nans);
    }
  }

  /** Min and max exactly on the stored longs (unsigned for u64); the mean in double. */
  private static void appendIntegerStatistics(StringBuilder sb, Tensor t) {
    boolean unsigned = t.dtype() == DType.UINT64;
    long[] v = t.longs();
    int min = 0;
    int max = 0;
    double sum = 0;
    for (int i = 0; i < v.length; i++) {
      if (compare(v[i], v[min], unsigned) < 0) {
        min = i;
      }
      if (compare(v[i], v[max], unsigned) > 0) {
        max = i;
      }
      sum += t.getDouble(i);
    }
    sb.append(" min=").append(element(t, min)).append(" max=").append(element(t, max))
        .append(" mean=").append(format(sum / v.length));
  }

  private static int compare(long a, long b, boolean unsigned) {
    return unsigned ? Long.compareUnsigned(a, b) : Long.compare(a, b);
  }

  /** An element as text: integers exactly (u64 unsigned), floats with six significant digits. */
  static String element(Tensor t, int i) {
    DType d = t.dtype();
    if (d == DType.STRING) {
      return '"' + t.strings()[i] + '"';
    }
    if (d == DType.BOOL) {
      return Boolean.toString(t.bools()[i]);
    }
    if (d == DType.UINT64) {
      return Long.toUnsignedString(t.longs()[i]);
    }
    if (d.isInteger()) {
      return Long.toString(t.longs()[i]);
    }
    return format(t.getDouble(i));
  }

  static String format(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return Double.toString(v);
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e6) {
      return Long.toString((long) v);
    }
    String s = String.format(Locale.ROOT, "%.6g", v);
    if (s.contains("e")) {
      return s.replaceFirst("\\.?0+e", "e");
    }
    return s.contains(".") ? s.replaceFirst("\\.?0+$", "") : s;
  }
}
