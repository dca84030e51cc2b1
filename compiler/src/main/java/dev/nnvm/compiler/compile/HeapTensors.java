package dev.nnvm.compiler.compile;

import com.google.protobuf.ByteString;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.runtime.nativeio.NativeMemory;

/**
 * Copies between the compiler's heap tensors ({@link Tensor}: what the
 * reference evaluator and the command line read and write) and native
 * tensors, through their dense little-endian bytes (the ONNX raw layout).
 */
public final class HeapTensors {
  private HeapTensors() {}

  /** A new native tensor from {@code allocator} holding a copy of {@code t}. */
  public static NativeTensor toNative(Tensor t, NativeAllocator allocator) {
    if (t.dtype() == DType.STRING) {
      throw new IllegalArgumentException("string tensors have no native layout");
    }
    byte[] raw = OnnxTensors.toProto(t, "").getRawData().toByteArray();
    NativeTensor n = NativeTensor.allocate(allocator, t.dtype(), t.shape());
    NativeMemory.copyFromArray(raw, 0, raw.length, n.address());
    return n;
  }

  /** A heap copy of a native tensor. */
  public static Tensor fromNative(NativeTensor n) {
    byte[] bytes = new byte[Math.toIntExact(n.dataSize())];
    NativeMemory.copyToArray(n.address(), bytes, 0, bytes.length);
    Onnx.Tensor.Builder p = Onnx.Tensor.newBuilder().setDataType(n.dtype().onnxCode())
        .setRawData(ByteString.copyFrom(bytes));
    for (long d : n.shape()) {
      p.addDims(d);
    }
    return OnnxTensors.fromProto(p.build(), null, "native tensor");
  }
}
