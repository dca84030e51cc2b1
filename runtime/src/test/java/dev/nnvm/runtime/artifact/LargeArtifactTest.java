package dev.nnvm.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 100 MiB weights blob goes through the writer and every reader while the
 * heap holds it once: what each step allocates is measured with the JVM's
 * per-thread allocation counter (exact, unlike heap snapshots), and the
 * heap's peak is printed.
 */
class LargeArtifactTest {
  private static final int FLOATS = 25 << 20;
  private static final long MIB = 1 << 20;

  @TempDir
  Path dir;

  private static long allocated() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  private static void resetHeapPeaks() {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  /** The sum of the heap pools' peaks since the reset: an upper bound of the heap's peak. */
  private static long heapPeaks() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  private static float valueAt(int i) {
    return (i % 1000) * 0.25f;
  }

  @Test
  void hundredMegabytesOfWeightsAreHeldOnce() throws IOException {
    Assumptions.assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
        "this JVM has no per-thread allocation counter");
    long weightBytes = 4L * FLOATS;
    Path file = dir.resolve("large.nnvm");
    writeArtifact(file);
    long fileSize = Files.size(file);

    resetHeapPeaks();
    long baseline = heapPeaks();
    long before = allocated();
    long t0 = System.nanoTime();
    ModelArtifact fromFile = ArtifactReader.read(file);
    long readMs = (System.nanoTime() - t0) / 1_000_000;
    long fileAlloc = allocated() - before;
    long peak = heapPeaks() - baseline;
    check(fromFile);
    fromFile = null;

    byte[] broadcast = Files.readAllBytes(file);
    before = allocated();
    t0 = System.nanoTime();
    ModelArtifact fromBytes = ArtifactReader.read(broadcast);
    long bytesMs = (System.nanoTime() - t0) / 1_000_000;
    long bytesAlloc = allocated() - before;
    check(fromBytes);

    long streamAlloc;
    long streamMs;
    try (InputStream in = Files.newInputStream(file)) {
      before = allocated();
      t0 = System.nanoTime();
      ModelArtifact fromStream = ArtifactReader.read(in);
      streamMs = (System.nanoTime() - t0) / 1_000_000;
      streamAlloc = allocated() - before;
      check(fromStream);
    }

    System.out.printf("artifact %d MiB (weights %d MiB): read from a file (first, cold) in %d ms allocating"
        + " %.1f MiB, heap peak rose by at most %.1f MiB; from bytes in %d ms allocating %.3f MiB; from a stream"
        + " in %d ms allocating %.1f MiB%n", fileSize / MIB, weightBytes / MIB, readMs, fileAlloc / (double) MIB,
        peak / (double) MIB, bytesMs, bytesAlloc / (double) MIB, streamMs, streamAlloc / (double) MIB);
    assertTrue(fileAlloc < weightBytes + 4 * MIB, "reading a file allocated " + fileAlloc + " bytes");
    assertTrue(streamAlloc < weightBytes + 4 * MIB, "reading a stream allocated " + streamAlloc + " bytes");
    assertTrue(bytesAlloc < MIB, "reading a byte array allocated " + bytesAlloc + " bytes");
  }

  private static void check(ModelArtifact a) {
    ByteBuffer w = a.constant("w");
    assertEquals(4L * FLOATS, w.remaining());
    for (int i = 0; i < FLOATS; i += 99_991) {
      assertEquals(valueAt(i), w.getFloat(4 * i), "element " + i);
    }
    assertEquals(valueAt(FLOATS - 1), w.getFloat(4 * (FLOATS - 1)));
  }

  /** Writes the artifact from a weights array that is dropped before anything is read back. */
  private static void writeArtifact(Path file) throws IOException {
    ByteBuffer weights = ByteBuffer.allocate(4 * FLOATS).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < FLOATS; i++) {
      weights.putFloat(4 * i, valueAt(i));
    }
    Map<String, byte[]> small = SampleArtifact.parts();
    Map<String, PartBytes> parts = new LinkedHashMap<>();
    parts.put("native/x86-64-v3.so", PartBytes.of(small.get("native/x86-64-v3.so")));
    parts.put("native/x86-64-v4.so", PartBytes.of(small.get("native/x86-64-v4.so")));
    parts.put("weights", PartBytes.of(weights));
    Manifest sample = SampleArtifact.manifest(small);
    Manifest m = new Manifest(1, sample.compilerVersion(), sample.created(), sample.model(), sample.symbols(),
        sample.inputs(), sample.outputs(), sample.workspace(), new WeightsTable("weights", 4L * FLOATS, 64,
            List.of(new WeightsTable.Constant("w", DType.FLOAT32, Shape.of(FLOATS), 0))), sample.variants(),
        SampleArtifact.layout(parts));
    byte[] json = ManifestJson.write(m);
    long before = allocated();
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      ArtifactFormat.write(out, json, List.copyOf(parts.values()));
    }
    long writeAlloc = allocated() - before;
    System.out.printf("writing the artifact allocated %.2f MiB%n", writeAlloc / (double) MIB);
    assertTrue(writeAlloc < 4 * MIB, "writing allocated " + writeAlloc + " bytes");
  }
}
