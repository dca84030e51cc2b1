package dev.nnvm.runtime.artifact;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;

/**
 * The layout of a compiled model file ({@code model.nnvm}), format version 1.
 *
 * <p>One self-contained file that Spark and Flink broadcast as bytes: a fixed
 * header, a JSON manifest, and named binary parts. Integers in the header are
 * unsigned big-endian.
 *
 * <pre>
 * offset   size  field
 * 0        8     magic 89 4E 4E 56 4D 0D 0A 1A  ("\x89NNVM\r\n\x1A": the high bit catches
 *                7-bit transfers, CR LF catches line-ending conversion, as in PNG)
 * 8        4     format version, 1
 * 12       4     manifest length M in bytes (at most {@value #MAX_MANIFEST_BYTES})
 * 16       32    SHA-256 of the M manifest bytes
 * 48       M     manifest, UTF-8 JSON (see {@link ManifestJson})
 * 48+M     ..    zero bytes up to D, the next multiple of 64
 * D        ..    the parts, in manifest order
 * </pre>
 *
 * <p>Part {@code i} occupies {@code [D + offset_i, D + offset_i + size_i)}.
 * The first part's offset is 0 and every other part starts at the previous
 * part's end rounded up to 64; the gaps are zero bytes and the file ends
 * right after the last part (no trailing bytes). Every part thus starts at a
 * 64-byte aligned file offset, so a mapped or copied weights blob keeps its
 * constants aligned.
 *
 * <p>The manifest holds the size and SHA-256 of every part, and the header
 * holds the SHA-256 of the manifest, so the manifest hash identifies the
 * whole content ({@link ModelArtifact#id()}). The hashes detect accidental
 * corruption; they are not a signature. Readers ignore manifest fields they
 * do not know; a change that an older reader cannot safely ignore raises
 * {@link #VERSION}.
 */
public final class ArtifactFormat {
  /** The first eight bytes of every artifact. */
  private static final byte[] MAGIC = {(byte) 0x89, 'N', 'N', 'V', 'M', '\r', '\n', 0x1A};
  /** The format version this code writes and the newest it reads. */
  public static final int VERSION = 1;
  /** Bytes before the manifest: magic, version, manifest length, manifest hash. */
  public static final int HEADER_BYTES = 48;
  /** Alignment of the data section, of every part and of the weights' constants. */
  public static final int ALIGNMENT = 64;
  /** The largest manifest a reader accepts (a header claiming more is corrupted). */
  public static final int MAX_MANIFEST_BYTES = 16 << 20;
  /** The largest part this runtime reads: parts live in Java arrays and buffers. */
  public static final long MAX_PART_BYTES = Integer.MAX_VALUE - 8;

  private ArtifactFormat() {
  }

  /** A copy of the magic bytes. */
  public static byte[] magic() {
    return MAGIC.clone();
  }

  /** {@code n} rounded up to the next multiple of {@link #ALIGNMENT}. */
  public static long align(long n) {
    return Math.addExact(n, ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }

  /** Where the data section starts for a manifest of {@code manifestBytes} bytes. */
  public static long dataStart(int manifestBytes) {
    return align(HEADER_BYTES + (long) manifestBytes);
  }

  /** The total file size for a manifest and parts laid out as above. */
  public static long fileSize(int manifestBytes, List<PartBytes> parts) {
    long at = 0;
    for (int i = 0; i < parts.size(); i++) {
      at = (i == 0 ? 0 : align(at)) + parts.get(i).size();
    }
    return dataStart(manifestBytes) + at;
  }

  /**
   * Writes header, manifest and parts. The caller's manifest must list the
   * parts in this order with the offsets, sizes and hashes of the layout above
   * (the compiler's artifact writer makes sure of it; readers check it).
   */
  public static void write(OutputStream out, byte[] manifest, List<PartBytes> parts) throws IOException {
    if (manifest.length > MAX_MANIFEST_BYTES) {
      throw new IllegalArgumentException(
          "manifest is " + manifest.length + " bytes, more than the limit of " + MAX_MANIFEST_BYTES);
    }
    DataOutputStream data = new DataOutputStream(out);
    data.write(MAGIC);
    data.writeInt(VERSION);
    data.writeInt(manifest.length);
    data.write(Sha256.newDigest().digest(manifest));
    data.write(manifest);
    byte[] zeros = new byte[ALIGNMENT];
    long at = HEADER_BYTES + (long) manifest.length;
    for (PartBytes part : parts) {
      long pad = align(at) - at;
      data.write(zeros, 0, (int) pad);
      part.writeTo(data);
      at += pad + part.size();
    }
    if (parts.isEmpty()) {
      data.write(zeros, 0, (int) (align(at) - at));
    }
    data.flush();
  }
}
