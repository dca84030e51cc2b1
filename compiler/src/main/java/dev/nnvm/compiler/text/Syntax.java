package dev.nnvm.compiler.text;

import java.util.regex.Pattern;

/**
 * The lexical rules the printer and the parser share: which names print bare
 * and which need quotes, string escapes, and the exact spelling of floating
 * point numbers (shortest decimal that parses back to the same bits; NaN with
 * a payload other than the canonical one as its raw bits).
 */
final class Syntax {
  /** Value names printed after {@code %} without quotes. */
  static final Pattern BARE_VALUE = Pattern.compile("[A-Za-z0-9_./]+");
  /** Words: graph names, operator types, domains, attribute keys, symbolic dimensions. */
  static final Pattern WORD = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");
  /** An operator type printed bare (no dots: the last dot separates the domain). */
  static final Pattern OP_TYPE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private Syntax() {}

  static boolean isWordStart(char c) {
    return Character.isLetter(c) && c < 128 || c == '_';
  }

  static boolean isWordPart(char c) {
    return isWordStart(c) || c >= '0' && c <= '9' || c == '.';
  }

  static boolean isValuePart(char c) {
    return isWordStart(c) || c >= '0' && c <= '9' || c == '.' || c == '/';
  }

  /** A word as written: bare when it is one, otherwise a quoted string. */
  static String word(String s) {
    return WORD.matcher(s).matches() ? s : quote(s);
  }

  static String value(String name) {
    return "%" + (BARE_VALUE.matcher(name).matches() ? name : quote(name));
  }

  /** A double-quoted string; quotes, backslashes and characters outside printable ASCII are escaped. */
  static String quote(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': sb.append("\\\""); break;
        case '\\': sb.append("\\\\"); break;
        case '\n': sb.append("\\n"); break;
        case '\t': sb.append("\\t"); break;
        case '\r': sb.append("\\r"); break;
        default:
          if (c < 0x20 || c >= 0x7f) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    return sb.append('"').toString();
  }

  static String formatFloat(float v) {
    if (Float.isNaN(v)) {
      int bits = Float.floatToRawIntBits(v);
      return bits == Float.floatToRawIntBits(Float.NaN) ? "nan" : String.format("nan(0x%08x)", bits);
    }
    if (Float.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    return Float.toString(v);
  }

  static String formatDouble(double v) {
    if (Double.isNaN(v)) {
      long bits = Double.doubleToRawLongBits(v);
      return bits == Double.doubleToRawLongBits(Double.NaN) ? "nan" : String.format("nan(0x%016x)", bits);
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    return Double.toString(v);
  }
}
