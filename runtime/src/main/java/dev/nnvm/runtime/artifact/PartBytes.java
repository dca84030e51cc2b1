package dev.nnvm.runtime.artifact;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * The content of one part about to be written, as a sequence of buffers
 * that are streamed one after the other (a weights blob is its constants
 * and the padding between them): nothing is copied into one big array.
 * The buffers are borrowed: the caller must not change them until the part
 * is written.
 */
public final class PartBytes {
  private static final int CHUNK = 1 << 20;

  private final List<ByteBuffer> segments;
  private final long size;

  private PartBytes(List<ByteBuffer> segments) {
    long n = 0;
    List<ByteBuffer> copy = new ArrayList<>(segments.size());
    for (ByteBuffer b : segments) {
      copy.add(b.duplicate());
      n += b.remaining();
    }
    this.segments = List.copyOf(copy);
    this.size = n;
  }

  /** A part made of the remaining bytes of each buffer, in order. */
  public static PartBytes of(List<ByteBuffer> segments) {
    return new PartBytes(segments);
  }

  public static PartBytes of(ByteBuffer... segments) {
    return new PartBytes(List.of(segments));
  }

  public static PartBytes of(byte[] bytes) {
    return of(ByteBuffer.wrap(bytes));
  }

  public long size() {
    return size;
  }

  /** The SHA-256 of the whole part (one pass over the buffers). */
  public String sha256() {
    MessageDigest md = Sha256.newDigest();
    for (ByteBuffer b : segments) {
      md.update(b.duplicate());
    }
    return Sha256.toHex(md.digest());
  }

  /** Streams the part in chunks of at most 1 MiB. */
  public void writeTo(OutputStream out) throws IOException {
    byte[] chunk = null;
    for (ByteBuffer segment : segments) {
      ByteBuffer b = segment.duplicate();
      if (b.hasArray()) {
        int base = b.arrayOffset() + b.position();
        for (int done = 0; done < b.remaining(); done += CHUNK) {
          out.write(b.array(), base + done, Math.min(CHUNK, b.remaining() - done));
        }
      } else {
        if (chunk == null) {
          chunk = new byte[(int) Math.min(CHUNK, size)];
        }
        while (b.hasRemaining()) {
          int n = Math.min(chunk.length, b.remaining());
          b.get(chunk, 0, n);
          out.write(chunk, 0, n);
        }
      }
    }
  }
}
