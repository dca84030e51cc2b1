package dev.nnvm.compiler.codegen.llvm;

import static org.bytedeco.llvm.global.LLVM.LLVMGetHostCPUFeatures;
import static org.bytedeco.llvm.global.LLVM.LLVMGetHostCPUName;

import dev.nnvm.runtime.artifact.CpuFeatures;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A CPU to generate code for (x86-64, or AArch64 compiled from any machine): LLVM triple, CPU name
 * and feature string, plus what the kernels need to know about it (the fp32 vector width) and what a
 * machine must have to run the code ({@link #requiredFeatures()}).
 *
 * <p>{@link #host()} is the machine this JVM runs on (as LLVM detects it, less any feature the
 * runtime's detection does not confirm); {@link #named(String)} gives portable targets defined by
 * what the generated kernels use and nothing more: {@code x86-64} (the baseline every x86-64 CPU
 * runs: SSE2), {@code x86-64-avx2} (AVX2, FMA, F16C and the SSE levels under them) and
 * {@code x86-64-avx512} (that plus AVX-512 F/BW/DQ/VL). They are compiled for LLVM's generic
 * {@code x86-64} CPU with exactly those features enabled, so a CPU that has the vector units runs
 * them whatever scalar extras (LZCNT, BMI, MOVBE) a hypervisor hides. LLVM's levels
 * {@code x86-64-v3} and {@code x86-64-v4} are accepted as names of the AVX2 and AVX-512 targets.
 * {@code aarch64} is the cross target for 64-bit ARM Linux workers (Graviton, Ampere, Raspberry Pi
 * 4/5): LLVM's {@code generic} AArch64 CPU with NEON, 4 floats a vector. The kernels use only
 * target-independent LLVM IR (vector types, {@code llvm.fmuladd}, masked loads and stores,
 * {@code llvm.prefetch}), so every target takes the same generators. Immutable.
 */
public final class CpuTarget {
    /** The triple of the x86-64 targets: code is linked as a Linux shared library. */
    public static final String TRIPLE = "x86_64-unknown-linux-gnu";
    /** The triple of the AArch64 target. */
    public static final String AARCH64_TRIPLE = "aarch64-unknown-linux-gnu";

    /** The baseline target's name: any x86-64 CPU (SSE2). */
    public static final String BASELINE = "x86-64";
    public static final String AVX2 = "x86-64-avx2";
    public static final String AVX512 = "x86-64-avx512";
    /** 64-bit ARM with NEON (AdvSIMD), which every AArch64 Linux machine has. */
    public static final String AARCH64 = "aarch64";

    /** What LLVM's generic x86-64 CPU assumes, and so what the baseline needs (LLVM names). */
    private static final List<String> BASE = List.of("cmov", "cx8", "fxsr", "sse", "sse2");
    /** AVX2 + FMA kernels: the vector extensions they use, with the SSE levels AVX implies. */
    private static final List<String> AVX2_FEATURES = List.of("sse3", "ssse3", "sse4.1", "sse4.2", "avx", "avx2",
            "fma", "f16c");
    /** AVX-512 kernels: 32 vector registers of 16 floats, masks, byte/word and dword/qword forms, 128/256-bit forms. */
    private static final List<String> AVX512_FEATURES = List.of("avx512f", "avx512bw", "avx512dq", "avx512vl");
    /** AArch64: scalar floating point and NEON (cpuinfo {@code fp}, {@code asimd}); NEON includes the FMA. */
    private static final List<String> AARCH64_FEATURES = List.of("fp-armv8", "neon");

    private static volatile CpuTarget host;

    private final String name;
    private final String triple;
    private final String cpu;
    private final String features;
    private final Set<String> enabled;
    private final Set<String> required;
    private final int vectorWidth;

    private CpuTarget(String name, String triple, String cpu, String features, Set<String> required,
            int vectorWidth) {
        this.name = name;
        this.triple = triple;
        this.cpu = cpu;
        this.features = features;
        this.enabled = parseEnabled(features);
        this.required = Collections.unmodifiableSet(new LinkedHashSet<>(required));
        this.vectorWidth = vectorWidth > 0 ? vectorWidth : nativeWidth(triple, enabled);
    }

    /**
     * The CPU this JVM runs on, detected by LLVM ({@code LLVMGetHostCPUName/Features}); cached. A feature LLVM
     * reports but the runtime's detection ({@link CpuFeatures#host()}: {@code /proc/cpuinfo} and CPUID) does not
     * is turned off, so the code never uses what the runtime would refuse it for (a hypervisor may hide LZCNT from
     * cpuinfo while CPUID reports it).
     */
    public static CpuTarget host() {
        CpuTarget h = host;
        if (h == null) {
            LlvmSupport.initialize();
            String cpuName = LlvmSupport.takeMessage(LLVMGetHostCPUName());
            String featureString = confirmed(LlvmSupport.takeMessage(LLVMGetHostCPUFeatures()), CpuFeatures.host());
            Set<String> on = parseEnabled(featureString);
            String triple = CpuFeatures.host().arch().equals("aarch64") ? AARCH64_TRIPLE : TRIPLE;
            h = new CpuTarget("host", triple, cpuName == null ? "generic" : cpuName, featureString, on, 0);
            host = h;
        }
        return h;
    }

    /**
     * An LLVM feature string with every enabled feature that {@code machine} does not report turned off; unchanged
     * when the machine's features are unknown (no source could be read).
     */
    static String confirmed(String llvmFeatures, CpuFeatures machine) {
        if (llvmFeatures == null) {
            return "";
        }
        if (machine.flags().isEmpty() || !machine.arch().equals("x86_64")) {
            return llvmFeatures;
        }
        return Arrays.stream(llvmFeatures.split(","))
                .map(String::trim)
                .filter(f -> !f.isEmpty())
                .map(f -> f.startsWith("+") && !machine.supports(f.substring(1)) ? "-" + f.substring(1) : f)
                .collect(Collectors.joining(","));
    }

    /**
     * A portable target by name: {@code x86-64} (SSE2, 4 floats a vector), {@code x86-64-avx2}
     * (AVX2 + FMA, 8 floats) or {@code x86-64-avx512} (AVX-512, 16 floats); {@code x86-64-v3} and
     * {@code x86-64-v4} name the last two; {@code aarch64} (NEON, 4 floats); {@code host} is {@link #host()}.
     */
    public static CpuTarget named(String name) {
        Objects.requireNonNull(name, "name");
        switch (canonicalName(name)) {
            case "host":
                return host();
            case BASELINE:
                return new CpuTarget(BASELINE, TRIPLE, "x86-64", "", new LinkedHashSet<>(BASE), 0);
            case AVX2: {
                Set<String> req = new LinkedHashSet<>(BASE);
                req.addAll(AVX2_FEATURES);
                return new CpuTarget(AVX2, TRIPLE, "x86-64", plus(AVX2_FEATURES), req, 0);
            }
            case AVX512: {
                Set<String> req = new LinkedHashSet<>(BASE);
                req.addAll(AVX2_FEATURES);
                req.addAll(AVX512_FEATURES);
                List<String> on = new java.util.ArrayList<>(AVX2_FEATURES);
                on.addAll(AVX512_FEATURES);
                on.add("evex512"); // LLVM 18+: 512-bit registers are a feature of their own
                return new CpuTarget(AVX512, TRIPLE, "x86-64", plus(on), req, 0);
            }
            case AARCH64:
                return new CpuTarget(AARCH64, AARCH64_TRIPLE, "generic", plus(AARCH64_FEATURES),
                        new LinkedHashSet<>(AARCH64_FEATURES), 0);
            default:
                throw new IllegalArgumentException("unknown CPU target '" + name
                        + "': expected one of host, x86-64-avx512, x86-64-avx2, x86-64, aarch64 (x86-64-v4 and"
                        + " x86-64-v3 name the AVX-512 and AVX2 targets)");
        }
    }

    /** A target name with the LLVM level aliases replaced: {@code x86-64-v3 -> x86-64-avx2}, {@code -v4 -> -avx512}. */
    public static String canonicalName(String name) {
        switch (name) {
            case "x86-64-v3":
                return AVX2;
            case "x86-64-v4":
                return AVX512;
            default:
                return name;
        }
    }

    /**
     * This target generating kernels for vectors of {@code width} floats, wider than its registers: LLVM splits
     * each vector into register-sized parts. The baseline takes the width of the other variants of an artifact
     * this way, so one weights layout and one memory plan (the blocked convolution layout among them) serve all.
     */
    public CpuTarget withVectorWidth(int width) {
        if (width < nativeWidth(triple, enabled) || Integer.bitCount(width) != 1) {
            throw new IllegalArgumentException("vector width " + width + " for " + this
                    + ": a power of two at least the registers' " + nativeWidth(triple, enabled)
                    + " floats is needed");
        }
        return new CpuTarget(name, triple, cpu, features, required, width);
    }

    /** {@code host}, or the portable level's name. */
    public String name() {
        return name;
    }

    /** The LLVM target triple: {@link #TRIPLE} or {@link #AARCH64_TRIPLE}. */
    public String triple() {
        return triple;
    }

    /** The architecture the code runs on, as the runtime names it ({@code x86_64}, {@code aarch64}). */
    public String arch() {
        return CpuFeatures.normalizeArch(triple.substring(0, triple.indexOf('-')));
    }

    /** Whether this target's code runs on the machine compiling it (same architecture); says nothing of features. */
    public boolean sameArchAsHost() {
        return arch().equals(CpuFeatures.host().arch());
    }

    /** LLVM CPU name (e.g. {@code znver4}, {@code x86-64}, {@code generic} for AArch64). */
    public String cpu() {
        return cpu;
    }

    /** LLVM feature string ({@code +avx2,+fma,-avx512f,...}); may be empty when the CPU name implies it all. */
    public String features() {
        return features;
    }

    /**
     * Features a machine must have to run code built for this target (lower-case LLVM names, no sign). The
     * architecture is the triple's: the runtime never runs code of another architecture whatever its features.
     */
    public Set<String> requiredFeatures() {
        return required;
    }

    /**
     * Whether code built for this target runs on this machine as the runtime sees it ({@link CpuFeatures#host()},
     * the check the runtime makes before it loads a variant).
     */
    public boolean runsHere() {
        return missingHere().isEmpty();
    }

    /** The required features this machine lacks, as the runtime sees it (empty: {@link #runsHere()}). */
    public List<String> missingHere() {
        CpuFeatures here = CpuFeatures.host();
        if (!arch().equals(here.arch())) {
            return List.of(arch());
        }
        return here.missing(required);
    }

    /** Whether code built for this target runs on {@code machine} (it has every required feature). */
    public boolean runsOn(CpuTarget machine) {
        if (!arch().equals(machine.arch())) {
            return false;
        }
        Set<String> has = new LinkedHashSet<>(machine.enabled);
        has.addAll(machine.required);
        return has.containsAll(required);
    }

    /**
     * fp32 lanes of the vectors the kernels use: 16 with AVX-512F, 8 with AVX2 + FMA, else 4 (SSE2, NEON), unless
     * set wider ({@link #withVectorWidth}).
     */
    public int vectorWidth() {
        return vectorWidth;
    }

    /** Whether the kernels' vectors are wider than the registers (see {@link #withVectorWidth}). */
    public boolean emulatesWidth() {
        return vectorWidth != nativeWidth(triple, enabled);
    }

    private static int nativeWidth(String triple, Set<String> enabled) {
        if (!triple.equals(TRIPLE)) {
            return 4; // NEON: 128-bit registers
        }
        if (enabled.contains("avx512f")) {
            return 16;
        }
        if (enabled.contains("avx2") && enabled.contains("fma")) {
            return 8;
        }
        return 4;
    }

    /** Whether fused multiply-add instructions are available (always on AArch64: NEON's {@code fmla}). */
    public boolean hasFma() {
        return enabled.contains("fma") || !triple.equals(TRIPLE);
    }

    private static String plus(List<String> names) {
        return names.stream().map(f -> "+" + f).collect(Collectors.joining(","));
    }

    private static Set<String> parseEnabled(String featureString) {
        return Arrays.stream(featureString.split(","))
                .map(String::trim)
                .filter(f -> f.startsWith("+"))
                .map(f -> f.substring(1))
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CpuTarget && ((CpuTarget) o).triple.equals(triple) && ((CpuTarget) o).cpu.equals(cpu)
                && ((CpuTarget) o).features.equals(features) && ((CpuTarget) o).name.equals(name)
                && ((CpuTarget) o).vectorWidth == vectorWidth;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, triple, cpu, features, vectorWidth);
    }

    @Override
    public String toString() {
        return name + " (" + triple + ", cpu " + cpu + ", " + vectorWidth() + " floats a vector"
                + (emulatesWidth() ? " in " + nativeWidth(triple, enabled) + "-float registers" : "") + ")";
    }
}
