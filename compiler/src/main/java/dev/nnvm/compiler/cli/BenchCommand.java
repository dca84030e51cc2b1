package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.compile.HeapTensors;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.remote.RemoteEngine;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code nnvmc bench}: times the compiled engine on random inputs of the
 * given sizes: warm-up runs first, then the median, 90th percentile and
 * fastest latency of the timed runs and the throughput they give. The
 * inputs, outputs and workspace stay bound between runs, as in a scoring
 * loop.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Time the compiled engine on random inputs: median and p90 latency, throughput.",
    footer = {"", "Example:",
        "  nnvmc bench model.onnx --dim batch=32 --dim seq=128 --threads 2 --warmup 3 --runs 10"})
final class BenchCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

  @Mixin
  private VerboseOption verbose;

  @Mixin
  private CompileOptionsMixin compile;

  @Mixin
  private RemoteOption remote;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The ONNX model (.onnx) or compiled artifact (.nnvm).")
  private Path model;

  @Option(names = "--dim", paramLabel = "NAME=SIZE",
      description = "Size of a symbolic dimension, e.g. --dim batch=32; every symbol needs one.")
  private Map<String, Long> dims = new LinkedHashMap<>();

  @Option(names = "--threads", paramLabel = "T", defaultValue = "1",
      description = "Intra-op threads. Default: ${DEFAULT-VALUE}.")
  private int threads;

  @Option(names = "--variant", paramLabel = "NAME",
      description = "Run this native variant of the artifact (e.g. x86-64, the baseline), as a worker whose CPU"
          + " has only that variant's features would; this CPU must run it. Default: the best this CPU runs.")
  private String variant;

  @Option(names = "--warmup", paramLabel = "W", defaultValue = "3",
      description = "Untimed runs first. Default: ${DEFAULT-VALUE}.")
  private int warmup;

  @Option(names = "--runs", paramLabel = "R", defaultValue = "10",
      description = "Timed runs. Default: ${DEFAULT-VALUE}.")
  private int runs;

  @Option(names = "--int-range", paramLabel = "LO:HI", defaultValue = "0:9", converter = IntRange.Converter.class,
      description = "Inclusive range of random integer inputs. Default: ${DEFAULT-VALUE}.")
  private IntRange intRange;

  @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1",
      description = "Seed of the random inputs. Default: ${DEFAULT-VALUE}.")
  private long seed;

  @Override
  public Integer call() throws IOException {
    if (threads < 1) {
      throw new CliException("--threads must be at least 1, got " + threads);
    }
    if (warmup < 0 || runs < 1) {
      throw new CliException("--warmup must be >= 0 and --runs >= 1, got " + warmup + " and " + runs);
    }
    dims.forEach((name, size) -> {
      if (size < 0) {
        throw new CliException("--dim " + name + "=" + size + ": a dimension size must be >= 0");
      }
    });
    PrintWriter out = spec.commandLine().getOut();
    if (remote.isSet()) {
      remote.refuseWith(variant != null, "--variant", "the server picks the variant its CPU runs");
      return benchRemote(out);
    }
    ModelArtifact artifact = CompiledModels.open(model, compile, out);
    Graph iface = CompiledModels.interfaceOf(artifact.manifest());
    Map<String, Tensor> inputs = new RandomInputs(dims, intRange, seed).complete(iface, Map.of());
    long[] nanos = new long[runs];
    List<NativeTensor> natives = new ArrayList<>();
    try (NativeAllocator allocator = NativeAllocator.newRoot("nnvmc-bench");
        CompiledModel compiled = CompiledModels.load(artifact, allocator, variant);
        Executor executor = compiled.newExecutor(allocator)) {
      try {
        for (TensorSpec in : executor.inputs()) {
          NativeTensor t = HeapTensors.toNative(inputs.get(in.name()), allocator);
          natives.add(t);
          executor.setInput(in.name(), t);
        }
        for (int i = 0; i < warmup; i++) {
          executor.run(threads);
        }
        for (int i = 0; i < runs; i++) {
          long t0 = System.nanoTime();
          executor.run(threads);
          nanos[i] = System.nanoTime() - t0;
        }
        print(out, compiled, executor, nanos);
      } finally {
        natives.forEach(NativeTensor::close);
      }
    }
    out.flush();
    return 0;
  }

  /** The server's own timing of the model (its clock, its variant), at the --dim sizes. */
  private int benchRemote(PrintWriter out) throws IOException {
    byte[] bytes = CompiledModels.bytes(model, compile, out);
    try (RemoteEngine.Session session = remote.open(bytes)) {
      RemoteEngine.Timing t;
      try {
        t = session.benchmark(dims, warmup, runs, threads);
      } catch (IllegalArgumentException e) {
        throw new CliException(e.getMessage(), e);
      }
      out.printf(Locale.ROOT, "bench %s on %s: %d runs after %d warm-up, %d thread%s, %s (timed on the server)%n",
          model.getFileName(), session.describe(), t.runs(), t.warmup(), t.threads(), t.threads() == 1 ? "" : "s",
          dims);
      out.printf(Locale.ROOT, "latency: median %.3f ms, p90 %.3f ms, min %.3f ms%n", t.medianMs(), t.p90Ms(),
          t.minMs());
      out.printf(Locale.ROOT, "throughput: %.2f runs/s%n", 1000 / t.medianMs());
    }
    out.flush();
    return 0;
  }

  private void print(PrintWriter out, CompiledModel compiled, Executor executor, long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    double median = (sorted[(sorted.length - 1) / 2] + sorted[sorted.length / 2]) / 2e6;
    double p90 = sorted[(int) Math.ceil(0.9 * sorted.length) - 1] / 1e6;
    out.printf(Locale.ROOT, "bench %s (variant %s): %d runs after %d warm-up, %d thread%s, %s%n",
        model.getFileName(), compiled.variant().name(), runs, warmup, threads, threads == 1 ? "" : "s",
        executor.bindings());
    out.printf(Locale.ROOT, "latency: median %.3f ms, p90 %.3f ms, min %.3f ms%n", median, p90, sorted[0] / 1e6);
    TensorSpec first = executor.inputs().isEmpty() ? null : executor.inputs().get(0);
    String rows = "";
    if (first != null && first.shape().rank() > 0) {
      long n = first.shape().bind(executor.bindings()).toArray()[0];
      rows = String.format(Locale.ROOT, ", %.1f rows/s (%d rows a run: dimension 0 of input '%s')",
          n * 1000 / median, n, first.name());
    }
    out.printf(Locale.ROOT, "throughput: %.2f runs/s%s%n", 1000 / median, rows);
  }
}
