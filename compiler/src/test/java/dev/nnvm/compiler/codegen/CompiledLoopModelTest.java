package dev.nnvm.compiler.codegen;

import static dev.nnvm.compiler.testing.GraphTexts.dense;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.codegen.llvm.GemmGenerator;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.lower.MatrixProducts;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.transform.PassContext;
import dev.nnvm.compiler.transform.PassManager;
import dev.nnvm.runtime.artifact.WeightsTable;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Whole models compiled to native code end to end: optimized, lowered to
 * loops, written as one LLVM module, compiled for the host CPU, loaded by
 * the runtime and called through the model ABI, for several batch sizes of
 * one compiled library; outputs compared with the reference evaluator.
 */
class CompiledLoopModelTest {
  private NativeAllocator allocator;

  /**
   * Absolute tolerance of the convolution tests: float sums of up to 240
   * products of values in [-2, 2] (magnitudes summing to ~250) against the
   * reference's order of summation differ by rounding of the order
   * sqrt(terms) x 6e-8 x 250, ~2e-5 typically and up to ~1e-4 over 200K
   * outputs (a CI run saw 3.3e-5); a wrong tap or pad is off by ~0.1 or more.
   */
  private static final double CONV_ATOL = 2e-4;

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("compiled-test");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  private void compileAndRun(String text, long... symbolSizes) {
    compileAndRun(text, 1e-5, 1e-6, symbolSizes);
  }

  private void compileAndRun(String text, double rtol, double atol, long... symbolSizes) {
    compileAndRun(text, rtol, atol, null, symbolSizes);
  }

  /** As above, compiled for {@code targets} (null: the host). */
  private void compileAndRun(String text, double rtol, double atol, List<String> targets, long... symbolSizes) {
    Graph g = GraphParser.parse(text);
    Graph opt = PassManager.standard(2).run(g, PassContext.standard()).graph();
    try (CompiledModelRunner runner = targets == null ? new CompiledModelRunner(opt, allocator)
        : CompiledModelRunner.forTargets(opt, targets, allocator)) {
      System.out.println(opt.nodes().size() + " kernels compiled: " + runner.times());
      for (long size : symbolSizes) {
        RandomTensors random = new RandomTensors();
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        for (ValueInfo in : g.inputs()) {
          long[] shape = in.type().shape().dims().stream().mapToLong(d -> d.isStatic() ? d.value() : size).toArray();
          inputs.put(in.name(), in.type().dtype().isFloatingPoint() ? random.uniform(in.type().dtype(), -2, 2, shape)
              : random.ints(in.type().dtype(), 0, 10, shape));
        }
        Map<String, Tensor> want = ReferenceEvaluator.standard().run(g, inputs);
        for (int threads : new int[] {1, 2, 3}) {
          Map<String, Tensor> got = runner.run(inputs, threads);
          StringBuilder report = new StringBuilder("native, symbols = " + size + ", " + threads + " threads (seed "
              + random.seed() + ")");
          for (Map.Entry<String, Tensor> e : want.entrySet()) {
            report.append("; ").append(Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), rtol,
                atol));
          }
          System.out.println(report);
        }
      }
    }
  }

  @Test
  void fusedElementwiseReductionGatherAndCompareRunNatively() {
    compileAndRun("graph main(%x: f32[N, 6, 5], %ids: i64[N, 5], %table: f32[10, 5]) -> (%y: f32[N, 6, 1], "
        + "%z: f32[N, 5, 5], %w: bool[N, 5]) opset(ai.onnx=17) {\n"
        + "  const %two: f32[] = dense<[2.0]>\n  const %zero: f32[] = dense<[0.0]>\n"
        + "  %p = Pow(%x, %two)\n  %m = ReduceMean(%p) {axes = [-1]}\n  %y = Sqrt(%m)\n"
        + "  %e = Gather(%table, %ids)\n  %z = Gelu(%e)\n"
        + "  %s = ReduceMax(%e) {axes = [-1], keepdims = 0}\n  %w = Greater(%s, %zero)\n"
        + "  return %y, %z, %w\n}\n", 1, 3, 17);
  }

  @Test
  void transformerBlockWithoutMatMulsRunsNatively() {
    compileAndRun("graph main(%q: f32[N, 2, S, 4], %k: f32[N, 2, S, 4], %v: f32[N, 2, S, 4], "
        + "%mask: i64[N, S]) -> (%y: f32[N, S, 8]) opset(ai.onnx=13) {\n"
        + "  const %c: f32[] = dense<[2.0]>\n  const %one: f32[] = dense<[1.0]>\n"
        + "  const %big: f32[] = dense<[-10000.0]>\n  const %ax: i64[2] = dense<[1, 2]>\n"
        + "  const %g: f32[8] = dense<[1.0, 2.0, 0.5, -1.0, 1.5, 0.25, 3.0, 1.0]>\n"
        + "  const %b: f32[8] = dense<[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]>\n"
        + "  const %shape: i64[3] = dense<[0, 0, 8]>\n"
        + "  %mu = Unsqueeze(%mask, %ax)\n  %mf = Cast(%mu) {to = 1}\n  %inv = Sub(%one, %mf)\n"
        + "  %madd = Mul(%inv, %big)\n"
        + "  %kt = Transpose(%k) {perm = [0, 1, 3, 2]}\n"
        + "  %sc = MatMul(%q, %kt)\n  %s1 = Div(%sc, %c)\n  %s2 = Add(%s1, %madd)\n"
        + "  %p = Softmax(%s2) {axis = -1}\n  %ctx = MatMul(%p, %v)\n"
        + "  %t = Transpose(%ctx) {perm = [0, 2, 1, 3]}\n  %r = Reshape(%t, %shape)\n"
        + "  %y = LayerNormalization(%r, %g, %b) {axis = -1, epsilon = 1.0e-5}\n"
        + "  return %y\n}\n", 1, 5);
  }

  @Test
  void matrixProductsWithBiasAndEpiloguesRunNatively() {
    compileAndRun("graph main(%x: f32[N, S, 16], %y: f32[N, S, 40], %z: f32[N, 4, 4, 7]) -> (%o: f32[N, S, 40], "
        + "%p: f32[N, S, 40], %q: f32[N, 4, S, 7]) opset(ai.onnx=13) {\n"
        + "  const %w: f32[16, 40] = dense<" + dense(16 * 40, 0.1) + ">\n"
        + "  const %b: f32[40] = dense<" + dense(40, 0.5) + ">\n"
        + "  %m = MatMul(%x, %w)\n  %a = Add(%m, %b)\n  %o = Gelu(%a)\n"
        + "  %m2 = MatMul(%x, %w)\n  %p = Add(%m2, %y)\n"
        + "  %xs = Reshape(%x, %s3)\n  %xt = Transpose(%xs) {perm = [0, 2, 1, 3]}\n"
        + "  %q = MatMul(%xt, %z)\n"
        + "  const %s3: i64[4] = dense<[0, 0, 4, -1]>\n"
        + "  return %o, %p, %q\n}\n", 1, 2, 9);
  }

  /**
   * Weights read only by matrix products are stored pre-packed for the GEMM
   * (strips of the register width): K beyond one cache block (530 > 512),
   * N not a multiple of the strip width, shared by two products with
   * different epilogues; a weight that is also read as a left operand
   * stays as is. Constant left operands (convolution weights, a constant A
   * of fewer rows than a register block) are stored packed too.
   */
  /**
   * Products of fewer rows than the GEMM's column-split threshold (M = 3 x S rows, here 9 to 300) with
   * 7 column strips: on 2 and 3 threads each task takes every row and a part of the columns (the last
   * part shorter), with a bias, a residual and ReLU; and the 0-row and 1-strip edges of the split.
   */
  @Test
  void fewRowProductsSplitColumnsOverThreads() {
    compileAndRun("graph main(%x: f32[3, S, 70], %r: f32[3, S, 200], %y: f32[3, S, 70]) -> (%o: f32[3, S, 200], "
        + "%p: f32[3, S, 20]) opset(ai.onnx=13) {\n"
        + "  const %w: f32[70, 200] = dense<" + dense(70 * 200, 0.2) + ">\n"
        + "  const %b: f32[200] = dense<" + dense(200, 0.5) + ">\n"
        + "  const %v: f32[70, 20] = dense<" + dense(70 * 20, 0.3) + ">\n"
        + "  %m = MatMul(%x, %w)\n  %mb = Add(%m, %b)\n  %ms = Add(%mb, %r)\n  %o = Relu(%ms)\n"
        + "  %p = MatMul(%y, %v)\n"
        + "  return %o, %p\n}\n", 1e-5, 1e-5, 3, 100);
  }

  @Test
  void prepackedWeightsRunNatively() {
    String text = prepackedWeights();
    List<String> stored = ModelCompiler.create().compile(GraphParser.parse(text), CompileOptions.defaults())
        .manifest().weights().constants().stream().map(WeightsTable.Constant::name).toList();
    int nr = GemmGenerator.Blocking.defaults(CpuTarget.host()).nr();
    assertEquals(List.of(MatrixProducts.packedName("w", nr), "v", "b", MatrixProducts.packedNameA("cw"),
        MatrixProducts.packedNameA("ca")).stream().sorted().toList(),
        stored.stream().filter(n -> !n.startsWith("_")).sorted().toList(), "weights stored " + stored);
    // 1100 rows: products of at least 1024 rows take the 12-row register blocks.
    compileAndRun(text, 1e-5, 1e-5, 1, 7, 1100);
  }

  private static String prepackedWeights() {
    return "graph main(%x: f32[N, 530], %z: f32[N, 70], %y: f32[70, N], %im: f32[N, 3, 9, 11], "
        + "%g: f32[530, 9]) -> (%o: f32[N, 70], %p: f32[N, 70], %q: f32[N, 70], %s: f32[70, N], "
        + "%cv: f32[N, 7, 9, 11], %r: f32[5, 9]) opset(ai.onnx=13) {\n"
        + "  const %cw: f32[7, 3, 3, 3] = dense<" + dense(7 * 27, 0.3) + ">\n"
        + "  const %ca: f32[5, 530] = dense<" + dense(5 * 530, 0.05) + ">\n"
        + "  %cv = Conv(%im, %cw) {pads = [1, 1, 1, 1]}\n  %r = MatMul(%ca, %g)\n"
        + "  const %w: f32[530, 70] = dense<" + dense(530 * 70, 0.05) + ">\n"
        + "  const %v: f32[70, 70] = dense<" + dense(70 * 70, 0.1) + ">\n"
        + "  const %b: f32[70] = dense<" + dense(70, 0.5) + ">\n"
        + "  %m = MatMul(%x, %w)\n  %o = Add(%m, %b)\n"
        + "  %m2 = MatMul(%x, %w)\n  %p = Relu(%m2)\n"
        + "  %q = MatMul(%z, %v)\n  %s = MatMul(%v, %y)\n"
        + "  return %o, %p, %q, %s, %cv, %r\n}\n";
  }

  /**
   * Stride-1 convolutions with constant weights run as implicit GEMMs (the
   * weights pre-packed, the image zero-padded once and read tap by tap):
   * asymmetric pads, SAME_UPPER with a 5x3 kernel, rows of 70 columns (three
   * 32-column tiles, the last partial), 13 output channels (a partial
   * register block), bias and a ReLU epilogue, batch symbolic; stride 2
   * (3x3, 7x7 and 1x1, read through phase planes); and a narrow-row layer.
   */
  @Test
  void implicitConvolutionsRunNatively() {
    compileAndRun(IMPLICIT_CONVOLUTIONS, 1e-5, CONV_ATOL, 1, 3);
  }

  /**
   * The AVX2 variant (8-float vectors, 16-column register tiles, its own
   * pre-packed weights) of the implicit convolutions and pre-packed
   * products, run here when this CPU has AVX2 (an AVX-512 CPU runs both).
   */
  @Test
  void avx2VariantOfPrepackedImplicitAndTransposedKernelsRunsNatively() {
    CpuTarget avx2 = CpuTarget.named(CpuTarget.AVX2);
    org.junit.jupiter.api.Assumptions.assumeTrue(avx2.runsHere(),
        "this CPU cannot run the AVX2 variant: " + avx2.missingHere());
    compileAndRun(IMPLICIT_CONVOLUTIONS, 1e-5, CONV_ATOL, List.of(CpuTarget.AVX2), 1, 2);
    compileAndRun(TRANSPOSED_CONVOLUTIONS, 1e-5, CONV_ATOL, List.of(CpuTarget.AVX2), 1, 3);
    compileAndRun(prepackedWeights(), 1e-5, 1e-5, List.of(CpuTarget.AVX2), 1, 1100);
  }

  /**
   * 1x1 convolutions over few pixels, which run as transposed products
   * (pixels as register-block rows, channels as columns): 7x7 (49 pixels,
   * 7-row blocks, 64 channels) with bias, a residual and ReLU; 14x14 with ReLU only and
   * 96 channels (three 32-wide tiles); 5x3 (15 pixels: a partial row block)
   * with 33 channels (a partial channel tile) and 37 input channels; and,
   * on image columns, a 3x3 over 14x14 with bias and ReLU and a 1x1 with
   * stride 2, and a 3x3 with K = 2340 (two K blocks) with a residual and ReLU.
   * The weights are checked to be stored for transposed products.
   */
  private static final String TRANSPOSED_CONVOLUTIONS = "graph main(%x: f32[N, 37, 7, 7], %y: f32[N, 64, 14, 14], "
      + "%g: f32[N, 260, 7, 7], "
      + "%z: f32[N, 12, 5, 3]) -> (%a: f32[N, 64, 7, 7], %b: f32[N, 96, 14, 14], %c: f32[N, 33, 5, 3], "
      + "%d: f32[N, 64, 14, 14], %e: f32[N, 96, 7, 7], %f: f32[N, 32, 7, 7]) opset(ai.onnx=13) {\n"
      + "  const %k2: f32[32, 260, 3, 3] = dense<" + dense(32 * 260 * 9, 0.02) + ">\n"
      + "  const %kr: f32[32, 7, 7] = dense<" + dense(32 * 49, 0.7) + ">\n"
      + "  %f0 = Conv(%g, %k2) {pads = [1, 1, 1, 1]}\n  %f1 = Add(%f0, %kr)\n  %f = Relu(%f1)\n"
      + "  const %t3: f32[64, 64, 3, 3] = dense<" + dense(64 * 64 * 9, 0.05) + ">\n"
      + "  const %tb: f32[64] = dense<" + dense(64, 0.3) + ">\n"
      + "  const %s1: f32[96, 64, 1, 1] = dense<" + dense(96 * 64, 0.15) + ">\n"
      + "  %d0 = Conv(%y, %t3, %tb) {pads = [1, 1, 1, 1]}\n  %d = Relu(%d0)\n"
      + "  %e = Conv(%y, %s1) {strides = [2, 2]}\n"
      + "  const %w: f32[64, 37, 1, 1] = dense<" + dense(64 * 37, 0.3) + ">\n"
      + "  const %wb: f32[64] = dense<" + dense(64, 0.5) + ">\n"
      + "  const %r: f32[64, 7, 7] = dense<" + dense(64 * 49, 1.0) + ">\n"
      + "  const %v: f32[96, 64, 1, 1] = dense<" + dense(96 * 64, 0.2) + ">\n"
      + "  const %u: f32[33, 12, 1, 1] = dense<" + dense(33 * 12, 0.4) + ">\n"
      + "  const %ub: f32[33] = dense<" + dense(33, 0.1) + ">\n"
      + "  %a0 = Conv(%x, %w, %wb)\n  %a1 = Add(%a0, %r)\n  %a = Relu(%a1)\n"
      + "  %b0 = Conv(%y, %v)\n  %b = Relu(%b0)\n"
      + "  %c = Conv(%z, %u, %ub)\n"
      + "  return %a, %b, %c, %d, %e, %f\n}\n";

  @Test
  void transposedPointwiseConvolutionsRunNatively() {
    assertTrue(MatrixProducts.transposedIsTighter(49, 64) && MatrixProducts.transposedIsTighter(196, 96)
        && MatrixProducts.transposedIsTighter(15, 33), "these shapes were meant to take the transposed product");
    Graph g = PassManager.standard(2).run(GraphParser.parse(TRANSPOSED_CONVOLUTIONS), PassContext.standard()).graph();
    List<String> stored = ModelCompiler.create().compile(g, CompileOptions.defaults()).manifest().weights()
        .constants().stream().map(WeightsTable.Constant::name).toList();
    for (String w : List.of("w", "v", "u", "t3", "s1", "k2")) {
      assertTrue(stored.contains(MatrixProducts.packedNameT(w, GemmGenerator.Blocking.defaults(CpuTarget.host()).nr())),
          w + " should be stored transposed and packed: " + stored);
    }
    compileAndRun(TRANSPOSED_CONVOLUTIONS, 1e-5, CONV_ATOL, 1, 2);
  }

  private static final String IMPLICIT_CONVOLUTIONS = "graph main(%x: f32[N, 16, 20, 70], %s: f32[N, 16, 14, 14]) "
        + "-> (%a: f32[N, 13, 21, 69], "
        + "%b: f32[N, 7, 20, 70], %c: f32[N, 48, 14, 14], %d: f32[N, 13, 10, 35], %e: f32[N, 9, 10, 35], "
        + "%f: f32[N, 7, 10, 35]) opset(ai.onnx=13) {\n"
        + "  const %q: f32[9, 16, 7, 7] = dense<" + dense(9 * 16 * 49, 0.1) + ">\n"
        + "  const %o: f32[7, 16, 1, 1] = dense<" + dense(7 * 16, 0.3) + ">\n"
        + "  %d = Conv(%x, %w, %wb) {strides = [2, 2], pads = [1, 1, 1, 1]}\n"
        + "  %e = Conv(%x, %q) {strides = [2, 2], pads = [3, 3, 3, 3]}\n"
        + "  %f = Conv(%x, %o) {strides = [2, 2]}\n"
        + "  const %w: f32[13, 16, 3, 3] = dense<" + dense(13 * 16 * 9, 0.2) + ">\n"
        + "  const %wb: f32[13] = dense<" + dense(13, 0.5) + ">\n"
        + "  const %v: f32[7, 16, 5, 3] = dense<" + dense(7 * 16 * 15, 0.2) + ">\n"
        + "  const %u: f32[48, 16, 3, 3] = dense<" + dense(48 * 16 * 9, 0.2) + ">\n"
        + "  %a0 = Conv(%x, %w, %wb) {pads = [1, 0, 2, 1]}\n  %a = Relu(%a0)\n"
        + "  %b = Conv(%x, %v) {auto_pad = \"SAME_UPPER\"}\n"
        + "  %c = Conv(%s, %u) {pads = [1, 1, 1, 1]}\n"
        + "  return %a, %b, %c, %d, %e, %f\n}\n";

  /**
   * Convolutions on the packed GEMM: 3x3 with padding over several blocks
   * of output rows (16 channels x 9 taps x 70 columns: 13 rows per block of
   * 66), stride 2 with asymmetric padding, dilation 2, SAME_UPPER, 1x1
   * (the image read as the columns), a 1x1 with stride 2 (copied), no bias;
   * and transposed convolutions whose kernel is as wide as the stride (one
   * tap per output, with pads and output padding); depthwise convolutions
   * by rows (padding, stride 2 with asymmetric pads, dilation); a residual
   * Add and ReLU applied by the GEMM as it stores each block of rows;
   * epilogues (ReLU, a residual Add) after them, batch symbolic. Sums of up
   * to 240 products of values in [-2, 2] cancel to small results, so the
   * tolerance is absolute, CONV_ATOL.
   */
  @Test
  void convolutionsOnTheGemmRunNatively() {
    compileAndRun("graph main(%x: f32[N, 16, 66, 70], %w: f32[24, 16, 3, 3], %b: f32[24], %w1: f32[16, 16, 1, 1], "
        + "%w5: f32[8, 16, 5, 3], %wt: f32[16, 4, 2, 2], %bt: f32[4], %wt3: f32[16, 2, 3, 3], "
        + "%wd: f32[16, 1, 3, 3], %bd: f32[16], %wd5: f32[16, 1, 5, 5]) -> "
        + "(%a: f32[N, 24, 66, 70], %c: f32[N, 24, 33, 35], %d: f32[N, 24, 62, 66], %e: f32[N, 16, 66, 70], "
        + "%f: f32[N, 8, 33, 35], %g: f32[N, 16, 33, 35], %t: f32[N, 4, 132, 140], %u: f32[N, 2, 198, 211], "
        + "%h: f32[N, 16, 66, 70], %k: f32[N, 16, 33, 35], %l: f32[N, 16, 62, 66], %v: f32[N, 24, 66, 70]) "
        + "opset(ai.onnx=13) {\n"
        + "  %a0 = Conv(%x, %w, %b) {pads = [1, 1, 1, 1]}\n  %a = Relu(%a0)\n"
        + "  %c = Conv(%x, %w, %b) {strides = [2, 2], pads = [0, 2, 1, 0]}\n"
        + "  %d = Conv(%x, %w) {dilations = [2, 2], pads = [0, 0, 0, 0]}\n"
        + "  %e0 = Conv(%x, %w1)\n  %e = Add(%e0, %x)\n"
        + "  %f = Conv(%x, %w5) {strides = [2, 2], auto_pad = \"SAME_UPPER\"}\n"
        + "  %g = Conv(%x, %w1) {strides = [2, 2]}\n"
        + "  %t0 = ConvTranspose(%x, %wt, %bt) {strides = [2, 2]}\n  %t = Relu(%t0)\n"
        + "  %u = ConvTranspose(%x, %wt3) {strides = [3, 3], pads = [1, 0, 0, 1], output_padding = [1, 2]}\n"
        + "  %h0 = Conv(%x, %wd, %bd) {group = 16, pads = [1, 1, 1, 1]}\n  %h = HardSigmoid(%h0)\n"
        + "  %k = Conv(%x, %wd5) {group = 16, strides = [2, 2], pads = [2, 1, 2, 3]}\n"
        + "  %l = Conv(%x, %wd, %bd) {group = 16, dilations = [2, 2]}\n"
        + "  %v0 = Conv(%x, %w) {pads = [1, 1, 1, 1]}\n  %v1 = Add(%v0, %a)\n  %v = Relu(%v1)\n"
        + "  return %a, %c, %d, %e, %f, %g, %t, %u, %h, %k, %l, %v\n}\n", 1e-5, CONV_ATOL, 1, 2);
  }

  /**
   * Running maxima and minima are vectorized reductions (llvm.maximum /
   * minimum): a NaN anywhere in a row must still give NaN, as in the
   * reference, for ReduceMax, ReduceMin and Softmax, while MaxPool, as ONNX
   * Runtime, lets no NaN win a window; rows of 300 elements take the vector
   * loop and its remainder.
   */
  @Test
  void maxAndMinReductionsPropagateNaN() {
    Graph g = GraphParser.parse("graph main(%x: f32[4, 300]) -> (%a: f32[4], %b: f32[4], %c: f32[4, 300], "
        + "%d: f32[4, 150]) opset(ai.onnx=13) {\n"
        + "  %a = ReduceMax(%x) {axes = [1], keepdims = 0}\n  %b = ReduceMin(%x) {axes = [1], keepdims = 0}\n"
        + "  %c = Softmax(%x) {axis = 1}\n  %x3 = Unsqueeze(%x, %ax)\n"
        + "  %p = MaxPool(%x3) {kernel_shape = [2], strides = [2]}\n  %d = Squeeze(%p, %ax)\n"
        + "  const %ax: i64[1] = dense<[1]>\n  return %a, %b, %c, %d\n}\n");
    float[] x = new RandomTensors(7).uniform(dev.nnvm.runtime.DType.FLOAT32, -3, 3, 4, 300).floats().clone();
    x[17] = Float.NaN;          // row 0, early
    x[300 + 299] = Float.NaN;   // row 1, in the remainder
    x[600 + 128] = Float.NaN;   // row 2, mid-vector
    Map<String, Tensor> inputs = Map.of("x", Tensor.ofFloats(new long[] {4, 300}, x));
    Map<String, Tensor> want = ReferenceEvaluator.standard().run(g, inputs);
    try (CompiledModelRunner runner = CompiledModelRunner.optimizing(g, allocator)) {
      for (int threads : new int[] {1, 2}) {
        Map<String, Tensor> got = runner.run(inputs, threads);
        StringBuilder report = new StringBuilder("NaN rows, " + threads + " threads");
        for (Map.Entry<String, Tensor> e : want.entrySet()) {
          report.append("; ").append(Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), 1e-5,
              1e-6));
        }
        System.out.println(report);
      }
      assertTrue(Float.isNaN(want.get("a").floats()[0]) && !Float.isNaN(want.get("a").floats()[3]),
          "the reference propagates NaN in rows 0-2 only");
    }
  }
}
