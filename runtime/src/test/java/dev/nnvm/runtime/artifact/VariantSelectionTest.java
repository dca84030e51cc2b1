package dev.nnvm.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Picking the native code for a worker's CPU, with fake hosts. */
class VariantSelectionTest {
  /** The cpuinfo flags of an AMD Zen 3 (AVX2 and FMA, no AVX-512), as a session measured. */
  private static final List<String> ZEN3 = List.of(("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov"
      + " pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good"
      + " nopl pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand"
      + " hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext"
      + " fsgsbase bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec"
      + " xgetbv1 xsaves clzero xsaveerptr rdpid fsrm").split(" "));
  /** Zen 4: Zen 3 plus AVX-512 F/DQ/CD/BW/VL, VNNI, BF16. */
  private static final List<String> ZEN4 = concat(ZEN3, List.of("avx512f", "avx512dq", "avx512ifma", "avx512cd",
      "avx512bw", "avx512vl", "avx512_bf16", "avx512vbmi", "avx512_vbmi2", "avx512_vnni", "avx512_bitalg",
      "avx512_vpopcntdq"));
  /** An old x86-64 with SSE4.2 and AVX, but neither AVX2 nor AVX-512 (Sandy Bridge). */
  private static final List<String> SANDY = List.of(("fpu cx8 cmov mmx fxsr sse sse2 lm pni pclmulqdq ssse3 cx16"
      + " sse4_1 sse4_2 popcnt aes xsave avx lahf_lm").split(" "));

  /**
   * The 2-vCPU "AMD EPYC" virtual machine of 2026-12-06: Zen 4's AVX-512 F/BW/DQ/VL, VNNI and BF16, but its
   * hypervisor hides {@code abm} (LZCNT), so LLVM's x86-64-v3/v4 levels were refused there.
   */
  private static final List<String> EPYC_VM_NO_LZCNT = ZEN4.stream().filter(f -> !f.equals("abm")).toList();

  /** An artifact of the old kind: variants on LLVM's levels, which need LZCNT, BMI and MOVBE too. */
  private static final ModelArtifact ARTIFACT = read(SampleArtifact.bytes());
  /** An artifact with the compiler's portable variants: AVX-512, AVX2, baseline. */
  private static final ModelArtifact PORTABLE = read(SampleArtifact.portableBytes());

  private static ModelArtifact read(byte[] bytes) {
    try {
      return ArtifactReader.read(bytes);
    } catch (ArtifactException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  @Test
  void avx2HostPicksV3() throws ArtifactException {
    NativeVariant v = ARTIFACT.selectVariant(CpuFeatures.of("x86_64", "linux", ZEN3));
    assertEquals("x86-64-v3", v.name());
    assertEquals("\u007fELF fake x86-64-v3 library",
        java.nio.charset.StandardCharsets.US_ASCII.decode(ARTIFACT.library(v)).toString());
  }

  @Test
  void avx512HostPicksV4() throws ArtifactException {
    assertEquals("x86-64-v4", ARTIFACT.selectVariant(CpuFeatures.of("amd64", "linux", ZEN4)).name());
  }

  @Test
  void aHostWithNeitherGetsTheMissingFeaturesPerVariant() {
    ArtifactException e = assertThrows(ArtifactException.class,
        () -> ARTIFACT.selectVariant(CpuFeatures.of("x86_64", "linux", SANDY)));
    assertEquals("no native code in the artifact of model 'tiny' runs on this CPU (x86_64 linux (19 flags from"
        + " given)): variant 'x86-64-v4' (x86-64-v4) needs avx2, avx512bw, avx512cd, avx512dq, avx512f, avx512vl,"
        + " bmi, bmi2, evex512, f16c, fma, lzcnt, movbe, which this CPU lacks; variant 'x86-64-v3' (x86-64-v3)"
        + " needs avx2, bmi, bmi2, f16c, fma, lzcnt, movbe, which this CPU lacks; recompile the model with a target"
        + " this CPU supports", e.getMessage());
  }

  @Test
  void anotherArchitectureOrSystemIsRefusedWithTheReason() {
    ArtifactException arm = assertThrows(ArtifactException.class,
        () -> ARTIFACT.selectVariant(CpuFeatures.of("aarch64", "linux", List.of("fp", "asimd"))));
    assertEquals("no native code in the artifact of model 'tiny' runs on this CPU (aarch64 linux (2 flags from"
        + " given)): variant 'x86-64-v4' is built for x86_64, this CPU is aarch64; variant 'x86-64-v3' is built"
        + " for x86_64, this CPU is aarch64; recompile the model with a target this CPU supports", arm.getMessage());
    ArtifactException mac = assertThrows(ArtifactException.class,
        () -> ARTIFACT.selectVariant(CpuFeatures.of("x86_64", "darwin", ZEN4)));
    assertEquals("variant 'x86-64-v4' is built for linux, this machine runs darwin",
        mac.getMessage().split(": ", 2)[1].split("; ")[0]);
  }

  @Test
  void anArtifactWithoutVariantsSaysSo() throws ArtifactException {
    Map<String, byte[]> parts = Map.of("weights", new byte[0]);
    Manifest m = SampleArtifact.manifest(SampleArtifact.parts());
    Manifest bare = new Manifest(1, m.compilerVersion(), m.created(), m.model(), m.symbols(), m.inputs(),
        m.outputs(), m.workspace(), new WeightsTable("weights", 0, 64, List.of()), List.of(),
        SampleArtifact.partTable(parts));
    ModelArtifact a = ArtifactReader.read(SampleArtifact.encode(ManifestJson.write(bare), parts));
    assertEquals("artifact of model 'tiny' has no native CPU code", assertThrows(ArtifactException.class,
        () -> a.selectVariant(CpuFeatures.of("x86_64", "linux", ZEN4))).getMessage());
  }

  @Test
  void portableVariantsRunWhereTheHypervisorHidesScalarExtras() throws ArtifactException {
    CpuFeatures vm = CpuFeatures.of("x86_64", "linux", EPYC_VM_NO_LZCNT);
    assertEquals("x86-64-avx512", PORTABLE.selectVariant(vm).name());
    // What failed on that machine: the LLVM levels need LZCNT, which its cpuinfo does not list.
    ArtifactException old = assertThrows(ArtifactException.class, () -> ARTIFACT.selectVariant(vm));
    assertTrue(old.getMessage().contains("needs lzcnt, which this CPU lacks"), old.getMessage());
  }

  @Test
  void eachCpuClassGetsTheBestPortableVariantItRuns() throws ArtifactException {
    assertEquals("x86-64-avx512", PORTABLE.selectVariant(CpuFeatures.of("x86_64", "linux", ZEN4)).name());
    assertEquals("x86-64-avx2", PORTABLE.selectVariant(CpuFeatures.of("x86_64", "linux", ZEN3)).name());
    // AVX without AVX2 and FMA: the baseline, chosen with a warning that names what the faster ones need.
    assertEquals("x86-64", PORTABLE.selectVariant(CpuFeatures.of("x86_64", "linux", SANDY)).name());
    // The least an x86-64 CPU has.
    CpuFeatures minimal = CpuFeatures.of("x86_64", "linux", List.of("fpu", "cx8", "cmov", "mmx", "fxsr", "sse",
        "sse2", "lm"));
    assertEquals("x86-64", PORTABLE.selectVariant(minimal).name());
    assertEquals("\u007fELF fake x86-64 library", java.nio.charset.StandardCharsets.US_ASCII.decode(
        PORTABLE.library(PORTABLE.selectVariant(minimal))).toString());
  }

  @Test
  void theHostPicksAPortableVariantItSupports() throws ArtifactException {
    CpuFeatures host = CpuFeatures.host();
    Assumptions.assumeTrue(host.arch().equals("x86_64") && "linux".equals(host.os()),
        "selection on this machine needs an x86-64 Linux host; this is " + host);
    String picked = PORTABLE.selectVariant(host).name();
    System.out.println("this host (" + host + ") picks " + picked);
    String expected = host.missing(SampleArtifact.AVX512).isEmpty() ? "x86-64-avx512"
        : host.missing(SampleArtifact.AVX2).isEmpty() ? "x86-64-avx2" : "x86-64";
    assertEquals(expected, picked);
  }
}
