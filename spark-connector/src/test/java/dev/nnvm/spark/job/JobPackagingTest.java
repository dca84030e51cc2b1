package dev.nnvm.spark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.text.GraphParser;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job on class paths assembled the way {@code spark-submit} assembles them, in child JVMs, not inside Maven's
 * test class path: Spark's jars first ({@code target/spark-classpath.txt}: what a Spark distribution's
 * {@code jars/} holds), then the connector jar (packed here from {@code target/classes}), then its runtime
 * dependencies ({@code target/classpath.txt}: what a user passes to {@code --jars}).
 *
 * <p>The second run uses {@code local-cluster[1,1,1024]}: the executor is a separate JVM whose class path lacks
 * the compiler, LLVM, protobuf and picocli, which shows that only the driver needs them; the executor scores with
 * the runtime, the bridge, the scoring module and the connector jar.
 */
class JobPackagingTest {
  private static final String MODEL = "graph main(%x: f32[N, 4]) -> (%y: f32[N, 2]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[4, 2] = dense<[0.5, -1.0, 0.25, 2.0, -0.75, 1.5, 1.0, -0.5]>\n"
      + "  %y = MatMul(%x, %w)\n  return %y\n}\n";
  private static final float[][] W = {{0.5f, -1.0f}, {0.25f, 2.0f}, {-0.75f, 1.5f}, {1.0f, -0.5f}};
  private static final Path TARGET = Paths.get(System.getProperty("user.dir")).getFileName().toString()
      .equals("target") ? Paths.get(System.getProperty("user.dir")) : Paths.get("target").toAbsolutePath();

  @TempDir
  static Path dir;
  private static List<String> sparkJars;
  private static List<String> connectorDeps;
  private static Path connectorJar;
  private static Path model;

  @BeforeAll
  static void assemble() throws IOException {
    sparkJars = classPathFile("spark-classpath.txt");
    connectorDeps = classPathFile("classpath.txt");
    connectorJar = dir.resolve("nnvm-spark-connector.jar");
    jar(TARGET.resolve("classes"), connectorJar);
    model = dir.resolve("matmul.onnx");
    OnnxExporter.write(GraphParser.parse(MODEL), model);
    System.out.printf(Locale.ROOT, "JobPackagingTest: %d Spark jars, connector jar %d bytes, %d runtime dependencies%n",
        sparkJars.size(), Files.size(connectorJar), connectorDeps.size());
  }

  private static List<String> classPathFile(String name) throws IOException {
    Path f = TARGET.resolve(name);
    assertTrue(Files.isRegularFile(f), f + " is missing: the build writes it (maven-dependency-plugin,"
        + " generate-test-resources)");
    return Arrays.stream(Files.readString(f).trim().split(File.pathSeparator)).filter(s -> !s.isBlank())
        .collect(Collectors.toList());
  }

  /** Packs a classes directory into a jar, as the jar plugin does (manifest first, then every file). */
  private static void jar(Path classes, Path jar) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os, manifest);
        Stream<Path> files = Files.walk(classes)) {
      for (Path p : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
        out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace(File.separatorChar, '/')));
        Files.copy(p, out);
        out.closeEntry();
      }
    }
  }

  /** Whether an executor needs a jar: the compiler side (compiler, LLVM, protobuf) and the CLI do not. */
  private static boolean executorNeeds(String jar) {
    String j = jar.replace(File.separatorChar, '/');
    return !(isCompiler(j) || j.contains("/org/bytedeco/llvm") || j.contains("/com/google/protobuf/")
        || j.contains("/info/picocli/"));
  }

  /** The compiler module: its jar, or its classes directory when a reactor build resolves it there. */
  private static boolean isCompiler(String path) {
    return path.contains("/nnvm-compiler") || path.contains("/compiler/target/");
  }

  private static String path(List<String> parts) {
    return String.join(File.pathSeparator, parts);
  }

  private static List<String> driverClassPath() {
    List<String> cp = new ArrayList<>(sparkJars);
    cp.add(connectorJar.toString());
    cp.addAll(connectorDeps);
    return cp;
  }

  /** Runs the job in a child JVM; returns its report after checking exit code 0. */
  private static JsonNode runJob(String name, List<String> jobArgs) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
        "-cp", path(driverClassPath()), "dev.nnvm.spark.job.NnvmSparkJob"));
    cmd.addAll(jobArgs);
    Path report = dir.resolve(name + "-report.json");
    cmd.add("--report");
    cmd.add(report.toString());
    Path log = dir.resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(TARGET.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    long start = System.nanoTime();
    Process p = pb.start();
    boolean done = p.waitFor(150, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly().waitFor();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    System.out.printf(Locale.ROOT, "---- %s (%.1f s) ----%n%s%n", name, (System.nanoTime() - start) / 1e9, output);
    assertTrue(done, name + " did not finish in 150 s");
    assertEquals(0, p.exitValue(), name + " exit code");
    return new ObjectMapper().readTree(report.toFile());
  }

  /** Reads the job's JSON-lines output and checks y = x W for every row; returns the row count. */
  private static int checkOutput(Path out) throws IOException {
    ObjectMapper json = new ObjectMapper();
    int rows = 0;
    double maxAbs = 0;
    try (Stream<Path> parts = Files.list(out)) {
      for (Path part : (Iterable<Path>) parts.filter(f -> f.getFileName().toString().startsWith("part-"))::iterator) {
        for (String line : Files.readAllLines(part)) {
          JsonNode row = json.readTree(line);
          JsonNode x = row.get("x");
          JsonNode y = row.get("y");
          for (int j = 0; j < 2; j++) {
            double want = 0;
            for (int i = 0; i < 4; i++) {
              want += x.get(i).asDouble() * W[i][j];
            }
            maxAbs = Math.max(maxAbs, Math.abs(want - y.get(j).asDouble()));
          }
          rows++;
        }
      }
    }
    System.out.printf(Locale.ROOT, "%s: %d rows, max abs error vs Java math %.3g%n", out.getFileName(), rows, maxAbs);
    assertTrue(maxAbs < 1e-5, "max abs error " + maxAbs);
    return rows;
  }

  /** The launch command of the executor the local-cluster run started (its log's first line, under work/). */
  private static String executorCommand(long startedAfter) throws IOException {
    Path work = TARGET.resolve("work");
    try (Stream<Path> apps = Files.list(work)) {
      Path app = apps.filter(p -> p.toFile().lastModified() >= startedAfter - 1000)
          .max((a, b) -> Long.compare(a.toFile().lastModified(), b.toFile().lastModified()))
          .orElseThrow(() -> new AssertionError("no executor log under " + work));
      String first = Files.readAllLines(app.resolve("0").resolve("stderr")).get(0);
      assertTrue(first.startsWith("Spark Executor Command:"), first);
      return first;
    }
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void runsOnSparkSubmitsClassPathInLocalModeAndOnAnExecutorWithoutTheCompiler() throws Exception {
    Path cache = dir.resolve("cache");
    Path local = dir.resolve("local.json");
    JsonNode report = runJob("local", List.of("score", "-m", model.toString(), "--generate", "500", "--keep-inputs",
        "-o", local.toString(), "--master", "local[2]", "--cache", cache.toString()));
    assertEquals(500, checkOutput(local));
    assertEquals(500, report.get("rows").asLong());
    assertEquals(500, report.get("nnvmCounters").get("nnvm.rows").asLong(), "the connector's row accumulator");

    List<String> executorCp = new ArrayList<>(sparkJars);
    executorCp.add(connectorJar.toString());
    connectorDeps.stream().filter(JobPackagingTest::executorNeeds).forEach(executorCp::add);
    assertTrue(executorCp.size() < driverClassPath().size(), "the executor's class path leaves the compiler out");
    Path cluster = dir.resolve("cluster.json");
    long clusterStart = System.currentTimeMillis();
    JsonNode clusterReport = runJob("local-cluster", List.of("score", "-m", model.toString(), "--generate", "300",
        "--keep-inputs", "-o", cluster.toString(), "--master", "local-cluster[1,1,1024]", "--cache", cache.toString(),
        "--conf", "spark.executor.extraClassPath=" + path(executorCp),
        "--conf", "spark.executorEnv.SPARK_SCALA_VERSION=2.13",
        "--conf", "spark.executorEnv.SPARK_SQL_TESTING=1",
        "--conf", "spark.executor.extraJavaOptions=--add-opens=java.base/java.nio=ALL-UNNAMED"
            + " --add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--conf", "spark.cores.max=1", "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0"));
    assertEquals(300, checkOutput(cluster));
    String command = executorCommand(clusterStart);
    assertTrue(command.contains(connectorJar.toString()), command);
    assertTrue(!isCompiler(command) && !command.contains("/org/bytedeco/llvm/"),
        "the executor JVM ran without the compiler and LLVM: " + command);
    assertEquals(1, clusterReport.get("nnvmCounters").get("nnvm.modelLoads").asLong(),
        "one model load in the one executor JVM");
    assertTrue(clusterReport.get("compileCached").asBoolean(), "the driver's second compile is a cache read");
  }
}
