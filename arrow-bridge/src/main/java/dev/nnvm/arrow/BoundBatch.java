package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * One batch bound to a model: the input tensors (views of the batch's own
 * buffers where the layout allows, copies otherwise), the output tensors
 * (views of newly allocated Arrow vectors), and which rows were left out
 * for nulls. The runtime reads {@link #inputs()}, writes {@link #outputs()},
 * then {@link #finish()} returns the output columns. The input batch must
 * stay open until then; closing this frees the copies and, when not
 * finished, the output vectors.
 */
public final class BoundBatch implements AutoCloseable {
  /** Rows gathered at a time: the block of the tensor being filled stays in the first-level cache. */
  private static final int GATHER_BLOCK = 256;

  private final int rows;
  private final int[] positions;
  private final BitSet nullRows;
  private final Map<String, NativeTensor> inputs = new LinkedHashMap<>();
  private final Set<String> zeroCopy = new HashSet<>();
  private OutputVectors outputs;
  private boolean closed;

  BoundBatch(SchemaMapping mapping, NullPolicy policy, BufferAllocator allocator, VectorSchemaRoot root,
      int[] selection) {
    int total = root.getRowCount();
    int[] source = selection;
    if (source != null) {
      for (int r : source) {
        if (r < 0 || r >= total) {
          throw new IndexOutOfBoundsException("row " + r + " is not in a batch of " + total + " rows");
        }
      }
    }
    this.rows = source == null ? total : source.length;
    Map<String, ColumnRows> columns = new HashMap<>();
    for (TensorSpec in : mapping.inputs()) {
      InputLayout layout = mapping.layout(in.name());
      if (layout != null) {
        for (String c : layout.columns()) {
          FieldVector v = root.getVector(c);
          columns.computeIfAbsent(c, name -> new ColumnRows(name, v, total));
        }
      }
    }
    TreeMap<Integer, String> nulls = new TreeMap<>();
    for (ColumnRows c : columns.values()) {
      c.nullRows(nulls);
    }
    this.nullRows = new BitSet();
    int[] kept = null;
    if (!nulls.isEmpty()) {
      kept = new int[rows];
      int scored = 0;
      for (int i = 0; i < rows; i++) {
        int r = source == null ? i : source[i];
        String why = nulls.get(r);
        if (why == null) {
          kept[scored++] = i;
        } else if (policy == NullPolicy.STRICT) {
          throw new IllegalArgumentException(why + " (null policy STRICT)");
        } else {
          nullRows.set(i);
        }
      }
      kept = Arrays.copyOf(kept, scored);
    }
    this.positions = nullRows.isEmpty() ? null : kept;
    int[] scoredRows;
    if (positions == null && source == null) {
      scoredRows = null;
    } else if (positions == null) {
      scoredRows = source;
    } else {
      scoredRows = new int[positions.length];
      for (int i = 0; i < scoredRows.length; i++) {
        scoredRows[i] = source == null ? positions[i] : source[positions[i]];
      }
    }
    try {
      Map<String, Long> bindings = new HashMap<>();
      Map<String, String> boundBy = new HashMap<>();
      for (TensorSpec in : mapping.inputs()) {
        InputLayout layout = mapping.layout(in.name());
        if (layout instanceof InputLayout.Gather) {
          gather(in, (InputLayout.Gather) layout, columns, scoredRows, allocator);
        } else if (layout instanceof InputLayout.Padded) {
          InputLayout.Padded p = (InputLayout.Padded) layout;
          TensorSpec mask = p.maskInput() == null ? null : spec(mapping, p.maskInput());
          pad(in, p, mask, columns.get(p.column()), scoredRows, allocator);
        } else if (layout != null) {
          column(in, columns.get(layout.columns().get(0)), scoredRows, allocator);
        }
      }
      for (TensorSpec in : mapping.inputs()) {
        bind(in, inputs.get(in.name()).shape(), bindings, boundBy);
      }
      Map<String, long[]> shapes = new HashMap<>();
      for (TensorSpec out : mapping.outputs()) {
        Shape bound = out.shape().bind(bindings);
        long[] shape = bound.toArray();
        if (shape[0] != scoredRowCount()) {
          throw new IllegalArgumentException("output '" + out.name() + "' " + out.dtype() + out.shape()
              + " has a static batch dimension of " + shape[0] + ", the batch scores " + scoredRowCount() + " rows");
        }
        shapes.put(out.name(), shape);
      }
      this.outputs = new OutputVectors(mapping, allocator, rows, positions, shapes);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private static TensorSpec spec(SchemaMapping mapping, String name) {
    for (TensorSpec s : mapping.inputs()) {
      if (s.name().equals(name)) {
        return s;
      }
    }
    throw new IllegalStateException("no input " + name);
  }

  /** Rows of the result: the batch's rows, or the selected ones. */
  public int rowCount() {
    return rows;
  }

  /** Rows handed to the model: {@link #rowCount()} less the null rows. */
  public int scoredRowCount() {
    return positions == null ? rows : positions.length;
  }

  /** Result rows whose outputs are null because an input was null. */
  public BitSet nullRows() {
    return (BitSet) nullRows.clone();
  }

  /** The input tensors by model input name. */
  public Map<String, NativeTensor> inputs() {
    return Collections.unmodifiableMap(inputs);
  }

  /** The output tensors by model output name: views of the output columns, to be written by the runtime. */
  public Map<String, NativeTensor> outputs() {
    if (outputs == null) {
      throw new IllegalStateException("batch is closed");
    }
    return Collections.unmodifiableMap(outputs.tensors());
  }

  /** True when the input's tensor is the batch's own buffer, not a copy. */
  public boolean isZeroCopy(String input) {
    return zeroCopy.contains(input);
  }

  /** The output columns, one per model output; the caller closes the root. */
  public VectorSchemaRoot finish() {
    if (closed) {
      throw new IllegalStateException("batch is closed");
    }
    return outputs.finish();
  }

  private int count(int[] scoredRows) {
    return scoredRows == null ? rows : scoredRows.length;
  }

  private static int row(int[] scoredRows, int i) {
    return scoredRows == null ? i : scoredRows[i];
  }

  private void column(TensorSpec in, ColumnRows c, int[] scoredRows, BufferAllocator allocator) {
    int m = count(scoredRows);
    Shape row = SchemaMapping.rowShape(in.shape());
    long length;
    if (c.variable()) {
      length = m > 0 ? c.length(row(scoredRows, 0)) : row.dim(0).isStatic() ? row.dim(0).value() : 0;
      for (int i = 1; i < m; i++) {
        int r = row(scoredRows, i);
        if (c.length(r) != length) {
          throw new IllegalArgumentException("input '" + in.name() + "': rows of column '" + c.name()
              + "' differ in length (row " + row(scoredRows, 0) + " has " + length + ", row " + r + " has "
              + c.length(r) + "); feed it with InputLayout.Padded, or bucket the rows with LengthBuckets");
        }
      }
    } else {
      length = c.length(0);
    }
    Shape have = c.rowShape();
    long[] shape = new long[row.rank() + 1];
    shape[0] = m;
    if (have.rank() == 0 && row.rank() == 1) {
      shape[1] = 1;
    } else {
      for (int d = 0; d < have.rank(); d++) {
        shape[d + 1] = d == 0 ? length : have.dim(d).value();
      }
    }
    long per = length * c.inner();
    if (m == 0) {
      inputs.put(in.name(), NativeTensor.wrap(0, 0, in.dtype(), shape));
      return;
    }
    if (scoredRows == null && c.dtype() == in.dtype() && !c.bitPacked() && c.regular(length)) {
      long bytes = m * per * in.dtype().byteSize();
      inputs.put(in.name(), NativeTensor.wrap(c.leafAddress() + c.start(0) * in.dtype().byteSize(), bytes,
          in.dtype(), shape));
      zeroCopy.add(in.name());
      return;
    }
    long dst = allocate(allocator, in.name(), in.dtype(), shape);
    int ts = in.dtype().byteSize();
    for (int i = 0; i < m; i++) {
      ElementCopy.copy(c.leafAddress(), c.dtype(), c.bitPacked(), c.start(row(scoredRows, i)), per,
          dst + i * per * ts, ts, in.dtype());
    }
  }

  private void gather(TensorSpec in, InputLayout.Gather g, Map<String, ColumnRows> columns, int[] scoredRows,
      BufferAllocator allocator) {
    int m = count(scoredRows);
    int k = g.columns().size();
    int ts = in.dtype().byteSize();
    long dst = allocate(allocator, in.name(), in.dtype(), new long[] {m, k});
    if (scoredRows == null) {
      for (int start = 0; start < m; start += GATHER_BLOCK) {
        int n = Math.min(GATHER_BLOCK, m - start);
        for (int j = 0; j < k; j++) {
          ColumnRows c = columns.get(g.columns().get(j));
          ElementCopy.copy(c.leafAddress(), c.dtype(), c.bitPacked(), start, n, dst + ((long) start * k + j) * ts,
              (long) k * ts, in.dtype());
        }
      }
      return;
    }
    for (int j = 0; j < k; j++) {
      ColumnRows c = columns.get(g.columns().get(j));
      for (int i = 0; i < m; i++) {
        ElementCopy.copy(c.leafAddress(), c.dtype(), c.bitPacked(), scoredRows[i], 1,
            dst + ((long) i * k + j) * ts, ts, in.dtype());
      }
    }
  }

  private void pad(TensorSpec in, InputLayout.Padded p, TensorSpec mask, ColumnRows c, int[] scoredRows,
      BufferAllocator allocator) {
    int m = count(scoredRows);
    Dim seq = in.shape().dim(1);
    long longest = 0;
    for (int i = 0; i < m; i++) {
      longest = Math.max(longest, c.length(row(scoredRows, i)));
    }
    long length = longest;
    if (seq.isStatic()) {
      if (longest > seq.value()) {
        for (int i = 0; i < m; i++) {
          int r = row(scoredRows, i);
          if (c.length(r) > seq.value()) {
            throw new IllegalArgumentException("input '" + in.name() + "' " + in.dtype() + in.shape() + ": row " + r
                + " of column '" + c.name() + "' has " + c.length(r) + " elements, more than " + seq.value());
          }
        }
      }
      length = seq.value();
    }
    long inner = c.inner();
    long[] shape = new long[in.shape().rank()];
    shape[0] = m;
    shape[1] = length;
    for (int d = 2; d < shape.length; d++) {
      shape[d] = c.rowShape().dim(d - 1).value();
    }
    int ts = in.dtype().byteSize();
    if (m == 0) {
      inputs.put(in.name(), NativeTensor.wrap(0, 0, in.dtype(), shape));
    } else if (scoredRows == null && c.dtype() == in.dtype() && !c.bitPacked() && allLength(c, m, length)
        && c.regular(length)) {
      inputs.put(in.name(), NativeTensor.wrap(c.leafAddress() + c.start(0) * ts, m * length * inner * ts,
          in.dtype(), shape));
      zeroCopy.add(in.name());
    } else {
      long base = allocate(allocator, in.name(), in.dtype(), shape);
      for (int i = 0; i < m; i++) {
        int r = row(scoredRows, i);
        long have = c.elements(r);
        long dst = base + i * length * inner * ts;
        ElementCopy.copy(c.leafAddress(), c.dtype(), c.bitPacked(), c.start(r), have, dst, ts, in.dtype());
        ElementCopy.fill(dst + have * ts, length * inner - have, in.dtype(), p.padValue());
      }
    }
    if (mask != null) {
      DType md = mask.dtype();
      long base = allocate(allocator, mask.name(), md, new long[] {m, length});
      for (int i = 0; i < m; i++) {
        long have = c.length(row(scoredRows, i));
        long dst = base + i * length * md.byteSize();
        ElementCopy.fill(dst, have, md, 1);
        ElementCopy.fill(dst + have * md.byteSize(), length - have, md, 0);
      }
    }
  }

  private static boolean allLength(ColumnRows c, int m, long length) {
    for (int r = 0; r < m; r++) {
      if (c.length(r) != length) {
        return false;
      }
    }
    return true;
  }

  /** A new tensor for input {@code name}, owning its buffer; returns its address. */
  private long allocate(BufferAllocator allocator, String name, DType dtype, long[] shape) {
    long bytes = Math.multiplyExact(NativeTensor.elementCount(shape), (long) dtype.byteSize());
    ArrowBuf buf = allocator.buffer(Math.max(bytes, 1));
    NativeTensor t = NativeTensor.wrap(buf.memoryAddress(), buf.capacity(), dtype, shape, buf);
    inputs.put(name, t);
    return t.address();
  }

  /** Binds the symbols of an input's declared shape to the tensor's sizes; a conflict names both inputs. */
  private void bind(TensorSpec in, long[] actual, Map<String, Long> bindings, Map<String, String> boundBy) {
    for (int d = 0; d < actual.length; d++) {
      Dim want = in.shape().dim(d);
      if (want.isStatic() && want.value() != actual[d]) {
        throw new IllegalArgumentException("input '" + in.name() + "' " + in.dtype() + in.shape() + ": dimension "
            + d + " is " + actual[d] + " in this batch");
      }
      if (want.isSymbolic()) {
        Long before = bindings.putIfAbsent(want.symbol(), actual[d]);
        boundBy.putIfAbsent(want.symbol(), in.name());
        if (before != null && before != actual[d]) {
          throw new IllegalArgumentException("input '" + in.name() + "': dimension " + want.symbol() + " is "
              + actual[d] + " in this batch but " + before + " in input '" + boundBy.get(want.symbol()) + "'");
        }
      }
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (NativeTensor t : inputs.values()) {
      t.close();
    }
    if (outputs != null) {
      outputs.close();
    }
  }
}
