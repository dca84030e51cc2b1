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

  private CompilerVersion() {}

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
