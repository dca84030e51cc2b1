package dev.nnvm.compiler.cli;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns tensor names (model outputs, saved inputs) into safe, distinct file names: characters other
 * than letters, digits, {@code .}, {@code _} and {@code -} become {@code _},
 * names that would be hidden or special ({@code .}, {@code ..}, a leading dot)
 * get a leading {@code _}, long names are cut, and names that collide after
 * this (also when they differ only in case) get a {@code _2}, {@code _3}...
 * suffix.
 */
final class OutputFileNames {
  static final String EXTENSION = ".pb";
  private static final int MAX_STEM = 120;

  private OutputFileNames() {}

  /** The file name of each tensor name, in the order given. */
  static Map<String, String> assign(List<String> outputNames) {
    Map<String, String> out = new LinkedHashMap<>();
    Set<String> taken = new HashSet<>();
    for (String name : outputNames) {
      String stem = stem(name);
      String candidate = stem;
      for (int k = 2; !taken.add(candidate.toLowerCase(Locale.ROOT)); k++) {
        candidate = stem + "_" + k;
      }
      out.put(name, candidate + EXTENSION);
    }
    return out;
  }

  static String stem(String name) {
    StringBuilder sb = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '.' || c == '_' || c == '-';
      sb.append(safe ? c : '_');
    }
    String s = sb.length() > MAX_STEM ? sb.substring(0, MAX_STEM) : sb.toString();
    if (s.isEmpty()) {
      return "output";
    }
    return s.startsWith(".") ? "_" + s : s;
  }
}
