package dev.nnvm.runtime.artifact;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;

/**
 * One build of the model's native code: a shared library for one target
 * triple and set of CPU features. An artifact may carry several (say
 * {@code x86-64-v4} with AVX-512 and {@code x86-64-v3} with AVX2 and FMA)
 * so one artifact runs on a cluster that mixes CPU generations.
 *
 * @param name unique variant name, e.g. {@code x86-64-v3}
 * @param triple LLVM target triple, e.g. {@code x86_64-unknown-linux-gnu}
 * @param cpu the LLVM CPU name the code was tuned for, e.g. {@code znver4} or {@code x86-64-v3}
 * @param features the CPU features the code needs, LLVM names without the {@code +}
 *     ({@code avx2}, {@code fma}, {@code avx512f}), sorted and without duplicates
 * @param entry the symbol of the model's entry point in the library
 * @param library the name of the part holding the shared library
 */
public record NativeVariant(String name, String triple, String cpu, List<String> features, String entry,
    String library) {

  public NativeVariant {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(triple, "triple");
    Objects.requireNonNull(cpu, "cpu");
    features = List.copyOf(new TreeSet<>(features));
    Objects.requireNonNull(entry, "entry");
    Objects.requireNonNull(library, "library");
  }

  /**
   * The features an LLVM feature string turns on: {@code "+avx2,-avx512f,+fma"}
   * gives {@code [avx2, fma]} (what {@code LLVMGetHostCPUFeatures} returns lists
   * disabled features too).
   */
  public static List<String> requiredFeatures(String llvmFeatures) {
    List<String> out = new ArrayList<>();
    for (String f : llvmFeatures.split(",")) {
      String t = f.trim();
      if (t.startsWith("+")) {
        out.add(t.substring(1));
      } else if (!t.isEmpty() && !t.startsWith("-")) {
        out.add(t);
      }
    }
    return List.copyOf(new TreeSet<>(out));
  }

  /** The architecture of the triple, normalized as {@link CpuFeatures#normalizeArch} does. */
  public String arch() {
    int dash = triple.indexOf('-');
    return CpuFeatures.normalizeArch(dash < 0 ? triple : triple.substring(0, dash));
  }

  /** The operating system the triple names ({@code linux}, {@code darwin}, {@code windows}), or null. */
  public String os() {
    for (String component : triple.toLowerCase(Locale.ROOT).split("-")) {
      String os = CpuFeatures.normalizeOs(component);
      if (os != null) {
        return os;
      }
    }
    return null;
  }
}
