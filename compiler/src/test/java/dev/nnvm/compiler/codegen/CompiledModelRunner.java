package dev.nnvm.compiler.codegen;

import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.CompileResult;
import dev.nnvm.compiler.compile.HeapTensors;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test shorthand for the production path: an optimized graph compiled by
 * {@link ModelCompiler} (host CPU), loaded as a {@link CompiledModel} and run
 * by an {@link Executor} on heap tensors copied in and out of native memory.
 */
public final class CompiledModelRunner implements AutoCloseable {
  private final CompileResult compiled;
  private final CompiledModel model;
  private final NativeAllocator allocator;

  public CompiledModelRunner(Graph graph, NativeAllocator allocator) {
    // The caller hands an optimized graph: level 0 only re-infers types. The host variant alone: the tests of
    // what the kernels compute need no second variant (PortableArtifactTest checks the default targets).
    this(graph, CompileOptions.defaults().withOptLevel(0).withTargets(List.of("host")), allocator);
  }

  private CompiledModelRunner(Graph graph, CompileOptions options, NativeAllocator allocator) {
    this(ModelCompiler.create().compile(graph, options), null, allocator);
  }

  private CompiledModelRunner(CompileResult compiled, CpuFeatures cpu, NativeAllocator allocator) {
    this.allocator = allocator;
    this.compiled = compiled;
    try {
      this.model = cpu == null ? CompiledModel.load(compiled.bytes(), allocator)
          : CompiledModel.load(ArtifactReader.read(compiled.bytes()), allocator, cpu);
    } catch (ArtifactException e) {
      throw new IllegalStateException("the compiler wrote an artifact the runtime refuses: " + e.getMessage(), e);
    }
  }

  /** Compiles an unoptimized graph with these options; the runtime picks the variant for this machine. */
  public static CompiledModelRunner compile(Graph graph, CompileOptions options, NativeAllocator allocator) {
    return new CompiledModelRunner(graph, options, allocator);
  }

  /** The same compiled artifact loaded with the variant the runtime picks for a CPU with these features. */
  public CompiledModelRunner loadedFor(CpuFeatures cpu, NativeAllocator allocator) {
    return new CompiledModelRunner(compiled, cpu, allocator);
  }

  /** The native variant this runner's model runs. */
  public dev.nnvm.runtime.artifact.NativeVariant variant() {
    return model.variant();
  }

  /** The compile's result: bytes, manifest, phases. */
  public CompileResult compiled() {
    return compiled;
  }

  /** Compiles an unoptimized graph at the default level for the given targets (the runtime picks the best). */
  public static CompiledModelRunner forTargets(Graph graph, List<String> targets, NativeAllocator allocator) {
    return new CompiledModelRunner(graph, CompileOptions.defaults().withTargets(targets), allocator);
  }

  /** Compiles an unoptimized graph as a user would: optimized at the default level, for the host CPU. */
  public static CompiledModelRunner optimizing(Graph graph, NativeAllocator allocator) {
    return new CompiledModelRunner(graph, CompileOptions.defaults().withTargets(List.of("host")), allocator);
  }

  /** The names of the constants the artifact stores (packed weights under their packed names). */
  public java.util.List<String> storedConstants() {
    return compiled.manifest().weights().constants().stream()
        .map(dev.nnvm.runtime.artifact.WeightsTable.Constant::name).toList();
  }

  /** How long each compile phase took. */
  public String times() {
    return compiled.phaseSummary();
  }

  /** Runs the model once on inputs by name; returns outputs by name. */
  public Map<String, Tensor> run(Map<String, Tensor> inputs, int threads) {
    List<NativeTensor> bound = new ArrayList<>();
    try (Executor ex = model.newExecutor(allocator)) {
      for (TensorSpec in : ex.inputs()) {
        NativeTensor t = HeapTensors.toNative(inputs.get(in.name()), allocator);
        bound.add(t);
        ex.setInput(in.name(), t);
      }
      ex.run(threads);
      Map<String, Tensor> out = new LinkedHashMap<>();
      for (TensorSpec o : ex.outputs()) {
        try (NativeTensor t = ex.output(o.name())) {
          out.put(o.name(), HeapTensors.fromNative(t));
        }
      }
      return out;
    } finally {
      bound.forEach(NativeTensor::close);
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
