package dev.nnvm.runtime.artifact;

import dev.nnvm.runtime.nativeio.CpuId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a CPU can run: its architecture, operating system and feature flags,
 * named as Linux names them in {@code /proc/cpuinfo}. Native variants list
 * the features they need under LLVM's names ({@code avx2}, {@code fma},
 * {@code avx512f}, {@code sse4.2}); {@link #cpuinfoFlag} maps one to the other.
 *
 * <p>The host's features come from two sources, {@code /proc/cpuinfo} and the CPUID instruction (with XCR0, what
 * the operating system saves). Either may be missing (other kernels, containers, non-x86 machines) or edited (a
 * kernel or hypervisor may hide flags from one): a feature CPUID can describe counts only when every source present
 * reports it, and {@link #source()} says which sources were trusted and where they disagreed.
 */
public final class CpuFeatures {
  private static final Path CPUINFO = Path.of("/proc/cpuinfo");

  /** LLVM feature name to /proc/cpuinfo flag where the two differ, x86-64. */
  private static final Map<String, String> X86 = Map.ofEntries(
      Map.entry("64bit", "lm"), Map.entry("x87", "fpu"), Map.entry("sse3", "pni"),
      Map.entry("sse4.1", "sse4_1"), Map.entry("sse4.2", "sse4_2"), Map.entry("crc32", "sse4_2"),
      Map.entry("pclmul", "pclmulqdq"), Map.entry("lzcnt", "abm"), Map.entry("sahf", "lahf_lm"),
      Map.entry("bmi", "bmi1"), Map.entry("prfchw", "3dnowprefetch"), Map.entry("rdrnd", "rdrand"),
      Map.entry("sha", "sha_ni"), Map.entry("shstk", "user_shstk"), Map.entry("evex512", "avx512f"),
      Map.entry("avx512vnni", "avx512_vnni"), Map.entry("avx512bf16", "avx512_bf16"),
      Map.entry("avx512vbmi2", "avx512_vbmi2"), Map.entry("avx512bitalg", "avx512_bitalg"),
      Map.entry("avx512vpopcntdq", "avx512_vpopcntdq"), Map.entry("avx512fp16", "avx512_fp16"),
      Map.entry("avx512vp2intersect", "avx512_vp2intersect"), Map.entry("avxvnni", "avx_vnni"),
      Map.entry("avxifma", "avx_ifma"), Map.entry("avxvnniint8", "avx_vnni_int8"),
      Map.entry("avxneconvert", "avx_ne_convert"));

  /** LLVM feature name to /proc/cpuinfo flag where the two differ, AArch64. */
  private static final Map<String, String> AARCH64 = Map.ofEntries(
      Map.entry("neon", "asimd"), Map.entry("fp-armv8", "fp"), Map.entry("crc", "crc32"),
      Map.entry("lse", "atomics"), Map.entry("rdm", "asimdrdm"), Map.entry("dotprod", "asimddp"),
      Map.entry("fullfp16", "fphp"), Map.entry("fp16fml", "asimdfhm"), Map.entry("rcpc", "lrcpc"),
      Map.entry("jsconv", "jscvt"), Map.entry("complxnum", "fcma"), Map.entry("pauth", "paca"));

  private static final Logger LOG = LoggerFactory.getLogger(CpuFeatures.class);

  /** XCR0 bits the OS must save for AVX (SSE and AVX state) and for AVX-512 (also opmask and the upper ZMM). */
  private static final long AVX_STATE = 0x6;
  private static final long AVX512_STATE = 0xE6;

  /**
   * A comma-separated list of features (cpuinfo or LLVM names) to treat as absent on this machine, to see what a
   * worker without them would do: the runtime picks variants, and the compiler's host target compiles, as there.
   * {@code -Dnnvm.cpu.hide=abm} is the AVX-512 VM whose hypervisor hides LZCNT; hiding every {@code avx512*} flag
   * makes an AVX-512 machine an AVX2-only one. The environment variable {@code NNVM_CPU_HIDE} does the same.
   */
  public static final String HIDE_PROPERTY = "nnvm.cpu.hide";
  public static final String HIDE_ENV = "NNVM_CPU_HIDE";

  /** A feature bit of CPUID: leaf, subleaf, register (0-3: eax-edx), bit, cpuinfo name, XCR0 bits it needs. */
  private record CpuidBit(int leaf, int subleaf, int register, int bit, String flag, long state) {}

  /** The features CPUID is read for: what the generated kernels and LLVM's host features can use. */
  private static final List<CpuidBit> CPUID_BITS = List.of(
      new CpuidBit(1, 0, 3, 0, "fpu", 0), new CpuidBit(1, 0, 3, 8, "cx8", 0), new CpuidBit(1, 0, 3, 15, "cmov", 0),
      new CpuidBit(1, 0, 3, 23, "mmx", 0), new CpuidBit(1, 0, 3, 24, "fxsr", 0), new CpuidBit(1, 0, 3, 25, "sse", 0),
      new CpuidBit(1, 0, 3, 26, "sse2", 0),
      new CpuidBit(1, 0, 2, 0, "pni", 0), new CpuidBit(1, 0, 2, 1, "pclmulqdq", 0),
      new CpuidBit(1, 0, 2, 9, "ssse3", 0), new CpuidBit(1, 0, 2, 12, "fma", AVX_STATE),
      new CpuidBit(1, 0, 2, 13, "cx16", 0), new CpuidBit(1, 0, 2, 19, "sse4_1", 0),
      new CpuidBit(1, 0, 2, 20, "sse4_2", 0), new CpuidBit(1, 0, 2, 22, "movbe", 0),
      new CpuidBit(1, 0, 2, 23, "popcnt", 0), new CpuidBit(1, 0, 2, 25, "aes", 0),
      new CpuidBit(1, 0, 2, 26, "xsave", 0), new CpuidBit(1, 0, 2, 28, "avx", AVX_STATE),
      new CpuidBit(1, 0, 2, 29, "f16c", AVX_STATE), new CpuidBit(1, 0, 2, 30, "rdrand", 0),
      new CpuidBit(7, 0, 1, 3, "bmi1", 0), new CpuidBit(7, 0, 1, 5, "avx2", AVX_STATE),
      new CpuidBit(7, 0, 1, 8, "bmi2", 0), new CpuidBit(7, 0, 1, 16, "avx512f", AVX512_STATE),
      new CpuidBit(7, 0, 1, 17, "avx512dq", AVX512_STATE), new CpuidBit(7, 0, 1, 21, "avx512ifma", AVX512_STATE),
      new CpuidBit(7, 0, 1, 28, "avx512cd", AVX512_STATE), new CpuidBit(7, 0, 1, 30, "avx512bw", AVX512_STATE),
      new CpuidBit(7, 0, 1, 31, "avx512vl", AVX512_STATE),
      new CpuidBit(7, 0, 2, 1, "avx512vbmi", AVX512_STATE), new CpuidBit(7, 0, 2, 6, "avx512_vbmi2", AVX512_STATE),
      new CpuidBit(7, 0, 2, 11, "avx512_vnni", AVX512_STATE),
      new CpuidBit(7, 0, 2, 12, "avx512_bitalg", AVX512_STATE),
      new CpuidBit(7, 0, 2, 14, "avx512_vpopcntdq", AVX512_STATE),
      new CpuidBit(7, 0, 3, 23, "avx512_fp16", AVX512_STATE),
      new CpuidBit(7, 1, 0, 4, "avx_vnni", AVX_STATE), new CpuidBit(7, 1, 0, 5, "avx512_bf16", AVX512_STATE),
      new CpuidBit(0x80000001, 0, 2, 0, "lahf_lm", 0), new CpuidBit(0x80000001, 0, 2, 5, "abm", 0),
      new CpuidBit(0x80000001, 0, 2, 8, "3dnowprefetch", 0), new CpuidBit(0x80000001, 0, 3, 29, "lm", 0));

  private final String arch;
  private final String os;
  private final Set<String> flags;
  private final String source;

  private CpuFeatures(String arch, String os, Collection<String> flags, String source) {
    this.arch = normalizeArch(arch);
    this.os = os;
    this.flags = Collections.unmodifiableSet(new TreeSet<>(flags));
    this.source = source;
  }

  /** A CPU described by hand (tests, or planning for another machine): cpuinfo flag names. */
  public static CpuFeatures of(String arch, String os, Collection<String> cpuinfoFlags) {
    return new CpuFeatures(arch, os, cpuinfoFlags, "given");
  }

  /**
   * The CPU of this machine: on Linux the flags every processor in
   * {@code /proc/cpuinfo} shares; elsewhere, or when the file cannot be read,
   * no flags (only variants that need no features then run).
   */
  public static CpuFeatures host() {
    return Host.INSTANCE;
  }

  private static final class Host {
    static final CpuFeatures INSTANCE = detect();

    private static CpuFeatures detect() {
      String arch = System.getProperty("os.arch", "unknown");
      String os = normalizeOs(System.getProperty("os.name", "unknown"));
      String cpuinfo = null;
      String noCpuinfo = null;
      if (!"linux".equals(os)) {
        noCpuinfo = "no " + CPUINFO + " on " + System.getProperty("os.name");
      } else {
        try {
          cpuinfo = new String(Files.readAllBytes(CPUINFO), StandardCharsets.UTF_8);
        } catch (IOException | SecurityException e) {
          noCpuinfo = CPUINFO + " unreadable: " + e.getMessage();
        }
      }
      CpuId cpuid = CpuId.host();
      CpuFeatures host = combine(arch, os, cpuinfo, noCpuinfo, cpuid, CpuId.unavailableReason());
      String hide = System.getProperty(HIDE_PROPERTY, System.getenv(HIDE_ENV));
      if (hide != null && !hide.isBlank()) {
        host = host.without(List.of(hide.trim().split("\\s*,\\s*")), HIDE_PROPERTY + " / " + HIDE_ENV);
        LOG.warn("CPU features: {}", host.source());
      }
      if (host.source().contains("disagree")) {
        LOG.warn("CPU features: {}", host.source());
      } else {
        LOG.debug("CPU features: {} flags from {}", host.flags().size(), host.source());
      }
      return host;
    }
  }

  /**
   * The features of a CPU described by {@code /proc/cpuinfo} text and by CPUID, either of which may be missing
   * (null, with the reason). For the features CPUID is read for, a feature counts only when every source present
   * reports it (a kernel or hypervisor that hides a flag from one source may have a reason to); other flags come
   * from cpuinfo alone. {@link #source()} names the sources used, and the features they disagree on.
   */
  public static CpuFeatures combine(String arch, String os, String cpuinfo, String noCpuinfoReason, CpuId cpuid,
      String noCpuidReason) {
    boolean x86 = normalizeArch(arch).equals("x86_64");
    Set<String> fromCpuid = cpuid != null && x86 ? decode(cpuid) : null;
    if (cpuinfo == null && fromCpuid == null) {
      return new CpuFeatures(arch, os, List.of(), noCpuinfoReason + "; " + (x86 ? noCpuidReason : "no CPUID on " + arch));
    }
    if (cpuinfo == null) {
      return new CpuFeatures(arch, os, fromCpuid, "CPUID (" + noCpuinfoReason + ")");
    }
    Set<String> fromCpuinfo = new TreeSet<>(fromCpuinfo(arch, os, cpuinfo, CPUINFO.toString()).flags());
    if (fromCpuid == null) {
      return new CpuFeatures(arch, os, fromCpuinfo, CPUINFO + (x86 ? " (" + noCpuidReason + ")" : ""));
    }
    List<String> cpuidOnly = new ArrayList<>();
    List<String> cpuinfoOnly = new ArrayList<>();
    for (String flag : cpuidFlagNames()) {
      boolean a = fromCpuinfo.contains(flag);
      boolean b = fromCpuid.contains(flag);
      if (b && !a) {
        cpuidOnly.add(flag);
      } else if (a && !b) {
        cpuinfoOnly.add(flag);
        fromCpuinfo.remove(flag);
      }
    }
    if (cpuidOnly.isEmpty() && cpuinfoOnly.isEmpty()) {
      return new CpuFeatures(arch, os, fromCpuinfo, CPUINFO + " and CPUID, which agree");
    }
    StringBuilder why = new StringBuilder(CPUINFO + " and CPUID, which disagree: ");
    if (!cpuidOnly.isEmpty()) {
      why.append("only CPUID reports ").append(String.join(", ", cpuidOnly));
    }
    if (!cpuinfoOnly.isEmpty()) {
      why.append(cpuidOnly.isEmpty() ? "" : "; ").append("only cpuinfo reports ").append(String.join(", ", cpuinfoOnly));
    }
    why.append("; only features both report are used");
    return new CpuFeatures(arch, os, fromCpuinfo, why.toString());
  }

  /**
   * These features less the given ones (cpuinfo or LLVM names; {@code avx512*} matches every flag with that
   * prefix), the source noting what was hidden and by what.
   */
  public CpuFeatures without(Collection<String> hidden, String by) {
    Set<String> left = new TreeSet<>(flags);
    List<String> removed = new ArrayList<>();
    for (String h : hidden) {
      if (h.endsWith("*")) {
        String prefix = h.substring(0, h.length() - 1);
        left.removeIf(f -> f.startsWith(prefix) && removed.add(f));
      } else {
        String flag = cpuinfoFlag(arch, h);
        if (left.remove(flag)) {
          removed.add(flag);
        }
      }
    }
    return new CpuFeatures(arch, os, left, source + "; hidden by " + by + ": " + String.join(", ", removed));
  }

  /** The cpuinfo names of the features CPUID is read for, in table order. */
  public static List<String> cpuidFlagNames() {
    List<String> names = new ArrayList<>();
    CPUID_BITS.forEach(b -> names.add(b.flag()));
    return names;
  }

  /** The features CPUID reports that the OS also enables (XCR0 saves their registers), as cpuinfo names. */
  static Set<String> decode(CpuId cpuid) {
    Set<String> out = new TreeSet<>();
    int[] leaf1 = cpuid.query(1, 0);
    boolean osxsave = leaf1 != null && (leaf1[2] & (1 << 27)) != 0;
    long xcr0 = osxsave ? cpuid.xcr0() : 0;
    Map<Long, int[]> leaves = new java.util.HashMap<>();
    for (CpuidBit b : CPUID_BITS) {
      int[] regs = leaves.computeIfAbsent(((long) b.leaf() << 32) | b.subleaf(), k -> cpuid.query(b.leaf(), b.subleaf()));
      if (regs == null || (regs[b.register()] & (1 << b.bit())) == 0) {
        continue;
      }
      if (b.state() != 0 && (xcr0 == -1 || (xcr0 & b.state()) != b.state())) {
        continue;
      }
      out.add(b.flag());
    }
    return out;
  }

  /**
   * Parses {@code /proc/cpuinfo} text: the {@code flags} lines (x86) or
   * {@code Features} lines (ARM); a feature counts when every processor has it.
   */
  public static CpuFeatures fromCpuinfo(String arch, String os, String cpuinfo, String source) {
    Set<String> common = null;
    for (String line : cpuinfo.split("\n")) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim();
      if (!key.equals("flags") && !key.equals("Features")) {
        continue;
      }
      Set<String> these = new TreeSet<>(List.of(line.substring(colon + 1).trim().split("\\s+")));
      these.remove("");
      if (common == null) {
        common = these;
      } else {
        common.retainAll(these);
      }
    }
    return new CpuFeatures(arch, os, common == null ? List.of() : common, source);
  }

  /** {@code amd64} and {@code x86-64} become {@code x86_64}, {@code arm64} becomes {@code aarch64}. */
  public static String normalizeArch(String arch) {
    String a = arch.toLowerCase(Locale.ROOT);
    switch (a) {
      case "amd64": case "x86-64": case "x64":
        return "x86_64";
      case "arm64":
        return "aarch64";
      default:
        return a;
    }
  }

  /**
   * {@code linux}, {@code darwin}, {@code windows} or {@code freebsd} for an
   * {@code os.name} value or a triple component, or null when it names none of them.
   */
  public static String normalizeOs(String name) {
    String n = name.toLowerCase(Locale.ROOT).replace(" ", "");
    if (n.startsWith("linux")) {
      return "linux";
    }
    if (n.startsWith("darwin") || n.startsWith("macos")) {
      return "darwin";
    }
    if (n.startsWith("windows") || n.startsWith("win32")) {
      return "windows";
    }
    if (n.startsWith("freebsd")) {
      return "freebsd";
    }
    return null;
  }

  /**
   * The {@code /proc/cpuinfo} flag of an LLVM feature on an architecture:
   * {@code sse4.2 -> sse4_2}, {@code bmi -> bmi1}, {@code avx512vnni -> avx512_vnni};
   * names without an entry in the table keep their name with {@code .} and
   * {@code -} turned into {@code _} ({@code avx2 -> avx2}, {@code amx-tile -> amx_tile}).
   */
  public static String cpuinfoFlag(String arch, String llvmFeature) {
    String f = llvmFeature.startsWith("+") ? llvmFeature.substring(1) : llvmFeature;
    Map<String, String> table = normalizeArch(arch).equals("aarch64") ? AARCH64 : X86;
    String mapped = table.get(f);
    return mapped != null ? mapped : f.replace('.', '_').replace('-', '_');
  }

  public String arch() {
    return arch;
  }

  /** {@code linux}, {@code darwin}, ... as {@link #normalizeOs} names it, or null when unknown. */
  public String os() {
    return os;
  }

  /** The cpuinfo flags, sorted. */
  public Set<String> flags() {
    return flags;
  }

  /** Where the flags came from ({@code /proc/cpuinfo}, {@code given}, or why there are none). */
  public String source() {
    return source;
  }

  /** True when the CPU has the LLVM feature. */
  public boolean supports(String llvmFeature) {
    return flags.contains(cpuinfoFlag(arch, llvmFeature));
  }

  /** The LLVM features this CPU lacks, in the given order. */
  public List<String> missing(Collection<String> llvmFeatures) {
    List<String> out = new ArrayList<>();
    for (String f : llvmFeatures) {
      if (!supports(f)) {
        out.add(f);
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return arch + (os == null ? "" : " " + os) + " (" + flags.size() + " flags from " + source + ")";
  }
}
