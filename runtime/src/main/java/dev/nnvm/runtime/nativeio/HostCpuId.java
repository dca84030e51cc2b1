package dev.nnvm.runtime.nativeio;

/** The machine's CPUID through the JNI shim, read on demand; null where it cannot be read (see {@link CpuId}). */
final class HostCpuId implements CpuId {
  static String reason;
  static final CpuId INSTANCE = create();

  private HostCpuId() {}

  private static CpuId create() {
    String arch = System.getProperty("os.arch", "");
    if (!arch.equals("amd64") && !arch.equals("x86_64")) {
      reason = "no CPUID on " + arch;
      return null;
    }
    try {
      NativeLoader.ensureLoaded();
      return new HostCpuId();
    } catch (NativeException | LinkageError e) {
      reason = "CPUID unreadable: " + e.getMessage();
      return null;
    }
  }

  @Override
  public int[] query(int leaf, int subleaf) {
    return Natives.cpuid(leaf, subleaf);
  }

  @Override
  public long xcr0() {
    return Natives.xgetbv();
  }
}
