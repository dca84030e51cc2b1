package dev.nnvm.runtime.artifact;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and verifies an artifact ({@link ArtifactFormat}) from bytes, a
 * stream or a file, in one pass: magic, format version, manifest hash,
 * manifest consistency, then every part's size and SHA-256 as its bytes
 * arrive. Anything wrong is an {@link ArtifactException} that names the part
 * or field; nothing is allocated from a size before the manifest that
 * declares it has passed its hash check.
 *
 * <p>Memory: from a byte array the parts are views of that array (no copy;
 * the caller must not change the array afterwards); from a stream or a file
 * each part is read straight into its own array, so a model is held once.
 */
public final class ArtifactReader {
  private static final int CHUNK = 1 << 20;

  private ArtifactReader() {
  }

  /** Reads an artifact held in memory (a broadcast value); the artifact keeps views of the array. */
  public static ModelArtifact read(byte[] bytes) throws ArtifactException {
    try {
      return read(new ArraySource(bytes));
    } catch (ArtifactException e) {
      throw e;
    } catch (IOException e) {
      throw new IllegalStateException("reading a byte array cannot fail with " + e, e);
    }
  }

  /** Reads an artifact from a stream, to its end; the stream is not closed. */
  public static ModelArtifact read(InputStream in) throws IOException {
    return read(new StreamSource(in, -1));
  }

  /** Reads an artifact file; errors about its content name the file. */
  public static ModelArtifact read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return read(new StreamSource(in, Files.size(file)));
    } catch (ArtifactException e) {
      throw new ArtifactException(file + ": " + e.getMessage(), e);
    }
  }

  private static ModelArtifact read(Source src) throws IOException {
    ByteBuffer header = src.takeUpTo(ArtifactFormat.HEADER_BYTES);
    byte[] magic = ArtifactFormat.magic();
    for (int i = 0; i < Math.min(magic.length, header.remaining()); i++) {
      if (header.get(i) != magic[i]) {
        throw new ArtifactException("not an NNVM artifact: it starts with " + hex(header, magic.length)
            + ", an artifact starts with " + hex(ByteBuffer.wrap(magic), magic.length));
      }
    }
    if (header.remaining() < ArtifactFormat.HEADER_BYTES) {
      throw new ArtifactException("artifact is truncated: it has " + header.remaining()
          + " bytes, the header alone is " + ArtifactFormat.HEADER_BYTES);
    }
    long version = Integer.toUnsignedLong(header.getInt(8));
    if (version == 0) {
      throw new ArtifactException("artifact format 0 is not a format version (corrupted header)");
    }
    if (version > ArtifactFormat.VERSION) {
      throw new ArtifactException("artifact format " + version + " is newer than this runtime ("
          + ArtifactFormat.VERSION + "); recompile or upgrade");
    }
    long manifestLength = Integer.toUnsignedLong(header.getInt(12));
    if (manifestLength > ArtifactFormat.MAX_MANIFEST_BYTES) {
      throw new ArtifactException("artifact header declares a " + manifestLength
          + "-byte manifest, more than the limit of " + ArtifactFormat.MAX_MANIFEST_BYTES + " (corrupted header)");
    }
    byte[] declaredHash = new byte[32];
    header.get(16, declaredHash);

    MessageDigest md = Sha256.newDigest();
    ByteBuffer manifestBytes = src.take((int) manifestLength, md, "the manifest");
    byte[] actualHash = md.digest();
    if (!Arrays.equals(declaredHash, actualHash)) {
      throw new ArtifactException("manifest is corrupted: its SHA-256 is " + Sha256.toHex(actualHash)
          + ", the header says " + Sha256.toHex(declaredHash));
    }
    byte[] json = new byte[manifestBytes.remaining()];
    manifestBytes.get(json);
    Manifest manifest = ManifestJson.read(json);

    long dataStart = ArtifactFormat.dataStart((int) manifestLength);
    src.padding(dataStart - src.position(), "padding after the manifest");
    Map<String, ByteBuffer> parts = new LinkedHashMap<>();
    for (Manifest.Part p : manifest.parts()) {
      String what = "part '" + p.name() + "'";
      src.padding(dataStart + p.offset() - src.position(), "padding before " + what);
      MessageDigest partDigest = Sha256.newDigest();
      ByteBuffer data = src.take((int) p.size(), partDigest, what);
      String hash = Sha256.toHex(partDigest.digest());
      if (!hash.equals(p.sha256())) {
        throw new ArtifactException(what + " is corrupted: its SHA-256 is " + hash + ", the manifest says "
            + p.sha256());
      }
      parts.put(p.name(), data);
    }
    src.expectEnd();
    return new ModelArtifact(manifest, Sha256.toHex(declaredHash), parts, src.position());
  }

  private static String hex(ByteBuffer b, int max) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(max, b.remaining()); i++) {
      sb.append(i == 0 ? "" : " ").append(String.format("%02X", b.get(i) & 0xFF));
    }
    return sb.length() == 0 ? "nothing (empty)" : sb.toString();
  }

  /** Where the bytes come from; tracks the absolute position for error messages. */
  private abstract static class Source {
    protected long position;

    long position() {
      return position;
    }

    /** Up to {@code n} bytes: fewer only at the end of the input. */
    abstract ByteBuffer takeUpTo(int n) throws IOException;

    /** Exactly {@code n} bytes, fed to the digest, or an error saying what was cut off. */
    abstract ByteBuffer take(int n, MessageDigest md, String what) throws IOException;

    /** Fails unless the input ends here. */
    abstract void expectEnd() throws IOException;

    void padding(long n, String what) throws IOException {
      ByteBuffer b = take((int) n, null, what);
      for (int i = 0; i < b.remaining(); i++) {
        if (b.get(b.position() + i) != 0) {
          throw new ArtifactException("artifact is corrupted: " + what + " has a nonzero byte at offset "
              + (position - n + i));
        }
      }
    }

    ArtifactException truncated(String what, long end, long have) {
      return new ArtifactException("artifact is truncated: " + what + " needs bytes " + position + " to " + end
          + ", the artifact ends at " + have);
    }
  }

  /** A byte array: parts are views of it. */
  private static final class ArraySource extends Source {
    private final byte[] bytes;

    ArraySource(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    ByteBuffer takeUpTo(int n) {
      int k = (int) Math.min(n, bytes.length - position);
      ByteBuffer b = ByteBuffer.wrap(bytes, (int) position, k).slice();
      position += k;
      return b;
    }

    @Override
    ByteBuffer take(int n, MessageDigest md, String what) throws ArtifactException {
      long end = position + n;
      if (end > bytes.length) {
        throw truncated(what, end, bytes.length);
      }
      ByteBuffer b = ByteBuffer.wrap(bytes, (int) position, n).slice();
      if (md != null) {
        md.update(b.duplicate());
      }
      position = end;
      return b.asReadOnlyBuffer();
    }

    @Override
    void expectEnd() throws ArtifactException {
      if (position != bytes.length) {
        throw new ArtifactException("artifact is corrupted: " + (bytes.length - position)
            + " bytes follow the last part, which should end the artifact at " + position);
      }
    }
  }

  /** A stream, of known length (a file) or not: each part is read into its own array. */
  private static final class StreamSource extends Source {
    private final InputStream in;
    private final long length;

    StreamSource(InputStream in, long length) {
      this.in = in;
      this.length = length;
    }

    @Override
    ByteBuffer takeUpTo(int n) throws IOException {
      byte[] b = in.readNBytes(n);
      position += b.length;
      return ByteBuffer.wrap(b);
    }

    @Override
    ByteBuffer take(int n, MessageDigest md, String what) throws IOException {
      long end = position + n;
      if (length >= 0 && end > length) {
        throw truncated(what, end, length);
      }
      byte[] b;
      try {
        b = new byte[n];
      } catch (OutOfMemoryError e) {
        throw new ArtifactException(what + " needs " + n + " bytes, more than this JVM's heap can hold", e);
      }
      for (int done = 0; done < n; ) {
        int got = in.readNBytes(b, done, Math.min(CHUNK, n - done));
        if (md != null) {
          md.update(b, done, got);
        }
        done += got;
        if (got == 0) {
          throw truncated(what, end, position + done);
        }
      }
      position = end;
      return ByteBuffer.wrap(b).asReadOnlyBuffer();
    }

    @Override
    void expectEnd() throws IOException {
      if (in.read() >= 0) {
        throw new ArtifactException("artifact is corrupted: bytes follow the last part, which should end the"
            + " artifact at " + position);
      }
    }
  }
}
