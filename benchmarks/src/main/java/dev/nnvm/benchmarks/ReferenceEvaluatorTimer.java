package dev.nnvm.benchmarks;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Times the reference evaluator on one model: a few warm-up runs, then
 * {@code runs} measured runs, reported as min / median / p90 / max.
 *
 * <p>Inputs come from a folder of TensorProto files (the layout of the ONNX
 * test data sets, or what {@code nnvmc run --save-inputs DIR} writes), each
 * bound to the model input named inside the file.
 *
 * <pre>java -cp ... dev.nnvm.benchmarks.ReferenceEvaluatorTimer MODEL.onnx INPUT_DIR [RUNS] [WARMUP]</pre>
 */
public final class ReferenceEvaluatorTimer {
  private final ReferenceEvaluator evaluator = ReferenceEvaluator.standard();

  /** Milliseconds of each measured run, after {@code warmup} unmeasured ones. */
  public Samples time(Graph graph, Map<String, Tensor> inputs, int runs, int warmup) {
    if (runs < 1 || warmup < 0) {
      throw new IllegalArgumentException("need runs >= 1 and warmup >= 0, got " + runs + " and " + warmup);
    }
    for (int i = 0; i < warmup; i++) {
      evaluator.run(graph, inputs);
    }
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      evaluator.run(graph, inputs);
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    return Samples.of(ms);
  }

  /** The TensorProto files of a folder, by the name stored in each (the file name without .pb when none). */
  public static Map<String, Tensor> readInputs(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().endsWith(".pb")).sorted().collect(Collectors.toList());
    }
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (Path f : files) {
      String name = OnnxTensors.readName(f);
      if (name.isEmpty()) {
        String file = f.getFileName().toString();
        name = file.substring(0, file.length() - ".pb".length());
      }
      inputs.put(name, OnnxTensors.read(f));
    }
    return inputs;
  }

  static String report(String what, Samples s) {
    return String.format(Locale.ROOT, "%s: %d runs, min %.1f ms, median %.1f ms, p90 %.1f ms, max %.1f ms",
        what, s.count(), s.min(), s.median(), s.percentile(90), s.max());
  }

  public static void main(String[] args) throws IOException {
    PrintStream out = System.out;
    if (args.length < 2 || args.length > 4) {
      System.err.println("usage: ReferenceEvaluatorTimer MODEL.onnx INPUT_DIR [RUNS=5] [WARMUP=1]");
      System.exit(2);
    }
    Path model = Path.of(args[0]);
    Graph graph = OnnxImporter.load(model);
    Map<String, Tensor> inputs = readInputs(Path.of(args[1]));
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    Samples s = new ReferenceEvaluatorTimer().time(graph, inputs, runs, warmup);
    out.println(report(model.getFileName() + " (reference evaluator, " + Runtime.getRuntime().availableProcessors()
        + " CPUs, Java " + System.getProperty("java.version") + ")", s));
  }
}
