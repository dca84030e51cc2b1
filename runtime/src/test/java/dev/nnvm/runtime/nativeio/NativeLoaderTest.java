package dev.nnvm.runtime.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NativeLoaderTest {
  @Test
  void theShimIsExtractedUnderItsHashAndLoadedOnce() throws Exception {
    NativeLoader.ensureLoaded();
    NativeLoader.ensureLoaded();
    assertEquals("linux-x86_64", NativeLoader.platform(), "the platform these tests run on");
    byte[] shim = NativeLoader.shimBytes(NativeLoader.platform());
    Path file = NativeLoader.directory().resolve("libnnvm_runtime-" + NativeLoader.sha256(shim).substring(0, 16)
        + ".so");
    assertTrue(Files.isRegularFile(file), file + " exists");
    assertEquals(NativeLoader.sha256(shim), NativeLoader.sha256(Files.readAllBytes(file)));
    assertTrue(ThreadPool.maxThreads() >= 1);
  }

  @Test
  void aPlatformWithoutABuildIsNamed() {
    NativeException e = assertThrows(NativeException.class, () -> NativeLoader.shimBytes("linux-sparcv9"));
    assertTrue(e.getMessage().startsWith("the NNVM native runtime has no build for linux-sparcv9 (os.name '"),
        e.getMessage());
    assertTrue(e.getMessage().endsWith("missing resource /dev/nnvm/runtime/native/linux-sparcv9/libnnvm_runtime.so"),
        e.getMessage());
  }

  @Test
  void poolLimitsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> ThreadPool.setMaxThreads(0));
    assertThrows(IllegalArgumentException.class, () -> ThreadPool.setMaxThreads(ThreadPool.MAX_THREADS_LIMIT + 1));
  }
}
