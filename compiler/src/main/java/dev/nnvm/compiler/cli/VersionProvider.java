package dev.nnvm.compiler.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * The version shown by {@code --version}: the project version Maven records
 * in the compiler jar, or "development build" when running from a class
 * folder, plus the Java runtime.
 */
final class VersionProvider implements IVersionProvider {
  static final String POM_PROPERTIES = "/META-INF/maven/dev.nnvm/nnvm-compiler/pom.properties";

  @Override
  public String[] getVersion() {
    return new String[] {
        "nnvmc " + projectVersion(),
        "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
    };
  }

  static String projectVersion() {
    String fromManifest = Nnvmc.class.getPackage().getImplementationVersion();
    if (fromManifest != null) {
      return fromManifest;
    }
    try (InputStream in = Nnvmc.class.getResourceAsStream(POM_PROPERTIES)) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        return p.getProperty("version", "development build");
      }
    } catch (IOException e) {
      return "development build";
    }
    return "development build";
  }
}
