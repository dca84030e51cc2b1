package dev.nnvm.compiler.frontend.onnx;

import com.google.protobuf.ByteString;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.HalfFloats;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Conversion between ONNX {@code TensorProto} messages and heap {@link Tensor}s. */
public final class OnnxTensors {
  private OnnxTensors() {}

  /** Reads a serialized {@code TensorProto} file (the format of the ONNX test data sets). */
  public static Tensor read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      Onnx.Tensor proto = Onnx.Tensor.parseFrom(in);
      return fromProto(proto, file.toAbsolutePath().getParent(), "tensor file " + file);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new ModelException("tensor file " + file + " is not a valid ONNX TensorProto: " + e.getMessage(), e);
    }
  }

  /** The name stored in a serialized {@code TensorProto} file, or "" when none. */
  public static String readName(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return Onnx.Tensor.parseFrom(in).getName();
    }
  }

  /** Writes a tensor as a serialized {@code TensorProto} file. */
  public static void write(Tensor t, String name, Path file) throws IOException {
    Files.write(file, toProto(t, name).toByteArray());
  }

  /**
   * Converts a tensor message. {@code baseDir} is the folder external data
   * paths are resolved against (and confined to); {@code what} names the
   * tensor in errors.
   */
  public static Tensor fromProto(Onnx.Tensor p, Path baseDir, String what) {
    int code = p.getDataType();
    DType dtype;
    try {
      dtype = DType.fromOnnx(code);
    } catch (IllegalArgumentException e) {
      throw new UnsupportedModelException(what + ": element type " + DType.onnxName(code) + " is not supported");
    }
    if (p.hasSegment()) {
      throw new UnsupportedModelException(what + ": segmented tensors are not supported");
    }
    long[] shape = new long[p.getDimsCount()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = p.getDims(i);
      if (shape[i] < 0) {
        throw new ModelException(what + ": negative dimension " + shape[i]);
      }
    }
    int n;
    try {
      n = Tensor.elementCount(shape);
    } catch (ArithmeticException e) {
      throw new ModelException(what + ": shape " + java.util.Arrays.toString(shape) + " is too large");
    }
    if (p.getDataLocation() == Onnx.Tensor.Location.EXTERNAL) {
      ByteBuffer raw = readExternal(p, baseDir, what, (long) n * dtype.byteSize());
      return fromRaw(dtype, shape, n, raw, what);
    }
    if (p.hasRawData()) {
      if (dtype == DType.STRING) {
        throw new ModelException(what + ": string tensors cannot use raw_data");
      }
      ByteString raw = p.getRawData();
      if (raw.size() != (long) n * dtype.byteSize()) {
        throw new ModelException(what + ": raw_data has " + raw.size() + " bytes, shape "
            + java.util.Arrays.toString(shape) + " of " + dtype + " needs " + (long) n * dtype.byteSize());
      }
      return fromRaw(dtype, shape, n, raw.asReadOnlyByteBuffer(), what);
    }
    Object out = Tensor.newStorage(dtype, n);
    int have;
    switch (dtype) {
      case FLOAT32:
        have = p.getFloatDataCount();
        check(have, n, what, "float_data");
        for (int i = 0; i < n; i++) {
          ((float[]) out)[i] = p.getFloatData(i);
        }
        break;
      case FLOAT64:
        have = p.getDoubleDataCount();
        check(have, n, what, "double_data");
        for (int i = 0; i < n; i++) {
          ((double[]) out)[i] = p.getDoubleData(i);
        }
        break;
      case INT64:
        have = p.getInt64DataCount();
        check(have, n, what, "int64_data");
        for (int i = 0; i < n; i++) {
          ((long[]) out)[i] = p.getInt64Data(i);
        }
        break;
      case UINT32: case UINT64:
        have = p.getUint64DataCount();
        check(have, n, what, "uint64_data");
        for (int i = 0; i < n; i++) {
          ((long[]) out)[i] = Tensor.wrap(dtype, p.getUint64Data(i));
        }
        break;
      case STRING:
        have = p.getStringDataCount();
        check(have, n, what, "string_data");
        for (int i = 0; i < n; i++) {
          ((String[]) out)[i] = p.getStringData(i).toStringUtf8();
        }
        break;
      case FLOAT16: case BFLOAT16:
        have = p.getInt32DataCount();
        check(have, n, what, "int32_data");
        for (int i = 0; i < n; i++) {
          short bits = (short) p.getInt32Data(i);
          ((float[]) out)[i] = dtype == DType.FLOAT16 ? HalfFloats.halfToFloat(bits) : HalfFloats.bfloat16ToFloat(bits);
        }
        break;
      case BOOL:
        have = p.getInt32DataCount();
        check(have, n, what, "int32_data");
        for (int i = 0; i < n; i++) {
          ((boolean[]) out)[i] = p.getInt32Data(i) != 0;
        }
        break;
      default:
        have = p.getInt32DataCount();
        check(have, n, what, "int32_data");
        for (int i = 0; i < n; i++) {
          ((long[]) out)[i] = Tensor.wrap(dtype, p.getInt32Data(i));
        }
        break;
    }
    return Tensor.of(dtype, shape, out);
  }

  private static void check(int have, int n, String what, String field) {
    if (have != n) {
      throw new ModelException(what + ": " + field + " has " + have + " values, the shape needs " + n);
    }
  }

  private static Tensor fromRaw(DType dtype, long[] shape, int n, ByteBuffer raw, String what) {
    ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    Object out = Tensor.newStorage(dtype, n);
    switch (dtype) {
      case FLOAT32: b.asFloatBuffer().get((float[]) out); break;
      case FLOAT64: b.asDoubleBuffer().get((double[]) out); break;
      case INT64: case UINT64: b.asLongBuffer().get((long[]) out); break;
      case FLOAT16:
        for (int i = 0; i < n; i++) {
          ((float[]) out)[i] = HalfFloats.halfToFloat(b.getShort());
        }
        break;
      case BFLOAT16:
        for (int i = 0; i < n; i++) {
          ((float[]) out)[i] = HalfFloats.bfloat16ToFloat(b.getShort());
        }
        break;
      case BOOL:
        for (int i = 0; i < n; i++) {
          ((boolean[]) out)[i] = b.get() != 0;
        }
        break;
      case INT8: for (int i = 0; i < n; i++) { ((long[]) out)[i] = b.get(); } break;
      case UINT8: for (int i = 0; i < n; i++) { ((long[]) out)[i] = b.get() & 0xffL; } break;
      case INT16: for (int i = 0; i < n; i++) { ((long[]) out)[i] = b.getShort(); } break;
      case UINT16: for (int i = 0; i < n; i++) { ((long[]) out)[i] = b.getShort() & 0xffffL; } break;
      case INT32: for (int i = 0; i < n; i++) { ((long[]) out)[i] = b.getInt(); } break;
      case UINT32: for (int i = 0; i < n; i++) { ((long[]) out)[i] = b.getInt() & 0xffffffffL; } break;
      default: throw new UnsupportedModelException(what + ": raw data of type " + dtype + " is not supported");
    }
    return Tensor.of(dtype, shape, out);
  }

  private static ByteBuffer readExternal(Onnx.Tensor p, Path baseDir, String what, long expected) {
    String location = null;
    long offset = 0;
    long length = -1;
    for (Onnx.KeyValue kv : p.getExternalDataList()) {
      switch (kv.getKey()) {
        case "location": location = kv.getValue(); break;
        case "offset": offset = parseLong(kv.getValue(), what, "offset"); break;
        case "length": length = parseLong(kv.getValue(), what, "length"); break;
        default: break;
      }
    }
    if (location == null) {
      throw new ModelException(what + ": external data without a location");
    }
    if (baseDir == null) {
      throw new ModelException(what + ": external data '" + location + "' needs the model's folder (load the model from a file)");
    }
    Path file = resolveConfined(baseDir, location, what);
    if (length < 0) {
      length = expected;
    }
    if (length != expected) {
      throw new ModelException(what + ": external data length " + length + " does not match the " + expected
          + " bytes its shape and type need");
    }
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      if (offset < 0 || offset + length > f.length()) {
        throw new ModelException(what + ": external data range [" + offset + ", " + (offset + length)
            + ") lies outside '" + location + "' (" + f.length() + " bytes)");
      }
      byte[] bytes = new byte[Math.toIntExact(length)];
      f.seek(offset);
      f.readFully(bytes);
      return ByteBuffer.wrap(bytes);
    } catch (IOException e) {
      throw new ModelException(what + ": cannot read external data '" + location + "': " + e.getMessage(), e);
    }
  }

  /** Resolves an external-data path, refusing anything that leaves the model's folder. */
  static Path resolveConfined(Path baseDir, String location, String what) {
    Path rel;
    try {
      rel = Path.of(location);
    } catch (InvalidPathException e) {
      throw new ModelException(what + ": external data path '" + location + "' is not a valid path: " + e.getReason());
    }
    if (rel.isAbsolute()) {
      throw new ModelException(what + ": external data path '" + location + "' must be relative to the model's folder");
    }
    try {
      Path base = baseDir.toRealPath();
      Path file = base.resolve(rel).normalize();
      if (!file.startsWith(base)) {
        throw new ModelException(what + ": external data path '" + location + "' leaves the model's folder");
      }
      Path real = file.toRealPath();
      if (!real.startsWith(base)) {
        throw new ModelException(what + ": external data path '" + location + "' leaves the model's folder (through a link)");
      }
      return real;
    } catch (IOException e) {
      throw new ModelException(what + ": external data file '" + location + "' not found in " + baseDir, e);
    }
  }

  private static long parseLong(String v, String what, String key) {
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new ModelException(what + ": external data " + key + " '" + v + "' is not a number");
    }
  }

  /** Converts a tensor to a message (little-endian raw data; strings in string_data). */
  public static Onnx.Tensor toProto(Tensor t, String name) {
    Onnx.Tensor.Builder b = Onnx.Tensor.newBuilder().setName(name).setDataType(t.dtype().onnxCode());
    for (long d : t.shape()) {
      b.addDims(d);
    }
    if (t.dtype() == DType.STRING) {
      for (String s : t.strings()) {
        b.addStringData(ByteString.copyFromUtf8(s));
      }
      return b.build();
    }
    ByteBuffer buf = ByteBuffer.allocate(t.size() * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < t.size(); i++) {
      switch (t.dtype()) {
        case FLOAT32: buf.putFloat(t.floats()[i]); break;
        case FLOAT16: buf.putShort(HalfFloats.floatToHalf(t.floats()[i])); break;
        case BFLOAT16: buf.putShort(HalfFloats.floatToBfloat16(t.floats()[i])); break;
        case FLOAT64: buf.putDouble(t.doubles()[i]); break;
        case BOOL: buf.put((byte) (t.bools()[i] ? 1 : 0)); break;
        case INT8: case UINT8: buf.put((byte) t.longs()[i]); break;
        case INT16: case UINT16: buf.putShort((short) t.longs()[i]); break;
        case INT32: case UINT32: buf.putInt((int) t.longs()[i]); break;
        default: buf.putLong(t.longs()[i]); break;
      }
    }
    buf.flip();
    return b.setRawData(ByteString.copyFrom(buf)).build();
  }
}
