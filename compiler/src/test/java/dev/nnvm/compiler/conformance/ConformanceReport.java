package dev.nnvm.compiler.conformance;

import dev.nnvm.compiler.conformance.CaseResult.Outcome;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Text report of one suite run: a summary line, a per-operator table, the
 * unexpected and known failures, the slowest cases and every case's outcome.
 */
final class ConformanceReport {
  private static final int SLOWEST = 10;

  private final ConformanceSuite suite;
  private final String engine;
  private final List<CaseResult> results;
  private final KnownFailures known;
  private final long millis;

  ConformanceReport(ConformanceSuite suite, String engine, List<CaseResult> results, KnownFailures known,
      long millis) {
    this.suite = suite;
    this.engine = engine;
    this.results = List.copyOf(results);
    this.known = known;
    this.millis = millis;
  }

  /** Failures of cases not on the known-failures list: these fail the build. */
  List<CaseResult> unexpectedFailures() {
    List<CaseResult> out = new ArrayList<>();
    for (CaseResult r : results) {
      if (r.outcome() == Outcome.FAILED && !known.contains(r.name())) {
        out.add(r);
      }
    }
    return out;
  }

  /** Cases on the known-failures list that now pass: their entries should go. */
  List<CaseResult> listedButPassing() {
    List<CaseResult> out = new ArrayList<>();
    for (CaseResult r : results) {
      if (r.outcome() == Outcome.PASSED && known.contains(r.name())) {
        out.add(r);
      }
    }
    return out;
  }

  int count(Outcome o) {
    int n = 0;
    for (CaseResult r : results) {
      if (r.outcome() == o) {
        n++;
      }
    }
    return n;
  }

  String summaryLine() {
    int failed = count(Outcome.FAILED);
    return String.format("suite %s: %d cases: %d passed, %d failed (%d known, %d unexpected), %d unsupported; %.1f s",
        suite.name(), results.size(), count(Outcome.PASSED), failed, failed - unexpectedFailures().size(),
        unexpectedFailures().size(), count(Outcome.UNSUPPORTED), millis / 1000.0);
  }

  /** The summary and the per-operator table (what the console shows). */
  String table() {
    Map<String, int[]> perOp = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (CaseResult r : results) {
      int[] c = perOp.computeIfAbsent(r.op(), k -> new int[4]);
      c[r.outcome().ordinal()]++;
      if (r.outcome() == Outcome.FAILED && known.contains(r.name())) {
        c[3]++;
      }
    }
    StringBuilder sb = new StringBuilder();
    sb.append("ONNX conformance, ").append(engine).append(", suite '").append(suite.name()).append("' from ")
        .append(suite.root()).append(String.format(" (rtol %.0e, atol %.0e)%n", CaseRunner.RTOL, CaseRunner.ATOL));
    sb.append(summaryLine()).append("\n\n");
    String row = "%-36s %5s %6s %6s %11s  %s%n";
    sb.append(String.format(row, "operator", "cases", "passed", "failed", "unsupported", "status"));
    sb.append(String.format(row, "-".repeat(36), "-----", "------", "------", "-----------", "------"));
    for (Map.Entry<String, int[]> e : perOp.entrySet()) {
      int[] c = e.getValue();
      int cases = c[0] + c[1] + c[2];
      sb.append(String.format(row, e.getKey(), cases, c[0], c[1], c[2], status(cases, c)));
    }
    return sb.toString();
  }

  private static String status(int cases, int[] c) {
    int unexpected = c[1] - c[3];
    if (unexpected > 0) {
      return "FAILING" + (c[3] > 0 ? " (" + c[3] + " more known)" : "");
    }
    if (c[3] > 0) {
      return "known failures";
    }
    if (c[0] == cases) {
      return "ok";
    }
    return c[0] == 0 ? "unsupported" : "partly supported";
  }

  /** The full report: table, failures with details, slowest cases, every case. */
  String full() {
    StringBuilder sb = new StringBuilder(table());
    List<CaseResult> unexpected = unexpectedFailures();
    sb.append("\nUnexpected failures (").append(unexpected.size()).append("):\n");
    for (CaseResult r : unexpected) {
      sb.append("  ").append(r.name()).append(" [").append(r.op()).append("]: ").append(r.detail()).append('\n');
    }
    sb.append("\nKnown failures that still fail:\n");
    for (CaseResult r : results) {
      if (r.outcome() == Outcome.FAILED && known.contains(r.name())) {
        sb.append("  ").append(r.name()).append(": ").append(known.reason(r.name())).append("\n      now: ")
            .append(r.detail()).append('\n');
      }
    }
    sb.append("\nListed as known failures but passing (remove them from the list):\n");
    for (CaseResult r : listedButPassing()) {
      sb.append("  ").append(r.name()).append('\n');
    }
    sb.append("\nSlowest cases:\n");
    results.stream().sorted(Comparator.comparingLong(CaseResult::millis).reversed()).limit(SLOWEST)
        .forEach(r -> sb.append(String.format("  %6d ms  %s%n", r.millis(), r.name())));
    sb.append("\nPer case:\n");
    for (CaseResult r : results) {
      sb.append(String.format("%-11s %-56s [%s] %s%n", r.outcome(), r.name(), r.op(), r.detail()));
    }
    return sb.toString();
  }
}
