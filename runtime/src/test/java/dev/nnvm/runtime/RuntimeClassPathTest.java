package dev.nnvm.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The runtime must run on workers without the compiler or LLVM: its test class
 * path is its dependency tree, so nothing of either may be found on it.
 */
class RuntimeClassPathTest {
  private static final String[] FORBIDDEN_CLASSES = {
    "org.bytedeco.llvm.global.LLVM",
    "org.bytedeco.llvm.LLVM.LLVMModuleRef",
    "dev.nnvm.compiler.ir.Graph",
  };

  private static final String[] FORBIDDEN_PACKAGES = {"org/bytedeco/llvm/", "dev/nnvm/compiler/"};

  @Test
  void neitherLlvmNorTheCompilerIsLoadable() {
    ClassLoader loader = RuntimeClassPathTest.class.getClassLoader();
    for (String name : FORBIDDEN_CLASSES) {
      assertThrows(ClassNotFoundException.class, () -> Class.forName(name, false, loader), name);
    }
    for (String pkg : FORBIDDEN_PACKAGES) {
      assertNull(loader.getResource(pkg), pkg);
    }
  }

  @Test
  void noClassPathEntryComesFromLlvmOrTheCompiler() {
    // Surefire may hide the class path in a manifest-only jar and name it in this property instead.
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> offending = new ArrayList<>();
    for (String entry : classPath.split(File.pathSeparator)) {
      String normalized = entry.replace(File.separatorChar, '/');
      String file = normalized.substring(normalized.lastIndexOf('/') + 1);
      if (file.startsWith("llvm-") || file.startsWith("nnvm-compiler") || normalized.contains("/compiler/target/")) {
        offending.add(entry);
      }
    }
    assertEquals(List.of(), offending);
  }
}
