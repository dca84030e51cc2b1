package dev.nnvm.runtime.artifact;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** SHA-256 digests as the 64 lowercase hex digits the manifest stores. */
public final class Sha256 {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Sha256() {
  }

  /** A fresh SHA-256 digest (every Java platform must provide the algorithm). */
  public static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this Java runtime has no SHA-256, which every Java platform must provide", e);
    }
  }

  /** The hash of the buffer's remaining bytes; the buffer's position does not move. */
  public static String of(ByteBuffer bytes) {
    MessageDigest md = newDigest();
    md.update(bytes.duplicate());
    return toHex(md.digest());
  }

  /** The hash of a byte array. */
  public static String of(byte[] bytes) {
    return of(ByteBuffer.wrap(bytes));
  }

  /** Renders a finished digest as lowercase hex digits. */
  public static String toHex(byte[] digest) {
    StringBuilder sb = new StringBuilder(2 * digest.length);
    for (byte b : digest) {
      sb.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
    }
    return sb.toString();
  }

  /** True for exactly 64 lowercase hex digits. */
  public static boolean isHex(String text) {
    if (text.length() != 64) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }
}
