package dev.nnvm.benchmarks.bridge;

import dev.nnvm.arrow.ArrowBridge;
import dev.nnvm.arrow.ArrowTypes;
import dev.nnvm.arrow.BoundBatch;
import dev.nnvm.arrow.ColumnType;
import dev.nnvm.arrow.InputLayout;
import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.arrow.SchemaMapping;
import dev.nnvm.benchmarks.Samples;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;

/**
 * Rows per second through the Arrow bridge alone (no model): bind a batch,
 * let the "model" do nothing, finish the output columns, close. Compared
 * with what a connector does without the bridge: copy the column into a
 * tensor buffer and the result tensor back into a new column, element by
 * element through Arrow's getters and setters ("copy loop"), and the same
 * with bulk memory copies ("memcpy"), the fastest any copying path can be
 * (for the gathered columns it copies whole columns side by side, without
 * the transpose a real gather needs, so it is a lower bound).
 *
 * <p>Two shapes of data: an embedding column, {@code FixedSizeList<float>[384]}
 * in and out (the bridge is zero-copy both ways), and 16 scalar float columns
 * gathered into an {@code [N, 16]} tensor with one float out per row (the
 * bridge copies: a gather is a transpose).
 *
 * <pre>java --add-opens=java.base/java.nio=ALL-UNNAMED -cp ... dev.nnvm.benchmarks.bridge.BridgeThroughput [ROWS=4096] [BATCHES=100] [RUNS=5]</pre>
 */
public final class BridgeThroughput {
  private static final int DIM = 384;
  private static final int FEATURES = 16;

  private BridgeThroughput() {}

  /** One way of moving a batch in and out: runs it once, returns a checksum so the work is not optimized away. */
  private interface Path {
    double run(VectorSchemaRoot batch);
  }

  private static TensorSpec spec(String name, String shape) {
    return new TensorSpec(name, DType.FLOAT32, Shape.parse(shape));
  }

  public static void main(String[] args) {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
    int batches = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    System.out.printf(Locale.ROOT, "rows per batch %d, batches per run %d, runs %d, Java %s, %d CPUs%n", rows, batches,
        runs, System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
    try (BufferAllocator root = new RootAllocator()) {
      SchemaMapping embedding = SchemaMapping.builder(List.of(spec("x", "[N, " + DIM + "]")),
          List.of(spec("y", "[N, " + DIM + "]"))).build();
      List<String> names = new ArrayList<>();
      for (int j = 0; j < FEATURES; j++) {
        names.add("f" + j);
      }
      SchemaMapping gathered = SchemaMapping.builder(List.of(spec("features", "[N, " + FEATURES + "]")),
          List.of(spec("score", "[N]"))).layout("features", new InputLayout.Gather(names)).build();
      try (ArrowBridge e = ArrowBridge.open(embedding, NullPolicy.NULL_OUTPUT, root, "bench/embedding");
           ArrowBridge g = ArrowBridge.open(gathered, NullPolicy.NULL_OUTPUT, root, "bench/gathered");
           VectorSchemaRoot vectors = embeddingBatch(root, rows);
           VectorSchemaRoot scalars = scalarBatch(root, rows, names)) {
        report("FixedSizeList<float>[384] in and out", rows, batches, runs, vectors, List.of(
            new Named("bridge", b -> throughBridge(e, b)),
            new Named("copy loop", b -> embeddingCopyLoop(root, b)),
            new Named("memcpy", b -> embeddingMemcpy(root, b))));
        report(FEATURES + " float columns gathered to [N, 16], one float out", rows, batches, runs, scalars, List.of(
            new Named("bridge", b -> throughBridge(g, b)),
            new Named("copy loop", b -> gatherCopyLoop(root, b)),
            new Named("memcpy", b -> gatherMemcpy(root, b))));
      }
    }
  }

  private record Named(String name, Path path) {}

  private static void report(String what, int rows, int batches, int runs, VectorSchemaRoot batch, List<Named> paths) {
    System.out.println(what + ":");
    for (Named p : paths) {
      double sink = 0;
      for (int i = 0; i < batches; i++) {
        sink += p.path.run(batch);
      }
      double[] rowsPerSecond = new double[runs];
      for (int r = 0; r < runs; r++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < batches; i++) {
          sink += p.path.run(batch);
        }
        rowsPerSecond[r] = (double) rows * batches / ((System.nanoTime() - t0) / 1e9);
      }
      Samples s = Samples.of(rowsPerSecond);
      System.out.printf(Locale.ROOT, "  %-9s median %,14.0f rows/s  (min %,.0f, max %,.0f; %.1f GB/s of column bytes in + out)"
          + "  [checksum %.0f]%n", p.name, s.median(), s.min(), s.max(),
          s.median() * bytesPerRow(what) / 1e9, sink);
    }
  }

  private static double bytesPerRow(String what) {
    return what.startsWith("FixedSizeList") ? 2.0 * DIM * 4 : (FEATURES + 1) * 4.0;
  }

  private static double throughBridge(ArrowBridge bridge, VectorSchemaRoot batch) {
    try (BoundBatch b = bridge.bind(batch);
         VectorSchemaRoot out = b.finish()) {
      return out.getRowCount();
    }
  }

  private static double embeddingCopyLoop(BufferAllocator allocator, VectorSchemaRoot batch) {
    int rows = batch.getRowCount();
    Float4Vector in = (Float4Vector) ((FixedSizeListVector) batch.getVector("x")).getDataVector();
    try (ArrowBuf tensor = allocator.buffer((long) rows * DIM * 4);
         FixedSizeListVector out = (FixedSizeListVector) ArrowTypes.field("y",
             new ColumnType(DType.FLOAT32, Shape.of(DIM))).createVector(allocator)) {
      for (int i = 0; i < rows * DIM; i++) {
        tensor.setFloat(i * 4L, in.get(i));
      }
      out.setInitialCapacity(rows);
      out.allocateNew();
      Float4Vector values = (Float4Vector) out.getDataVector();
      for (int r = 0; r < rows; r++) {
        out.setNotNull(r);
        for (int k = 0; k < DIM; k++) {
          values.set(r * DIM + k, tensor.getFloat((r * DIM + k) * 4L));
        }
      }
      out.setValueCount(rows);
      return values.get(rows * DIM - 1);
    }
  }

  private static double embeddingMemcpy(BufferAllocator allocator, VectorSchemaRoot batch) {
    int rows = batch.getRowCount();
    Float4Vector in = (Float4Vector) ((FixedSizeListVector) batch.getVector("x")).getDataVector();
    long bytes = (long) rows * DIM * 4;
    try (ArrowBuf tensor = allocator.buffer(bytes);
         FixedSizeListVector out = (FixedSizeListVector) ArrowTypes.field("y",
             new ColumnType(DType.FLOAT32, Shape.of(DIM))).createVector(allocator)) {
      MemoryUtil.copyMemory(in.getDataBufferAddress(), tensor.memoryAddress(), bytes);
      out.setInitialCapacity(rows);
      out.allocateNew();
      Float4Vector values = (Float4Vector) out.getDataVector();
      MemoryUtil.copyMemory(tensor.memoryAddress(), values.getDataBufferAddress(), bytes);
      for (int r = 0; r < rows; r++) {
        out.setNotNull(r);
      }
      for (int i = 0; i < rows * DIM; i++) {
        values.setIndexDefined(i);
      }
      out.setValueCount(rows);
      return values.get(rows * DIM - 1);
    }
  }

  private static double gatherCopyLoop(BufferAllocator allocator, VectorSchemaRoot batch) {
    int rows = batch.getRowCount();
    try (ArrowBuf tensor = allocator.buffer((long) rows * FEATURES * 4);
         Float4Vector out = new Float4Vector("score", allocator)) {
      for (int j = 0; j < FEATURES; j++) {
        Float4Vector column = (Float4Vector) batch.getFieldVectors().get(j);
        for (int r = 0; r < rows; r++) {
          tensor.setFloat(((long) r * FEATURES + j) * 4, column.get(r));
        }
      }
      out.allocateNew(rows);
      for (int r = 0; r < rows; r++) {
        out.set(r, tensor.getFloat((long) r * FEATURES * 4));
      }
      out.setValueCount(rows);
      return out.get(rows - 1);
    }
  }

  private static double gatherMemcpy(BufferAllocator allocator, VectorSchemaRoot batch) {
    int rows = batch.getRowCount();
    try (ArrowBuf tensor = allocator.buffer((long) rows * FEATURES * 4);
         Float4Vector out = new Float4Vector("score", allocator)) {
      for (int j = 0; j < FEATURES; j++) {
        MemoryUtil.copyMemory(batch.getFieldVectors().get(j).getDataBufferAddress(),
            tensor.memoryAddress() + (long) j * rows * 4, (long) rows * 4);
      }
      out.allocateNew(rows);
      MemoryUtil.copyMemory(tensor.memoryAddress(), out.getDataBufferAddress(), (long) rows * 4);
      for (int r = 0; r < rows; r++) {
        out.setIndexDefined(r);
      }
      out.setValueCount(rows);
      return out.get(rows - 1);
    }
  }

  private static VectorSchemaRoot embeddingBatch(BufferAllocator allocator, int rows) {
    FixedSizeListVector x = (FixedSizeListVector) ArrowTypes.field("x", new ColumnType(DType.FLOAT32,
        Shape.of(DIM))).createVector(allocator);
    x.setInitialCapacity(rows);
    x.allocateNew();
    Float4Vector values = (Float4Vector) x.getDataVector();
    for (int r = 0; r < rows; r++) {
      x.setNotNull(r);
      for (int k = 0; k < DIM; k++) {
        values.set(r * DIM + k, (r * 31 + k) % 1000 * 0.001f);
      }
    }
    VectorSchemaRoot root = new VectorSchemaRoot(List.<FieldVector>of(x));
    root.setRowCount(rows);
    return root;
  }

  private static VectorSchemaRoot scalarBatch(BufferAllocator allocator, int rows, List<String> names) {
    List<FieldVector> columns = new ArrayList<>();
    for (int j = 0; j < names.size(); j++) {
      Float4Vector c = new Float4Vector(names.get(j), allocator);
      c.allocateNew(rows);
      for (int r = 0; r < rows; r++) {
        c.set(r, r * 0.5f + j);
      }
      columns.add(c);
    }
    VectorSchemaRoot root = new VectorSchemaRoot(columns);
    root.setRowCount(rows);
    return root;
  }
}
