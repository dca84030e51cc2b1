package dev.nnvm.compiler.conformance;

import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The ONNX operator suite and the two PyTorch suites through the production path: each case's graph is
 * optimized at the default level, compiled to native code for the host CPU,
 * loaded by the runtime and run on two threads, and every output of every
 * data set is compared with the expected tensors (same tolerances as the
 * reference run). A case the compiler refuses with an
 * {@link dev.nnvm.compiler.ir.UnsupportedModelException} (no lowering or no
 * code generator for its operator, type or attribute) is unsupported; any
 * other error or wrong output fails the test unless listed, with its reason,
 * in {@code conformance-compiled-known-failures.txt}. The report goes to
 * {@code target/reports/conformance-compiled*.txt}; the allocator is checked
 * for leaks at the end.
 */
class CompiledConformanceTest {
  static final String KNOWN = "/conformance-compiled-known-failures.txt";

  @Test
  void nodeSuiteCompiled() throws IOException {
    check("node", "conformance-compiled.txt");
  }

  @Test
  void pytorchConvertedSuiteCompiled() throws IOException {
    check("pytorch-converted", "conformance-compiled-pytorch-converted.txt");
  }

  @Test
  void pytorchOperatorSuiteCompiled() throws IOException {
    check("pytorch-operator", "conformance-compiled-pytorch-operator.txt");
  }

  private static void check(String suite, String report) throws IOException {
    try (NativeAllocator allocator = NativeAllocator.newRoot("compiled-conformance-" + suite)) {
      NodeConformanceTest.check(suite, "compiled for the host CPU (opt level 2, 2 threads)",
          CaseEngine.compiled(allocator, 2), KnownFailures.load(KNOWN), report);
    }
  }
}
