package dev.nnvm.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactReaderTest {
  private static final byte[] SAMPLE = SampleArtifact.bytes();

  @TempDir
  Path dir;

  private static byte[] bytesOf(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static void assertSample(ModelArtifact a) {
    Map<String, byte[]> parts = SampleArtifact.parts();
    assertEquals(SampleArtifact.manifest(parts), a.manifest());
    for (Map.Entry<String, byte[]> e : parts.entrySet()) {
      assertArrayEquals(e.getValue(), bytesOf(a.part(e.getKey())), e.getKey());
    }
    assertEquals(SAMPLE.length, a.byteSize());
    int manifestLength = ByteBuffer.wrap(SAMPLE).getInt(12);
    assertEquals(Sha256.of(Arrays.copyOfRange(SAMPLE, 48, 48 + manifestLength)), a.id());
    ByteBuffer w = a.constant("w");
    assertEquals(ByteOrder.LITTLE_ENDIAN, w.order());
    for (int i = 0; i < SampleArtifact.W.length; i++) {
      assertEquals(SampleArtifact.W[i], w.getFloat(4 * i));
    }
    ByteBuffer b = a.constant("b");
    assertEquals(40, b.remaining());
    for (int i = 0; i < SampleArtifact.B.length; i++) {
      assertEquals(SampleArtifact.B[i], b.getLong(8 * i));
    }
    assertEquals(List.of("ptx/model.ptx"), a.manifest().extraParts().stream().map(Manifest.Part::name).toList());
    NativeVariant v3 = a.manifest().variants().get(1);
    assertArrayEquals(parts.get("native/x86-64-v3.so"), bytesOf(a.library(v3)));
  }

  @Test
  void roundTripFromBytesStreamAndFile() throws IOException {
    assertSample(ArtifactReader.read(SAMPLE));
    assertSample(ArtifactReader.read(new ByteArrayInputStream(SAMPLE)));
    Path file = dir.resolve("model.nnvm");
    Files.write(file, SAMPLE);
    assertSample(ArtifactReader.read(file));
  }

  @Test
  void layoutMatchesTheDocumentedFormat() {
    ByteBuffer b = ByteBuffer.wrap(SAMPLE);
    assertArrayEquals(new byte[] {(byte) 0x89, 'N', 'N', 'V', 'M', '\r', '\n', 0x1A}, Arrays.copyOf(SAMPLE, 8));
    assertEquals(1, b.getInt(8));
    int m = b.getInt(12);
    long dataStart = ArtifactFormat.dataStart(m);
    assertEquals(0, dataStart % 64);
    Map<String, byte[]> parts = SampleArtifact.parts();
    for (Manifest.Part p : SampleArtifact.partTable(parts)) {
      assertEquals(0, (dataStart + p.offset()) % 64, p.name());
      assertArrayEquals(parts.get(p.name()), Arrays.copyOfRange(SAMPLE, (int) (dataStart + p.offset()),
          (int) (dataStart + p.offset() + p.size())), p.name());
    }
  }

  @Test
  void partsAreReadOnlyViewsAndTheArtifactCannotBeChangedThroughThem() throws ArtifactException {
    ModelArtifact a = ArtifactReader.read(SAMPLE);
    ByteBuffer w = a.weights();
    assertTrue(w.isReadOnly());
    w.position(10);
    assertEquals(0, a.weights().position());
    assertThrows(java.nio.ReadOnlyBufferException.class, () -> w.put(0, (byte) 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.part("nope"));
    assertEquals("artifact has no part 'nope'; its parts are [native/x86-64-v3.so, native/x86-64-v4.so,"
        + " ptx/model.ptx, weights]", e.getMessage());
  }

  /** Which region of the sample file a byte offset falls in, and what the reader must say about it. */
  private static String expectedComplaint(int offset) {
    int m = ByteBuffer.wrap(SAMPLE).getInt(12);
    long dataStart = ArtifactFormat.dataStart(m);
    if (offset < 8) {
      return "not an NNVM artifact";
    }
    if (offset < 16) {
      return null;
    }
    if (offset < 48 + m) {
      return "manifest is corrupted";
    }
    for (Manifest.Part p : SampleArtifact.partTable(SampleArtifact.parts())) {
      long start = dataStart + p.offset();
      if (offset >= start && offset < start + p.size()) {
        return "part '" + p.name() + "' is corrupted";
      }
    }
    return "nonzero byte";
  }

  @Test
  void everyFlippedByteIsRejectedWithTheRegionNamed() {
    int checked = 0;
    for (int i = 0; i < SAMPLE.length; i++) {
      byte[] bad = SAMPLE.clone();
      bad[i] ^= 0x20;
      ArtifactException e = assertThrows(ArtifactException.class, () -> ArtifactReader.read(bad), "byte " + i);
      String expected = expectedComplaint(i);
      if (expected != null) {
        assertTrue(e.getMessage().contains(expected), "byte " + i + ": " + e.getMessage());
      }
      ArtifactException fromStream = assertThrows(ArtifactException.class,
          () -> ArtifactReader.read(new ByteArrayInputStream(bad)), "byte " + i);
      assertEquals(e.getMessage(), fromStream.getMessage());
      checked++;
    }
    assertEquals(SAMPLE.length, checked);
  }

  @Test
  void headerFieldsFlippedSayWhatIsWrong() {
    byte[] version = SAMPLE.clone();
    version[11] = 2;
    assertEquals("artifact format 2 is newer than this runtime (1); recompile or upgrade",
        assertThrows(ArtifactException.class, () -> ArtifactReader.read(version)).getMessage());
    version[11] = 0;
    assertEquals("artifact format 0 is not a format version (corrupted header)",
        assertThrows(ArtifactException.class, () -> ArtifactReader.read(version)).getMessage());
    byte[] huge = SAMPLE.clone();
    huge[12] = 0x7F;
    assertTrue(assertThrows(ArtifactException.class, () -> ArtifactReader.read(huge)).getMessage()
        .contains("more than the limit of 16777216 (corrupted header)"));
    byte[] longer = SAMPLE.clone();
    longer[15] += 1;
    assertTrue(assertThrows(ArtifactException.class, () -> ArtifactReader.read(longer)).getMessage()
        .startsWith("manifest is corrupted: its SHA-256 is"));
  }

  @Test
  void everyTruncationIsRejectedAsTruncated() throws IOException {
    for (int n = 0; n < SAMPLE.length; n++) {
      byte[] cut = Arrays.copyOf(SAMPLE, n);
      ArtifactException e = assertThrows(ArtifactException.class, () -> ArtifactReader.read(cut), "length " + n);
      assertTrue(e.getMessage().startsWith("artifact is truncated: "), "length " + n + ": " + e.getMessage());
      ArtifactException s = assertThrows(ArtifactException.class,
          () -> ArtifactReader.read(new ByteArrayInputStream(cut)), "length " + n);
      assertTrue(s.getMessage().startsWith("artifact is truncated: "), "length " + n + ": " + s.getMessage());
    }
    assertEquals("artifact is truncated: it has 0 bytes, the header alone is 48",
        assertThrows(ArtifactException.class, () -> ArtifactReader.read(new byte[0])).getMessage());
    Path file = dir.resolve("cut.nnvm");
    Files.write(file, Arrays.copyOf(SAMPLE, SAMPLE.length - 10));
    ArtifactException e = assertThrows(ArtifactException.class, () -> ArtifactReader.read(file));
    assertTrue(e.getMessage().startsWith(file + ": artifact is truncated: part 'weights' needs bytes "),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("the artifact ends at " + (SAMPLE.length - 10)), e.getMessage());
  }

  @Test
  void trailingBytesAreRejected() {
    byte[] longer = Arrays.copyOf(SAMPLE, SAMPLE.length + 3);
    assertEquals("artifact is corrupted: 3 bytes follow the last part, which should end the artifact at "
        + SAMPLE.length, assertThrows(ArtifactException.class, () -> ArtifactReader.read(longer)).getMessage());
    assertTrue(assertThrows(ArtifactException.class, () -> ArtifactReader.read(new ByteArrayInputStream(longer)))
        .getMessage().startsWith("artifact is corrupted: bytes follow the last part"));
  }

  @Test
  void wrongMagicSaysWhatTheBytesAre() {
    byte[] onnx = {0x08, 0x07, 0x12, 0x07, 'p', 'y', 't', 'o', 'r', 'c', 'h'};
    assertEquals("not an NNVM artifact: it starts with 08 07 12 07 70 79 74 6F, an artifact starts with"
        + " 89 4E 4E 56 4D 0D 0A 1A",
        assertThrows(ArtifactException.class, () -> ArtifactReader.read(onnx)).getMessage());
    byte[] zip = {'P', 'K', 3, 4};
    assertTrue(assertThrows(ArtifactException.class, () -> ArtifactReader.read(zip)).getMessage()
        .startsWith("not an NNVM artifact: it starts with 50 4B 03 04,"));
    byte[] textMode = SAMPLE.clone();
    textMode[5] = '\n';
    assertTrue(assertThrows(ArtifactException.class, () -> ArtifactReader.read(textMode)).getMessage()
        .startsWith("not an NNVM artifact"));
  }

  @Test
  void anArtifactWithoutPartsOrVariantsIsValid() throws ArtifactException {
    Map<String, byte[]> parts = Map.of("weights", new byte[0]);
    Manifest m = SampleArtifact.manifest(SampleArtifact.parts());
    Manifest bare = new Manifest(1, m.compilerVersion(), m.created(), m.model(), m.symbols(), m.inputs(),
        m.outputs(), m.workspace(), new WeightsTable("weights", 0, 64, List.of()), List.of(),
        SampleArtifact.partTable(parts));
    ModelArtifact a = ArtifactReader.read(SampleArtifact.encode(ManifestJson.write(bare), parts));
    assertEquals(bare, a.manifest());
    assertEquals(0, a.weights().remaining());
    assertEquals(0, a.byteSize() % 64);
  }
}
