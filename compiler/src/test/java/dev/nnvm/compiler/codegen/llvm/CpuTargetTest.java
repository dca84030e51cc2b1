package dev.nnvm.compiler.codegen.llvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void portableLevels() {
        CpuTarget base = CpuTarget.named("x86-64");
        CpuTarget v3 = CpuTarget.named("x86-64-v3");
        CpuTarget v4 = CpuTarget.named("x86-64-v4");
        assertEquals(4, base.vectorWidth());
        assertEquals(8, v3.vectorWidth());
        assertEquals(16, v4.vectorWidth());
        assertTrue(v3.requiredFeatures().contains("avx2") && v3.requiredFeatures().contains("fma"));
        assertTrue(v4.requiredFeatures().containsAll(v3.requiredFeatures()));
        assertTrue(v4.requiredFeatures().contains("avx512f"));
        assertTrue(v3.runsOn(v4));
        assertFalse(v4.runsOn(v3));
        assertFalse(v3.runsOn(base));
    }

    @Test
    void unknownNameIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuTarget.named("arm64"));
        assertTrue(e.getMessage().contains("'arm64'") && e.getMessage().contains("x86-64-v3"), e.getMessage());
    }
}
