package dev.nnvm.compiler.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the ONNX backend test suites through the importer and the reference
 * evaluator: the operator suite {@code node} (1802 one-operator cases) and
 * the small-graph suites {@code pytorch-converted}, {@code pytorch-operator}
 * and {@code simple}, one test each. Each prints its per-operator table and
 * writes the full report to {@code target/reports/conformance-reference.txt}
 * (node) or {@code conformance-reference-<suite>.txt}.
 *
 * <p>A case is unsupported when the importer or evaluator refuses it with an
 * {@link dev.nnvm.compiler.ir.UnsupportedModelException}. Any other error or
 * a wrong output is a failure, and fails the test unless the case is listed,
 * with its reason, in {@code conformance-known-failures.txt}.
 *
 * <p>{@code -Dnnvm.conformance.filter=REGEX} restricts the run to matching
 * case names; {@code -Dnnvm.conformance.timeoutSeconds} bounds one case
 * (default 30).
 */
class NodeConformanceTest {
  @Test
  void nodeSuite() throws IOException {
    check("node");
  }

  @Test
  void pytorchConvertedSuite() throws IOException {
    check("pytorch-converted");
  }

  @Test
  void pytorchOperatorSuite() throws IOException {
    check("pytorch-operator");
  }

  @Test
  void simpleSuite() throws IOException {
    check("simple");
  }

  private static void check(String suiteName) throws IOException {
    check(suiteName, "reference evaluator", CaseEngine.reference(), KnownFailures.load(),
        suiteName.equals("node") ? "conformance-reference.txt" : "conformance-reference-" + suiteName + ".txt");
  }

  /**
   * Runs every case of a suite (or those {@code nnvm.conformance.filter}
   * matches) on an engine, prints the table, writes the report to
   * {@code target/reports/<reportName>} and fails on any failure not listed
   * in {@code known}.
   */
  static void check(String suiteName, String engineName, CaseEngine engine, KnownFailures known, String reportName)
      throws IOException {
    ConformanceSuite suite = ConformanceSuite.locate(suiteName);
    if (suite == null) {
      System.out.println("SKIPPED conformance: " + ConformanceSuite.missingReason(suiteName));
    }
    Assumptions.assumeTrue(suite != null, () -> ConformanceSuite.missingReason(suiteName));
    List<Path> cases = suite.cases(System.getProperty("nnvm.conformance.filter"));
    Assumptions.assumeFalse(cases.isEmpty(), "no case of suite " + suiteName + " matches the filter");

    OperatorAttribution ops = OperatorAttribution.of(cases);
    long timeout = 1000L * Long.getLong("nnvm.conformance.timeoutSeconds", 30);
    long start = System.nanoTime();
    List<CaseResult> results = new ArrayList<>();
    try (CaseRunner runner = new CaseRunner(timeout, engine)) {
      for (Path c : cases) {
        results.add(runner.run(c, ops.operatorOf(c)));
      }
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    ConformanceReport report = new ConformanceReport(suite, engineName, results, known, millis);
    System.out.println(report.table());
    Path dir = Path.of(System.getProperty("nnvm.report.dir", "target/reports"));
    Files.createDirectories(dir);
    Path file = dir.resolve(reportName);
    Files.writeString(file, report.full());
    System.out.println(report.summaryLine() + "; report: " + file);
    for (CaseResult r : report.listedButPassing()) {
      System.out.println("NOTE: " + r.name() + " is listed as a known failure but passes; remove it from the list");
    }

    List<String> unexpected = new ArrayList<>();
    for (CaseResult r : report.unexpectedFailures()) {
      unexpected.add(r.name() + " [" + r.op() + "]: " + r.detail());
    }
    assertTrue(unexpected.isEmpty(), unexpected.size() + " conformance failure(s) of supported operators in suite "
        + suiteName + " (see " + file + "):\n  " + String.join("\n  ", unexpected));
  }
}
