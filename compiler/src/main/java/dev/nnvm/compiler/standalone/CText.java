package dev.nnvm.compiler.standalone;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Model names, tensor names and symbols as C source text: identifiers,
 * string literals, comments and file names that are safe whatever the
 * manifest holds (quotes, {@code * /}, non-ASCII, names that differ only in case).
 */
final class CText {
  private static final int MAX_IDENTIFIER = 60;

  private CText() {}

  /**
   * A C identifier made of the name's letters, digits and underscores (others
   * become {@code _}), starting with a letter: a leading digit or underscore
   * gets {@code m_}, an empty result is {@code model}.
   */
  static String identifier(String name) {
    StringBuilder sb = new StringBuilder(name.length());
    for (int i = 0; i < name.length() && sb.length() < MAX_IDENTIFIER; i++) {
      char c = name.charAt(i);
      sb.append(isAsciiLetterOrDigit(c) || c == '_' ? c : '_');
    }
    if (sb.length() == 0) {
      return "model";
    }
    char first = sb.charAt(0);
    return (first >= '0' && first <= '9') || first == '_' ? "m_" + sb : sb.toString();
  }

  /** A C string literal holding the UTF-8 bytes of {@code s}. */
  static String literal(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c == '"' || c == '\\' || c == '?') {
        sb.append('\\').append((char) c);
      } else if (c >= 0x20 && c < 0x7f) {
        sb.append((char) c);
      } else {
        sb.append(String.format(Locale.ROOT, "\\%03o", c));
      }
    }
    return sb.append('"').toString();
  }

  /** Text that can sit inside a C block comment: printable ASCII, no comment terminator. */
  static String comment(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString().replace("*/", "* /").replace("/*", "/ *");
  }

  /**
   * A distinct file name {@code <stem><extension>} for each tensor name, in
   * order: the stem keeps letters, digits, {@code .}, {@code _} and {@code -};
   * names that collide after that (also in case) get {@code _2}, {@code _3}...
   */
  static Map<String, String> fileNames(List<String> names, String extension) {
    Map<String, String> out = new LinkedHashMap<>();
    Set<String> taken = new HashSet<>();
    for (String name : names) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < name.length() && sb.length() < MAX_IDENTIFIER * 2; i++) {
        char c = name.charAt(i);
        sb.append(isAsciiLetterOrDigit(c) || c == '.' || c == '_' || c == '-' ? c : '_');
      }
      String stem = sb.length() == 0 ? "output" : sb.charAt(0) == '.' ? "_" + sb : sb.toString();
      String candidate = stem;
      for (int k = 2; !taken.add(candidate.toLowerCase(Locale.ROOT)); k++) {
        candidate = stem + "_" + k;
      }
      out.put(name, candidate + extension);
    }
    return out;
  }

  private static boolean isAsciiLetterOrDigit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }
}
