package dev.nnvm.benchmarks;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * fp32 convolutions through the whole compiled path (one Conv model with
 * constant weights and bias, the layer shapes of ResNet-50 at 224x224 and of
 * a depthwise layer) against ONNX Runtime on the same model, same threads:
 * GFLOP/s of each and the ratio.
 *
 * <pre>java -cp ... dev.nnvm.benchmarks.ConvThroughput [THREADS] [RUNS] [BATCH]</pre>
 */
public final class ConvThroughput {
  private ConvThroughput() {}

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int batch = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    // in channels, out channels, input size, kernel, stride, group
    long[][] layers = {{3, 64, 224, 7, 2, 1}, {64, 64, 56, 1, 1, 1}, {64, 64, 56, 3, 1, 1}, {64, 256, 56, 1, 1, 1},
        {256, 64, 56, 1, 1, 1}, {128, 128, 28, 3, 1, 1}, {512, 128, 28, 1, 1, 1}, {256, 256, 14, 3, 1, 1},
        {1024, 256, 14, 1, 1, 1}, {256, 1024, 14, 1, 1, 1}, {512, 512, 7, 3, 1, 1}, {2048, 512, 7, 1, 1, 1},
        {512, 2048, 7, 1, 1, 1}, {96, 96, 80, 3, 1, 96}};
    System.out.printf("%-34s %8s %12s %12s %10s%n", "Cin->Cout @HxW kxk /s g", "threads", "ours GF/s", "ORT GF/s",
        "ours/ORT");
    for (long[] l : layers) {
      long pad = l[3] / 2;
      long out = (l[2] + 2 * pad - l[3]) / l[4] + 1;
      Graph g = model(batch, l[0], l[1], l[2], l[3], l[4], l[5], pad);
      double flops = 2.0 * batch * l[1] * out * out * (l[0] / l[5]) * l[3] * l[3];
      long[] shape = {batch, l[0], l[2], l[2]};
      double ours = flops / GemmThroughput.timeOurs(g, "x", shape, threads, runs) / 1e9;
      double theirs = flops / GemmThroughput.timeOrt(g, "x", shape, threads, runs) / 1e9;
      System.out.printf("%-34s %8d %12.1f %12.1f %10.2f%n", l[0] + "->" + l[1] + " @" + l[2] + " " + l[3] + "x"
          + l[3] + " /" + l[4] + " g" + l[5], threads, ours, theirs, ours / theirs);
    }
  }

  private static Graph model(long batch, long cin, long cout, long size, long k, long stride, long group,
      long pad) {
    Random r = new Random(3);
    float[] w = new float[Math.toIntExact(cout * (cin / group) * k * k)];
    for (int i = 0; i < w.length; i++) {
      w[i] = (r.nextFloat() - 0.5f) * 0.1f;
    }
    float[] b = new float[Math.toIntExact(cout)];
    for (int i = 0; i < b.length; i++) {
      b[i] = r.nextFloat() - 0.5f;
    }
    long out = (size + 2 * pad - k) / stride + 1;
    Map<String, Attribute> attrs = Map.of("kernel_shape", Attribute.ofInts(k, k),
        "strides", Attribute.ofInts(stride, stride), "pads", Attribute.ofInts(pad, pad, pad, pad),
        "group", Attribute.ofInt(group));
    return Graph.builder("conv").opset("", 17)
        .input("x", TensorType.of(DType.FLOAT32, batch, cin, size, size))
        .constant("w", Tensor.ofFloats(new long[] {cout, cin / group, k, k}, w))
        .constant("b", Tensor.ofFloats(new long[] {cout}, b))
        .node(new Node("conv", "Conv", "", List.of("x", "w", "b"), List.of("y"), attrs))
        .output("y", TensorType.of(DType.FLOAT32, batch, cout, out, out))
        .build();
  }
}
