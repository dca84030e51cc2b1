package dev.nnvm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.CompileResult;
import dev.nnvm.compiler.compile.HeapTensors;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real models compiled by {@link ModelCompiler} into artifact bytes, loaded
 * as a {@link CompiledModel} and run by an {@link Executor}, compared with
 * ONNX Runtime on fresh random inputs. One compiled library serves every
 * batch size and sequence length.
 */
class CompiledModelsTest {
  private NativeAllocator allocator;

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("compiled-models");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  @Test
  void miniLmCompiledMatchesOnnxRuntime() throws Exception {
    byte[] model = ModelCheck.resource("/all-minilm-l6-v2.onnx");
    CompileResult compiled = ModelCompiler.create().compile(model, null, "all-MiniLM-L6-v2", CompileOptions.defaults());
    System.out.printf("all-MiniLM-L6-v2 compiled in %.0f ms: %s; sizes %s%n", compiled.totalNanos() / 1e6,
        compiled.phaseSummary(), compiled.sizes());
    compiled.phases().forEach(p -> System.out.println("  " + p));
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> inputs = MiniLmTest.inputs(random.random());
    Map<String, Tensor> want = OrtOracle.run(model, inputs);
    try (CompiledModel loaded = CompiledModel.load(compiled.bytes(), allocator);
        Executor executor = loaded.newExecutor(allocator)) {
      assertEquals(loaded.manifest().weights().size(), loaded.weightsBytes());
      List<NativeTensor> natives = new ArrayList<>();
      try {
        for (TensorSpec in : executor.inputs()) {
          NativeTensor t = HeapTensors.toNative(inputs.get(in.name()), allocator);
          natives.add(t);
          executor.setInput(in.name(), t);
        }
        long t0 = System.nanoTime();
        executor.run();
        System.out.printf("one run of %s on variant %s: %.1f ms%n", executor.bindings(), loaded.variant().name(),
            (System.nanoTime() - t0) / 1e6);
      } finally {
        natives.forEach(NativeTensor::close);
      }
      for (Map.Entry<String, Tensor> e : want.entrySet()) {
        try (NativeTensor out = executor.output(e.getKey())) {
          System.out.println("compiled all-MiniLM-L6-v2 vs ONNX Runtime (seed " + random.seed() + "): "
              + Comparison.assertClose(e.getKey(), e.getValue(), HeapTensors.fromNative(out), 1e-3, 1e-4));
        }
      }
    }
  }
}
