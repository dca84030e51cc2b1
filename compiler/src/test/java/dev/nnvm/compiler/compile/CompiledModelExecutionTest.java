package dev.nnvm.compiler.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A small transformer-like model (embedding gather, matrix products with
 * bias and GELU, layer norm, a reduction) compiled by {@link ModelCompiler}
 * into artifact bytes, loaded as a {@link CompiledModel} and run by
 * {@link Executor}s: results against the reference evaluator for several
 * batch sizes, shared weights, and every kind of binding error.
 */
class CompiledModelExecutionTest {
  static final String MODEL = "graph tiny(%x: f32[N, S, 16], %ids: i64[N, S]) -> (%y: f32[N, S, 24], "
      + "%m: f32[N, S, 1]) opset(ai.onnx=17) {\n"
      + "  const %table: f32[10, 16] = dense<" + dense(160, 0.5) + ">\n"
      + "  const %w: f32[16, 24] = dense<" + dense(16 * 24, 0.1) + ">\n"
      + "  const %b: f32[24] = dense<" + dense(24, 0.3) + ">\n"
      + "  const %g: f32[24] = dense<" + dense(24, 1.0) + ">\n"
      + "  const %beta: f32[24] = dense<" + dense(24, 0.2) + ">\n"
      + "  %e = Gather(%table, %ids)\n  %h = Add(%x, %e)\n"
      + "  %p = MatMul(%h, %w)\n  %a = Add(%p, %b)\n  %act = Gelu(%a)\n"
      + "  %y = LayerNormalization(%act, %g, %beta) {axis = -1, epsilon = 1.0e-5}\n"
      + "  %m = ReduceMean(%h) {axes = [-1]}\n"
      + "  return %y, %m\n}\n";

  private static Graph graph;
  private static CompileResult compiled;
  private NativeAllocator allocator;

  @BeforeAll
  static void compile() {
    graph = GraphParser.parse(MODEL);
    compiled = ModelCompiler.create().compile(graph, CompileOptions.defaults());
    System.out.println("compiled in " + compiled.phaseSummary() + ", sizes " + compiled.sizes());
  }

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("executor-test");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  static Map<String, Tensor> inputs(RandomTensors random, long n, long s) {
    Map<String, Tensor> in = new LinkedHashMap<>();
    in.put("x", random.uniform(DType.FLOAT32, -1, 1, n, s, 16));
    in.put("ids", random.ints(DType.INT64, 0, 9, n, s));
    return in;
  }

  @Test
  void manifestDescribesTheModel() {
    assertEquals(List.of("N", "S"), compiled.manifest().symbols());
    assertEquals("x: f32[N, S, 16]", compiled.manifest().inputs().get(0).toString());
    assertEquals("y: f32[N, S, 24]", compiled.manifest().outputs().get(0).toString());
    // The default targets: this CPU, then the baseline any x86-64 worker runs.
    assertEquals(2, compiled.manifest().variants().size());
    assertEquals("nnvm_model_run", compiled.manifest().variants().get(0).entry());
    assertTrue(compiled.manifest().variants().get(0).name().startsWith("host-"));
    assertEquals("x86-64", compiled.manifest().variants().get(1).name());
    assertEquals(List.of("optimize", "lower", "llvm", "link", "write"),
        compiled.phases().stream().map(CompileResult.Phase::name).toList());
    assertEquals(compiled.bytes().length, compiled.sizes().get("artifact"));
  }

  @Test
  void runsMatchTheReferenceEvaluatorForSeveralBatchSizes() throws Exception {
    try (CompiledModel model = CompiledModel.load(compiled.bytes(), allocator);
        Executor exec = model.newExecutor(allocator)) {
      long workspace = 0;
      for (long[] ns : new long[][] {{1, 5}, {3, 7}, {8, 2}, {2, 3}, {0, 4}}) {
        RandomTensors random = new RandomTensors();
        Map<String, Tensor> in = inputs(random, ns[0], ns[1]);
        Map<String, Tensor> want = ReferenceEvaluator.standard().run(graph, in);
        try (NativeTensor x = HeapTensors.toNative(in.get("x"), allocator);
            NativeTensor ids = HeapTensors.toNative(in.get("ids"), allocator)) {
          exec.setInput("x", x);
          exec.setInput("ids", ids);
          exec.run(2);
          assertEquals(Map.of("N", ns[0], "S", ns[1]), exec.bindings());
          assertTrue(exec.workspaceBytes() >= workspace, "the workspace only grows");
          workspace = exec.workspaceBytes();
          StringBuilder report = new StringBuilder("N=" + ns[0] + " S=" + ns[1] + " (seed " + random.seed() + ")");
          for (String name : List.of("y", "m")) {
            try (NativeTensor out = exec.output(name)) {
              assertTrue(out.ownsMemory());
              report.append("; ").append(Comparison.assertClose(name, want.get(name), HeapTensors.fromNative(out),
                  1e-4, 1e-5));
            }
          }
          System.out.println(report);
        }
      }
    }
  }

  @Test
  void callerOutputsAreWrittenInPlace() throws Exception {
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = inputs(random, 2, 4);
    Map<String, Tensor> want = ReferenceEvaluator.standard().run(graph, in);
    try (CompiledModel model = CompiledModel.load(compiled.bytes(), allocator);
        Executor exec = model.newExecutor(allocator);
        NativeTensor x = HeapTensors.toNative(in.get("x"), allocator);
        NativeTensor ids = HeapTensors.toNative(in.get("ids"), allocator);
        NativeTensor y = NativeTensor.allocate(allocator, DType.FLOAT32, 2, 4, 24);
        NativeTensor wrongY = NativeTensor.allocate(allocator, DType.FLOAT32, 3, 4, 24)) {
      exec.setInput("x", x);
      exec.setInput("ids", ids);
      exec.setOutput("y", wrongY);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, exec::run);
      assertTrue(e.getMessage().contains("output 'y'") && e.getMessage().contains("f32[2, 4, 24]"), e.getMessage());
      exec.setOutput("y", y);
      exec.run();
      assertSame(y, exec.output("y"));
      System.out.println("caller output: " + Comparison.assertClose("y", want.get("y"), HeapTensors.fromNative(y),
          1e-4, 1e-5));
      try (NativeTensor m = exec.output("m")) {
        Comparison.assertClose("m", want.get("m"), HeapTensors.fromNative(m), 1e-4, 1e-5);
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> exec.output("m"));
        assertTrue(twice.getMessage().contains("already taken"), twice.getMessage());
      }
    }
  }

  @Test
  void executorsOfOneArtifactShareOneCopyOfTheWeights() throws Exception {
    ModelArtifact artifact = ArtifactReader.read(compiled.bytes());
    long weights = artifact.manifest().weights().size();
    try (CompiledModel first = CompiledModel.load(artifact, allocator)) {
      long afterFirst = allocator.allocatedBytes();
      assertEquals(weights, first.weightsBytes());
      assertEquals(weights, afterFirst, "the first load copies the weights into native memory once");
      try (CompiledModel second = CompiledModel.load(compiled.bytes(), allocator);
          NativeAllocator task = allocator.newChild("task");
          Executor a = first.newExecutor(task);
          Executor b = second.newExecutor(task)) {
        assertEquals(1, CompiledModel.loadedCount());
        assertEquals(afterFirst, allocator.allocatedBytes() - task.allocatedBytes(),
            "a second load shares the weights");
        assertEquals(first.id(), second.id());
      }
      assertEquals(afterFirst, allocator.allocatedBytes());
    }
    assertEquals(0, allocator.allocatedBytes(), "the last close frees the weights");
    assertEquals(0, CompiledModel.loadedCount());
  }

  @Test
  void executorsOnSeveralThreadsShareTheModel() throws Exception {
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = inputs(random, 4, 6);
    Tensor want = ReferenceEvaluator.standard().run(graph, in).get("y");
    try (CompiledModel model = CompiledModel.load(compiled.bytes(), allocator)) {
      List<Callable<Tensor>> tasks = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        tasks.add(() -> {
          try (Executor exec = model.newExecutor(allocator);
              NativeTensor x = HeapTensors.toNative(in.get("x"), allocator);
              NativeTensor ids = HeapTensors.toNative(in.get("ids"), allocator)) {
            exec.setInput("x", x);
            exec.setInput("ids", ids);
            Tensor last = null;
            for (int i = 0; i < 20; i++) {
              exec.run();
              try (NativeTensor y = exec.output("y")) {
                last = HeapTensors.fromNative(y);
              }
            }
            return last;
          }
        });
      }
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        for (Future<Tensor> f : pool.invokeAll(tasks)) {
          Comparison.assertClose("y", want, f.get(), 1e-4, 1e-5);
        }
      } finally {
        pool.shutdown();
      }
      assertEquals(compiled.manifest().weights().size(), allocator.allocatedBytes(),
          "only the shared weights are left once the executors are closed");
    }
  }

  @Test
  void bytesOfALoadedArtifactAreNotReadAgain() throws Exception {
    byte[] damaged = compiled.bytes().clone();
    damaged[damaged.length - 1] ^= 1;
    try (CompiledModel first = CompiledModel.load(compiled.bytes(), allocator);
        CompiledModel again = CompiledModel.load(damaged, allocator)) {
      assertEquals(first.id(), again.id(), "the header names the loaded copy, which came from verified bytes");
      assertEquals(1, CompiledModel.loadedCount());
    }
    ArtifactException e = assertThrows(ArtifactException.class, () -> CompiledModel.load(damaged, allocator));
    assertTrue(e.getMessage().contains("is corrupted"), e.getMessage());
  }

  @Test
  void anOpenExecutorKeepsTheModelLoaded() throws Exception {
    CompiledModel model = CompiledModel.load(compiled.bytes(), allocator);
    Executor exec = model.newExecutor(allocator);
    model.close();
    model.close();
    assertThrows(IllegalStateException.class, () -> model.newExecutor(allocator));
    assertEquals(1, CompiledModel.loadedCount());
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> in = inputs(random, 1, 2);
    try (NativeTensor x = HeapTensors.toNative(in.get("x"), allocator);
        NativeTensor ids = HeapTensors.toNative(in.get("ids"), allocator)) {
      exec.setInput("x", x);
      exec.setInput("ids", ids);
      exec.run();
    }
    exec.close();
    exec.close();
    assertEquals(0, CompiledModel.loadedCount());
    assertEquals(0, allocator.allocatedBytes());
    assertThrows(IllegalStateException.class, exec::run);
  }

  @Test
  void badBindingsAreRefusedBeforeTheNativeCall() throws Exception {
    try (CompiledModel model = CompiledModel.load(compiled.bytes(), allocator);
        Executor exec = model.newExecutor(allocator);
        NativeTensor x = NativeTensor.allocate(allocator, DType.FLOAT32, 2, 3, 16);
        NativeTensor xBadDim = NativeTensor.allocate(allocator, DType.FLOAT32, 2, 3, 15);
        NativeTensor xRank2 = NativeTensor.allocate(allocator, DType.FLOAT32, 2, 3);
        NativeTensor ids32 = NativeTensor.allocate(allocator, DType.INT32, 2, 3);
        NativeTensor idsOtherBatch = NativeTensor.allocate(allocator, DType.INT64, 4, 3)) {
      assertEquals(List.of("x", "ids"), exec.inputs().stream().map(TensorSpec::name).toList());
      assertError(() -> exec.setInput("input_ids", x), "no input named 'input_ids'", "[x, ids]");
      assertError(() -> exec.setInput("ids", ids32), "input 'ids'", "expected element type i64, got i32");
      assertError(() -> exec.setInput("x", xRank2), "input 'x'", "expected rank 3", "got rank 2 [2, 3]");
      assertError(() -> exec.setInput("x", xBadDim), "input 'x'", "dimension 2: expected 16, got 15");
      assertError(() -> exec.setOutput("z", x), "no output named 'z'");
      exec.setInput("x", x);
      assertError(exec::run, "input 'ids'", "is not set");
      exec.setInput("ids", idsOtherBatch);
      assertError(exec::run, "input 'ids' dimension 0 (N) is 4", "input 'x' dimension 0 makes N = 2");
      assertError(() -> exec.run(0), "threads must be at least 1");
      assertThrows(IllegalStateException.class, () -> exec.output("y"), "no output before a run");
    }
  }

  @Test
  void aVariantThisCpuCannotRunIsRefusedClearly() throws Exception {
    ModelArtifact artifact = ArtifactReader.read(compiled.bytes());
    CpuFeatures old = CpuFeatures.of("x86_64", "linux", List.of("sse", "sse2"));
    ArtifactException e = assertThrows(ArtifactException.class, () -> CompiledModel.load(artifact, allocator, old));
    String variant = artifact.manifest().variants().get(0).name();
    assertTrue(e.getMessage().contains("no native code") && e.getMessage().contains("variant '" + variant + "'")
        && e.getMessage().contains("which this CPU lacks") && e.getMessage().contains("recompile"), e.getMessage());
    CpuFeatures arm = CpuFeatures.of("aarch64", "linux", List.of("asimd"));
    ArtifactException e2 = assertThrows(ArtifactException.class, () -> CompiledModel.load(artifact, allocator, arm));
    assertTrue(e2.getMessage().contains("built for x86_64"), e2.getMessage());
    assertEquals(0, allocator.allocatedBytes());
    assertFalse(CompiledModel.loadedCount() > 0);
  }

  private static void assertError(Executable call, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
    }
  }

  /** Deterministic values for a constant, so failures reproduce. */
  static String dense(int n, double scale) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append((float) (scale * Math.sin(i * 0.7 + 0.3)));
    }
    return sb.append("]").toString();
  }
}
