package dev.nnvm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;

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
import java.util.LinkedHashMap;
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
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> inputs = MiniLmTest.inputs(random.random());
    Map<String, Tensor> want = OrtOracle.run(model, inputs);
    Map<String, Tensor> got = compileAndRun(model, "all-MiniLM-L6-v2", inputs);
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      System.out.println("compiled all-MiniLM-L6-v2 vs ONNX Runtime (seed " + random.seed() + "): "
          + Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), 1e-3, 1e-4));
    }
  }

  /**
   * The dynamically quantized model compiled (DynamicQuantizeLinear and MatMulInteger as loop kernels)
   * against ONNX Runtime at its basic level, which runs the operators as written. As for the reference
   * evaluator (MiniLmTest): last-bit float differences before a quantization step can flip a quantized
   * value, so the test asserts what a wrong kernel cannot meet, mean-pooled sentence embeddings with a
   * cosine above 0.99 and a mean absolute error below 5e-2, and prints the element-wise report.
   */
  @Test
  void quantizedMiniLmCompiledMatchesOnnxRuntime() throws Exception {
    byte[] model = ModelCheck.resource("/all-minilm-l6-v2-q.onnx");
    // A fixed seed (-Dnnvm.seed overrides it): with fresh inputs the mean error ranged 0.0285-0.041 against the
    // 0.05 bound, a flake waiting to block CI (issue 19 asks for an exact oracle; until then, reproducible).
    RandomTensors random = new RandomTensors(Long.getLong("nnvm.seed", 20261206L));
    Map<String, Tensor> inputs = MiniLmTest.inputs(random.random());
    Tensor want = OrtRunner.run(model, inputs, OrtSession.SessionOptions.OptLevel.BASIC_OPT).get("last_hidden_state");
    Tensor got = compileAndRun(model, "all-MiniLM-L6-v2-q", inputs).get("last_hidden_state");
    Tensor mask = inputs.get("attention_mask");
    for (int b = 0; b < want.dim(0); b++) {
      double cos = MiniLmTest.cosine(MiniLmTest.meanPool(want, mask, b), MiniLmTest.meanPool(got, mask, b));
      System.out.printf("  sentence %d: cosine similarity of mean-pooled embeddings %.7f%n", b, cos);
      assertTrue(cos > 0.99, "sentence " + b + ": cosine similarity " + cos);
    }
    double sum = 0;
    double max = 0;
    for (int i = 0; i < want.size(); i++) {
      double err = Math.abs(want.getDouble(i) - got.getDouble(i));
      sum += err;
      max = Math.max(max, err);
    }
    double mean = sum / want.size();
    System.out.printf("compiled all-MiniLM-L6-v2-q vs ONNX Runtime (seed %d): last_hidden_state: %d elements, "
        + "mean abs err %.3g, max abs err %.3g%n", random.seed(), want.size(), mean, max);
    assertTrue(mean < 5e-2, "mean absolute error " + mean + " of last_hidden_state");
  }

  /** Compiles {@code model}, loads it, runs it once on {@code inputs}; returns every output. */
  private Map<String, Tensor> compileAndRun(byte[] model, String name, Map<String, Tensor> inputs) throws Exception {
    CompileResult compiled = ModelCompiler.create().compile(model, null, name, CompileOptions.defaults());
    System.out.printf("%s compiled in %.0f ms: %s; sizes %s%n", name, compiled.totalNanos() / 1e6,
        compiled.phaseSummary(), compiled.sizes());
    compiled.phases().forEach(p -> System.out.println("  " + p));
    Map<String, Tensor> got = new LinkedHashMap<>();
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
      for (TensorSpec o : executor.outputs()) {
        try (NativeTensor out = executor.output(o.name())) {
          got.put(o.name(), HeapTensors.fromNative(out));
        }
      }
    }
    return got;
  }
}
