package dev.nnvm.compiler.conformance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The conformance cases expected to fail, each with the reason, read from the
 * test resource {@code conformance-known-failures.txt}: one case name per
 * line, then {@code #} and the reason; blank lines and lines starting with
 * {@code #} are comments. An entry without a reason is an error, so the list
 * stays explained.
 */
final class KnownFailures {
  static final String RESOURCE = "/conformance-known-failures.txt";

  private final Map<String, String> reasons;

  private KnownFailures(Map<String, String> reasons) {
    this.reasons = Collections.unmodifiableMap(reasons);
  }

  static KnownFailures load() throws IOException {
    return load(RESOURCE);
  }

  /** The list in another test resource of the same format. */
  static KnownFailures load(String resource) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    try (InputStream in = KnownFailures.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("test resource " + resource + " is missing");
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      int lineNo = 0;
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        lineNo++;
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        int hash = t.indexOf('#');
        if (hash < 0 || t.substring(hash + 1).isBlank()) {
          throw new IllegalStateException(resource + " line " + lineNo + ": known failure without a reason: " + t);
        }
        String name = t.substring(0, hash).strip();
        if (out.put(name, t.substring(hash + 1).strip()) != null) {
          throw new IllegalStateException(resource + " line " + lineNo + ": " + name + " is listed twice");
        }
      }
    }
    return new KnownFailures(out);
  }

  boolean contains(String caseName) {
    return reasons.containsKey(caseName);
  }

  String reason(String caseName) {
    return reasons.get(caseName);
  }

  Map<String, String> all() {
    return reasons;
  }
}
