package dev.nnvm.compiler.conformance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Locates the ONNX backend node test cases: ../shared first, then Debian's libonnx-testdata. */
public final class NodeSuite {
  private NodeSuite() {}

  /** The folder holding the node test cases, or null when none is installed. */
  public static Path root() {
    String shared = System.getProperty("nnvm.shared.dir", "../../shared");
    Path[] candidates = {
      Path.of(shared, "onnx-tests", "node"),
      Path.of("/usr/share/libonnx-testdata/data/node"),
    };
    for (Path p : candidates) {
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    return null;
  }

  /** Why the suite is missing, for a skip message. */
  public static String missingReason() {
    return "no ONNX node test suite: neither " + Path.of(System.getProperty("nnvm.shared.dir", "../../shared"),
        "onnx-tests", "node") + " nor /usr/share/libonnx-testdata/data/node exists";
  }

  /** Case folders (those with a model.onnx), sorted, filtered by a regular expression on the name. */
  public static List<Path> cases(Path root, String filter) throws java.io.IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(root)) {
      s.filter(p -> Files.isRegularFile(p.resolve("model.onnx")))
          .filter(p -> filter == null || filter.isEmpty() || p.getFileName().toString().matches(".*(" + filter + ").*"))
          .sorted()
          .forEach(out::add);
    }
    return out;
  }

  /** Data-set folders of a case, sorted. */
  public static List<Path> dataSets(Path caseDir) throws java.io.IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(caseDir)) {
      s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().forEach(out::add);
    }
    return out;
  }

  /** Files named prefix_0.pb, prefix_1.pb, ... in index order. */
  public static List<Path> numbered(Path dir, String prefix) {
    List<Path> out = new ArrayList<>();
    for (int i = 0; ; i++) {
      Path p = dir.resolve(prefix + "_" + i + ".pb");
      if (!Files.exists(p)) {
        return out;
      }
      out.add(p);
    }
  }
}
