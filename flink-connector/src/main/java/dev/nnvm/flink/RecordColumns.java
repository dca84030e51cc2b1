package dev.nnvm.flink;

import dev.nnvm.arrow.ArrowTypes;
import dev.nnvm.arrow.ColumnType;
import dev.nnvm.arrow.InputLayout;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.scoring.ScoringSpec;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.BaseRepeatedValueVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Java values of stream records to Arrow batches, for one {@link ScoringSpec}:
 * the engine-facing half of the Flink connector that both the DataStream
 * operator and the SQL predict function use.
 *
 * <p>A record gives one value per column the model reads ({@link #columns()}):
 * a primitive array ({@code float[]}, {@code double[]}, {@code long[]},
 * {@code int[]}, {@code short[]}, {@code byte[]}, {@code boolean[]}) holding
 * the row's elements flat, row-major, or a boxed scalar for a one-value-per-row
 * input. Element types are widened when that is lossless ({@code int[]} into an
 * int64 input); a lossy one ({@code double[]} into a float input) is a bad
 * record. {@link #check} says what is wrong with a record before anything is
 * written, naming the column, the input and what it needs, so the caller can
 * apply its null policy per record; {@link #write} then builds the batch in one
 * pass with bulk copies (the batch size is known, so every buffer is sized
 * once), or {@link Batch#fill} refills a batch kept between calls.
 *
 * <ul>
 *   <li>an input with static rows (say {@code [N, 3, 48, 192]}) is written as
 *       nested {@code FixedSizeList}s, which the bridge binds without a copy;</li>
 *   <li>an input whose rows vary ({@code [N, seq]}, or a padded input) as an
 *       Arrow {@code List};</li>
 *   <li>an {@code [N]} or {@code [N, 1]} input, or a gathered one, as scalars.</li>
 * </ul>
 */
public final class RecordColumns {
  /** How a column is written. */
  enum Kind { SCALAR, FIXED, LIST }

  /** One column the model reads. */
  record Column(String name, String input, DType dtype, Kind kind, long elements, Field field, String needs) {}

  private final List<Column> columns;
  private final Schema schema;

  private RecordColumns(List<Column> columns) {
    this.columns = List.copyOf(columns);
    List<Field> fields = new ArrayList<>();
    for (Column c : columns) {
      fields.add(c.field());
    }
    this.schema = new Schema(fields);
  }

  /**
   * Plans the columns of {@code spec}.
   *
   * @throws IllegalArgumentException when an input has rows Flink values cannot describe (a varying dimension
   *     followed by others: bind it with {@code ScoringSpec.Builder.dim})
   */
  public static RecordColumns of(ScoringSpec spec) {
    Map<String, Column> byName = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (TensorSpec in : spec.boundInputs()) {
      InputLayout layout = spec.inputLayout(in.name());
      if (layout == null) {
        continue; // the mask of a padded input: the bridge makes it
      }
      Shape row = in.shape().hasRank() && in.shape().rank() > 0
          ? Shape.of(in.shape().dims().subList(1, in.shape().rank())) : Shape.scalar();
      String needs = "input '" + in.name() + "' " + in.dtype() + in.shape();
      for (String col : layout.columns()) {
        Column c;
        if (layout instanceof InputLayout.Gather) {
          c = new Column(col, in.name(), in.dtype(), Kind.SCALAR, 1, scalarField(col, in.dtype()),
              needs + " (one value per row)");
        } else if (layout instanceof InputLayout.Padded) {
          c = new Column(col, in.name(), in.dtype(), Kind.LIST, -1, listField(col, in.dtype()),
              needs + " (an array per row, padded)");
        } else if (row.rank() == 0) {
          c = new Column(col, in.name(), in.dtype(), Kind.SCALAR, 1, scalarField(col, in.dtype()),
              needs + " (one value per row)");
        } else if (row.isStatic() && row.elementCount() == 1) {
          // [N, 1]: a FixedSizeList of one, fed by a scalar or a one-element array.
          c = new Column(col, in.name(), in.dtype(), Kind.FIXED, 1,
              ArrowTypes.field(col, new ColumnType(in.dtype(), row)), needs + " (one value per row)");
        } else if (row.isStatic()) {
          c = new Column(col, in.name(), in.dtype(), Kind.FIXED, row.elementCount(),
              ArrowTypes.field(col, new ColumnType(in.dtype(), row)),
              needs + " (" + row.elementCount() + " elements per row, row-major)");
        } else if (row.rank() == 1) {
          c = new Column(col, in.name(), in.dtype(), Kind.LIST, -1, listField(col, in.dtype()),
              needs + " (an array per row)");
        } else {
          problems.add(needs + ": rows of shape " + row + " have a varying dimension before others; bind it"
              + " to a size (dims)");
          continue;
        }
        Column previous = byName.putIfAbsent(col, c);
        if (previous != null && !previous.equals(c)) {
          problems.add("column '" + col + "' feeds " + previous.needs() + " and " + c.needs());
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("model '" + spec.modelName() + "': " + String.join("; ", problems));
    }
    return new RecordColumns(new ArrayList<>(byName.values()));
  }

  private static Field scalarField(String name, DType dtype) {
    return ArrowTypes.field(name, ColumnType.scalar(dtype));
  }

  private static Field listField(String name, DType dtype) {
    Field child = new Field(BaseRepeatedValueVector.DATA_VECTOR_NAME,
        FieldType.nullable(ArrowTypes.toArrowType(dtype)), null);
    return new Field(name, FieldType.nullable(ArrowType.List.INSTANCE), List.of(child));
  }

  /** The columns a record must give values for, in this order. */
  public List<String> columns() {
    List<String> names = new ArrayList<>();
    for (Column c : columns) {
      names.add(c.name());
    }
    return names;
  }

  /** What column {@code i} needs, in words (for messages). */
  public String needs(int i) {
    return columns.get(i).needs();
  }

  /** Whether column {@code i} takes one value per row (a boxed scalar, or a one-element array). */
  public boolean takesScalar(int i) {
    Column c = columns.get(i);
    return c.kind() == Kind.SCALAR || (c.kind() == Kind.FIXED && c.elements() == 1);
  }

  /** Whether column {@code i} takes an array per row. */
  public boolean takesArray(int i) {
    Column c = columns.get(i);
    return c.kind() != Kind.SCALAR;
  }

  /** The Arrow schema of the batches {@link #write} makes. */
  public Schema schema() {
    return schema;
  }

  /**
   * What is wrong with one record's values (one per column, in {@link #columns()} order), or null when they fit.
   * A null value is reported as such (the caller decides whether that is a null row or an error).
   */
  public String check(Object[] values) {
    if (values == null || values.length != columns.size()) {
      return "expected " + columns.size() + " values " + columns() + ", got "
          + (values == null ? "none" : values.length);
    }
    for (int i = 0; i < values.length; i++) {
      Column c = columns.get(i);
      Object v = values[i];
      if (v == null) {
        return "column '" + c.name() + "' is null";
      }
      String problem = Elements.misfit(v, c.dtype(), c.kind() == Kind.SCALAR);
      if (problem != null) {
        return "column '" + c.name() + "' " + problem + "; " + c.needs();
      }
      if (c.kind() == Kind.FIXED) {
        int n = Elements.length(v);
        if (n != c.elements()) {
          return "column '" + c.name() + "' has " + n + " elements; " + c.needs();
        }
      } else if (c.kind() == Kind.LIST && Elements.length(v) == 0) {
        return "column '" + c.name() + "' is an empty array; " + c.needs();
      }
    }
    return null;
  }

  /**
   * Writes rows into a new batch; a null entry of {@code rows} (a record the caller set aside) is a null row.
   * Every non-null row must have passed {@link #check}. The caller closes the batch.
   */
  public VectorSchemaRoot write(List<Object[]> rows, BufferAllocator allocator) {
    Batch b = newBatch(allocator);
    try {
      return b.fill(rows);
    } catch (RuntimeException | Error e) {
      b.close();
      throw e;
    }
  }

  /** A batch to fill again and again (see {@link Batch}); the caller closes it. */
  public Batch newBatch(BufferAllocator allocator) {
    return new Batch(VectorSchemaRoot.create(schema, allocator));
  }

  /**
   * One batch whose Arrow buffers are kept from one {@link #fill} to the next and re-allocated only when a fill
   * needs more room: a stream's batches have the same size, so after the first one a fill is the copy of the
   * values alone (allocating and zeroing megabytes per batch cost a tenth of the model's time on 110 KB rows).
   * Not thread-safe; the root {@link #fill} returns stays valid until the next fill or {@link #close}.
   */
  public final class Batch implements AutoCloseable {
    private final VectorSchemaRoot root;
    /** Per column: the rows, and the leaf values, its buffers were last allocated for (0: not yet). */
    private final long[] rowCapacity = new long[columns.size()];
    private final long[] leafCapacity = new long[columns.size()];

    private Batch(VectorSchemaRoot root) {
      this.root = root;
    }

    /**
     * Writes {@code rows} into the batch, replacing what it held; a null entry (a record the caller set aside)
     * is a null row. Every non-null row must have passed {@link #check}.
     */
    public VectorSchemaRoot fill(List<Object[]> rows) {
      int n = rows.size();
      for (int i = 0; i < columns.size(); i++) {
        writeColumn(i, root.getVector(i), rows, n);
      }
      root.setRowCount(n);
      return root;
    }

    @Override
    public void close() {
      root.close();
    }

    private void writeColumn(int index, FieldVector top, List<Object[]> rows, int n) {
      Column c = columns.get(index);
      long total = 0;
      for (Object[] r : rows) {
        if (r != null) {
          total += c.kind() == Kind.LIST ? Elements.length(r[index]) : c.elements();
        }
      }
      if (c.kind() == Kind.LIST) {
        ListVector list = (ListVector) top;
        FieldVector leaf = list.getDataVector();
        if (rowCapacity[index] < n || leafCapacity[index] < total) {
          rowCapacity[index] = Math.max(n, rowCapacity[index]);
          leafCapacity[index] = Math.max(total, 2 * leafCapacity[index]);  // lengths vary: grow with headroom
          list.setInitialCapacity(Math.toIntExact(Math.max(rowCapacity[index], 1)));
          list.allocateNew();
          allocateLeaf(leaf, leafCapacity[index]);
        } else {
          clearBits(list.getValidityBuffer(), n);
          if (c.dtype() == DType.BOOL) {
            clearBits(leaf.getDataBuffer(), total);
          }
        }
        long at = 0;
        list.getOffsetBuffer().setInt(0, 0);
        for (int r = 0; r < n; r++) {
          Object[] row = rows.get(r);
          if (row != null) {
            BitVectorHelper.setBit(list.getValidityBuffer(), r);
            Elements.copy(row[index], leaf.getDataBuffer(), at, c.dtype());
            at += Elements.length(row[index]);
          }
          list.getOffsetBuffer().setInt((long) (r + 1) * ListVector.OFFSET_WIDTH, Math.toIntExact(at));
        }
        setAllValid(leaf, total);
        leaf.setValueCount(Math.toIntExact(total));
        list.setLastSet(n - 1);
        list.setValueCount(n);
        return;
      }
      // SCALAR or FIXED: a chain of FixedSizeLists (none for a scalar) over a contiguous leaf of n * elements
      // values, row r at elements * r. Null rows hold zeros; their top-level bit stays clear.
      List<FieldVector> levels = new ArrayList<>();
      FieldVector v = top;
      while (v instanceof FixedSizeListVector f) {
        levels.add(v);
        v = f.getDataVector();
      }
      FieldVector leaf = v;
      long slots = (long) n * c.elements();
      int size = bytes(c.dtype());
      if (rowCapacity[index] < n) {
        rowCapacity[index] = n;
        long count = n;
        for (FieldVector level : levels) {
          FixedSizeListVector f = (FixedSizeListVector) level;
          f.setInitialCapacity(Math.max(Math.toIntExact(count), 1));
          f.allocateNew();
          count *= f.getListSize();
        }
        allocateLeaf(leaf, slots);
        leaf.getDataBuffer().setZero(0, slots * size);
      } else {
        clearBits(top.getValidityBuffer(), n);
        if (c.dtype() == DType.BOOL) {
          clearBits(leaf.getDataBuffer(), slots);
        }
      }
      for (int r = 0; r < n; r++) {
        Object[] row = rows.get(r);
        if (row != null) {
          BitVectorHelper.setBit(top.getValidityBuffer(), r);
          Elements.copy(row[index], leaf.getDataBuffer(), (long) r * c.elements(), c.dtype());
        } else if (size > 0) {
          leaf.getDataBuffer().setZero((long) r * c.elements() * size, c.elements() * size);
        }
      }
      // Inner levels and the leaf are valid everywhere (a null row is null at the top only).
      long count = n;
      for (int i = 0; i < levels.size(); i++) {
        FixedSizeListVector f = (FixedSizeListVector) levels.get(i);
        if (i > 0) {
          setAllValid(f, count);
        }
        f.setValueCount(Math.toIntExact(count));
        count *= f.getListSize();
      }
      if (!levels.isEmpty()) {
        setAllValid(leaf, slots);
      }
      leaf.setValueCount(Math.toIntExact(slots));
    }
  }

  /** Clears the first {@code bits} bits of a bit buffer. */
  private static void clearBits(ArrowBuf buf, long bits) {
    buf.setZero(0, (bits + 7) / 8);
  }

  private static int bytes(DType dtype) {
    return dtype == DType.BOOL ? 0 : dtype.byteSize();
  }

  private static void allocateLeaf(FieldVector leaf, long values) {
    leaf.setInitialCapacity(Math.toIntExact(Math.max(values, 1)));
    leaf.allocateNew();
  }

  private static void setAllValid(FieldVector v, long count) {
    ArrowBuf validity = v.getValidityBuffer();
    long full = count / 8;
    if (full > 0) {
      validity.setOne(0, full);
    }
    for (long i = full * 8; i < count; i++) {
      BitVectorHelper.setBit(validity, i);
    }
  }

  /** True when Java values of element type {@code from} convert losslessly into {@code to} elements. */
  public static boolean widens(DType from, DType to) {
    return Elements.widens(from, to);
  }

  /** Java element arrays and boxed scalars, read into Arrow buffers of an element type. */
  static final class Elements {
    private Elements() {}

    /** Elements in a value (1 for a scalar). */
    static int length(Object v) {
      if (v instanceof float[] a) {
        return a.length;
      } else if (v instanceof double[] a) {
        return a.length;
      } else if (v instanceof long[] a) {
        return a.length;
      } else if (v instanceof int[] a) {
        return a.length;
      } else if (v instanceof short[] a) {
        return a.length;
      } else if (v instanceof byte[] a) {
        return a.length;
      } else if (v instanceof boolean[] a) {
        return a.length;
      }
      return 1;
    }

    /** Why {@code v} cannot feed {@code dtype} elements, or null. */
    static String misfit(Object v, DType dtype, boolean scalar) {
      DType source = sourceType(v);
      if (source == null) {
        return "holds a " + v.getClass().getSimpleName() + " (expected a primitive array or a boxed number)";
      }
      boolean isArray = v.getClass().isArray();
      if (scalar && isArray && length(v) != 1) {
        return "holds an array of " + length(v) + " elements";
      }
      if (!widens(source, dtype)) {
        return "holds " + source + (isArray ? " elements" : "") + ", which do not convert losslessly to " + dtype;
      }
      return null;
    }

    private static DType sourceType(Object v) {
      if (v instanceof float[] || v instanceof Float) {
        return DType.FLOAT32;
      } else if (v instanceof double[] || v instanceof Double) {
        return DType.FLOAT64;
      } else if (v instanceof long[] || v instanceof Long) {
        return DType.INT64;
      } else if (v instanceof int[] || v instanceof Integer) {
        return DType.INT32;
      } else if (v instanceof short[] || v instanceof Short) {
        return DType.INT16;
      } else if (v instanceof byte[] || v instanceof Byte) {
        return DType.INT8;
      } else if (v instanceof boolean[] || v instanceof Boolean) {
        return DType.BOOL;
      }
      return null;
    }

    /** Lossless conversions from a Java element type to a tensor element type. */
    static boolean widens(DType from, DType to) {
      if (from == to) {
        return true;
      }
      switch (from) {
        case FLOAT32: return to == DType.FLOAT64;
        case INT32: return to == DType.INT64 || to == DType.FLOAT64;
        case INT16: return to == DType.INT32 || to == DType.INT64 || to == DType.FLOAT32 || to == DType.FLOAT64;
        case INT8: return to == DType.INT16 || to == DType.INT32 || to == DType.INT64 || to == DType.FLOAT32
            || to == DType.FLOAT64;
        default: return false;
      }
    }

    /** Writes {@code v}'s elements at element index {@code at} of {@code buf} (a leaf of {@code dtype}). */
    static void copy(Object v, ArrowBuf buf, long at, DType dtype) {
      int size = dtype.byteSize();
      long offset = at * size;
      if (v instanceof float[] a && dtype == DType.FLOAT32) {
        if (a.length > 0) {
          buf.nioBuffer(offset, a.length * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(a);
        }
        return;
      }
      if (v instanceof long[] a && dtype == DType.INT64) {
        if (a.length > 0) {
          buf.nioBuffer(offset, a.length * 8).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(a);
        }
        return;
      }
      if (v instanceof double[] a && dtype == DType.FLOAT64) {
        if (a.length > 0) {
          buf.nioBuffer(offset, a.length * 8).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(a);
        }
        return;
      }
      if (dtype == DType.BOOL) {
        int n = length(v);
        for (int i = 0; i < n; i++) {
          boolean b = v instanceof boolean[] a ? a[i] : (Boolean) v;
          if (b) {
            BitVectorHelper.setBit(buf, at + i);
          }
        }
        return;
      }
      int n = length(v);
      for (int i = 0; i < n; i++) {
        long o = offset + (long) i * size;
        if (dtype.isFloatingPoint()) {
          double x = doubleAt(v, i);
          if (dtype == DType.FLOAT32) {
            buf.setFloat(o, (float) x);
          } else {
            buf.setDouble(o, x);
          }
        } else {
          long x = longAt(v, i);
          switch (dtype) {
            case INT8: buf.setByte(o, (byte) x); break;
            case INT16: buf.setShort(o, (short) x); break;
            case INT32: buf.setInt(o, (int) x); break;
            default: buf.setLong(o, x); break;
          }
        }
      }
    }

    private static double doubleAt(Object v, int i) {
      if (v instanceof float[] a) {
        return a[i];
      } else if (v instanceof double[] a) {
        return a[i];
      } else if (v instanceof Number x) {
        return x.doubleValue();
      }
      return longAt(v, i);
    }

    private static long longAt(Object v, int i) {
      if (v instanceof long[] a) {
        return a[i];
      } else if (v instanceof int[] a) {
        return a[i];
      } else if (v instanceof short[] a) {
        return a[i];
      } else if (v instanceof byte[] a) {
        return a[i];
      } else if (v instanceof Number x) {
        return x.longValue();
      }
      throw new IllegalArgumentException("not an integer value: " + v.getClass().getSimpleName());
    }
  }
}
