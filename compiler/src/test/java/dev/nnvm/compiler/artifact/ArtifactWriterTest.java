package dev.nnvm.compiler.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.HalfFloats;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactFormat;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.Sha256;
import dev.nnvm.runtime.artifact.WeightsTable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactWriterTest {
  private static final Instant WHEN = Instant.parse("2026-11-25T23:00:00Z");
  private static final List<String> V3 = List.of("+avx", "+avx2", "+bmi", "+bmi2", "+f16c", "+fma", "+lzcnt",
      "+movbe", "+sse4.2");
  private static final List<String> V4 = List.of("+avx2", "+fma", "+avx512f", "+avx512bw", "+avx512dq",
      "+avx512vl", "+avx512cd");
  private static final float[] W = {1f, -2f, 3.5f, 0.25f, -0f, 1e-3f};
  private static final long[] IDS = {7, -1, 1L << 40};
  private static final float[] H = {1f, 0.5f, -65504f};

  @TempDir
  Path dir;

  private static ByteBuffer floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putFloat(f);
    }
    return b.flip();
  }

  private static ByteBuffer longs(long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return b.flip();
  }

  private static ByteBuffer halves(float... v) {
    ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      b.putShort(HalfFloats.floatToHalf(f));
    }
    return b.flip();
  }

  private static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
  }

  private static ArtifactWriter.Builder sample(Instant when) {
    return ArtifactWriter.builder()
        .compiler("0.1.0-test")
        .created(when, "ArtifactWriterTest")
        .option("opt-level", "3")
        .option("target", "llvm")
        .model("tiny", Sha256.of("tiny model file".getBytes(StandardCharsets.US_ASCII)))
        .symbols("batch", "seq")
        .input(new TensorSpec("ids", DType.INT64, Shape.parse("[batch, seq]")))
        .output(new TensorSpec("out", DType.FLOAT32, Shape.parse("[batch, seq, 6]")))
        .workspaceRegion(9280, Map.of("batch", 1, "seq", 1))
        .workspaceRegion(4096, Map.of())
        .constant("w", DType.FLOAT32, Shape.of(2, 3), floats(W))
        .constant("ids", DType.INT64, Shape.of(3), longs(IDS))
        .constant("h", DType.FLOAT16, Shape.of(3), halves(H))
        .variant("x86-64-v4", "x86_64-unknown-linux-gnu", "x86-64-v4", V4, "nnvm_run", ascii("ELF v4 code"))
        .variant("x86-64-v3", "x86_64-unknown-linux-gnu", "x86-64-v3", V3, "nnvm_run", ascii("ELF v3 code"))
        .part("ptx/model.ptx", ascii(".version 8.0\n"));
  }

  private static String text(ByteBuffer b) {
    return StandardCharsets.US_ASCII.decode(b).toString();
  }

  @Test
  void roundTripThroughTheRuntimeReader() throws IOException {
    ArtifactWriter w = sample(WHEN).build();
    byte[] bytes = w.toBytes();
    assertEquals(w.byteSize(), bytes.length);
    ModelArtifact a = ArtifactReader.read(bytes);
    Manifest m = a.manifest();
    assertEquals(w.manifest(), m);
    assertEquals("0.1.0-test", m.compilerVersion());
    assertEquals(WHEN, m.created().at());
    assertEquals(Map.of("opt-level", "3", "target", "llvm"), m.created().options());
    assertEquals(List.of("batch", "seq"), m.symbols());
    assertEquals("[ids: i64[batch, seq]]", m.inputs().toString());
    assertEquals("[9280*batch*seq, 4096]", m.workspace().toString());
    assertEquals(List.of("native/x86-64-v3.so", "native/x86-64-v4.so", "ptx/model.ptx", "weights"),
        m.parts().stream().map(Manifest.Part::name).toList());
    assertEquals(List.of("ptx/model.ptx"), m.extraParts().stream().map(Manifest.Part::name).toList());

    List<WeightsTable.Constant> constants = m.weights().constants();
    assertEquals(List.of(0L, 64L, 128L), constants.stream().map(WeightsTable.Constant::offset).toList());
    assertEquals(128 + 6, m.weights().size());
    ByteBuffer wv = a.constant("w");
    for (int i = 0; i < W.length; i++) {
      assertEquals(Float.floatToRawIntBits(W[i]), Float.floatToRawIntBits(wv.getFloat(4 * i)), "w[" + i + "]");
    }
    ByteBuffer iv = a.constant("ids");
    for (int i = 0; i < IDS.length; i++) {
      assertEquals(IDS[i], iv.getLong(8 * i));
    }
    ByteBuffer hv = a.constant("h");
    for (int i = 0; i < H.length; i++) {
      assertEquals(H[i], HalfFloats.halfToFloat(hv.getShort(2 * i)));
    }
    ByteBuffer weights = a.weights();
    for (int i = 24; i < 64; i++) {
      assertEquals(0, weights.get(i), "padding byte " + i);
    }

    assertEquals(List.of("avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", "sse4.2"),
        m.variants().get(1).features());
    assertEquals("ELF v3 code", text(a.library(m.variants().get(1))));
    assertEquals("ELF v4 code", text(a.library(m.variants().get(0))));
    assertEquals(".version 8.0\n", text(a.part("ptx/model.ptx")));
    assertEquals("x86-64-v3", a.selectVariant(CpuFeatures.of("x86_64", "linux",
        List.of("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "sse4_2"))).name());
  }

  @Test
  void fileStreamAndBytesAreTheSameBytes() throws IOException {
    ArtifactWriter w = sample(WHEN).build();
    Path file = dir.resolve("model.nnvm");
    w.writeTo(file);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    w.writeTo(out);
    assertArrayEquals(w.toBytes(), Files.readAllBytes(file));
    assertArrayEquals(w.toBytes(), out.toByteArray());
    assertEquals(w.manifest(), ArtifactReader.read(file).manifest());
  }

  @Test
  void equalContentGivesEqualBytes() throws ArtifactException {
    byte[] first = sample(WHEN).build().toBytes();
    byte[] second = sample(WHEN).build().toBytes();
    assertArrayEquals(first, second);
    byte[] otherOrder = sample(WHEN).part("a/extra", ascii("x")).part("README", ascii("y")).build().toBytes();
    byte[] sameOtherOrder = sample(WHEN).part("README", ascii("y")).part("a/extra", ascii("x")).build().toBytes();
    assertArrayEquals(otherOrder, sameOtherOrder);
    byte[] later = sample(WHEN.plusSeconds(1)).build().toBytes();
    assertFalse(java.util.Arrays.equals(first, later));
    assertEquals(ArtifactReader.read(first).id(), ArtifactReader.read(second).id());
    assertNotEquals(ArtifactReader.read(first).id(), ArtifactReader.read(later).id());
  }

  @Test
  void aCorruptedWrittenArtifactIsRejectedNamingThePart() {
    ArtifactWriter w = sample(WHEN).build();
    byte[] good = w.toBytes();
    long dataStart = ArtifactFormat.dataStart(ByteBuffer.wrap(good).getInt(12));
    for (Manifest.Part p : w.manifest().parts()) {
      byte[] bad = good.clone();
      bad[(int) (dataStart + p.offset() + p.size() / 2)] ^= 1;
      ArtifactException e = assertThrows(ArtifactException.class, () -> ArtifactReader.read(bad));
      assertTrue(e.getMessage().startsWith("part '" + p.name() + "' is corrupted: its SHA-256 is "), e.getMessage());
    }
  }

  @Test
  void mistakesAreClearErrors() {
    assertEquals("artifact builder: call compiler(version) before build()",
        assertThrows(IllegalStateException.class, () -> ArtifactWriter.builder().build()).getMessage());
    assertEquals("constant 'w' f32[2, 2] needs 16 bytes, got 24", assertThrows(IllegalArgumentException.class,
        () -> sample(WHEN).constant("w", DType.FLOAT32, Shape.of(2, 2), floats(W))).getMessage());
    assertEquals("constant 'c' needs a static shape, got [batch, 3]", assertThrows(IllegalArgumentException.class,
        () -> sample(WHEN).constant("c", DType.FLOAT32, Shape.parse("[batch, 3]"), floats(W))).getMessage());
    assertEquals("cannot build the artifact of model 'tiny': a shape of unknown rank cannot go into an artifact",
        assertThrows(IllegalStateException.class, () -> sample(WHEN)
            .output(new TensorSpec("y", DType.FLOAT32, Shape.unknownRank())).build()).getMessage());
    assertEquals("part 'weights' is added twice", assertThrows(IllegalStateException.class,
        () -> sample(WHEN).part("weights", ascii("x")).build()).getMessage());
    assertEquals("cannot build the artifact of model 'tiny': manifest: inputs[1].shape[0] 'N' is not a declared"
        + " symbol [batch, seq]", assertThrows(IllegalStateException.class, () -> sample(WHEN)
            .input(new TensorSpec("x", DType.FLOAT32, Shape.parse("[N, 3]"))).build()).getMessage());
    assertEquals("cannot build the artifact of model 'tiny': manifest: weights.constants[3].name constant 'w' is"
        + " listed twice", assertThrows(IllegalStateException.class, () -> sample(WHEN)
            .constant("w", DType.FLOAT32, Shape.of(1), floats(1f)).build()).getMessage());
    assertEquals("cannot build the artifact of model 'm': manifest: model.sha256 must be 64 lowercase hex digits,"
        + " got 'abc'", assertThrows(IllegalStateException.class, () -> sample(WHEN).model("m", "abc").build())
            .getMessage());
    assertEquals("cannot build the artifact of model 'tiny': shape [batch, ?] has an unknown dimension; an"
        + " artifact's dimensions are numbers or declared symbols", assertThrows(IllegalStateException.class,
            () -> sample(WHEN).output(new TensorSpec("y", DType.FLOAT32, Shape.parse("[batch, ?]"))).build())
            .getMessage());
    assertEquals("cannot build the artifact of model 'tiny': manifest: parts[0].name 'native/x86 64.so' is not a"
        + " part name (letters, digits, '.', '_', '/', '-')", assertThrows(IllegalStateException.class,
            () -> sample(WHEN).variant("x86 64", "x86_64-unknown-linux-gnu", "x86-64", List.of(), "run",
                ascii("")).build()).getMessage());
  }

  @Test
  void largeWeightsAreStreamedNotCopied(@TempDir Path tmp) throws IOException {
    Assumptions.assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
        "this JVM has no per-thread allocation counter");
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    int n = 25 << 20;
    ByteBuffer big = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      big.putFloat(4 * i, i % 977);
    }
    sample(WHEN).build();
    long before = threads.getCurrentThreadAllocatedBytes();
    long t0 = System.nanoTime();
    ArtifactWriter w = sample(WHEN).constant("big", DType.FLOAT32, Shape.of(n), big).build();
    long buildMs = (System.nanoTime() - t0) / 1_000_000;
    long buildAlloc = threads.getCurrentThreadAllocatedBytes() - before;
    Path file = tmp.resolve("big.nnvm");
    before = threads.getCurrentThreadAllocatedBytes();
    t0 = System.nanoTime();
    w.writeTo(file);
    long writeMs = (System.nanoTime() - t0) / 1_000_000;
    long writeAlloc = threads.getCurrentThreadAllocatedBytes() - before;
    System.out.printf("100 MiB constant: build (hashing) %d ms allocating %.2f MiB; write to file %d ms"
        + " allocating %.2f MiB; artifact %d bytes%n", buildMs, buildAlloc / 1048576.0, writeMs,
        writeAlloc / 1048576.0, Files.size(file));
    assertTrue(buildAlloc < 4 << 20, "build allocated " + buildAlloc);
    assertTrue(writeAlloc < 4 << 20, "write allocated " + writeAlloc);
    ByteBuffer read = ArtifactReader.read(file).constant("big");
    assertEquals(4L * n, read.remaining());
    assertEquals(976f, read.getFloat(4 * 976));
    assertEquals((n - 1) % 977, read.getFloat(4 * (n - 1)));
  }
}
