package dev.nnvm.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.nativeio.CpuId;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class CpuFeaturesTest {
  @Test
  void llvmNamesMapToCpuinfoFlags() {
    assertEquals("avx2", CpuFeatures.cpuinfoFlag("x86_64", "avx2"));
    assertEquals("avx2", CpuFeatures.cpuinfoFlag("x86_64", "+avx2"));
    assertEquals("fma", CpuFeatures.cpuinfoFlag("x86_64", "+fma"));
    assertEquals("avx512f", CpuFeatures.cpuinfoFlag("amd64", "+avx512f"));
    assertEquals("sse4_2", CpuFeatures.cpuinfoFlag("x86_64", "sse4.2"));
    assertEquals("sse4_1", CpuFeatures.cpuinfoFlag("x86_64", "sse4.1"));
    assertEquals("pni", CpuFeatures.cpuinfoFlag("x86_64", "sse3"));
    assertEquals("bmi1", CpuFeatures.cpuinfoFlag("x86_64", "bmi"));
    assertEquals("abm", CpuFeatures.cpuinfoFlag("x86_64", "lzcnt"));
    assertEquals("lahf_lm", CpuFeatures.cpuinfoFlag("x86_64", "sahf"));
    assertEquals("avx512_vnni", CpuFeatures.cpuinfoFlag("x86_64", "avx512vnni"));
    assertEquals("avx512_bf16", CpuFeatures.cpuinfoFlag("x86_64", "avx512bf16"));
    assertEquals("avx512f", CpuFeatures.cpuinfoFlag("x86_64", "evex512"));
    assertEquals("amx_tile", CpuFeatures.cpuinfoFlag("x86_64", "amx-tile"));
    assertEquals("asimd", CpuFeatures.cpuinfoFlag("aarch64", "neon"));
    assertEquals("asimddp", CpuFeatures.cpuinfoFlag("arm64", "+dotprod"));
    assertEquals("sve", CpuFeatures.cpuinfoFlag("aarch64", "sve"));
  }

  @Test
  void requiredFeaturesComeFromAnLlvmFeatureString() {
    assertEquals(List.of("avx2", "fma", "sse4.2"),
        NativeVariant.requiredFeatures("+sse4.2,-avx512f,+fma, +avx2,-avx512bw,,+fma"));
  }

  @Test
  void cpuinfoFlagsAreTheOnesEveryProcessorHas() {
    String text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx avx2 fma avx512f\n\n"
        + "processor\t: 1\nflags\t\t: fpu sse2 avx avx2 fma\nbugs\t\t: sysret_ss_attrs\n";
    CpuFeatures cpu = CpuFeatures.fromCpuinfo("amd64", "linux", text, "test");
    assertEquals("x86_64", cpu.arch());
    assertEquals(Set.of("fpu", "sse2", "avx", "avx2", "fma"), cpu.flags());
    assertTrue(cpu.supports("+avx2"));
    assertFalse(cpu.supports("avx512f"));
    assertEquals(List.of("avx512f", "sse4.2"), cpu.missing(List.of("avx2", "avx512f", "fma", "sse4.2")));
    assertEquals("x86_64 linux (5 flags from test)", cpu.toString());

    String arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics"
        + " fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\n";
    CpuFeatures graviton = CpuFeatures.fromCpuinfo("aarch64", "linux", arm, "test");
    assertEquals(List.of(), graviton.missing(List.of("neon", "fp-armv8", "crc", "lse", "dotprod", "rcpc")));
    assertEquals(List.of("sve"), graviton.missing(List.of("neon", "sve")));
  }

  @Test
  void theHostIsDetected() {
    CpuFeatures host = CpuFeatures.host();
    System.out.println("host CPU: " + host);
    assertEquals(CpuFeatures.normalizeArch(System.getProperty("os.arch")), host.arch());
    if (host.arch().equals("x86_64") && "linux".equals(host.os())) {
      assertTrue(host.source().startsWith("/proc/cpuinfo"), host.source());
      assertTrue(host.supports("sse2"), host.flags().toString());
      assertTrue(host.supports("64bit"), host.flags().toString());
    }
  }

  @Test
  void operatingSystemsAndArchitecturesAreNormalized() {
    assertEquals("linux", CpuFeatures.normalizeOs("Linux"));
    assertEquals("darwin", CpuFeatures.normalizeOs("Mac OS X"));
    assertEquals("darwin", CpuFeatures.normalizeOs("macosx14.0"));
    assertEquals("windows", CpuFeatures.normalizeOs("Windows 11"));
    assertEquals(null, CpuFeatures.normalizeOs("unknown"));
    assertEquals("aarch64", CpuFeatures.normalizeArch("arm64"));
    assertEquals("x86_64", CpuFeatures.normalizeArch("x86-64"));
  }

  /** A CPUID with the given bits set: leaf 1 (ecx, edx), leaf 7.0 (ebx, ecx), 7.1 (eax), 0x80000001 (ecx). */
  private static CpuId fakeCpuid(int l1ecx, int l1edx, int l7ebx, int l7ecx, int l71eax, int extEcx, long xcr0) {
    return new CpuId() {
      @Override
      public int[] query(int leaf, int subleaf) {
        if (leaf == 1) {
          return new int[] {0, 0, l1ecx, l1edx};
        }
        if (leaf == 7) {
          return subleaf == 0 ? new int[] {1, l7ebx, l7ecx, 0} : new int[] {l71eax, 0, 0, 0};
        }
        if (leaf == 0x80000001) {
          return new int[] {0, 0, extEcx, 1 << 29};
        }
        return null;
      }

      @Override
      public long xcr0() {
        return xcr0;
      }
    };
  }

  /** fpu cx8 cmov mmx fxsr sse sse2 in leaf 1 edx. */
  private static final int BASE_EDX = 1 | 1 << 8 | 1 << 15 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26;
  /** pni ssse3 fma sse4_1 sse4_2 xsave osxsave avx f16c in leaf 1 ecx. */
  private static final int AVX2_ECX = 1 | 1 << 9 | 1 << 12 | 1 << 19 | 1 << 20 | 1 << 26 | 1 << 27 | 1 << 28 | 1 << 29;
  private static final String AVX512_CPUINFO = "flags\t\t: fpu cx8 cmov mmx fxsr sse sse2 lm pni ssse3 fma sse4_1"
      + " sse4_2 xsave avx f16c avx2 avx512f avx512bw avx512dq avx512vl lahf_lm hypervisor\n";
  /** avx2, avx512f, avx512dq, avx512bw, avx512vl in leaf 7 ebx. */
  private static final int AVX512_EBX = 1 << 5 | 1 << 16 | 1 << 17 | 1 << 30 | 1 << 31;

  @Test
  void cpuinfoAndCpuidAgreeing() {
    CpuFeatures cpu = CpuFeatures.combine("x86_64", "linux", AVX512_CPUINFO, null,
        fakeCpuid(AVX2_ECX, BASE_EDX, AVX512_EBX, 0, 0, 1, 0xE7), null);
    assertEquals("/proc/cpuinfo and CPUID, which agree", cpu.source());
    assertTrue(cpu.supports("avx512bw") && cpu.supports("fma") && cpu.supports("sahf"), cpu.flags().toString());
    assertTrue(cpu.supports("hypervisor"), "flags CPUID is not read for come from cpuinfo");
  }

  @Test
  void aFeatureOnlyOneSourceReportsIsNotUsedAndTheDisagreementIsNamed() {
    // The hypervisor hides LZCNT (abm) from cpuinfo; CPUID reports it. And cpuinfo lists avx512vl, CPUID does not.
    int l7 = AVX512_EBX & ~(1 << 31);
    CpuFeatures cpu = CpuFeatures.combine("x86_64", "linux", AVX512_CPUINFO, null,
        fakeCpuid(AVX2_ECX, BASE_EDX, l7, 0, 0, 1 | 1 << 5, 0xE7), null);
    assertFalse(cpu.supports("lzcnt"));
    assertFalse(cpu.supports("avx512vl"));
    assertTrue(cpu.supports("avx512f"));
    assertEquals("/proc/cpuinfo and CPUID, which disagree: only CPUID reports abm; only cpuinfo reports avx512vl;"
        + " only features both report are used", cpu.source());
  }

  @Test
  void vectorStateTheOperatingSystemDoesNotSaveDoesNotCount() {
    // CPUID has AVX-512 but XCR0 saves only x87, SSE and AVX state: no AVX-512 (cpuinfo, as Linux prints it, agrees).
    String noAvx512 = AVX512_CPUINFO.replace(" avx512f avx512bw avx512dq avx512vl", "");
    CpuFeatures cpu = CpuFeatures.combine("x86_64", "linux", noAvx512, null,
        fakeCpuid(AVX2_ECX, BASE_EDX, AVX512_EBX, 0, 0, 1, 0x7), null);
    assertEquals("/proc/cpuinfo and CPUID, which agree", cpu.source());
    assertTrue(cpu.supports("avx2"));
    assertFalse(cpu.supports("avx512f"));
    // Without OSXSAVE, nothing of AVX counts.
    CpuFeatures old = CpuFeatures.combine("x86_64", "linux", null, "no /proc/cpuinfo in this container",
        fakeCpuid(AVX2_ECX & ~(1 << 27), BASE_EDX, AVX512_EBX, 0, 0, 1, 0xE7), null);
    assertFalse(old.supports("avx"));
    assertTrue(old.supports("sse4.2"));
  }

  @Test
  void eitherSourceAloneIsUsedAndSaysWhyTheOtherIsMissing() {
    CpuFeatures cpuidOnly = CpuFeatures.combine("x86_64", "linux", null, "/proc/cpuinfo unreadable: denied",
        fakeCpuid(AVX2_ECX, BASE_EDX, AVX512_EBX, 1 << 11, 1 << 5, 1, 0xE7), null);
    assertEquals("CPUID (/proc/cpuinfo unreadable: denied)", cpuidOnly.source());
    assertEquals(List.of(), cpuidOnly.missing(List.of("sse2", "avx2", "fma", "f16c", "avx512f", "avx512bw",
        "avx512vnni", "avx512bf16", "sahf", "64bit")));
    CpuFeatures cpuinfoOnly = CpuFeatures.combine("x86_64", "linux", AVX512_CPUINFO, null, null,
        "CPUID unreadable: no native library");
    assertEquals("/proc/cpuinfo (CPUID unreadable: no native library)", cpuinfoOnly.source());
    assertTrue(cpuinfoOnly.supports("avx512bw"));
    CpuFeatures none = CpuFeatures.combine("x86_64", "freebsd", null, "no /proc/cpuinfo on FreeBSD", null,
        "CPUID unreadable: no native library");
    assertEquals(Set.of(), none.flags());
    assertEquals("no /proc/cpuinfo on FreeBSD; CPUID unreadable: no native library", none.source());
  }

  @Test
  void theHostsCpuidIsReadOnX86() {
    CpuId cpuid = CpuId.host();
    Assumptions.assumeTrue(cpuid != null, "no CPUID here: " + CpuId.unavailableReason());
    int[] leaf0 = cpuid.query(0, 0);
    assertTrue(leaf0 != null && leaf0[0] >= 1, "leaf 0 gives the highest leaf");
    int[] leaf1 = cpuid.query(1, 0);
    assertTrue((leaf1[3] & (1 << 26)) != 0, "every x86-64 CPU has SSE2 (leaf 1 edx bit 26)");
    assertEquals(null, cpuid.query(0x7fffffff, 0), "a leaf past the highest one");
    System.out.println("host CPU features: " + CpuFeatures.host().source());
  }

  @Test
  void featuresCanBeHiddenToActAsAnotherWorker() {
    CpuFeatures cpu = CpuFeatures.combine("x86_64", "linux", AVX512_CPUINFO.replace("lahf_lm", "lahf_lm abm"), null, null,
        "none");
    CpuFeatures avx2Only = cpu.without(List.of("avx512*", "lzcnt"), "test");
    assertFalse(avx2Only.supports("avx512f") || avx2Only.supports("avx512vl") || avx2Only.supports("lzcnt"));
    assertTrue(avx2Only.supports("avx2") && avx2Only.supports("fma"));
    assertTrue(avx2Only.source().endsWith("; hidden by test: avx512bw, avx512dq, avx512f, avx512vl, abm"),
        avx2Only.source());
  }
}
