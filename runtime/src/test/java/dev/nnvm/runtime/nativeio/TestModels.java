package dev.nnvm.runtime.nativeio;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;

/** Builds {@code src/test/c/test_model.c} with gcc, once per test JVM, against the ABI header. */
final class TestModels {
  private static Path library;

  private TestModels() {}

  /** The compiled test model library (a file under target/). */
  static synchronized Path library() throws IOException, InterruptedException {
    if (library == null) {
      Path csrc = Paths.get(System.getProperty("nnvm.runtime.csrc", "src/main/c"));
      Path testCsrc = Paths.get(System.getProperty("nnvm.runtime.testcsrc", "src/test/c"));
      Path out = Files.createDirectories(Paths.get("target", "test-native")).resolve("libnnvm_test_model.so");
      List<String> command = List.of("gcc", "-std=gnu11", "-O2", "-fPIC", "-shared", "-ffp-contract=off", "-Wall",
          "-Werror", "-I" + csrc, "-o", out.toString(), testCsrc.resolve("test_model.c").toString());
      Process gcc = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (gcc.waitFor() != 0) {
        throw new IllegalStateException("gcc failed: " + String.join(" ", command) + "\n" + output);
      }
      library = out;
    }
    return library;
  }
}
