package dev.nnvm.flink.table;

import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * Flink's internal values (RowData fields, ArrayData) to the Java values the
 * connector's record writer takes, and model outputs back. Arrays are copied
 * out at once: the row Flink hands over may be reused after the call.
 */
final class SqlValues {
  private SqlValues() {}

  /** Field {@code i} of {@code row} as a primitive array or boxed scalar; null when null. */
  static Object read(RowData row, int i, LogicalType type) {
    if (row.isNullAt(i)) {
      return null;
    }
    if (type instanceof ArrayType a) {
      ArrayData data = row.getArray(i);
      for (int k = 0; k < data.size(); k++) {
        if (data.isNullAt(k)) {
          return new NullElement(k);
        }
      }
      switch (a.getElementType().getTypeRoot()) {
        case FLOAT: return data.toFloatArray();
        case DOUBLE: return data.toDoubleArray();
        case BIGINT: return data.toLongArray();
        case INTEGER: return data.toIntArray();
        case SMALLINT: return data.toShortArray();
        case TINYINT: return data.toByteArray();
        case BOOLEAN: return data.toBooleanArray();
        default: throw new IllegalArgumentException("unsupported array element type " + a.getElementType());
      }
    }
    switch (type.getTypeRoot()) {
      case FLOAT: return row.getFloat(i);
      case DOUBLE: return row.getDouble(i);
      case BIGINT: return row.getLong(i);
      case INTEGER: return row.getInt(i);
      case SMALLINT: return row.getShort(i);
      case TINYINT: return row.getByte(i);
      case BOOLEAN: return row.getBoolean(i);
      default: throw new IllegalArgumentException("unsupported type " + type);
    }
  }

  /** A model output value as the internal value of an output column of {@code type}. */
  static Object write(Object value, LogicalType type) {
    if (value == null) {
      return null;
    }
    if (type.getTypeRoot() == LogicalTypeRoot.ARRAY) {
      if (value instanceof float[] f) {
        return new GenericArrayData(f);
      } else if (value instanceof double[] d) {
        return new GenericArrayData(d);
      } else if (value instanceof long[] l) {
        return new GenericArrayData(l);
      } else if (value instanceof int[] n) {
        return new GenericArrayData(n);
      } else if (value instanceof short[] s) {
        return new GenericArrayData(s);
      } else if (value instanceof byte[] b) {
        return new GenericArrayData(b);
      } else if (value instanceof boolean[] b) {
        return new GenericArrayData(b);
      }
      return new GenericArrayData(new Object[] {value});
    }
    if (value.getClass().isArray()) {
      // A [N, 1] output read as one-element arrays into a scalar column.
      if (value instanceof float[] f) {
        return f[0];
      } else if (value instanceof double[] d) {
        return d[0];
      } else if (value instanceof long[] l) {
        return l[0];
      } else if (value instanceof int[] n) {
        return n[0];
      }
    }
    return value;
  }

  /** A marker value: an array with a null element (a bad row: the record writer refuses it by type). */
  record NullElement(int index) {
    @Override
    public String toString() {
      return "an array with a null element at index " + index;
    }
  }
}
