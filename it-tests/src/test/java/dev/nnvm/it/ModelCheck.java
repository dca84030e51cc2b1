package dev.nnvm.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.testing.OrtOracle;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs a real model through the importer and the reference evaluator, compares
 * its outputs with ONNX Runtime's (or with stored expected outputs), prints
 * the maximum absolute and relative errors and the run times, and writes
 * them to {@code target/reports/real-model-<model>.txt}.
 */
final class ModelCheck {
  private ModelCheck() {}

  /** Both sides' outputs by name and the error statistics of each output. */
  record Checked(Map<String, Tensor> expected, Map<String, Tensor> actual, List<ErrorStats> stats) {
    void assertAllWithin() {
      for (ErrorStats s : stats) {
        assertTrue(s.ok(), s::toString);
      }
    }
  }

  /** A model stored as a resource inside a dependency jar. */
  static byte[] resource(String name) throws IOException {
    try (InputStream in = ModelCheck.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("resource " + name + " is not on the test class path (is its model jar a dependency?)");
      }
      return in.readAllBytes();
    }
  }

  static Graph importModel(byte[] model, Path folder, String what) {
    return new OnnxImporter(OpRegistry.standard()).read(model, folder, what);
  }

  /** Reference evaluator against ONNX Runtime on the same inputs. */
  static Checked againstOrt(String what, byte[] model, Map<String, Tensor> inputs, double rtol, double atol)
      throws OrtException, IOException {
    long t0 = System.nanoTime();
    Map<String, Tensor> expected;
    try (OrtOracle ort = new OrtOracle(model, 2)) {
      expected = ort.run(inputs);
    }
    long t1 = System.nanoTime();
    Graph g = importModel(model, null, what);
    Map<String, Tensor> actual = ReferenceEvaluator.standard().run(g, inputs);
    long t2 = System.nanoTime();
    return compare(what, g, expected, actual, rtol, atol,
        String.format("ONNX Runtime %.1f s, import + reference evaluator %.1f s", (t1 - t0) / 1e9, (t2 - t1) / 1e9));
  }

  /** Reference evaluator against stored expected outputs. */
  static Checked againstExpected(String what, Graph g, Map<String, Tensor> inputs,
      Map<String, Tensor> expected, double rtol, double atol) throws IOException {
    long t0 = System.nanoTime();
    Map<String, Tensor> actual = ReferenceEvaluator.standard().run(g, inputs);
    long t1 = System.nanoTime();
    return compare(what, g, expected, actual, rtol, atol, String.format("reference evaluator %.1f s",
        (t1 - t0) / 1e9));
  }

  private static Checked compare(String what, Graph g, Map<String, Tensor> expected,
      Map<String, Tensor> actual, double rtol, double atol, String timing) throws IOException {
    List<ErrorStats> stats = new ArrayList<>();
    StringBuilder report = new StringBuilder(what).append(" (").append(g.nodes().size()).append(" nodes; ")
        .append(timing).append(")\n");
    for (Map.Entry<String, Tensor> e : expected.entrySet()) {
      Tensor a = actual.get(e.getKey());
      if (a == null) {
        throw new AssertionError(what + ": the reference evaluator produced no output '" + e.getKey() + "'");
      }
      ErrorStats s = ErrorStats.of(what + " " + e.getKey() + ErrorStats.shapeOf(a), e.getValue(), a, rtol, atol);
      stats.add(s);
      report.append("  ").append(s).append('\n');
    }
    System.out.print(report);
    Path dir = Path.of(System.getProperty("nnvm.report.dir", "target/reports"));
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("real-model-" + what.replaceAll("[^A-Za-z0-9._-]+", "_") + ".txt"), report,
        StandardCharsets.UTF_8);
    return new Checked(expected, actual, stats);
  }
}
