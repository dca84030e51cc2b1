package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.compile.HeapTensors;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.remote.RemoteEngine;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code nnvmc run}: evaluates an ONNX model (with the reference evaluator,
 * or compiled through the cache) or a compiled artifact on inputs read from TensorProto
 * files (or made up with {@code --random-inputs}), prints one summary line
 * per output and the evaluation time, and optionally writes each output as
 * {@code DIR/<output name>.pb} (and the inputs, with {@code --save-inputs}).
 */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Evaluate an ONNX model or a compiled artifact and summarize (and optionally save) its outputs.",
    footer = {"", "Example:",
        "  nnvmc run model.onnx --random-inputs --dim batch=1 --dim seq=128 --output-dir out/"})
final class RunCommand implements Callable<Integer> {
  static final String REFERENCE_ENGINE = "reference";
  static final String COMPILED_ENGINE = "compiled";
  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  @Spec
  private CommandSpec spec;

  @Mixin
  private VerboseOption verbose;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The ONNX model (.onnx) or compiled artifact (.nnvm).")
  private Path model;

  @Option(names = "--input", paramLabel = "NAME=FILE",
      description = "A model input read from an ONNX TensorProto file (.pb); repeat for each input.")
  private Map<String, Path> inputFiles = new LinkedHashMap<>();

  @Option(names = "--output-dir", paramLabel = "DIR",
      description = "Write each output to DIR/<output name>.pb (created when missing).")
  private Path outputDir;

  @Option(names = "--save-inputs", paramLabel = "DIR",
      description = "Also write every input (given or random) to DIR/<input name>.pb, to rerun or time the same case.")
  private Path saveInputsDir;

  @Option(names = "--engine", paramLabel = "ENGINE",
      description = "Which engine evaluates the model: '" + REFERENCE_ENGINE + "' (the plain Java reference"
          + " evaluator) or '" + COMPILED_ENGINE + "' (native code; an ONNX model is compiled through the cache)."
          + " Default: " + REFERENCE_ENGINE + " for .onnx, " + COMPILED_ENGINE + " for .nnvm.")
  private String engine;

  @Option(names = "--threads", paramLabel = "T", defaultValue = "1",
      description = "Intra-op threads of the compiled engine. Default: ${DEFAULT-VALUE}.")
  private int threads;

  @Option(names = "--variant", paramLabel = "NAME",
      description = "Run this native variant of the artifact (e.g. x86-64, the baseline), as a worker whose CPU"
          + " has only that variant's features would; this CPU must run it. Default: the best this CPU runs.")
  private String variant;

  @Mixin
  private CompileOptionsMixin compile;

  @Mixin
  private RemoteOption remote;

  @Option(names = "--random-inputs",
      description = "Make random values for every input not given with --input.")
  private boolean randomInputs;

  @Option(names = "--dim", paramLabel = "NAME=SIZE",
      description = "Size of a symbolic dimension for --random-inputs, e.g. --dim batch=1; repeatable.")
  private Map<String, Long> dims = new LinkedHashMap<>();

  @Option(names = "--int-range", paramLabel = "LO:HI", defaultValue = "0:9", converter = IntRange.Converter.class,
      description = "Inclusive range of random integer inputs. Default: ${DEFAULT-VALUE}.")
  private IntRange intRange;

  @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1",
      description = "Seed of the random inputs. Default: ${DEFAULT-VALUE}.")
  private long seed;

  @Override
  public Integer call() throws IOException {
    checkOptions();
    PrintWriter out = spec.commandLine().getOut();
    String used = engine();
    remote.refuseWith(engine != null && !engine.equals(COMPILED_ENGINE), "--engine " + engine,
        "the server runs the compiled model");
    remote.refuseWith(variant != null, "--variant", "the server picks the variant its CPU runs");
    long t0 = System.nanoTime();
    ModelArtifact artifact = null;
    byte[] artifactBytes = null;
    Graph graph;
    if (remote.isSet()) {
      artifactBytes = CompiledModels.bytes(model, compile, out);
      graph = CompiledModels.interfaceOf(readBack(artifactBytes).manifest());
      used = "remote (" + remote.remote + ")";
    } else if (used.equals(COMPILED_ENGINE)) {
      artifact = CompiledModels.open(model, compile, out);
      graph = CompiledModels.interfaceOf(artifact.manifest());
    } else {
      graph = OnnxImporter.load(model);
    }
    long loadNanos = System.nanoTime() - t0;
    LOG.debug("loaded {} in {} ms: {}", model, millis(loadNanos), graph);

    Map<String, Tensor> inputs = readInputs(graph);
    if (randomInputs) {
      Map<String, Tensor> made = new RandomInputs(dims, intRange, seed).complete(graph, inputs);
      made.forEach((name, t) -> out.println("input  " + name + ": " + TensorSummary.of(t) + " (random)"));
      inputs.putAll(made);
    } else {
      requireAllInputs(graph, inputs);
    }
    if (saveInputsDir != null) {
      writeAll(inputs, saveInputsDir);
    }

    long t1 = System.nanoTime();
    Map<String, Tensor> outputs = artifactBytes != null ? runRemote(artifactBytes, inputs, out)
        : artifact != null ? runCompiled(artifact, inputs) : ReferenceEvaluator.standard().run(graph, inputs);
    long evalNanos = System.nanoTime() - t1;

    Map<String, Path> written = outputDir == null ? Map.of() : writeAll(outputs, outputDir);
    for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
      Path file = written.get(e.getKey());
      out.println("output " + e.getKey() + ": " + TensorSummary.of(e.getValue()) + (file == null ? "" : " -> " + file));
    }
    out.printf(Locale.ROOT, "evaluated %s with the %s engine in %s ms (model loaded in %s ms)%n",
        model.getFileName(), used, millis(evalNanos), millis(loadNanos));
    out.flush();
    return 0;
  }

  /** Loads the artifact, copies the inputs to native memory, runs once and copies the outputs back. */
  private Map<String, Tensor> runCompiled(ModelArtifact artifact, Map<String, Tensor> inputs) throws IOException {
    try (NativeAllocator allocator = NativeAllocator.newRoot("nnvmc-run");
        CompiledModel compiled = CompiledModels.load(artifact, allocator, variant);
        Executor executor = compiled.newExecutor(allocator)) {
      List<NativeTensor> natives = new ArrayList<>();
      try {
        for (TensorSpec in : executor.inputs()) {
          NativeTensor t = HeapTensors.toNative(inputs.get(in.name()), allocator);
          natives.add(t);
          executor.setInput(in.name(), t);
        }
        executor.run(threads);
      } catch (IllegalArgumentException e) {
        throw new CliException(e.getMessage(), e);
      } finally {
        natives.forEach(NativeTensor::close);
      }
      Map<String, Tensor> outputs = new LinkedHashMap<>();
      for (TensorSpec o : executor.outputs()) {
        try (NativeTensor t = executor.output(o.name())) {
          outputs.put(o.name(), HeapTensors.fromNative(t));
        }
      }
      return outputs;
    }
  }

  /** Uploads the artifact (unless the server has it), runs once there and copies the outputs back. */
  private Map<String, Tensor> runRemote(byte[] artifact, Map<String, Tensor> inputs, PrintWriter out) {
    try (NativeAllocator allocator = NativeAllocator.newRoot("nnvmc-run-remote");
        RemoteEngine.Session session = remote.open(artifact)) {
      out.println("running " + session.describe());
      Map<String, NativeTensor> natives = new LinkedHashMap<>();
      Map<String, NativeTensor> results = Map.of();
      try {
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
          natives.put(e.getKey(), HeapTensors.toNative(e.getValue(), allocator));
        }
        results = session.run(natives, allocator);
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        results.forEach((name, t) -> outputs.put(name, HeapTensors.fromNative(t)));
        return outputs;
      } catch (IllegalArgumentException e) {
        throw new CliException(e.getMessage(), e);
      } finally {
        natives.values().forEach(NativeTensor::close);
        results.values().forEach(NativeTensor::close);
      }
    }
  }

  private static ModelArtifact readBack(byte[] bytes) {
    try {
      return dev.nnvm.runtime.artifact.ArtifactReader.read(bytes);
    } catch (dev.nnvm.runtime.artifact.ArtifactException e) {
      throw new CliException(e.getMessage(), e);
    }
  }

  /** The engine asked for, or the one that fits the model file. */
  private String engine() {
    return engine != null ? engine : CompiledModels.isArtifact(model) ? COMPILED_ENGINE : REFERENCE_ENGINE;
  }

  /** Writes each tensor to {@code dir} under a safe file name, keeping its real name inside the file. */
  private static Map<String, Path> writeAll(Map<String, Tensor> tensors, Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, String> names = OutputFileNames.assign(new ArrayList<>(tensors.keySet()));
    Map<String, Path> files = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Path file = dir.resolve(names.get(e.getKey()));
      OnnxTensors.write(e.getValue(), e.getKey(), file);
      files.put(e.getKey(), file);
    }
    return files;
  }

  private void checkOptions() {
    if (engine != null && !engine.equals(REFERENCE_ENGINE) && !engine.equals(COMPILED_ENGINE)) {
      throw new CliException("unknown engine '" + engine + "': expected '" + REFERENCE_ENGINE + "' or '"
          + COMPILED_ENGINE + "'");
    }
    if (CompiledModels.isArtifact(model) && !engine().equals(COMPILED_ENGINE)) {
      throw new CliException(model + " is a compiled artifact: it runs with the '" + COMPILED_ENGINE + "' engine only");
    }
    if (threads < 1) {
      throw new CliException("--threads must be at least 1, got " + threads);
    }
    dims.forEach((name, size) -> {
      if (size < 0) {
        throw new CliException("--dim " + name + "=" + size + ": a dimension size must be >= 0");
      }
    });
    if (!dims.isEmpty() && !randomInputs) {
      throw new CliException("--dim only sizes random inputs; add --random-inputs");
    }
    if (!Files.isRegularFile(model)) {
      throw new CliException("model file not found: " + model);
    }
  }

  private Map<String, Tensor> readInputs(Graph graph) throws IOException {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (Map.Entry<String, Path> e : inputFiles.entrySet()) {
      String name = e.getKey();
      if (graph.input(name).isEmpty() || graph.constants().containsKey(name)) {
        throw new CliException("--input " + name + ": the model has no input named '" + name
            + "'; its inputs are " + inputNames(graph));
      }
      try {
        inputs.put(name, OnnxTensors.read(e.getValue()));
      } catch (NoSuchFileException ex) {
        throw new CliException("--input " + name + ": file not found: " + e.getValue(), ex);
      }
    }
    return inputs;
  }

  private static void requireAllInputs(Graph graph, Map<String, Tensor> inputs) {
    List<String> missing = new ArrayList<>();
    for (ValueInfo in : graph.inputs()) {
      if (!inputs.containsKey(in.name()) && !graph.constants().containsKey(in.name())) {
        missing.add(in.name() + " " + in.type());
      }
    }
    if (!missing.isEmpty()) {
      throw new CliException("missing model input" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
          + "; pass --input NAME=FILE.pb or --random-inputs");
    }
  }

  private static List<String> inputNames(Graph graph) {
    List<String> names = new ArrayList<>();
    for (ValueInfo in : graph.inputs()) {
      if (!graph.constants().containsKey(in.name())) {
        names.add(in.name());
      }
    }
    return names;
  }

  private static String millis(long nanos) {
    return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
  }
}
