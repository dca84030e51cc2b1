package dev.nnvm.compiler.conformance;

import dev.nnvm.compiler.codegen.CompiledModelRunner;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.Map;

/** How a conformance case is executed: prepared once per imported graph, then run once per data set. */
interface CaseEngine {
  /** A graph ready to run; closing it frees what preparing allocated. */
  interface Prepared extends AutoCloseable {
    Map<String, Tensor> run(Map<String, Tensor> feeds);

    @Override
    void close();
  }

  /**
   * Prepares a graph. Refusals are {@link dev.nnvm.compiler.ir.UnsupportedModelException}s,
   * which the runner counts as unsupported rather than failed.
   */
  Prepared prepare(Graph graph);

  /** The Java reference evaluator, on the imported graph as is. */
  static CaseEngine reference() {
    return graph -> new Prepared() {
      @Override
      public Map<String, Tensor> run(Map<String, Tensor> feeds) {
        return ReferenceEvaluator.standard().run(graph, feeds);
      }

      @Override
      public void close() {}
    };
  }

  /**
   * The production path: the graph optimized at the default level, compiled
   * for the host CPU, loaded and run on {@code threads} threads by the native
   * runtime, with native memory from {@code allocator}.
   */
  static CaseEngine compiled(NativeAllocator allocator, int threads) {
    return graph -> {
      CompiledModelRunner runner = CompiledModelRunner.optimizing(graph, allocator);
      return new Prepared() {
        @Override
        public Map<String, Tensor> run(Map<String, Tensor> feeds) {
          return runner.run(feeds, threads);
        }

        @Override
        public void close() {
          runner.close();
        }
      };
    };
  }
}
