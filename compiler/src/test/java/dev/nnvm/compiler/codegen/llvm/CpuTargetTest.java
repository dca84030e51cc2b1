package dev.nnvm.compiler.codegen.llvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.artifact.CpuFeatures;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CpuTargetTest {
    @Test
    void hostVectorWidthFollowsItsFeatures() {
        CpuTarget host = CpuTarget.host();
        String f = host.features();
        int expected = f.contains("+avx512f") ? 16 : f.contains("+avx2") && f.contains("+fma") ? 8 : 4;
        assertEquals(expected, host.vectorWidth(), host.toString());
        assertFalse(host.cpu().isEmpty());
        assertEquals("x86_64-unknown-linux-gnu", host.triple());
        assertTrue(CpuTarget.named("x86-64").runsOn(host));
        System.out.println(host + " features " + f);
    }

    @Test
    void theHostVariantRunsWhereItWasCompiled() {
        // Every feature the host target enables is one the runtime's detection confirms, so the runtime never
        // refuses the host variant on the machine that compiled it (LLVM reads CPUID only; a hypervisor may hide
        // a flag from /proc/cpuinfo).
        CpuTarget host = CpuTarget.host();
        assertTrue(host.runsHere(), "the host variant needs " + host.missingHere() + ", which the runtime does not"
                + " see on this machine: " + CpuFeatures.host());
    }

    @Test
    void featuresTheRuntimeDoesNotConfirmAreTurnedOff() {
        CpuFeatures noLzcnt = CpuFeatures.of("x86_64", "linux", List.of("fpu", "cx8", "cmov", "sse", "sse2", "avx",
                "avx2", "fma", "bmi1", "lm"));
        assertEquals("+avx2,+fma,-lzcnt,+bmi,-avx512f,+64bit,-sse4a",
                CpuTarget.confirmed("+avx2,+fma,+lzcnt,+bmi,-avx512f,+64bit,+sse4a", noLzcnt));
        // Nothing known about the machine: LLVM's own detection stands.
        CpuFeatures unknown = CpuFeatures.of("x86_64", "linux", List.of());
        assertEquals("+avx2,+lzcnt", CpuTarget.confirmed("+avx2,+lzcnt", unknown));
    }

    @Test
    void portableTargetsRequireTheVectorExtensionsTheirKernelsUseAndNoMore() {
        CpuTarget base = CpuTarget.named("x86-64");
        CpuTarget avx2 = CpuTarget.named("x86-64-avx2");
        CpuTarget avx512 = CpuTarget.named("x86-64-avx512");
        assertEquals(4, base.vectorWidth());
        assertEquals(8, avx2.vectorWidth());
        assertEquals(16, avx512.vectorWidth());
        assertEquals(Set.of("cmov", "cx8", "fxsr", "sse", "sse2"), base.requiredFeatures());
        assertEquals(Set.of("cmov", "cx8", "fxsr", "sse", "sse2", "sse3", "ssse3", "sse4.1", "sse4.2", "avx", "avx2",
                "fma", "f16c"), avx2.requiredFeatures());
        assertTrue(avx512.requiredFeatures().containsAll(avx2.requiredFeatures()));
        assertTrue(avx512.requiredFeatures().containsAll(List.of("avx512f", "avx512bw", "avx512dq", "avx512vl")));
        for (CpuTarget t : List.of(base, avx2, avx512)) {
            assertEquals("x86-64", t.cpu(), "generic CPU: only the listed features are enabled");
            for (String scalarExtra : List.of("lzcnt", "bmi", "bmi2", "movbe", "popcnt")) {
                assertFalse(t.requiredFeatures().contains(scalarExtra), t + " requires " + scalarExtra);
                assertFalse(t.features().contains("+" + scalarExtra), t + " enables " + scalarExtra);
            }
        }
        assertTrue(avx512.features().contains("+evex512"), avx512.features());
        assertTrue(avx2.runsOn(avx512));
        assertFalse(avx512.runsOn(avx2));
        assertFalse(avx2.runsOn(base));
    }

    @Test
    void llvmLevelNamesAreAliases() {
        assertEquals(CpuTarget.named("x86-64-avx2"), CpuTarget.named("x86-64-v3"));
        assertEquals(CpuTarget.named("x86-64-avx512"), CpuTarget.named("x86-64-v4"));
        assertEquals("x86-64-avx2", CpuTarget.named("x86-64-v3").name());
    }

    @Test
    void theBaselineCanGenerateWiderVectorsThanItsRegisters() {
        CpuTarget wide = CpuTarget.named("x86-64").withVectorWidth(16);
        assertEquals(16, wide.vectorWidth());
        assertTrue(wide.emulatesWidth());
        assertEquals(CpuTarget.named("x86-64").requiredFeatures(), wide.requiredFeatures());
        assertTrue(wide.toString().contains("16 floats a vector in 4-float registers"), wide.toString());
        assertThrows(IllegalArgumentException.class, () -> CpuTarget.named("x86-64-avx512").withVectorWidth(8));
        assertThrows(IllegalArgumentException.class, () -> CpuTarget.named("x86-64").withVectorWidth(12));
    }

    @Test
    void unknownNameIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuTarget.named("arm64"));
        assertTrue(e.getMessage().contains("'arm64'") && e.getMessage().contains("x86-64-avx2"), e.getMessage());
    }
}
