package dev.nnvm.runtime.nativeio;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Loads the runtime's JNI shim once per JVM. The shim travels inside the jar
 * as {@code dev/nnvm/runtime/native/<os>-<arch>/libnnvm_runtime.so}; it is
 * extracted to {@code <dir>/libnnvm_runtime-<sha256 prefix>.so}, where
 * {@code <dir>} is the system property {@code nnvm.native.dir} or else
 * {@code <java.io.tmpdir>/nnvm-native-<user>}. A file already there with the
 * same content is reused, so JVMs on one machine share one copy and a
 * different build never loads a stale one.
 *
 * <p>After loading, the pool's thread limit is set to the system property
 * {@code nnvm.runtime.maxThreads}, or else to the processors available to the
 * JVM (see {@link ThreadPool}).
 */
final class NativeLoader {
  private static final String LIBRARY_FILE = "libnnvm_runtime.so";

  private static volatile boolean loaded;
  private static NativeException failure;

  private NativeLoader() {}

  /**
   * Loads the shim unless it is loaded already.
   *
   * @throws NativeException saying why, on every call, when it cannot be loaded
   *     (no build for this OS and architecture, extraction or loading failed)
   */
  static void ensureLoaded() {
    if (!loaded) {
      load();
    }
  }

  private static synchronized void load() {
    if (loaded) {
      return;
    }
    if (failure != null) {
      throw new NativeException(failure.getMessage(), failure);
    }
    try {
      System.load(extract().toString());
      Natives.setMaxThreads(ThreadPool.defaultMaxThreads());
      loaded = true;
    } catch (NativeException e) {
      failure = e;
      throw e;
    } catch (IOException | UnsatisfiedLinkError e) {
      failure = new NativeException("cannot load the NNVM native runtime: " + e.getMessage(), e);
      throw failure;
    }
  }

  /** The platform directory name of this JVM, e.g. {@code linux-x86_64}. */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String osName = os.startsWith("linux") ? "linux" : os.replace(' ', '_');
    String archName;
    switch (arch) {
      case "amd64":
      case "x86_64":
        archName = "x86_64";
        break;
      case "aarch64":
      case "arm64":
        archName = "aarch64";
        break;
      default:
        archName = arch;
    }
    return osName + "-" + archName;
  }

  private static Path extract() throws IOException {
    byte[] bytes = shimBytes(platform());
    String fullHash = sha256(bytes);
    String hash = fullHash.substring(0, 16);
    Path dir = directory();
    Path file = dir.resolve("libnnvm_runtime-" + hash + ".so");
    if (Files.isRegularFile(file) && sha256(Files.readAllBytes(file)).equals(fullHash)) {
      return file;
    }
    Path partial = Files.createTempFile(dir, "libnnvm_runtime-" + hash + "-", ".partial");
    try {
      Files.write(partial, bytes);
      try {
        Files.move(partial, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(partial);
    }
    return file;
  }

  /**
   * The shim built for {@code platform}, read from the jar.
   *
   * @throws NativeException naming the platform when the jar carries no build for it
   */
  static byte[] shimBytes(String platform) throws IOException {
    String resource = "/dev/nnvm/runtime/native/" + platform + "/" + LIBRARY_FILE;
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new NativeException("the NNVM native runtime has no build for " + platform + " (os.name '"
            + System.getProperty("os.name") + "', os.arch '" + System.getProperty("os.arch")
            + "'): the jar carries the shim of the platform it was built on, and linux-aarch64 when the build had"
            + " aarch64-linux-gnu-gcc; missing resource " + resource);
      }
      return in.readAllBytes();
    }
  }

  /** Where the shim is extracted: {@code nnvm.native.dir}, or a per-user folder in the temporary directory. */
  static Path directory() throws IOException {
    String configured = System.getProperty("nnvm.native.dir");
    Path dir = configured != null && !configured.isEmpty()
        ? Paths.get(configured)
        : Paths.get(System.getProperty("java.io.tmpdir"), "nnvm-native-" + System.getProperty("user.name", "user"));
    if (!Files.isDirectory(dir)) {
      try {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (UnsupportedOperationException e) {
        Files.createDirectories(dir);
      }
    }
    return dir;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
