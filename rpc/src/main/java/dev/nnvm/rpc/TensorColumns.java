package dev.nnvm.rpc;

import dev.nnvm.arrow.ArrowTypes;
import dev.nnvm.arrow.ColumnType;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * Tensors as Arrow columns of rows and back, for {@link RemoteExecutor}:
 * dimension 0 is the rows, the other dimensions nested {@code FixedSizeList}s
 * (a {@code [N]} tensor is a column of scalars), elements copied once with
 * one memory copy (bool, bit-packed in Arrow, element by element). Answers
 * come back in the Arrow bridge's output layouts: scalars, nested
 * {@code FixedSizeList}s, or a {@code List} whose rows all have the same length.
 */
final class TensorColumns {
  private TensorColumns() {}

  /** A new vector of {@code allocator}'s holding {@code tensor}'s rows (the caller closes it). */
  static FieldVector toColumn(String name, NativeTensor tensor, BufferAllocator allocator) {
    long[] shape = tensor.shape();
    if (shape.length == 0) {
      throw new IllegalArgumentException("input '" + name + "' is a scalar: a remote executor sends tensors as"
          + " columns of rows (dimension 0); score a VectorSchemaRoot for other layouts");
    }
    Field field = ArrowTypes.field(name, new ColumnType(tensor.dtype(), Shape.of(Arrays.copyOfRange(shape, 1,
        shape.length))));
    FieldVector column = field.createVector(allocator);
    try {
      FieldVector v = column;
      long entries = shape[0];
      while (v instanceof FixedSizeListVector) {
        FixedSizeListVector l = (FixedSizeListVector) v;
        l.setInitialCapacity(Math.toIntExact(entries));
        l.allocateNew();
        for (int i = 0; i < entries; i++) {
          l.setNotNull(i);
        }
        l.setValueCount(Math.toIntExact(entries));
        entries *= l.getListSize();
        v = l.getDataVector();
      }
      int count = Math.toIntExact(entries);
      if (v instanceof BitVector) {
        BitVector bits = (BitVector) v;
        byte[] values = new byte[count];
        tensor.copyTo(values);
        bits.allocateNew(count);
        for (int i = 0; i < count; i++) {
          bits.set(i, values[i] != 0 ? 1 : 0);
        }
      } else {
        BaseFixedWidthVector leaf = (BaseFixedWidthVector) v;
        leaf.allocateNew(count);
        MemoryUtil.copyMemory(tensor.address(), leaf.getDataBufferAddress(), tensor.byteSize());
        MemoryUtil.setMemory(leaf.getValidityBufferAddress(), (count + 7) / 8, (byte) 0xFF);
      }
      v.setValueCount(count);
      return column;
    } catch (RuntimeException | Error e) {
      column.close();
      throw e;
    }
  }

  /**
   * A new tensor of {@code memory}'s holding {@code column}'s rows as
   * dimension 0 (the caller closes it).
   *
   * @throws IllegalArgumentException for null rows, ragged {@code List} rows, or an element type other than
   *     {@code dtype}
   */
  static NativeTensor toTensor(String name, FieldVector column, DType dtype, NativeAllocator memory) {
    int rows = column.getValueCount();
    List<Long> shape = new ArrayList<>(List.of((long) rows));
    FieldVector v = column;
    long first = 0;
    if (v instanceof ListVector) {
      ListVector l = (ListVector) v;
      long length = rows == 0 ? 0 : l.getElementEndIndex(0) - l.getElementStartIndex(0);
      for (int r = 0; r < rows; r++) {
        if (l.isNull(r) || l.getElementEndIndex(r) - l.getElementStartIndex(r) != length) {
          throw new IllegalArgumentException("output '" + name + "': row " + r + (l.isNull(r) ? " is null"
              : " has " + (l.getElementEndIndex(r) - l.getElementStartIndex(r)) + " entries, row 0 " + length));
        }
      }
      first = rows == 0 ? 0 : l.getElementStartIndex(0);
      shape.add(length);
      v = (FieldVector) l.getDataVector();
    }
    long inner = 1;
    while (v instanceof FixedSizeListVector) {
      FixedSizeListVector l = (FixedSizeListVector) v;
      shape.add((long) l.getListSize());
      inner *= l.getListSize();
      v = (FieldVector) l.getDataVector();
    }
    for (int r = 0; r < rows; r++) {
      if (column.isNull(r)) {
        throw new IllegalArgumentException("output '" + name + "': row " + r + " is null");
      }
    }
    DType got = ArrowTypes.toDType(v.getField().getType());
    if (got != dtype) {
      throw new IllegalArgumentException("output '" + name + "': expected " + dtype + " elements, the answer has "
          + got);
    }
    long[] dims = shape.stream().mapToLong(Long::longValue).toArray();
    NativeTensor t = NativeTensor.allocate(memory, dtype, dims);
    try {
      long start = first * inner;
      if (v instanceof BitVector) {
        BitVector bits = (BitVector) v;
        byte[] values = new byte[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < values.length; i++) {
          values[i] = (byte) bits.get(Math.toIntExact(start + i));
        }
        t.copyFrom(values);
      } else {
        BaseFixedWidthVector leaf = (BaseFixedWidthVector) v;
        MemoryUtil.copyMemory(leaf.getDataBufferAddress() + start * dtype.byteSize(), t.address(), t.byteSize());
      }
      return t;
    } catch (RuntimeException | Error e) {
      t.close();
      throw e;
    }
  }
}
