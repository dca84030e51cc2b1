package dev.nnvm.it;

import dev.nnvm.compiler.codegen.CompiledModelRunner;
import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.transform.Optimizer;
import dev.nnvm.compiler.transform.SpecializeInputs;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Convolutional models compiled to native code and run through the runtime,
 * compared with ONNX Runtime on random inputs: at optimization level 2 with
 * the CPU compiler's pipeline (what ModelCompiler builds: in a network whose
 * convolutions all can, ResNet-50, one-group convolutions on the blocked
 * NCHW{b}c layout's direct convolution kernel; otherwise on the packed GEMM,
 * depthwise ones as loops), and the classifier also at level 3 with the
 * standard pipeline (NCHW8c convolutions as direct loops).
 */
class CompiledCnnModelsTest {
  /** fp32 through ~50-70 convolutions: summation order differs from ONNX Runtime's. */
  private static final double RTOL = 1e-3;
  private static final double ATOL = 1e-4;

  /** Convolutions on the blocked layout in the graph the last check compiled. */
  private long blockedConvolutions;

  private NativeAllocator allocator;

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("compiled-cnn-models");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  /**
   * Compiles the model with {@code intermediates} as extra outputs, compares its outputs with ONNX Runtime
   * and the intermediates with the reference evaluator (outputs that saturate, such as a uniform softmax or
   * a sigmoid near 0, say little about the convolutions before them).
   */
  private void check(String what, int level, byte[] model, Map<String, Shape> shapes, Map<String, Tensor> inputs,
      long seed, String... intermediates) throws Exception {
    Graph g = SpecializeInputs.apply(ModelCheck.importModel(model, null, what), shapes);
    List<ValueInfo> extra = new ArrayList<>();
    for (String v : intermediates) {
      extra.add(new ValueInfo(v, TensorType.unknownShape(DType.FLOAT32)));
    }
    List<ValueInfo> outputs = new ArrayList<>(g.outputs());
    outputs.addAll(extra);
    long t0 = System.nanoTime();
    Graph optimized = (level == 3
        ? Optimizer.optimize(g.toBuilder().outputs(outputs).build(), level, List.of(), Map.of())
        : Optimizer.optimize(g.toBuilder().outputs(outputs).build(),
            ModelCompiler.cpuPipeline(List.of(CpuTarget.host())), level, List.of(), Map.of())).graph();
    blockedConvolutions = optimized.nodes().stream().filter(n -> n.opType().equals("ConvNCHWc")
        || n.opType().equals("Fused") && n.attribute("body").asGraph().nodes().stream()
            .anyMatch(m -> m.opType().equals("ConvNCHWc"))).count();
    // The models declare their outputs with unnamed dimensions; the runner allocates outputs from the
    // declarations, so they take the inferred (static) types.
    Graph opt = optimized.toBuilder().outputs(optimized.outputs().stream()
        .map(o -> new ValueInfo(o.name(), optimized.typeOf(o.name()).orElseThrow())).toList()).build();
    try (CompiledModelRunner runner = new CompiledModelRunner(opt, allocator)) {
      System.out.printf("%s (opt level %d): %d kernels (%d blocked-layout convolutions), optimized + compiled in "
          + "%.0f ms (LLVM %s)%n", what, level, opt.nodes().size(), blockedConvolutions,
          (System.nanoTime() - t0) / 1e6, runner.times());
      long t1 = System.nanoTime();
      Map<String, Tensor> got = runner.run(inputs, 1);
      System.out.printf("%s: one native run (1 thread) %.0f ms%n", what, (System.nanoTime() - t1) / 1e6);
      compare(what + " vs ONNX Runtime", OrtOracle.run(model, inputs), got, seed);
      if (!extra.isEmpty()) {
        compare(what + " intermediates vs reference evaluator",
            ReferenceEvaluator.standard().run(g.toBuilder().outputs(extra).build(), inputs), got, seed);
      }
    }
  }

  private static void compare(String what, Map<String, Tensor> want, Map<String, Tensor> got, long seed) {
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      double[] v = e.getValue().toDoubleArray();
      System.out.println("compiled " + what + " (seed " + seed + "): "
          + Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), RTOL, ATOL) + " (values in ["
          + Arrays.stream(v).min().orElse(0) + ", " + Arrays.stream(v).max().orElse(0) + "])");
    }
  }

  @Test
  void ppOcrV3DetectorCompiledMatchesOnnxRuntime() throws Exception {
    RandomTensors random = new RandomTensors();
    check("ch_PP-OCRv3_det_infer", 2, ModelCheck.resource("/models/ch_PP-OCRv3_det_infer.onnx"),
        Map.of("x", Shape.of(1, 3, 160, 160)), Map.of("x", random.of(DType.FLOAT32, 1, 3, 160, 160)), random.seed(),
        "elementwise_add_11.tmp_0");
  }

  @Test
  void mobileDirectionClassifierCompiledMatchesOnnxRuntime() throws Exception {
    for (int level : new int[] {2, 3}) {
      classifier(level);
    }
  }

  private void classifier(int level) throws Exception {
    RandomTensors random = new RandomTensors();
    check("ch_ppocr_mobile_v2.0_cls_infer", level, ModelCheck.resource("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"),
        Map.of("x", Shape.of(2, 3, 48, 192)), Map.of("x", random.of(DType.FLOAT32, 2, 3, 48, 192)),
        random.seed());
  }

  @Test
  void lightResNet50CompiledMatchesOnnxRuntime() throws Exception {
    Path file = Path.of(System.getProperty("nnvm.shared.dir", "../../shared"), "onnx-tests", "light",
        "light_resnet50.onnx");
    if (!Files.exists(file)) {
      System.out.println("SKIPPED compiled light ResNet-50: " + file
          + " is missing (../shared/onnx-tests not present)");
    }
    Assumptions.assumeTrue(Files.exists(file), () -> file + " is missing");
    RandomTensors random = new RandomTensors();
    check("light_resnet50", 2, Files.readAllBytes(file), Map.of(),
        Map.of("gpu_0/data_0", random.of(DType.FLOAT32, 1, 3, 224, 224)), random.seed(), "r172", "r174");
    // All 52 convolutions but the 3-channel stem run on the blocked layout's direct convolution kernel.
    org.junit.jupiter.api.Assertions.assertEquals(52, blockedConvolutions, "blocked-layout convolutions");
  }
}
