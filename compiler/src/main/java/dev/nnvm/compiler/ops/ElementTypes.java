package dev.nnvm.compiler.ops;

import dev.nnvm.runtime.DType;

/** The element type sets that ONNX elementwise operators accept. */
final class ElementTypes {
  private ElementTypes() {}

  static final DType[] FLOATS = {DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16};

  static final DType[] SIGNED_INTS = {DType.INT8, DType.INT16, DType.INT32, DType.INT64};

  static final DType[] INTS = {
      DType.INT8, DType.INT16, DType.INT32, DType.INT64, DType.UINT8, DType.UINT16, DType.UINT32, DType.UINT64};

  static final DType[] UNSIGNED_INTS = {DType.UINT8, DType.UINT16, DType.UINT32, DType.UINT64};

  static final DType[] NUMERIC = concat(FLOATS, INTS);

  static final DType[] SIGNED_NUMERIC = concat(FLOATS, SIGNED_INTS);

  static final DType[] NUMERIC_AND_BOOL = concat(NUMERIC, new DType[] {DType.BOOL});

  static final DType[] BOOL = {DType.BOOL};

  static DType[] concat(DType[] a, DType[] b) {
    DType[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
