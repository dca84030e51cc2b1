package dev.nnvm.compiler.codegen.llvm;

import static org.bytedeco.llvm.global.LLVM.LLVMGetHostCPUFeatures;
import static org.bytedeco.llvm.global.LLVM.LLVMGetHostCPUName;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An x86-64 CPU to generate code for: LLVM triple, CPU name and feature string, plus what the
 * kernels need to know about it (the fp32 vector width) and what a machine must have to run the
 * code ({@link #requiredFeatures()}).
 *
 * <p>{@link #host()} is the machine this JVM runs on (as LLVM detects it); {@link #named(String)}
 * gives portable targets ({@code x86-64}, {@code x86-64-v3} = AVX2 + FMA, {@code x86-64-v4} =
 * AVX-512), so one compile can produce several variants and a worker picks the best it supports.
 * Immutable.
 */
public final class CpuTarget {
    /** The triple of every target here: code is linked as a Linux shared library. */
    public static final String TRIPLE = "x86_64-unknown-linux-gnu";

    private static final List<String> V3 = List.of("avx", "avx2", "fma", "f16c", "bmi", "bmi2", "lzcnt", "movbe");
    private static final List<String> V4 = List.of("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl");

    private static volatile CpuTarget host;

    private final String name;
    private final String cpu;
    private final String features;
    private final Set<String> enabled;
    private final Set<String> required;

    private CpuTarget(String name, String cpu, String features, Set<String> required) {
        this.name = name;
        this.cpu = cpu;
        this.features = features;
        this.enabled = parseEnabled(features);
        this.required = Collections.unmodifiableSet(new LinkedHashSet<>(required));
    }

    /** The CPU this JVM runs on, detected by LLVM ({@code LLVMGetHostCPUName/Features}); cached. */
    public static CpuTarget host() {
        CpuTarget h = host;
        if (h == null) {
            LlvmSupport.initialize();
            String cpuName = LlvmSupport.takeMessage(LLVMGetHostCPUName());
            String featureString = LlvmSupport.takeMessage(LLVMGetHostCPUFeatures());
            Set<String> on = parseEnabled(featureString == null ? "" : featureString);
            h = new CpuTarget("host", cpuName == null ? "generic" : cpuName,
                    featureString == null ? "" : featureString, on);
            host = h;
        }
        return h;
    }

    /**
     * A portable target by name: {@code x86-64} (SSE2, 4 floats a vector), {@code x86-64-v3}
     * (AVX2 + FMA, 8 floats) or {@code x86-64-v4} (AVX-512, 16 floats); {@code host} is {@link #host()}.
     */
    public static CpuTarget named(String name) {
        Objects.requireNonNull(name, "name");
        switch (name) {
            case "host":
                return host();
            case "x86-64":
                return new CpuTarget(name, "x86-64", "", Set.of("sse2"));
            case "x86-64-v3":
                return new CpuTarget(name, "x86-64-v3", plus(V3), new LinkedHashSet<>(V3));
            case "x86-64-v4": {
                Set<String> req = new LinkedHashSet<>(V3);
                req.addAll(V4);
                return new CpuTarget(name, "x86-64-v4", plus(List.copyOf(req)), req);
            }
            default:
                throw new IllegalArgumentException("unknown CPU target '" + name
                        + "': expected one of host, x86-64, x86-64-v3, x86-64-v4");
        }
    }

    /** {@code host}, or the portable level's name. */
    public String name() {
        return name;
    }

    public String triple() {
        return TRIPLE;
    }

    /** LLVM CPU name (e.g. {@code znver4}, {@code x86-64-v3}). */
    public String cpu() {
        return cpu;
    }

    /** LLVM feature string ({@code +avx2,+fma,-avx512f,...}); may be empty when the CPU name implies it all. */
    public String features() {
        return features;
    }

    /** Features a machine must have to run code built for this target (lower-case LLVM names, no sign). */
    public Set<String> requiredFeatures() {
        return required;
    }

    /** Whether code built for this target runs on {@code machine} (it has every required feature). */
    public boolean runsOn(CpuTarget machine) {
        return machine.enabled.containsAll(required);
    }

    /** fp32 lanes of the widest vector the kernels use: 16 with AVX-512F, 8 with AVX2 + FMA, else 4. */
    public int vectorWidth() {
        if (enabled.contains("avx512f")) {
            return 16;
        }
        if (enabled.contains("avx2") && enabled.contains("fma")) {
            return 8;
        }
        return 4;
    }

    /** Whether fused multiply-add instructions are available. */
    public boolean hasFma() {
        return enabled.contains("fma");
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
        return o instanceof CpuTarget && ((CpuTarget) o).cpu.equals(cpu) && ((CpuTarget) o).features.equals(features)
                && ((CpuTarget) o).name.equals(name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, cpu, features);
    }

    @Override
    public String toString() {
        return name + " (" + TRIPLE + ", cpu " + cpu + ", " + vectorWidth() + " floats a vector)";
    }
}
