package dev.nnvm.spark.sql;

import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.spark.SparkTypes;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;

/**
 * Turns the output batch of a scorer into Spark values: an output with
 * {@code [N]} rows becomes a scalar, one with rows of rank {@code k} an
 * {@code ArrayType} nested {@code k} deep (a {@code FixedSizeList} or
 * {@code List} level each), and a model with several outputs a struct with
 * one field per output, in output order. A row the null policy left null is
 * a null value. Primitive arrays are copied from the Arrow buffer into an
 * {@code UnsafeArrayData} with one memory copy.
 */
final class ArrowResultReader {
  private ArrowResultReader() {}

  /** The Spark type of a model's result: one output's type, or a struct of all outputs. */
  static DataType resultType(List<TensorSpec> outputs) {
    if (outputs.size() == 1) {
      return outputType(outputs.get(0));
    }
    StructField[] fields = new StructField[outputs.size()];
    for (int i = 0; i < fields.length; i++) {
      fields[i] = new StructField(outputs.get(i).name(), outputType(outputs.get(i)), true, Metadata.empty());
    }
    return new StructType(fields);
  }

  /** The Spark type of one output: its element type, in arrays as deep as its row rank. */
  static DataType outputType(TensorSpec out) {
    DataType t = SparkTypes.toDataType(out.dtype());
    int rank = out.shape().hasRank() ? out.shape().rank() - 1 : 0;
    for (int i = 0; i < rank; i++) {
      t = new ArrayType(t, false);
    }
    return t;
  }

  /**
   * The result of every row of {@code out} (one column per output, in output
   * order): {@code count} values, a struct row each when {@code struct}.
   */
  static Object[] read(VectorSchemaRoot out, int count, boolean struct) {
    List<FieldVector> vectors = out.getFieldVectors();
    Object[] values = new Object[count];
    if (!struct) {
      FieldVector v = vectors.get(0);
      for (int r = 0; r < count; r++) {
        values[r] = value(v, r);
      }
      return values;
    }
    for (int r = 0; r < count; r++) {
      Object[] fields = new Object[vectors.size()];
      boolean any = false;
      for (int i = 0; i < fields.length; i++) {
        fields[i] = value(vectors.get(i), r);
        any |= fields[i] != null;
      }
      values[r] = any ? new GenericInternalRow(fields) : null;
    }
    return values;
  }

  private static Object value(ValueVector v, int index) {
    if (v instanceof ExtensionTypeVector) {
      v = ((ExtensionTypeVector<?>) v).getUnderlyingVector();
    }
    if (v.isNull(index)) {
      return null;
    }
    if (v instanceof FixedSizeListVector) {
      FixedSizeListVector l = (FixedSizeListVector) v;
      int n = l.getListSize();
      return array(l.getDataVector(), (long) index * n, n);
    }
    if (v instanceof ListVector) {
      ListVector l = (ListVector) v;
      int start = l.getOffsetBuffer().getInt((long) index * ListVector.OFFSET_WIDTH);
      int end = l.getOffsetBuffer().getInt((long) (index + 1) * ListVector.OFFSET_WIDTH);
      return array(l.getDataVector(), start, end - start);
    }
    return v.getObject(index);
  }

  /** Elements {@code [start, start + n)} of {@code child} as a Spark array. */
  private static Object array(FieldVector child, long start, int n) {
    if (child instanceof BitVector) {
      boolean[] b = new boolean[n];
      for (int i = 0; i < n; i++) {
        b[i] = ((BitVector) child).get(Math.toIntExact(start + i)) != 0;
      }
      return UnsafeArrayData.fromPrimitiveArray(b);
    }
    if (child instanceof BaseFixedWidthVector) {
      int width = ((BaseFixedWidthVector) child).getTypeWidth();
      UnsafeArrayData a = UnsafeArrayData.createFreshArray(n, width);
      long to = a.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(n);
      Platform.copyMemory(null, child.getDataBufferAddress() + start * width, a.getBaseObject(), to, (long) n * width);
      return a;
    }
    List<Object> inner = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      inner.add(value(child, Math.toIntExact(start + i)));
    }
    return new GenericArrayData(inner.toArray());
  }
}
