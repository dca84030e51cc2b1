package dev.nnvm.it;

import dev.nnvm.compiler.codegen.CompiledModelRunner;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.transform.Optimizer;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real models compiled to native code for the host CPU and run through the
 * runtime, compared with ONNX Runtime on fresh random inputs. One compiled
 * library serves every batch size and sequence length.
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
    Graph g = new OnnxImporter(OpRegistry.standard()).read(model, null, "all-MiniLM-L6-v2");
    long t0 = System.nanoTime();
    Graph opt = Optimizer.optimize(g, 2, List.of(), Map.of()).graph();
    try (CompiledModelRunner runner = new CompiledModelRunner(opt, allocator)) {
      System.out.printf("all-MiniLM-L6-v2: %d kernels, optimized + compiled in %.0f ms (LLVM %s)%n",
          opt.nodes().size(), (System.nanoTime() - t0) / 1e6, runner.library().times());
      RandomTensors random = new RandomTensors();
      Map<String, Tensor> inputs = MiniLmTest.inputs(random.random());
      Map<String, Tensor> want = OrtOracle.run(model, inputs);
      Map<String, Tensor> got = runner.run(inputs, 1);
      for (Map.Entry<String, Tensor> e : want.entrySet()) {
        System.out.println("compiled all-MiniLM-L6-v2 vs ONNX Runtime (seed " + random.seed() + "): "
            + Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), 1e-3, 1e-4));
      }
    }
  }
}
