package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.compile.CompilerVersion;
import picocli.CommandLine.IVersionProvider;

/**
 * The version shown by {@code --version}: the compiler's version
 * ({@link CompilerVersion}) plus the Java runtime.
 */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    return new String[] {
        "nnvmc " + projectVersion(),
        "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
    };
  }

  static String projectVersion() {
    return CompilerVersion.current();
  }
}
