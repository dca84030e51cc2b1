package dev.nnvm.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
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
      assertEquals("/proc/cpuinfo", host.source());
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
}
