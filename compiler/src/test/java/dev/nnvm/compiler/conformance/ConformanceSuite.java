package dev.nnvm.compiler.conformance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One ONNX backend test suite on disk ({@code node}, {@code pytorch-converted},
 * {@code pytorch-operator}, {@code simple}): a folder of cases, each holding a
 * {@code model.onnx} and {@code test_data_set_N/{input,output}_M.pb}.
 *
 * <p>Suites are looked up in the shared test material first
 * ({@code <nnvm.shared.dir>/onnx-tests/<name>}), then in Debian's
 * {@code libonnx-testdata} package ({@code /usr/share/libonnx-testdata/data/<name>}).
 */
public record ConformanceSuite(String name, Path root) {
  static final Path DEBIAN_TESTDATA = Path.of("/usr/share/libonnx-testdata/data");

  /** The installed suite of that name, or null when none is installed. */
  public static ConformanceSuite locate(String name) {
    for (Path p : candidates(name)) {
      if (Files.isDirectory(p)) {
        return new ConformanceSuite(name, p);
      }
    }
    return null;
  }

  /** Why {@link #locate} found nothing, for a skip message. */
  public static String missingReason(String name) {
    List<Path> c = candidates(name);
    return "ONNX test suite '" + name + "' is not installed: neither " + c.get(0) + " nor " + c.get(1)
        + " exists (set -Dnnvm.shared.dir to the shared test material)";
  }

  private static List<Path> candidates(String name) {
    String shared = System.getProperty("nnvm.shared.dir", "../../shared");
    return List.of(Path.of(shared, "onnx-tests", name), DEBIAN_TESTDATA.resolve(name));
  }

  /** Case folders (those with a model.onnx), sorted, filtered by a regular expression on the case name. */
  public List<Path> cases(String filter) throws IOException {
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
  public static List<Path> dataSets(Path caseDir) throws IOException {
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
