package dev.nnvm.compiler.compile;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The compiler's version: the project version Maven records in the compiler
 * jar, or "development build" when running from a class folder. Artifacts
 * record it, and the compile cache keys on it.
 */
public final class CompilerVersion {
  private static final String POM_PROPERTIES = "/META-INF/maven/dev.nnvm/nnvm-compiler/pom.properties";
  private static final String DEVELOPMENT = "development build";

  private static volatile String fingerprint;

  private CompilerVersion() {}

  /**
   * What identifies this build of the compiler beyond its version string
   * (a SNAPSHOT stays the same while the code changes): the SHA-256 of the
   * names, sizes and modification times of the compiler's class files, or of
   * its jar. The compile cache keys on it, so a rebuilt compiler never serves
   * artifacts the previous build made.
   */
  public static String buildFingerprint() {
    String f = fingerprint;
    if (f == null) {
      f = computeFingerprint();
      fingerprint = f;
    }
    return f;
  }

  private static String computeFingerprint() {
    StringBuilder text = new StringBuilder(current()).append('\n');
    try {
      java.security.CodeSource source = CompilerVersion.class.getProtectionDomain().getCodeSource();
      java.nio.file.Path root = java.nio.file.Path.of(source.getLocation().toURI());
      if (java.nio.file.Files.isDirectory(root)) {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(root)) {
          files.filter(p -> p.toString().endsWith(".class")).sorted().forEach(p -> {
            try {
              text.append(root.relativize(p)).append(' ').append(java.nio.file.Files.size(p)).append(' ')
                  .append(java.nio.file.Files.getLastModifiedTime(p).toMillis()).append('\n');
            } catch (IOException e) {
              text.append(p).append(" unreadable\n");
            }
          });
        }
      } else {
        text.append(root).append(' ').append(java.nio.file.Files.size(root)).append(' ')
            .append(java.nio.file.Files.getLastModifiedTime(root).toMillis());
      }
    } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
      // No readable code source: a fresh fingerprint per JVM, so nothing stale is ever reused.
      text.append("unknown ").append(System.nanoTime());
    }
    return dev.nnvm.runtime.artifact.Sha256.of(text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  public static String current() {
    String fromManifest = CompilerVersion.class.getPackage().getImplementationVersion();
    if (fromManifest != null) {
      return fromManifest;
    }
    try (InputStream in = CompilerVersion.class.getResourceAsStream(POM_PROPERTIES)) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        return p.getProperty("version", DEVELOPMENT);
      }
    } catch (IOException e) {
      return DEVELOPMENT;
    }
    return DEVELOPMENT;
  }
}
