package dev.nnvm.runtime.artifact;

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

/**
 * What a CPU can run: its architecture, operating system and feature flags,
 * named as Linux names them in {@code /proc/cpuinfo}. Native variants list
 * the features they need under LLVM's names ({@code avx2}, {@code fma},
 * {@code avx512f}, {@code sse4.2}); {@link #cpuinfoFlag} maps one to the other.
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
      if (!"linux".equals(os)) {
        return new CpuFeatures(arch, os, List.of(), "no /proc/cpuinfo on " + System.getProperty("os.name"));
      }
      try {
        String text = new String(Files.readAllBytes(CPUINFO), StandardCharsets.UTF_8);
        return fromCpuinfo(arch, os, text, CPUINFO.toString());
      } catch (IOException | SecurityException e) {
        return new CpuFeatures(arch, os, List.of(), CPUINFO + " unreadable: " + e.getMessage());
      }
    }
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
