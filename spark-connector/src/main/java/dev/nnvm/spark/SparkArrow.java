package dev.nnvm.spark;

import dev.nnvm.arrow.ArrowTypes;
import dev.nnvm.arrow.ColumnType;
import dev.nnvm.arrow.InputLayout;
import dev.nnvm.arrow.OutputLayout;
import dev.nnvm.arrow.SchemaMapping;
import dev.nnvm.arrow.SchemaMismatchException;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.scoring.ScoringSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.BaseRepeatedValueVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.Platform;

/**
 * Spark rows to Arrow batches and Arrow output columns back to Spark values,
 * for one {@link ScoringSpec}: the engine-facing piece that the ML
 * transformer, the SQL function's plan node and the batch job share.
 *
 * <p>{@link #plan} decides, from the Spark schema and the model's inputs,
 * which Arrow column each Spark column becomes, and checks everything up
 * front (one {@link SchemaMismatchException} listing every problem):
 * <ul>
 *   <li>a numeric or boolean column feeds an {@code [N]} input (or {@code [N, 1]}, or a gathered one);</li>
 *   <li>an {@code array<...>} column feeds an input with static rows, say {@code [N, 3, 48, 192]},
 *       either flat (every row holds 27648 elements, row-major) or nested as deep as the row's rank;
 *       it is written into nested Arrow {@code FixedSizeList}s, so the bridge binds it without another copy;</li>
 *   <li>an {@code array<...>} column feeds an input whose rows vary in length ({@code [N, seq]}, or a
 *       padded input) as an Arrow {@code List}.</li>
 * </ul>
 * Element types are kept as Spark has them and widened by the bridge where
 * that is lossless (int to bigint ids); a lossy one (double into a float
 * input) is refused: cast the column.
 *
 * <p>{@link RowWriter} fills one reused Arrow batch from {@link InternalRow}s
 * with bulk copies out of Spark's {@code UnsafeArrayData}; a row whose
 * length does not fit is refused naming the column, the row and the input.
 * {@link #readOutputs} turns a row of a scorer's output columns into Spark
 * values: scalars for {@code [N]} outputs, {@code array<float>} for
 * {@code [N, k]}, nested arrays for higher ranks.
 */
public final class SparkArrow {
  private static final RootAllocator ROOT = new RootAllocator();

  /** How a Spark column is written into Arrow. */
  enum Kind {
    /** One value per row. */
    SCALAR,
    /** Rows of one static shape: nested FixedSizeLists. */
    FIXED,
    /** Rows of varying length: an Arrow List of scalars. */
    LIST
  }

  /** One Spark column the model reads. */
  static final class ColumnPlan {
    String name;
    int ordinal;
    DType dtype;
    int depth;
    boolean containsNull;
    Kind kind;
    long[] dims;
    long elements;
    String input;
    String inputText;
  }

  /** One model output column. */
  static final class OutputPlan {
    String output;
    String column;
    DType dtype;
    OutputLayout layout;
    long[] rowDims;
    DataType sparkType;
  }

  private final ScoringSpec spec;
  private final StructType input;
  private final List<ColumnPlan> columns;
  private final Schema arrowSchema;
  private final List<OutputPlan> outputs;
  private final StructType outputSchema;

  private SparkArrow(ScoringSpec spec, StructType input, List<ColumnPlan> columns, Schema arrowSchema,
      List<OutputPlan> outputs) {
    this.spec = spec;
    this.input = input;
    this.columns = columns;
    this.arrowSchema = arrowSchema;
    this.outputs = outputs;
    List<StructField> fields = new ArrayList<>();
    for (OutputPlan o : outputs) {
      fields.add(DataTypes.createStructField(o.column, o.sparkType, true));
    }
    this.outputSchema = DataTypes.createStructType(fields);
  }

  /** The JVM's root Arrow allocator for Spark-side batches; tasks take named children of it. */
  public static BufferAllocator rootAllocator() {
    return ROOT;
  }

  /**
   * Plans how the columns of {@code input} feed the spec's model inputs.
   *
   * @throws SchemaMismatchException listing every problem: a missing column, a type with no tensor element
   *     type, a lossy element type, a nesting depth that fits neither a flat nor a nested row, an output
   *     with no Spark type
   */
  public static SparkArrow plan(ScoringSpec spec, StructType input) {
    SchemaMapping mapping = spec.schemaMapping();
    List<String> problems = new ArrayList<>();
    Map<String, ColumnPlan> plans = new LinkedHashMap<>();
    List<String> badColumns = new ArrayList<>();
    for (TensorSpec in : mapping.inputs()) {
      InputLayout layout = mapping.layout(in.name());
      if (layout == null) {
        continue;
      }
      Shape row = Shape.of(in.shape().dims().subList(1, in.shape().rank()));
      for (String c : layout.columns()) {
        if (plans.containsKey(c) || badColumns.contains(c)) {
          continue;
        }
        int ordinal = indexOf(input, c);
        if (ordinal < 0) {
          continue; // the bridge's validation names the missing column
        }
        String why = planColumn(input.fields()[ordinal], ordinal, in, row, layout, plans);
        if (why != null) {
          problems.add(why);
          badColumns.add(c);
        }
      }
    }
    List<Field> fields = new ArrayList<>();
    for (ColumnPlan p : plans.values()) {
      fields.add(arrowField(p));
    }
    Schema arrowSchema = new Schema(fields);
    try {
      mapping.validate(arrowSchema);
    } catch (SchemaMismatchException e) {
      for (String p : e.problems()) {
        boolean dup = false;
        for (String c : badColumns) {
          dup |= p.contains("missing column '" + c + "'");
        }
        if (!dup) {
          problems.add(p);
        }
      }
    }
    List<OutputPlan> outs = new ArrayList<>();
    for (TensorSpec o : mapping.outputs()) {
      OutputPlan p = new OutputPlan();
      p.output = o.name();
      p.column = mapping.outputColumn(o.name());
      p.dtype = o.dtype();
      p.layout = mapping.outputLayout(o.name());
      List<Dim> rowDims = o.shape().dims().subList(1, o.shape().rank());
      p.rowDims = new long[rowDims.size()];
      for (int i = 0; i < p.rowDims.length; i++) {
        p.rowDims[i] = rowDims.get(i).isStatic() ? rowDims.get(i).value() : -1;
      }
      if (indexOf(input, p.column) >= 0) {
        problems.add("output '" + o.name() + "' would become column '" + p.column
            + "', which the input already has; map it to another name");
      }
      try {
        DataType t = SparkTypes.toDataType(o.dtype());
        int depth = p.layout == OutputLayout.SCALAR ? 0 : p.rowDims.length;
        for (int i = 0; i < depth; i++) {
          t = DataTypes.createArrayType(t, false);
        }
        p.sparkType = t;
      } catch (IllegalArgumentException e) {
        problems.add("output '" + o.name() + "': " + e.getMessage());
      }
      outs.add(p);
    }
    if (!problems.isEmpty()) {
      throw new SchemaMismatchException("the DataFrame cannot feed model '" + spec.modelName() + "'", problems);
    }
    return new SparkArrow(spec, input, List.copyOf(plans.values()), arrowSchema, List.copyOf(outs));
  }

  private static int indexOf(StructType schema, String name) {
    String[] names = schema.fieldNames();
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /** Plans one column for one input; returns the problem, or null when it fits. */
  private static String planColumn(StructField f, int ordinal, TensorSpec in, Shape row, InputLayout layout,
      Map<String, ColumnPlan> plans) {
    ColumnPlan p = new ColumnPlan();
    p.name = f.name();
    p.ordinal = ordinal;
    p.input = in.name();
    p.inputText = "input '" + in.name() + "' " + in.dtype() + in.shape();
    DataType t = f.dataType();
    while (t instanceof ArrayType) {
      p.containsNull |= ((ArrayType) t).containsNull();
      p.depth++;
      t = ((ArrayType) t).elementType();
    }
    try {
      p.dtype = SparkTypes.toDType(t);
    } catch (IllegalArgumentException e) {
      return p.inputText + ": column '" + f.name() + "' (" + f.dataType().simpleString() + "): " + e.getMessage();
    }
    String what = p.inputText + ": column '" + f.name() + "' is " + f.dataType().simpleString();
    if (layout instanceof InputLayout.Gather) {
      if (p.depth != 0) {
        return what + ", a gathered input needs scalar columns";
      }
      p.kind = Kind.SCALAR;
    } else if (layout instanceof InputLayout.Padded) {
      if (row.rank() != 1 || p.depth != 1) {
        return what + ": padded inputs are read from array columns into [N, seq] inputs";
      }
      p.kind = Kind.LIST;
      p.dims = new long[] {-1};
    } else if (p.depth == 0) {
      if (!(row.rank() == 0 || (row.rank() == 1 && row.dim(0).isStatic() && row.dim(0).value() == 1))) {
        return what + ", one value per row; the input needs rows of shape " + row
            + " (an array column, flat or nested)";
      }
      p.kind = Kind.SCALAR;
    } else if (row.isStatic() && row.rank() > 0) {
      if (p.depth != 1 && p.depth != row.rank()) {
        return what + ", arrays nested " + p.depth + " deep; rows of shape " + row + " need a flat array of "
            + row.elementCount() + " elements or arrays nested " + row.rank() + " deep";
      }
      p.kind = Kind.FIXED;
      p.dims = row.toArray();
      p.elements = row.elementCount();
    } else if (row.rank() == 1) {
      if (p.depth != 1) {
        return what + ", arrays nested " + p.depth + " deep; the input needs one array per row";
      }
      p.kind = Kind.LIST;
      p.dims = new long[] {-1};
    } else {
      return what + ": rows of shape " + row + " (a varying dimension with others after it) are not supported"
          + " from Spark arrays yet; fix the sizes with dimension bindings";
    }
    plans.put(p.name, p);
    return null;
  }

  private static Field arrowField(ColumnPlan p) {
    switch (p.kind) {
      case SCALAR:
        return ArrowTypes.field(p.name, ColumnType.scalar(p.dtype));
      case FIXED:
        return ArrowTypes.field(p.name, new ColumnType(p.dtype, Shape.of(p.dims)));
      default:
        Field child = ArrowTypes.field(BaseRepeatedValueVector.DATA_VECTOR_NAME, ColumnType.scalar(p.dtype));
        return new Field(p.name, FieldType.nullable(ArrowType.List.INSTANCE), List.of(child));
    }
  }

  public ScoringSpec spec() {
    return spec;
  }

  /** The Spark schema of the rows this plan reads. */
  public StructType inputSchema() {
    return input;
  }

  /** The Arrow schema of the batches {@link RowWriter} fills (the columns the model reads, in input order). */
  public Schema arrowSchema() {
    return arrowSchema;
  }

  /** The Spark columns of the outputs, in output order: the spec's output column names, nullable. */
  public StructType outputSchema() {
    return outputSchema;
  }

  /** The distinct Spark columns the model reads. */
  public List<String> columns() {
    List<String> names = new ArrayList<>();
    for (ColumnPlan p : columns) {
      names.add(p.name);
    }
    return names;
  }

  /**
   * The Spark type of a model output: its element type for an {@code [N]}
   * output (SCALAR layout), else arrays nested as deep as the row's rank.
   */
  public static DataType sparkType(TensorSpec output, OutputLayout layout) {
    DataType t = SparkTypes.toDataType(output.dtype());
    int depth = layout == OutputLayout.SCALAR ? 0 : output.shape().rank() - 1;
    for (int i = 0; i < depth; i++) {
      t = DataTypes.createArrayType(t, false);
    }
    return t;
  }

  /** A writer filling a reused batch of at most {@code capacity} rows from {@code allocator}. */
  public RowWriter newWriter(BufferAllocator allocator, int capacity) {
    return new RowWriter(allocator, capacity);
  }

  /**
   * Puts the Spark values of row {@code row} of {@code outputs} (a scorer's
   * result) into {@code target[offset ..]}, one per output, in output order:
   * null for a null row, a boxed number for a scalar, an
   * {@link UnsafeArrayData} (or a {@link GenericArrayData} of them when nested)
   * for an array.
   */
  public void readOutputs(VectorSchemaRoot outputs, int row, Object[] target, int offset) {
    for (int i = 0; i < this.outputs.size(); i++) {
      target[offset + i] = value(outputs.getVector(i), this.outputs.get(i), row);
    }
  }

  private static Object value(FieldVector v, OutputPlan o, int row) {
    if (v.isNull(row)) {
      return null;
    }
    if (o.layout == OutputLayout.SCALAR) {
      return v instanceof BitVector ? ((BitVector) v).get(row) != 0 : v.getObject(row);
    }
    FieldVector top = v instanceof ExtensionTypeVector ? (FieldVector) ((ExtensionTypeVector<?>) v).getUnderlyingVector()
        : v;
    FieldVector leaf = top;
    while (leaf instanceof ExtensionTypeVector || leaf instanceof FixedSizeListVector || leaf instanceof ListVector) {
      if (leaf instanceof ExtensionTypeVector) {
        leaf = (FieldVector) ((ExtensionTypeVector<?>) leaf).getUnderlyingVector();
      } else if (leaf instanceof FixedSizeListVector) {
        leaf = ((FixedSizeListVector) leaf).getDataVector();
      } else {
        leaf = ((ListVector) leaf).getDataVector();
      }
    }
    long[] dims = o.rowDims.clone();
    long inner = 1;
    for (int i = 1; i < dims.length; i++) {
      inner *= dims[i];
    }
    long start;
    if (top instanceof ListVector) {
      ListVector l = (ListVector) top;
      long first = l.getOffsetBuffer().getInt(4L * row);
      dims[0] = l.getOffsetBuffer().getInt(4L * (row + 1)) - first;
      start = first * inner;
    } else {
      start = row * dims[0] * inner;
    }
    return nested(leaf, o.dtype, start, dims, 0);
  }

  private static Object nested(FieldVector leaf, DType dtype, long start, long[] dims, int level) {
    int n = Math.toIntExact(dims[level]);
    if (level == dims.length - 1) {
      return primitive(leaf, dtype, start, n);
    }
    long stride = 1;
    for (int i = level + 1; i < dims.length; i++) {
      stride *= dims[i];
    }
    Object[] rows = new Object[n];
    for (int i = 0; i < n; i++) {
      rows[i] = nested(leaf, dtype, start + i * stride, dims, level + 1);
    }
    return new GenericArrayData(rows);
  }

  private static ArrayData primitive(FieldVector leaf, DType dtype, long start, int n) {
    if (leaf instanceof BitVector) {
      boolean[] b = new boolean[n];
      for (int i = 0; i < n; i++) {
        b[i] = ((BitVector) leaf).get(Math.toIntExact(start + i)) != 0;
      }
      return UnsafeArrayData.fromPrimitiveArray(b);
    }
    int size = dtype.byteSize();
    UnsafeArrayData a = UnsafeArrayData.createFreshArray(n, size);
    Platform.copyMemory(null, leaf.getDataBufferAddress() + start * size, a.getBaseObject(),
        a.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(n), (long) n * size);
    return a;
  }

  /**
   * Fills one Arrow batch from Spark rows, reused batch after batch:
   * {@link #write} rows, {@link #finish()} to get the batch, {@link #reset}
   * before the next. Not thread-safe; close it to free the batch.
   */
  public final class RowWriter implements AutoCloseable {
    private final VectorSchemaRoot root;
    private final int capacity;
    private final ColumnWriter[] writers;
    private int rows;
    private long firstRow;
    private long bytes;

    private RowWriter(BufferAllocator allocator, int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
      }
      this.capacity = capacity;
      this.root = VectorSchemaRoot.create(arrowSchema, allocator);
      this.writers = new ColumnWriter[columns.size()];
      try {
        for (int i = 0; i < writers.length; i++) {
          writers[i] = new ColumnWriter(columns.get(i), root.getVector(i), capacity);
        }
      } catch (RuntimeException | Error e) {
        root.close();
        throw e;
      }
    }

    /** Rows written since the last reset. */
    public int rowCount() {
      return rows;
    }

    public int capacity() {
      return capacity;
    }

    /** True when the batch holds {@link #capacity()} rows. */
    public boolean isFull() {
      return rows == capacity;
    }

    /** Element bytes copied out of Spark rows so far (over all batches). */
    public long bytesWritten() {
      return bytes;
    }

    /**
     * Appends a row (read, not kept: Spark may reuse the object).
     *
     * @throws IllegalArgumentException naming the column, the row and the input when the row does not fit
     * @throws IllegalStateException when the batch is full
     */
    public void write(InternalRow row) {
      if (rows == capacity) {
        throw new IllegalStateException("the batch is full (" + capacity + " rows); finish and reset it first");
      }
      for (ColumnWriter w : writers) {
        bytes += w.write(row, rows, firstRow + rows);
      }
      rows++;
    }

    /** Sets the vectors' counts and returns the batch (owned by the writer: do not close it). */
    public VectorSchemaRoot finish() {
      for (ColumnWriter w : writers) {
        w.finish(rows);
      }
      root.setRowCount(rows);
      return root;
    }

    /** Starts a new batch; {@code firstRow} numbers its first row in error messages (rows of the partition). */
    public void reset(long firstRow) {
      for (ColumnWriter w : writers) {
        w.reset();
      }
      this.rows = 0;
      this.firstRow = firstRow;
    }

    @Override
    public void close() {
      root.close();
    }
  }

  /** Writes one Spark column into its Arrow vector. */
  private static final class ColumnWriter {
    private final ColumnPlan p;
    private final FieldVector top;
    private final FieldVector leaf;
    private final List<FieldVector> inner = new ArrayList<>();
    private final int size;
    private long listEnd;
    private boolean leafDirty;

    ColumnWriter(ColumnPlan p, FieldVector vector, int capacity) {
      this.p = p;
      this.top = vector;
      this.size = p.dtype == DType.BOOL ? 1 : p.dtype.byteSize();
      if (p.kind == Kind.SCALAR) {
        vector.setInitialCapacity(capacity);
        vector.allocateNew();
        this.leaf = vector;
        return;
      }
      vector.setInitialCapacity(capacity);
      vector.allocateNew();
      FieldVector v = vector;
      while (v instanceof FixedSizeListVector || v instanceof ListVector) {
        v = v instanceof FixedSizeListVector ? ((FixedSizeListVector) v).getDataVector()
            : ((ListVector) v).getDataVector();
        inner.add(v);
      }
      this.leaf = v;
      if (p.kind == Kind.LIST && leaf.getValueCapacity() < 1024) {
        leaf.setInitialCapacity(1024);
        leaf.allocateNew();
      }
      allValid();
    }

    /** Marks every entry below the top level valid: nulls are set per element when Spark has them. */
    private void allValid() {
      for (FieldVector v : inner) {
        ArrowBuf validity = v.getValidityBuffer();
        validity.setOne(0, validity.capacity());
      }
      leafDirty = false;
    }

    void reset() {
      listEnd = 0;
      if (leafDirty) {
        allValid();
      }
    }

    long write(InternalRow row, int i, long rowNumber) {
      if (row.isNullAt(p.ordinal)) {
        setNull(i);
        return 0;
      }
      switch (p.kind) {
        case SCALAR:
          return writeScalar(row, i);
        case FIXED:
          return writeFixed(row.getArray(p.ordinal), i, rowNumber);
        default:
          return writeList(row.getArray(p.ordinal), i);
      }
    }

    private void setNull(int i) {
      if (p.kind == Kind.LIST) {
        ListVector l = (ListVector) top;
        l.getOffsetBuffer().setInt(4L * (i + 1), (int) listEnd);
      }
      BitVectorHelper.unsetBit(top.getValidityBuffer(), i);
    }

    private long writeScalar(InternalRow row, int i) {
      int o = p.ordinal;
      switch (p.dtype) {
        case INT8: ((TinyIntVector) top).set(i, row.getByte(o)); break;
        case INT16: ((SmallIntVector) top).set(i, row.getShort(o)); break;
        case INT32: ((IntVector) top).set(i, row.getInt(o)); break;
        case INT64: ((BigIntVector) top).set(i, row.getLong(o)); break;
        case FLOAT32: ((Float4Vector) top).set(i, row.getFloat(o)); break;
        case FLOAT64: ((Float8Vector) top).set(i, row.getDouble(o)); break;
        case BOOL: ((BitVector) top).set(i, row.getBoolean(o) ? 1 : 0); break;
        default: throw new IllegalStateException("no Spark type for " + p.dtype);
      }
      return size;
    }

    private long writeFixed(ArrayData a, int i, long rowNumber) {
      long base = i * p.elements;
      if (p.depth == 1) {
        if (a.numElements() != p.elements) {
          throw new IllegalArgumentException("row " + rowNumber + " of column '" + p.name + "' has "
              + a.numElements() + " elements; " + p.inputText + " needs " + p.elements + " per row (shape "
              + Shape.toString(p.dims) + ", row-major)");
        }
        copy(a, base);
      } else {
        nested(a, 0, base, rowNumber);
      }
      BitVectorHelper.setBit(top.getValidityBuffer(), i);
      return p.elements * size;
    }

    private void nested(ArrayData a, int level, long base, long rowNumber) {
      if (a.numElements() != p.dims[level]) {
        throw new IllegalArgumentException("row " + rowNumber + " of column '" + p.name + "' has "
            + a.numElements() + " elements at nesting level " + (level + 1) + "; " + p.inputText
            + " needs rows of shape " + Shape.toString(p.dims));
      }
      if (level == p.dims.length - 1) {
        copy(a, base);
        return;
      }
      long stride = 1;
      for (int d = level + 1; d < p.dims.length; d++) {
        stride *= p.dims[d];
      }
      for (int j = 0; j < a.numElements(); j++) {
        if (a.isNullAt(j)) {
          markNull(base + j * stride);
        } else {
          nested(a.getArray(j), level + 1, base + j * stride, rowNumber);
        }
      }
    }

    private long writeList(ArrayData a, int i) {
      int n = a.numElements();
      long end = listEnd + n;
      if (end > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("column '" + p.name + "': a batch of more than 2^31 elements; lower the"
            + " batch size");
      }
      if (leaf.getValueCapacity() < end) {
        while (leaf.getValueCapacity() < end) {
          leaf.reAlloc();
        }
        ArrowBuf validity = leaf.getValidityBuffer();
        validity.setOne(0, validity.capacity());
      }
      copy(a, listEnd);
      listEnd = end;
      ListVector l = (ListVector) top;
      l.getOffsetBuffer().setInt(4L * (i + 1), (int) end);
      BitVectorHelper.setBit(l.getValidityBuffer(), i);
      return (long) n * size;
    }

    /** Copies a Spark array of leaf elements to leaf element {@code at}; null elements clear their bit. */
    private void copy(ArrayData a, long at) {
      int n = a.numElements();
      if (p.dtype == DType.BOOL) {
        BitVector b = (BitVector) leaf;
        for (int j = 0; j < n; j++) {
          if (a.isNullAt(j)) {
            markNull(at + j);
          } else {
            b.set(Math.toIntExact(at + j), a.getBoolean(j) ? 1 : 0);
          }
        }
        return;
      }
      long dst = leaf.getDataBufferAddress() + at * size;
      if (a instanceof UnsafeArrayData) {
        UnsafeArrayData u = (UnsafeArrayData) a;
        Platform.copyMemory(u.getBaseObject(), u.getBaseOffset() + UnsafeArrayData.calculateHeaderPortionInBytes(n),
            null, dst, (long) n * size);
        if (p.containsNull && hasNull(u, n)) {
          nullElements(a, at);
        }
        return;
      }
      Object values;
      long offset;
      switch (p.dtype) {
        case INT8: values = a.toByteArray(); offset = Platform.BYTE_ARRAY_OFFSET; break;
        case INT16: values = a.toShortArray(); offset = Platform.SHORT_ARRAY_OFFSET; break;
        case INT32: values = a.toIntArray(); offset = Platform.INT_ARRAY_OFFSET; break;
        case INT64: values = a.toLongArray(); offset = Platform.LONG_ARRAY_OFFSET; break;
        case FLOAT32: values = a.toFloatArray(); offset = Platform.FLOAT_ARRAY_OFFSET; break;
        case FLOAT64: values = a.toDoubleArray(); offset = Platform.DOUBLE_ARRAY_OFFSET; break;
        default: throw new IllegalStateException("no Spark type for " + p.dtype);
      }
      if (p.containsNull) {
        for (int j = 0; j < n; j++) {
          if (a.isNullAt(j)) {
            nullElements(a, at);
            // toXArray of a generic array with nulls fails; write the non-null elements one at a time.
            return;
          }
        }
      }
      Platform.copyMemory(values, offset, null, dst, (long) n * size);
    }

    /** Writes a generic array that holds nulls element by element, clearing the bits of the null ones. */
    private void nullElements(ArrayData a, long at) {
      int n = a.numElements();
      long dst = leaf.getDataBufferAddress() + at * size;
      for (int j = 0; j < n; j++) {
        if (a.isNullAt(j)) {
          markNull(at + j);
          continue;
        }
        long d = dst + (long) j * size;
        switch (p.dtype) {
          case INT8: Platform.putByte(null, d, a.getByte(j)); break;
          case INT16: Platform.putShort(null, d, a.getShort(j)); break;
          case INT32: Platform.putInt(null, d, a.getInt(j)); break;
          case INT64: Platform.putLong(null, d, a.getLong(j)); break;
          case FLOAT32: Platform.putFloat(null, d, a.getFloat(j)); break;
          case FLOAT64: Platform.putDouble(null, d, a.getDouble(j)); break;
          default: throw new IllegalStateException("no Spark type for " + p.dtype);
        }
      }
    }

    private static boolean hasNull(UnsafeArrayData u, int n) {
      long words = (n + 63) / 64;
      for (long w = 0; w < words; w++) {
        if (Platform.getLong(u.getBaseObject(), u.getBaseOffset() + 8 + 8 * w) != 0) {
          return true;
        }
      }
      return false;
    }

    private void markNull(long leafIndex) {
      BitVectorHelper.unsetBit(leaf.getValidityBuffer(), Math.toIntExact(leafIndex));
      leafDirty = true;
    }

    void finish(int rows) {
      if (p.kind == Kind.LIST) {
        ListVector l = (ListVector) top;
        l.setLastSet(rows - 1);
      }
    }
  }

  @Override
  public String toString() {
    return "SparkArrow[" + spec.modelName() + ": " + columns() + " -> " + Arrays.toString(outputSchema.fieldNames())
        + "]";
  }
}
