package dev.nnvm.runtime.nativeio;

/**
 * The processor's own answer to "what can you run": the CPUID instruction and XCR0 (which register states the
 * operating system saves), read through the JNI shim. This is the second source of CPU features next to
 * {@code /proc/cpuinfo}; {@code dev.nnvm.runtime.artifact.CpuFeatures} combines the two.
 */
public interface CpuId {
  /** CPUID's {@code eax, ebx, ecx, edx} for a leaf and subleaf, or null when the leaf is past the highest one. */
  int[] query(int leaf, int subleaf);

  /** XCR0, or -1 when the operating system enables no XSAVE (then no AVX state is saved). */
  long xcr0();

  /**
   * This machine's CPUID, or null when it cannot be read here (not x86-64, or the runtime's native library does
   * not load), with the reason in {@link #unavailableReason()}.
   */
  static CpuId host() {
    return HostCpuId.INSTANCE;
  }

  /** Why {@link #host()} is null, or null when it is not. */
  static String unavailableReason() {
    return HostCpuId.reason;
  }
}
