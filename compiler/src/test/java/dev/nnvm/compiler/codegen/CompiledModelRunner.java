package dev.nnvm.compiler.codegen;

import com.google.protobuf.ByteString;
import dev.nnvm.compiler.analysis.MemoryPlan;
import dev.nnvm.compiler.analysis.PlanMemory;
import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.codegen.llvm.NativeLibrary;
import dev.nnvm.compiler.codegen.llvm.NativeModuleCompiler;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.lower.ModelToLlvm;
import dev.nnvm.compiler.lower.WeightsLayout;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.nativeio.ModelEntryPoint;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.runtime.nativeio.NativeBuffer;
import dev.nnvm.runtime.nativeio.NativeCall;
import dev.nnvm.runtime.nativeio.NativeMemory;
import dev.nnvm.runtime.nativeio.SharedLibrary;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test harness for compiled models until the runtime's graph executor
 * exists: compiles an optimized graph for the host CPU, loads it through the
 * runtime, and runs it on heap tensors (copied in and out of native memory).
 */
public final class CompiledModelRunner implements AutoCloseable {
  private final Graph graph;
  private final MemoryPlan plan;
  private final ModelToLlvm.Module module;
  private final NativeLibrary library;
  private final NativeAllocator allocator;
  private final SharedLibrary shared;
  private final ModelEntryPoint entry;
  private final NativeBuffer weights;

  public CompiledModelRunner(Graph optimized, NativeAllocator allocator) {
    this.graph = optimized;
    this.allocator = allocator;
    this.plan = PlanMemory.plan(optimized);
    WeightsLayout layout = WeightsLayout.of(optimized.constants());
    this.module = ModelToLlvm.generate(optimized, plan, layout, ModelToLlvm.inputSymbols(optimized));
    this.library = new NativeModuleCompiler(CpuTarget.host()).compile("model", module.ir());
    this.shared = SharedLibrary.load(library.sharedLibrary());
    this.entry = shared.entryPoint(ModelToLlvm.ENTRY, optimized.inputs().size(), optimized.outputs().size(),
        module.symbols().size());
    byte[] blob = layout.toBytes();
    this.weights = allocator.allocate(Math.max(64, blob.length));
    NativeMemory.copyFromArray(blob, 0, blob.length, weights.address());
  }

  public NativeLibrary library() {
    return library;
  }

  public ModelToLlvm.Module module() {
    return module;
  }

  /** Runs the model once; inputs by graph input name. */
  public Map<String, Tensor> run(Map<String, Tensor> inputs, int threads) {
    Map<String, Long> bindings = new HashMap<>();
    for (ValueInfo in : graph.inputs()) {
      List<Dim> dims = in.type().shape().dims();
      for (int i = 0; i < dims.size(); i++) {
        if (dims.get(i).isSymbolic()) {
          bindings.put(dims.get(i).symbol(), inputs.get(in.name()).dim(i));
        }
      }
    }
    List<NativeTensor> ins = new ArrayList<>();
    List<NativeTensor> outs = new ArrayList<>();
    try (NativeCall call = entry.newCall(allocator);
        NativeBuffer workspace = allocator.allocate(Math.max(64, module.workspaceBytes(plan, bindings)))) {
      for (ValueInfo in : graph.inputs()) {
        ins.add(toNative(inputs.get(in.name())));
      }
      for (ValueInfo out : graph.outputs()) {
        outs.add(NativeTensor.allocate(allocator, out.type().dtype(), out.type().shape().bind(bindings).toArray()));
      }
      call.invoke(ins, outs, workspace, weights, module.symbols().stream().mapToLong(bindings::get).toArray(),
          threads);
      Map<String, Tensor> result = new LinkedHashMap<>();
      for (int i = 0; i < outs.size(); i++) {
        result.put(graph.outputs().get(i).name(), fromNative(outs.get(i)));
      }
      return result;
    } finally {
      ins.forEach(NativeTensor::close);
      outs.forEach(NativeTensor::close);
    }
  }

  private NativeTensor toNative(Tensor t) {
    NativeTensor n = NativeTensor.allocate(allocator, t.dtype(), t.shape());
    byte[] raw = OnnxTensors.toProto(t, "").getRawData().toByteArray();
    NativeMemory.copyFromArray(raw, 0, raw.length, n.address());
    return n;
  }

  private static Tensor fromNative(NativeTensor n) {
    byte[] bytes = new byte[Math.toIntExact(n.dataSize())];
    NativeMemory.copyToArray(n.address(), bytes, 0, bytes.length);
    Onnx.Tensor.Builder p = Onnx.Tensor.newBuilder().setDataType(n.dtype().onnxCode())
        .setRawData(ByteString.copyFrom(bytes));
    for (long d : n.shape()) {
      p.addDims(d);
    }
    return OnnxTensors.fromProto(p.build(), null, "native output");
  }

  @Override
  public void close() {
    weights.close();
    shared.close();
  }
}
