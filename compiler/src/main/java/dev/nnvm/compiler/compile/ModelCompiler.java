package dev.nnvm.compiler.compile;

import dev.nnvm.compiler.analysis.MemoryPlan;
import dev.nnvm.compiler.analysis.SymbolicSize;
import dev.nnvm.compiler.artifact.ArtifactWriter;
import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.codegen.llvm.GemmGenerator;
import dev.nnvm.compiler.codegen.llvm.NativeLibrary;
import dev.nnvm.compiler.codegen.llvm.NativeModuleCompiler;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.lower.BlockedConvolutions;
import dev.nnvm.compiler.lower.MatrixProducts;
import dev.nnvm.compiler.lower.ModelToLlvm;
import dev.nnvm.compiler.lower.WeightsLayout;
import dev.nnvm.compiler.transform.AlterOpLayout;
import dev.nnvm.compiler.transform.Optimizer;
import dev.nnvm.compiler.transform.Pass;
import dev.nnvm.compiler.transform.SplitToSlices;
import dev.nnvm.compiler.transform.SpecializeInputs;
import dev.nnvm.compiler.transform.StandardPasses;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.Sha256;
import dev.nnvm.runtime.artifact.WeightsTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Compiles a model into an artifact ({@code model.nnvm}) in one call:
 * import, specialize input shapes, optimize and plan memory, lay out the
 * weights, and for each target write the whole graph as one LLVM module,
 * compile and link it; then assemble the artifact (manifest, weights, one
 * shared library per target, best first).
 *
 * <p>The workspace the manifest declares is the memory plan's regions
 * followed by one fixed region for the matrix products' scratch (the
 * largest any variant needs), in the order {@link ModelToLlvm} lays them out.
 *
 * <p>With a cache ({@link #withCache}) a compile of the same model bytes,
 * targets, options and compiler version is a verified file read. Each phase
 * is reported to the progress listener as it ends. Instances are immutable
 * and thread-safe.
 */
public final class ModelCompiler {

  /**
   * The optimizer pipeline for CPU targets: the standard passes, with AlterOpLayout moving one-group
   * convolutions to NCHW{b}c from level 2 on, {@code b} the targets' vector width, where their direct
   * convolution kernel ({@link dev.nnvm.compiler.codegen.llvm.BlockedConvGenerator}) runs; without it
   * when the targets' widths differ (one weights layout serves every variant of an artifact).
   */
  public static List<Pass> cpuPipeline(List<CpuTarget> targets) {
    int block = blockedLayout(targets);
    List<Pass> out = new ArrayList<>();
    for (Pass p : StandardPasses.pipeline()) {
      if (!(p instanceof AlterOpLayout)) {
        out.add(p);
      } else if (block > 0) {
        out.add(new AlterOpLayout(block, 2, true));
      }
    }
    return out;
  }

  /**
   * The CPU targets of a compile, best first. The baseline ({@code x86-64}, 4-float registers) generates kernels
   * of the other targets' vector width when they agree on one (LLVM splits the vectors), so every variant shares
   * one weights layout and memory plan, the blocked convolution layout included; it is there so that any x86-64
   * worker runs the artifact, not for speed. {@code aarch64} keeps NEON's 4 floats: with AVX2 or AVX-512 targets
   * beside it the widths differ, so the baseline keeps its own width too and the blocked layout is not used.
   */
  public static List<CpuTarget> targets(CompileOptions options) {
    List<CpuTarget> out = new ArrayList<>();
    options.targets().forEach(t -> out.add(CpuTarget.named(t)));
    java.util.Set<Integer> widths = new java.util.TreeSet<>();
    out.stream().filter(t -> !t.name().equals(CpuTarget.BASELINE)).forEach(t -> widths.add(t.vectorWidth()));
    if (widths.size() == 1) {
      int width = widths.iterator().next();
      out.replaceAll(t -> t.name().equals(CpuTarget.BASELINE) && t.vectorWidth() < width ? t.withVectorWidth(width) : t);
    }
    return out;
  }

  /** The channel block of the blocked layout for these targets, or 0 when they do not agree on one. */
  public static int blockedLayout(List<CpuTarget> targets) {
    java.util.Set<Integer> widths = new java.util.TreeSet<>();
    targets.forEach(t -> widths.add(t.vectorWidth()));
    return widths.size() == 1 && widths.iterator().next() >= 8 ? widths.iterator().next() : 0;
  }

  private final ArtifactCache cache;
  private final Consumer<CompileResult.Phase> progress;

  private ModelCompiler(ArtifactCache cache, Consumer<CompileResult.Phase> progress) {
    this.cache = cache;
    this.progress = progress;
  }

  /** A compiler without cache or progress reports. */
  public static ModelCompiler create() {
    return new ModelCompiler(null, p -> { });
  }

  /** The same compiler, caching artifacts in {@code directory} (see {@link ArtifactCache#defaultDirectory()}). */
  public ModelCompiler withCache(Path directory) {
    return new ModelCompiler(new ArtifactCache(directory), progress);
  }

  /** The same compiler, telling {@code listener} about each phase as it ends. */
  public ModelCompiler withProgress(Consumer<CompileResult.Phase> listener) {
    return new ModelCompiler(cache, Objects.requireNonNull(listener, "listener"));
  }

  /** Compiles an ONNX file (external data next to it); the model is named after the file. */
  public CompileResult compile(Path onnxFile, CompileOptions options) throws IOException {
    byte[] bytes = Files.readAllBytes(onnxFile);
    String name = onnxFile.getFileName().toString().replaceFirst("\\.onnx$", "");
    return compile(bytes, onnxFile.toAbsolutePath().getParent(), name, options);
  }

  /**
   * Compiles ONNX bytes.
   *
   * @param baseDir where external tensor data lives, or null
   */
  public CompileResult compile(byte[] onnx, Path baseDir, String name, CompileOptions options) {
    String sha = Sha256.of(onnx);
    return cached(sha, options, () -> {
      long t0 = System.nanoTime();
      Graph g = new OnnxImporter(OpRegistry.standard()).read(onnx, baseDir, name);
      List<CompileResult.Phase> phases = new ArrayList<>();
      phase(phases, "import", t0, g.nodes().size() + " nodes, " + g.constants().size() + " constants, "
          + onnx.length + " bytes");
      return build(g, name, sha, options, phases);
    });
  }

  /** Compiles a graph (built in Java or imported); its hash for the cache is that of its ONNX form. */
  public CompileResult compile(Graph graph, CompileOptions options) {
    String sha = Sha256.of(OnnxExporter.toBytes(graph));
    return cached(sha, options, () -> build(graph, graph.name(), sha, options, new ArrayList<>()));
  }

  private CompileResult cached(String modelSha, CompileOptions options, Supplier<Built> compile) {
    String key = null;
    if (cache != null) {
      long t0 = System.nanoTime();
      key = ArtifactCache.key(modelSha, targetsKey(options), options.describe().toString());
      Optional<ArtifactCache.Entry> hit = cache.get(key);
      if (hit.isPresent()) {
        List<CompileResult.Phase> phases = new ArrayList<>();
        phase(phases, "cache", t0, "hit " + hit.get().file());
        Manifest m = hit.get().artifact().manifest();
        return new CompileResult(hit.get().bytes(), m, phases, sizes(hit.get().bytes().length, m),
            hit.get().file(), true);
      }
    }
    Built built = compile.get();
    Path file = null;
    if (key != null) {
      long t0 = System.nanoTime();
      file = cache.put(key, built.bytes);
      phase(built.phases, "cache", t0, "stored " + file);
    }
    return new CompileResult(built.bytes, built.manifest, built.phases, sizes(built.bytes.length, built.manifest),
        file, false);
  }

  /** Host targets differ between machines: the key names the host's CPU and features. */
  private static String targetsKey(CompileOptions options) {
    List<String> parts = new ArrayList<>();
    for (CpuTarget target : targets(options)) {
      parts.add(target.name() + "(" + target.cpu() + ";" + target.features() + ";" + target.vectorWidth() + ")");
    }
    return String.join(",", parts);
  }

  /**
   * The constants of the weights blob: the graph's, except that matrix
   * product weights read only by the GEMM are stored packed in the GEMM's
   * layout instead of as they are, so no run packs them again: right
   * operands (MatMul weights) once per register width among the targets,
   * usually one; left operands (convolution weights) once.
   */
  private static Map<String, Tensor> prepackWeights(Graph graph, List<CpuTarget> targets) {
    Map<String, Tensor> constants = new LinkedHashMap<>(graph.constants());
    int block = blockedLayout(targets);
    if (block > 0) {
      BlockedConvolutions.prepack(graph, constants, 2 * block).forEach((name, packed) -> {
        constants.remove(name);
        constants.put(BlockedConvolutions.packedName(name, 2 * block), packed);
      });
    }
    java.util.Set<Integer> widths = new java.util.TreeSet<>();
    targets.forEach(t -> widths.add(GemmGenerator.Blocking.defaults(t).nr()));
    MatrixProducts.Prepackable prepackable = MatrixProducts.prepackable(graph);
    prepackable.left().forEach((name, mk) -> {
      float[] packed = GemmGenerator.packA(constants.remove(name).floats(), Math.toIntExact(mk[0]),
          Math.toIntExact(mk[1]));
      constants.put(MatrixProducts.packedNameA(name), Tensor.ofFloats(new long[] {packed.length}, packed));
    });
    prepackable.rightTransposed().forEach((name, mk) -> {
      float[] a = constants.remove(name).floats();
      for (int nr : widths) {
        float[] packed = GemmGenerator.packTransposedB(a, Math.toIntExact(mk[0]), Math.toIntExact(mk[1]), nr);
        constants.put(MatrixProducts.packedNameT(name, nr), Tensor.ofFloats(new long[] {packed.length}, packed));
      }
    });
    prepackable.right().forEach((name, kn) -> {
      float[] b = constants.remove(name).floats();
      for (int nr : widths) {
        float[] packed = GemmGenerator.packB(b, Math.toIntExact(kn[0]), Math.toIntExact(kn[1]), nr);
        constants.put(MatrixProducts.packedName(name, nr), Tensor.ofFloats(new long[] {packed.length}, packed));
      }
    });
    return constants;
  }

  private record Built(byte[] bytes, Manifest manifest, List<CompileResult.Phase> phases) {}

  private static Map<String, Long> sizes(long artifactBytes, Manifest m) {
    Map<String, Long> sizes = new LinkedHashMap<>();
    sizes.put("artifact", artifactBytes);
    sizes.put("weights", m.weights().size());
    m.variants().forEach(v -> sizes.put("library/" + v.name(), m.part(v.library()).orElseThrow().size()));
    return sizes;
  }

  private Built build(Graph imported, String name, String modelSha, CompileOptions options,
      List<CompileResult.Phase> phases) {
    long t0 = System.nanoTime();
    Graph specialized = SplitToSlices.apply(SpecializeInputs.apply(imported, options.inputShapes()));
    List<CpuTarget> targetList = targets(options);
    Optimizer.Result optimized = Optimizer.optimize(specialized, cpuPipeline(targetList), options.optLevel(),
        List.of(), Map.of(), blockedLayout(targetList));
    Graph graph = optimized.graph();
    MemoryPlan plan = optimized.memory();
    List<TensorSpec> inputs = specs("input", graph.inputs());
    List<TensorSpec> outputs = specs("output", inferredOutputs(graph));
    phase(phases, "optimize", t0, graph.nodes().size() + " kernels (" + optimized.fusedCount() + " fused), "
        + plan.regions().size() + " workspace regions " + plan.regions());

    List<CpuTarget> targets = targetList;
    long t1 = System.nanoTime();
    Map<String, Tensor> constants = prepackWeights(graph, targets);
    WeightsLayout weights = WeightsLayout.of(constants);
    List<String> symbols = ModelToLlvm.inputSymbols(graph);
    List<ModelToLlvm.Module> modules = new ArrayList<>();
    for (CpuTarget target : targets) {
      modules.add(ModelToLlvm.generate(graph, plan, weights, symbols, target));
    }
    phase(phases, "lower", t1, modules.get(0).kernels().size() + " loop kernels, " + targets.size() + " variant"
        + (targets.size() == 1 ? "" : "s") + ", " + modules.get(0).ir().length() + " chars of IR each");

    long t15 = System.nanoTime();
    List<NativeLibrary> libraries = compileVariants(name, targets, modules);
    long link = 0;
    for (NativeLibrary lib : libraries) {
      link += lib.times().linkNanos();
    }
    long llvm = System.nanoTime() - t15 - link;
    StringBuilder each = new StringBuilder();
    for (int i = 0; targets.size() > 1 && i < targets.size(); i++) {
      each.append(i == 0 ? " (in parallel: " : ", ").append(variantName(targets.get(i))).append(' ')
          .append((libraries.get(i).times().totalNanos() - libraries.get(i).times().linkNanos()) / 1_000_000)
          .append(" ms").append(i == targets.size() - 1 ? ")" : "");
    }
    report(phases, new CompileResult.Phase("llvm", llvm, "O3 + object code for " + names(targets) + each));
    report(phases, new CompileResult.Phase("link", link, "linked with " + libraries.get(0).linker()));

    long t2 = System.nanoTime();
    ArtifactWriter.Builder w = ArtifactWriter.builder()
        .compiler(CompilerVersion.current())
        .created(Instant.now().truncatedTo(ChronoUnit.SECONDS), "nnvm ModelCompiler " + CompilerVersion.current())
        .model(name, modelSha)
        .symbols(symbols.toArray(new String[0]));
    options.describe().forEach(w::option);
    inputs.forEach(w::input);
    outputs.forEach(w::output);
    long scratch = 0;
    for (ModelToLlvm.Module m : modules) {
      scratch = Math.max(scratch, m.scratchBytes());
    }
    for (SymbolicSize region : plan.regions()) {
      w.workspaceRegion(region.coefficient(), region.monomial());
    }
    if (scratch > 0) {
      w.workspaceRegion(scratch, Map.of());
    }
    byte[] blob = weights.toBytes();
    for (Map.Entry<String, Long> e : weights.offsets().entrySet()) {
      Tensor t = constants.get(e.getKey());
      int bytes = Math.multiplyExact(t.size(), t.dtype().byteSize());
      w.constant(e.getKey(), t.dtype(), Shape.of(t.shape()),
          ByteBuffer.wrap(blob, Math.toIntExact(e.getValue()), bytes));
    }
    for (int i = 0; i < targets.size(); i++) {
      CpuTarget target = targets.get(i);
      w.variant(variantName(target), target.triple(), target.cpu(), requiredFeatures(target), ModelToLlvm.ENTRY,
          ByteBuffer.wrap(libraries.get(i).sharedLibrary()));
    }
    ArtifactWriter writer = w.build();
    checkWeightOffsets(writer.manifest().weights(), weights);
    byte[] bytes = writer.toBytes();
    phase(phases, "write", t2, bytes.length + " bytes (weights " + writer.manifest().weights().size() + ")");
    return new Built(bytes, writer.manifest(), phases);
  }

  /**
   * Each variant's IR through LLVM, on up to as many threads as there are variants and processors (LLVM contexts
   * are per call, so the compiles share nothing). The baseline, when it generates wider vectors than its registers
   * (kept only so any worker runs the artifact), skips LLVM's IR pipeline (code generation still optimizes): at
   * O3 the split vectors made all-MiniLM-L6-v2's baseline take 6.2 s against the host variant's 2.7 s, at O1
   * 5.4 s, without the pipeline 2.7 s, and that code ran faster than O1's (8.4x the host variant's time at batch 4,
   * sequence 128, one thread, on an AVX-512 machine; SSE2 has a quarter of the lanes and no FMA).
   */
  private static List<NativeLibrary> compileVariants(String name, List<CpuTarget> targets,
      List<ModelToLlvm.Module> modules) {
    int threads = Math.min(targets.size(), Runtime.getRuntime().availableProcessors());
    if (threads <= 1) {
      List<NativeLibrary> out = new ArrayList<>();
      for (int i = 0; i < targets.size(); i++) {
        out.add(compiler(targets.get(i)).compile(name, modules.get(i).ir()));
      }
      return out;
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "nnvm-llvm");
      t.setDaemon(true);
      return t;
    });
    try {
      List<java.util.concurrent.Future<NativeLibrary>> futures = new ArrayList<>();
      for (int i = 0; i < targets.size(); i++) {
        CpuTarget target = targets.get(i);
        String ir = modules.get(i).ir();
        futures.add(pool.submit(() -> compiler(target).compile(name, ir)));
      }
      List<NativeLibrary> out = new ArrayList<>();
      for (java.util.concurrent.Future<NativeLibrary> f : futures) {
        try {
          out.add(f.get());
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof RuntimeException re) {
            throw re;
          }
          throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted while compiling " + name, e);
        }
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  private static NativeModuleCompiler compiler(CpuTarget target) {
    return target.emulatesWidth() ? new NativeModuleCompiler(target, 0) : new NativeModuleCompiler(target);
  }

  /** The host variant is named after its CPU ({@code host-znver4}): an artifact travels to other machines. */
  private static String variantName(CpuTarget target) {
    return target.name().equals("host") ? "host-" + target.cpu() : target.name();
  }

  /**
   * What a machine must have to run a variant: the features its code was compiled with. For the host these are
   * only features the runtime's detection confirms ({@link CpuTarget#host()} turns the others off), so the machine
   * that compiled an artifact always runs its host variant.
   */
  private static List<String> requiredFeatures(CpuTarget target) {
    return List.copyOf(target.requiredFeatures());
  }

  private static String names(List<CpuTarget> targets) {
    List<String> out = new ArrayList<>();
    targets.forEach(t -> out.add(variantName(t)));
    return String.join(", ", out);
  }

  /** The code addresses constants at the layout's offsets; the manifest must say the same. */
  private static void checkWeightOffsets(WeightsTable table, WeightsLayout layout) {
    for (WeightsTable.Constant c : table.constants()) {
      long want = layout.offsets().get(c.name());
      if (c.offset() != want) {
        throw new IllegalStateException("constant '" + c.name() + "' is at " + c.offset()
            + " in the artifact but the code reads it at " + want);
      }
    }
  }

  /**
   * The outputs with their inferred types: a declaration may keep a symbol
   * that specializing the inputs turned into a size.
   */
  private static List<ValueInfo> inferredOutputs(Graph graph) {
    List<ValueInfo> out = new ArrayList<>();
    for (ValueInfo v : graph.outputs()) {
      out.add(new ValueInfo(v.name(), graph.typeOf(v.name()).orElse(v.type())));
    }
    return out;
  }

  /** Graph inputs or outputs as tensor specs; every dimension must be a size or a name. */
  private static List<TensorSpec> specs(String kind, List<ValueInfo> values) {
    List<TensorSpec> out = new ArrayList<>();
    for (ValueInfo v : values) {
      Shape s = v.type().shape();
      boolean known = s.hasRank() && s.dims().stream().noneMatch(Dim::isUnknown);
      if (!known) {
        throw new UnsupportedModelException(kind + " '" + v.name() + "' has shape " + s + ": a compiled model needs"
            + " every dimension as a size or a name" + (kind.equals("input")
            ? "; give it one with an input shape (nnvmc compile --input-shape " + v.name() + "=[...])" : ""));
      }
      out.add(new TensorSpec(v.name(), v.type().dtype(), s));
    }
    return out;
  }

  private void phase(List<CompileResult.Phase> phases, String name, long startNanos, String detail) {
    report(phases, new CompileResult.Phase(name, System.nanoTime() - startNanos, detail));
  }

  private void report(List<CompileResult.Phase> phases, CompileResult.Phase p) {
    phases.add(p);
    progress.accept(p);
  }
}
