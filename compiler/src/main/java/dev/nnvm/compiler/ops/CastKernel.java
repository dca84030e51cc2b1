package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * ONNX Cast between every pair of supported element types: integers convert
 * exactly with wrap-around (u64 by its bits), floating values truncate toward
 * zero into integers and round to nearest-even into narrower floats,
 * floating numbers print as C's {@code %.8g} (as ONNX Runtime does, also for
 * f64), bools as 1 and 0, and strings parse as decimal numbers including
 * {@code INF} and {@code NaN}.
 */
final class CastKernel {
  private CastKernel() {}

  static Tensor cast(Tensor x, DType to) {
    DType from = x.dtype();
    if (from == to) {
      return x;
    }
    int n = x.size();
    Object out = Tensor.newStorage(to, n);
    for (int i = 0; i < n; i++) {
      if (from == DType.STRING) {
        fromString(to, out, i, x.strings()[i]);
      } else if (to == DType.STRING) {
        ((String[]) out)[i] = format(x, i);
      } else if (from == DType.BOOL || from.isInteger() && (from != DType.UINT64 || to.isInteger())) {
        Tensor.setFromLong(to, out, i, x.getLong(i));
      } else {
        Tensor.setFromDouble(to, out, i, x.getDouble(i));
      }
    }
    return Tensor.of(to, x.shape(), out);
  }

  private static void fromString(DType to, Object out, int i, String s) {
    String t = s.trim();
    if (to.isInteger()) {
      Long exact = parseInteger(to, t);
      if (exact != null) {
        Tensor.setFromLong(to, out, i, exact);
        return;
      }
    }
    Tensor.setFromDouble(to, out, i, parseDouble(t));
  }

  private static Long parseInteger(DType to, String t) {
    try {
      return to == DType.UINT64 ? Long.parseUnsignedLong(t.startsWith("+") ? t.substring(1) : t) : Long.parseLong(t);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Parses like C's strtod: decimal or hex numbers, {@code inf}/{@code infinity} and {@code nan} in any case. */
  static double parseDouble(String t) {
    String lower = t.toLowerCase(Locale.ROOT);
    String body = lower.startsWith("-") || lower.startsWith("+") ? lower.substring(1) : lower;
    double sign = lower.startsWith("-") ? -1 : 1;
    if (body.equals("inf") || body.equals("infinity")) {
      return sign * Double.POSITIVE_INFINITY;
    }
    if (body.equals("nan")) {
      return Double.NaN;
    }
    try {
      return Double.parseDouble(t);
    } catch (NumberFormatException e) {
      throw new NumberFormatException("cannot parse '" + t + "' as a number");
    }
  }

  private static String format(Tensor x, int i) {
    DType t = x.dtype();
    if (t == DType.BOOL) {
      return x.bools()[i] ? "1" : "0";
    }
    if (t == DType.UINT64) {
      return Long.toUnsignedString(x.longs()[i]);
    }
    if (t.isInteger()) {
      return Long.toString(x.longs()[i]);
    }
    return formatG(x.getDouble(i), 8);
  }

  /** C's {@code %.<precision>g}, with ONNX Runtime's spelling of NaN and infinities. */
  static String formatG(double v, int precision) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "INF" : "-INF";
    }
    if (v == 0) {
      return 1 / v < 0 ? "-0" : "0";
    }
    BigDecimal d = new BigDecimal(v).round(new MathContext(precision, RoundingMode.HALF_EVEN));
    int exponent = d.precision() - d.scale() - 1;
    if (exponent >= -4 && exponent < precision) {
      return d.stripTrailingZeros().toPlainString();
    }
    String mantissa = d.movePointLeft(exponent).stripTrailingZeros().toPlainString();
    String exp = String.format(Locale.ROOT, "%02d", Math.abs(exponent));
    return mantissa + "e" + (exponent < 0 ? "-" : "+") + exp;
  }
}
