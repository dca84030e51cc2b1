package dev.nnvm.compiler.conformance;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The ONNX backend node test cases ({@link ConformanceSuite} {@code node}),
 * for tests that walk every operator model (the text round trip, the
 * conformance runner).
 */
public final class NodeSuite {
  private static final String NAME = "node";

  private NodeSuite() {}

  /** The folder holding the node test cases, or null when none is installed. */
  public static Path root() {
    ConformanceSuite s = ConformanceSuite.locate(NAME);
    return s == null ? null : s.root();
  }

  /** Why the suite is missing, for a skip message. */
  public static String missingReason() {
    return ConformanceSuite.missingReason(NAME);
  }

  /** Case folders (those with a model.onnx), sorted, filtered by a regular expression on the name. */
  public static List<Path> cases(Path root, String filter) throws IOException {
    return new ConformanceSuite(NAME, root).cases(filter);
  }
}
