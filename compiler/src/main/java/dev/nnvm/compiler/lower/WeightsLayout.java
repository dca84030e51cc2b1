package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.HalfFloats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where each constant of a compiled model lives in the weights blob: byte
 * offsets aligned to 64 bytes, in graph order, and the blob itself as
 * little-endian bytes (bools as bytes, f16/bf16 as their 16-bit patterns).
 */
public final class WeightsLayout {
  /** Alignment of every constant in the blob. */
  public static final int ALIGNMENT = 64;

  private final Map<String, Long> offsets;
  private final Map<String, Tensor> constants;
  private final long size;

  private WeightsLayout(Map<String, Tensor> constants) {
    Map<String, Long> o = new LinkedHashMap<>();
    long at = 0;
    for (Map.Entry<String, Tensor> e : constants.entrySet()) {
      if (e.getValue().dtype() == DType.STRING) {
        throw new IllegalArgumentException("string constant '" + e.getKey() + "' cannot be compiled");
      }
      o.put(e.getKey(), at);
      at += align((long) e.getValue().size() * e.getValue().dtype().byteSize());
    }
    this.offsets = Collections.unmodifiableMap(o);
    this.constants = constants;
    this.size = at;
  }

  public static WeightsLayout of(Map<String, Tensor> constants) {
    return new WeightsLayout(new LinkedHashMap<>(constants));
  }

  private static long align(long n) {
    return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  public Map<String, Long> offsets() {
    return offsets;
  }

  public long size() {
    return size;
  }

  /** The blob's bytes. */
  public byte[] toBytes() {
    ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(size)).order(ByteOrder.LITTLE_ENDIAN);
    for (Map.Entry<String, Tensor> e : constants.entrySet()) {
      b.position(Math.toIntExact(offsets.get(e.getKey())));
      Tensor t = e.getValue();
      for (int i = 0; i < t.size(); i++) {
        switch (t.dtype()) {
          case FLOAT32: b.putFloat(t.floats()[i]); break;
          case FLOAT16: b.putShort(HalfFloats.floatToHalf(t.floats()[i])); break;
          case BFLOAT16: b.putShort(HalfFloats.floatToBfloat16(t.floats()[i])); break;
          case FLOAT64: b.putDouble(t.doubles()[i]); break;
          case BOOL: b.put((byte) (t.bools()[i] ? 1 : 0)); break;
          case INT8: case UINT8: b.put((byte) t.longs()[i]); break;
          case INT16: case UINT16: b.putShort((short) t.longs()[i]); break;
          case INT32: case UINT32: b.putInt((int) t.longs()[i]); break;
          default: b.putLong(t.longs()[i]); break;
        }
      }
    }
    return b.array();
  }
}
