package dev.nnvm.spark.sql;

import dev.nnvm.arrow.ArrowTypes;
import dev.nnvm.arrow.FixedShapeTensorType;
import dev.nnvm.arrow.FixedShapeTensorVector;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.SpecializedGetters;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.unsafe.Platform;

/**
 * Writes a batch of Spark rows (the evaluated arguments of one
 * {@code nnvm_predict} call, argument {@code i} at ordinal {@code i}) into a
 * new Arrow batch with one column per model input, named after the input and
 * laid out as the bridge binds without a copy: scalars as a scalar vector, a
 * static rank-1 row as a {@code FixedSizeList}, a static row of higher rank as
 * an {@code arrow.fixed_shape_tensor}, a variable row as a {@code List}.
 * Elements are converted to the model's element type as they are written.
 *
 * <p>Element validity is set for a whole buffer at once and cleared for the
 * rare null element, and an array of the model's own element type without
 * null elements is copied with one memory copy, so the cost is that of
 * moving the bytes (Spark's {@code UnsafeArrayData} keeps an array's values
 * contiguous after its null bitmap).
 *
 * <p>A row whose array does not have the input's row size is an
 * {@link IllegalArgumentException} naming the argument, the input and the row.
 */
final class ArrowRowWriter {
  private final List<InputColumn> columns;

  ArrowRowWriter(List<InputColumn> columns) {
    this.columns = List.copyOf(columns);
    FixedShapeTensorType.register();
  }

  /**
   * Writes {@code count} rows; {@code firstRow} is the partition row number of
   * {@code rows[0]} (for messages). The caller closes the batch.
   */
  VectorSchemaRoot write(InternalRow[] rows, int count, long firstRow, BufferAllocator allocator) {
    List<FieldVector> vectors = new ArrayList<>(columns.size());
    try {
      for (int c = 0; c < columns.size(); c++) {
        vectors.add(writeColumn(columns.get(c), c, rows, count, firstRow, allocator));
      }
    } catch (RuntimeException e) {
      for (FieldVector v : vectors) {
        v.close();
      }
      throw e;
    }
    VectorSchemaRoot root = new VectorSchemaRoot(vectors);
    root.setRowCount(count);
    return root;
  }

  private static FieldVector writeColumn(InputColumn col, int ordinal, InternalRow[] rows, int count, long firstRow,
      BufferAllocator allocator) {
    ArrowType element = ArrowTypes.toArrowType(col.target);
    if (col.rowDims.length == 0 || (col.isScalar() && col.rowDims.length == 1)) {
      return writeScalars(col, ordinal, rows, count, allocator, element);
    }
    if (col.isVariable()) {
      return writeLists(col, ordinal, rows, count, firstRow, allocator, element);
    }
    return writeStatic(col, ordinal, rows, count, firstRow, allocator, element);
  }

  private static FieldVector writeScalars(InputColumn col, int ordinal, InternalRow[] rows, int count,
      BufferAllocator allocator, ArrowType element) {
    BaseFixedWidthVector v = (BaseFixedWidthVector) new Field(col.input, FieldType.nullable(element), null)
        .createVector(allocator);
    try {
      v.setInitialCapacity(count);
      v.allocateNew();
      ArrowBuf data = v.getDataBuffer();
      ArrowBuf validity = v.getValidityBuffer();
      for (int r = 0; r < count; r++) {
        InternalRow row = rows[r];
        if (row.isNullAt(ordinal)) {
          continue;
        }
        if (col.isScalar()) {
          put(col, data, r, row, ordinal);
        } else {
          ArrayData a = row.getArray(ordinal);
          if (a.numElements() != 1) {
            throw new IllegalArgumentException("row " + r + " of the batch: argument " + col.argument + " has "
                + a.numElements() + " elements, input '" + col.input + "' takes 1 per row");
          }
          if (a.isNullAt(0)) {
            continue;
          }
          put(col, data, r, a, 0);
        }
        BitVectorHelper.setBit(validity, r);
      }
      v.setValueCount(count);
      return v;
    } catch (RuntimeException e) {
      v.close();
      throw e;
    }
  }

  private static FieldVector writeStatic(InputColumn col, int ordinal, InternalRow[] rows, int count,
      long firstRow, BufferAllocator allocator, ArrowType element) {
    long per = col.rowElements();
    FieldVector top;
    FixedSizeListVector list;
    if (col.rowDims.length == 1) {
      top = new Field(col.input, FieldType.nullable(new ArrowType.FixedSizeList(Math.toIntExact(per))),
          List.of(Field.nullable("$data$", element))).createVector(allocator);
      list = (FixedSizeListVector) top;
    } else {
      top = FixedShapeTensorType.field(col.input, element, col.rowDims).createVector(allocator);
      list = ((FixedShapeTensorVector) top).getUnderlyingVector();
    }
    try {
      list.setInitialCapacity(count);
      list.allocateNew();
      BaseFixedWidthVector leaf = (BaseFixedWidthVector) list.getDataVector();
      long total = count * per;
      ensureCapacity(leaf, total);
      allValid(leaf.getValidityBuffer(), total);
      for (int r = 0; r < count; r++) {
        InternalRow row = rows[r];
        if (row.isNullAt(ordinal)) {
          list.setNull(r);
          continue;
        }
        list.setNotNull(r);
        long start = r * per;
        ArrayData a = row.getArray(ordinal);
        if (col.depth == 1) {
          if (a.numElements() != per) {
            throw wrongLength(col, r, firstRow, a.numElements(), per);
          }
          copyElements(col, leaf, start, a, per);
        } else {
          writeNested(col, leaf, a, 0, start, r, firstRow);
        }
      }
      leaf.setValueCount(Math.toIntExact(total));
      top.setValueCount(count);
      return top;
    } catch (RuntimeException e) {
      top.close();
      throw e;
    }
  }

  /** Writes arrays nested as deep as the row's rank, checking each level's length; returns the next index. */
  private static long writeNested(InputColumn col, BaseFixedWidthVector leaf, ArrayData a, int level, long index,
      int r, long firstRow) {
    long want = col.rowDims[level];
    if (a.numElements() != want) {
      throw new IllegalArgumentException("row " + (firstRow + r) + " of the partition: argument " + col.argument
          + " has " + a.numElements() + " elements at nesting level " + (level + 1) + ", input '" + col.input
          + "' needs " + want + " there (row shape " + java.util.Arrays.toString(col.rowDims) + ")");
    }
    if (level == col.rowDims.length - 1) {
      copyElements(col, leaf, index, a, want);
      return index + want;
    }
    long at = index;
    for (int i = 0; i < want; i++) {
      if (a.isNullAt(i)) {
        throw new IllegalArgumentException("row " + (firstRow + r) + " of the partition: argument " + col.argument
            + " has a null array inside its value; only the whole value or single elements may be null");
      }
      at = writeNested(col, leaf, a.getArray(i), level + 1, at, r, firstRow);
    }
    return at;
  }

  private static FieldVector writeLists(InputColumn col, int ordinal, InternalRow[] rows, int count, long firstRow,
      BufferAllocator allocator, ArrowType element) {
    ListVector list = (ListVector) new Field(col.input, FieldType.nullable(ArrowType.List.INSTANCE),
        List.of(Field.nullable("$data$", element))).createVector(allocator);
    try {
      long total = 0;
      for (int r = 0; r < count; r++) {
        if (!rows[r].isNullAt(ordinal)) {
          total += rows[r].getArray(ordinal).numElements();
        }
      }
      list.setInitialCapacity(count);
      list.allocateNew();
      BaseFixedWidthVector leaf = (BaseFixedWidthVector) list.getDataVector();
      ensureCapacity(leaf, total);
      allValid(leaf.getValidityBuffer(), total);
      for (int r = 0; r < count; r++) {
        InternalRow row = rows[r];
        if (row.isNullAt(ordinal)) {
          continue;   // a hole: the next startNewValue (or setValueCount) gives it an empty, null entry
        }
        ArrayData a = row.getArray(ordinal);
        int start = list.startNewValue(r);
        copyElements(col, leaf, start, a, a.numElements());
        list.endValue(r, a.numElements());
      }
      leaf.setValueCount(Math.toIntExact(total));
      list.setValueCount(count);
      return list;
    } catch (RuntimeException e) {
      list.close();
      throw e;
    }
  }

  private static IllegalArgumentException wrongLength(InputColumn col, int r, long firstRow, int have, long want) {
    return new IllegalArgumentException("row " + (firstRow + r) + " of the partition: argument " + col.argument
        + " has " + have + " elements, input '" + col.input + "' " + col.target + " needs " + want + " per row"
        + (col.rowDims.length > 1 ? " (row shape " + java.util.Arrays.toString(col.rowDims) + ", row-major)" : ""));
  }

  /** Copies {@code n} elements of {@code a} to leaf elements {@code [start, start + n)}. */
  private static void copyElements(InputColumn col, BaseFixedWidthVector leaf, long start, ArrayData a, long n) {
    ArrowBuf data = leaf.getDataBuffer();
    boolean anyNull = false;
    for (int j = 0; j < n; j++) {
      if (a.isNullAt(j)) {
        anyNull = true;
        BitVectorHelper.unsetBit(leaf.getValidityBuffer(), Math.toIntExact(start + j));
      }
    }
    if (!anyNull && col.source == col.target && col.target != DType.BOOL && a instanceof UnsafeArrayData) {
      UnsafeArrayData u = (UnsafeArrayData) a;
      int width = col.target.byteSize();
      long from = u.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(u.numElements());
      Platform.copyMemory(u.getBaseObject(), from, null, data.memoryAddress() + start * width, n * width);
      return;
    }
    for (int j = 0; j < n; j++) {
      if (!a.isNullAt(j)) {
        put(col, data, start + j, a, j);
      }
    }
  }

  /** Writes element {@code ordinal} of {@code g} as element {@code index} of a leaf buffer of the model's type. */
  private static void put(InputColumn col, ArrowBuf data, long index, SpecializedGetters g, int ordinal) {
    switch (col.target) {
      case FLOAT32:
        data.setFloat(index * 4, (float) number(col.source, g, ordinal));
        return;
      case FLOAT64:
        data.setDouble(index * 8, number(col.source, g, ordinal));
        return;
      case INT64:
        data.setLong(index * 8, integer(col.source, g, ordinal));
        return;
      case INT32:
        data.setInt(index * 4, (int) integer(col.source, g, ordinal));
        return;
      case INT16:
        data.setShort(index * 2, (short) integer(col.source, g, ordinal));
        return;
      case INT8:
        data.setByte(index, (byte) integer(col.source, g, ordinal));
        return;
      case BOOL:
        BitVectorHelper.setValidityBit(data, (int) index, g.getBoolean(ordinal) ? 1 : 0);
        return;
      default:
        throw new IllegalStateException("input '" + col.input + "': element type " + col.target + " is not written");
    }
  }

  private static double number(DType source, SpecializedGetters g, int i) {
    switch (source) {
      case FLOAT32: return g.getFloat(i);
      case FLOAT64: return g.getDouble(i);
      default: return integer(source, g, i);
    }
  }

  private static long integer(DType source, SpecializedGetters g, int i) {
    switch (source) {
      case INT8: return g.getByte(i);
      case INT16: return g.getShort(i);
      case INT32: return g.getInt(i);
      case INT64: return g.getLong(i);
      default: throw new IllegalStateException(source + " is not an integer type");
    }
  }

  private static void ensureCapacity(BaseFixedWidthVector leaf, long elements) {
    while (leaf.getValueCapacity() < elements) {
      leaf.reAlloc();
    }
  }

  /** Marks elements {@code [0, n)} valid: whole bytes at once. */
  private static void allValid(ArrowBuf validity, long n) {
    long bytes = n / 8;
    if (bytes > 0) {
      validity.setOne(0, bytes);
    }
    for (long i = bytes * 8; i < n; i++) {
      BitVectorHelper.setBit(validity, Math.toIntExact(i));
    }
  }
}
