package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;

/**
 * The output columns of one batch, allocated before the model runs, with
 * their element buffers exposed as {@link NativeTensor}s of the outputs'
 * bound shapes, so the runtime writes the results in place.
 *
 * <p>How it works: the model sees only the {@code M} scored rows, written
 * back to back at the start of each buffer. {@link #finish()} then moves
 * each scored row to its place among the {@code N} rows of the batch,
 * walking backwards (a row only ever moves to a later place, so no row is
 * overwritten before it moved), zeroes the rows left null, and sets the
 * validity bits and offsets. {@code List} columns need no moves: a null row
 * is an empty list. Boolean outputs are the one staged layout: the model
 * writes bytes, Arrow keeps bits, so they are packed at the end.
 */
final class OutputVectors implements AutoCloseable {
  private final int rows;
  private final int[] positions;
  private final int scored;
  private final List<Out> outs = new ArrayList<>();
  private final Map<String, NativeTensor> tensors = new LinkedHashMap<>();
  private boolean handedOver;
  private boolean closed;

  private static final class Out {
    FieldVector vector;
    OutputLayout layout;
    List<FieldVector> levels;
    FieldVector leaf;
    DType dtype;
    long rowElements;
    long listLength;
    ArrowBuf staging;
    NativeTensor tensor;
  }

  /**
   * Columns for {@code rows} rows of which the {@code positions.length}
   * listed ones (increasing; null for all rows) are scored; {@code shapes}
   * are the outputs' bound shapes, whose first dimension is the scored count.
   */
  OutputVectors(SchemaMapping mapping, BufferAllocator allocator, int rows, int[] positions,
      Map<String, long[]> shapes) {
    this.rows = rows;
    this.positions = positions;
    this.scored = positions == null ? rows : positions.length;
    try {
      for (TensorSpec spec : mapping.outputs()) {
        allocate(mapping, allocator, spec, shapes.get(spec.name()));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void allocate(SchemaMapping mapping, BufferAllocator allocator, TensorSpec spec, long[] shape) {
    Out o = new Out();
    o.layout = mapping.outputLayout(spec.name());
    o.dtype = spec.dtype();
    o.vector = o.layout.field(mapping.outputColumn(spec.name()), spec.dtype(), SchemaMapping.rowShape(spec.shape()))
        .createVector(allocator);
    outs.add(o);
    o.rowElements = 1;
    for (int i = 1; i < shape.length; i++) {
      o.rowElements = Math.multiplyExact(o.rowElements, shape[i]);
    }
    o.levels = new ArrayList<>();
    FieldVector v = o.vector instanceof ExtensionTypeVector
        ? (FieldVector) ((ExtensionTypeVector<?>) o.vector).getUnderlyingVector() : o.vector;
    if (v instanceof ListVector) {
      ((ListVector) v).setInitialTotalCapacity(rows, Math.toIntExact(scored * (shape.length > 1 ? shape[1] : 1L)));
      v.allocateNew();
    } else if (v instanceof FixedSizeListVector) {
      v.setInitialCapacity(rows);
      v.allocateNew();
    } else {
      ((BaseFixedWidthVector) v).allocateNew(rows);
    }
    while (true) {
      o.levels.add(v);
      if (v instanceof FixedSizeListVector) {
        v = ((FixedSizeListVector) v).getDataVector();
      } else if (v instanceof ListVector) {
        v = ((ListVector) v).getDataVector();
      } else {
        break;
      }
    }
    o.leaf = v;
    o.listLength = shape.length > 1 ? shape[1] : 1;
    long need = Math.multiplyExact(scored * o.rowElements, (long) o.dtype.byteSize());
    long address;
    long size;
    if (o.leaf instanceof BitVector) {
      o.staging = allocator.buffer(Math.max(need, 1));
      o.staging.setZero(0, o.staging.capacity());
      address = o.staging.memoryAddress();
      size = o.staging.capacity();
    } else {
      address = o.leaf.getDataBufferAddress();
      size = o.leaf.getDataBuffer().capacity();
    }
    if (size < need) {
      throw new IllegalStateException("output '" + spec.name() + "': Arrow allocated " + size + " bytes for " + need);
    }
    o.tensor = NativeTensor.wrap(address, size, o.dtype, shape);
    tensors.put(spec.name(), o.tensor);
  }

  Map<String, NativeTensor> tensors() {
    return tensors;
  }

  /** Places the scored rows, sets validity, and hands the columns over in a new root the caller closes. */
  VectorSchemaRoot finish() {
    if (closed || handedOver) {
      throw new IllegalStateException("the outputs of this batch were already finished or closed");
    }
    List<FieldVector> vectors = new ArrayList<>();
    for (Out o : outs) {
      o.tensor.close();
      place(o);
      vectors.add(o.vector);
    }
    VectorSchemaRoot root = new VectorSchemaRoot(vectors);
    root.setRowCount(rows);
    handedOver = true;
    close();
    return root;
  }

  private void place(Out o) {
    int es = o.dtype.byteSize();
    boolean list = o.levels.get(0) instanceof ListVector;
    if (o.staging != null) {
      long bits = o.leaf.getDataBufferAddress();
      for (int i = 0; i < scored; i++) {
        long to = list ? (long) i * o.rowElements : (long) position(i) * o.rowElements;
        ElementCopy.packBits(o.staging.memoryAddress() + i * o.rowElements, o.rowElements, bits, to);
      }
    } else if (!list && positions != null) {
      long base = o.leaf.getDataBufferAddress();
      long rb = o.rowElements * es;
      for (int i = scored - 1; i >= 0; i--) {
        if (positions[i] != i) {
          MemoryUtil.copyMemory(base + i * rb, base + positions[i] * rb, rb);
        }
      }
      int next = 0;
      for (int r = 0; r < rows; r++) {
        if (next < scored && positions[next] == r) {
          next++;
        } else {
          MemoryUtil.setMemory(base + r * rb, rb, (byte) 0);
        }
      }
    }
    FieldVector top = o.levels.get(0);
    if (list) {
      ListVector lv = (ListVector) top;
      if (lv.getOffsetBuffer().capacity() < 4L * (rows + 1)) {
        throw new IllegalStateException("column '" + lv.getName() + "': Arrow allocated "
            + lv.getOffsetBuffer().capacity() + " bytes of offsets for " + rows + " rows");
      }
      long offsets = lv.getOffsetBufferAddress();
      int next = 0;
      int at = 0;
      MemoryUtil.putInt(offsets, 0);
      for (int r = 0; r < rows; r++) {
        if (next < scored && position(next) == r) {
          next++;
          at = Math.toIntExact(at + o.listLength);
        }
        MemoryUtil.putInt(offsets + 4L * (r + 1), at);
      }
      lv.setLastSet(rows - 1);
      for (int d = 1; d < o.levels.size(); d++) {
        setBits(o.levels.get(d).getValidityBuffer(), 0, (long) scored * o.rowElements / elementsBelow(o, d));
      }
    } else {
      for (int d = 1; d < o.levels.size(); d++) {
        long e = o.rowElements / elementsBelow(o, d);
        if (positions == null) {
          setBits(o.levels.get(d).getValidityBuffer(), 0, scored * e);
        } else {
          for (int i = 0; i < scored; i++) {
            setBits(o.levels.get(d).getValidityBuffer(), positions[i] * e, e);
          }
        }
      }
    }
    if (positions == null) {
      setBits(top.getValidityBuffer(), 0, scored);
    } else {
      for (int p : positions) {
        setBits(top.getValidityBuffer(), p, 1);
      }
    }
  }

  /** Leaf elements under one element of level {@code d}. */
  private static long elementsBelow(Out o, int d) {
    long n = 1;
    for (int i = d; i < o.levels.size(); i++) {
      if (o.levels.get(i) instanceof FixedSizeListVector) {
        n *= ((FixedSizeListVector) o.levels.get(i)).getListSize();
      }
    }
    return n;
  }

  private int position(int i) {
    return positions == null ? i : positions[i];
  }

  /** Sets {@code count} bits from bit {@code from}: whole bytes at once. */
  static void setBits(ArrowBuf buf, long from, long count) {
    long addr = buf.memoryAddress();
    long b = from;
    long end = from + count;
    while (b < end && (b & 7) != 0) {
      MemoryUtil.putByte(addr + (b >>> 3), (byte) (MemoryUtil.getByte(addr + (b >>> 3)) | (1 << (b & 7))));
      b++;
    }
    long bytes = (end - b) >>> 3;
    if (bytes > 0) {
      MemoryUtil.setMemory(addr + (b >>> 3), bytes, (byte) 0xFF);
      b += bytes << 3;
    }
    while (b < end) {
      MemoryUtil.putByte(addr + (b >>> 3), (byte) (MemoryUtil.getByte(addr + (b >>> 3)) | (1 << (b & 7))));
      b++;
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (Out o : outs) {
      if (o.tensor != null) {
        o.tensor.close();
      }
      if (o.staging != null) {
        o.staging.close();
      }
      if (!handedOver) {
        o.vector.close();
      }
    }
  }
}
