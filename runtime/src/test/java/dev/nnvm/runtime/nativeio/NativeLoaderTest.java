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

  /**
   * The shim cross-built for ARM workers (runtime/pom.xml, when aarch64-linux-gnu-gcc is on PATH): an AArch64 ELF
   * shared library that defines the JNI function of every native method. It cannot be loaded on this machine.
   */
  @Test
  void theCrossBuiltAarch64ShimDefinesEveryNativeMethod() throws Exception {
    byte[] shim;
    try {
      shim = NativeLoader.shimBytes("linux-aarch64");
    } catch (NativeException e) {
      System.out.println("skipped: this build has no linux-aarch64 shim (aarch64-linux-gnu-gcc was not on PATH;"
          + " scripts/install-cross-tools.sh installs it)");
      org.junit.jupiter.api.Assumptions.abort("no linux-aarch64 shim in this build");
      return;
    }
    java.nio.ByteBuffer elf = java.nio.ByteBuffer.wrap(shim).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x464c457f, elf.getInt(0), "an ELF file");
    assertEquals(2, elf.get(4), "64-bit");
    assertEquals(3, elf.getShort(16), "a shared object (ET_DYN)");
    assertEquals(183, elf.getShort(18), "machine EM_AARCH64");
    String text = new String(shim, java.nio.charset.StandardCharsets.ISO_8859_1);
    int methods = 0;
    for (java.lang.reflect.Method m : Natives.class.getDeclaredMethods()) {
      if (java.lang.reflect.Modifier.isNative(m.getModifiers())) {
        String symbol = "Java_dev_nnvm_runtime_nativeio_Natives_" + m.getName().replace("_", "_1");
        assertTrue(text.contains(symbol + "\0"), "the aarch64 shim defines " + symbol);
        methods++;
      }
    }
    assertTrue(methods >= 10, "Natives has its native methods: " + methods);
    System.out.println("linux-aarch64 shim: " + shim.length + " bytes, " + methods + " JNI functions");
  }

  @Test
  void poolLimitsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> ThreadPool.setMaxThreads(0));
    assertThrows(IllegalArgumentException.class, () -> ThreadPool.setMaxThreads(ThreadPool.MAX_THREADS_LIMIT + 1));
  }
}
