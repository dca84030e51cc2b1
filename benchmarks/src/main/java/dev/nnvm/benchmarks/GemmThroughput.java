package dev.nnvm.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.CompileResult;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * fp32 matrix products through the whole compiled path (one MatMul model:
 * A an input [M, K], B a constant [K, N]) against ONNX Runtime on the same
 * model, same threads: GFLOP/s of each and the ratio.
 *
 * <pre>java -cp ... dev.nnvm.benchmarks.GemmThroughput [THREADS] [RUNS] [MxNxK ...]</pre>
 */
public final class GemmThroughput {
  private GemmThroughput() {}

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    long[][] shapes = {{1024, 1024, 1024}, {4096, 384, 384}, {4096, 1536, 384}, {4096, 384, 1536}, {128, 384, 384}};
    if (args.length > 2) {
      // Shapes given on the command line as MxNxK.
      shapes = new long[args.length - 2][];
      for (int i = 2; i < args.length; i++) {
        shapes[i - 2] = java.util.Arrays.stream(args[i].split("x")).mapToLong(Long::parseLong).toArray();
      }
    }
    System.out.printf("%-22s %8s %12s %12s %10s%n", "M x N x K", "threads", "ours GF/s", "ORT GF/s", "ours/ORT");
    for (long[] s : shapes) {
      long m = s[0];
      long n = s[1];
      long k = s[2];
      Graph g = model(m, n, k);
      double flops = 2.0 * m * n * k;
      double ours = flops / timeOurs(g, "a", new long[] {m, k}, threads, runs) / 1e9;
      double theirs = flops / timeOrt(g, "a", new long[] {m, k}, threads, runs) / 1e9;
      System.out.printf("%-22s %8d %12.1f %12.1f %10.2f%n", m + " x " + n + " x " + k, threads, ours, theirs,
          ours / theirs);
    }
  }

  private static Graph model(long m, long n, long k) {
    Random r = new Random(3);
    float[] w = new float[Math.toIntExact(k * n)];
    for (int i = 0; i < w.length; i++) {
      w[i] = r.nextFloat() - 0.5f;
    }
    return Graph.builder("gemm").opset("", 17)
        .input("a", TensorType.of(DType.FLOAT32, m, k))
        .constant("b", Tensor.ofFloats(new long[] {k, n}, w))
        .node(Node.of("mm", "MatMul", List.of("a", "b"), List.of("c")))
        .output("c", TensorType.of(DType.FLOAT32, m, n))
        .build();
  }

  static float[] input(long size) {
    Random r = new Random(5);
    float[] a = new float[Math.toIntExact(size)];
    for (int i = 0; i < a.length; i++) {
      a[i] = r.nextFloat() - 0.5f;
    }
    return a;
  }

  /** Median seconds of one run of {@code g} compiled by us, its one input {@code name} of {@code shape}. */
  static double timeOurs(Graph g, String name, long[] shape, int threads, int runs) throws Exception {
    CompileResult compiled = ModelCompiler.create().compile(g, CompileOptions.defaults());
    try (NativeAllocator allocator = NativeAllocator.newRoot("bench");
        CompiledModel cm = CompiledModel.load(compiled.bytes(), allocator);
        Executor ex = cm.newExecutor(allocator);
        NativeTensor a = NativeTensor.allocate(allocator, DType.FLOAT32, shape)) {
      a.copyFrom(input(a.elementCount()));
      ex.setInput(name, a);
      double[] s = new double[runs];
      for (int i = 0; i < runs + 2; i++) {
        evictCaches();
        long t0 = System.nanoTime();
        ex.run(threads);
        if (i >= 2) {
          s[i - 2] = (System.nanoTime() - t0) / 1e9;
        }
      }
      return Samples.of(s).median();
    }
  }

  /** Median seconds of one run of {@code g} in ONNX Runtime, same input and threads. */
  /**
   * With {@code -Dnnvm.bench.cold=true}, each run starts from caches that hold none of the model (a 64 MiB
   * buffer, twice the L3, is written first): a layer inside a whole network finds its weights in memory,
   * not in cache, since the network's weights (100 MB for ResNet-50) outgrow the L3.
   */
  private static final boolean COLD = Boolean.getBoolean("nnvm.bench.cold");
  private static final java.nio.ByteBuffer EVICT = COLD ? java.nio.ByteBuffer.allocateDirect(64 << 20) : null;

  private static void evictCaches() {
    if (EVICT != null) {
      for (int i = 0; i < EVICT.capacity(); i += 64) {
        EVICT.put(i, (byte) i);
      }
    }
  }

  static double timeOrt(Graph g, String name, long[] shape, int threads, int runs) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    opts.setIntraOpNumThreads(threads);
    opts.setInterOpNumThreads(1);
    long size = NativeTensor.elementCount(shape);
    try (OrtSession session = env.createSession(OnnxExporter.toBytes(g), opts);
        OnnxTensor a = OnnxTensor.createTensor(env, FloatBuffer.wrap(input(size)), shape)) {
      double[] s = new double[runs];
      for (int i = 0; i < runs + 2; i++) {
        evictCaches();
        long t0 = System.nanoTime();
        try (OrtSession.Result r = session.run(Map.of(name, a))) {
          if (i >= 2) {
            s[i - 2] = (System.nanoTime() - t0) / 1e9;
          }
        }
      }
      return Samples.of(s).median();
    }
  }
}
