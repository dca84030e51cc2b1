package dev.nnvm.compiler.codegen.llvm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NativeModuleCompilerTest {
    private static final String ADD = String.join("\n",
            "define i32 @nnvm_add(i32 %a, i32 %b) {",
            "entry:",
            "  %s = add i32 %a, %b",
            "  ret i32 %s",
            "}",
            "");

    @Test
    void compilesAndLinksASharedLibrary() {
        NativeLibrary lib = new NativeModuleCompiler(CpuTarget.host()).compile("add", ADD);
        byte[] elf = {0x7f, 'E', 'L', 'F'};
        assertArrayEquals(elf, Arrays.copyOf(lib.objectFile(), 4));
        assertArrayEquals(elf, Arrays.copyOf(lib.sharedLibrary(), 4));
        assertEquals(3, lib.sharedLibrary()[16], "ET_DYN: a shared object");
        assertEquals(1, lib.objectFile()[16], "ET_REL: a relocatable object");
        assertTrue(lib.linker().equals("lld") || lib.linker().equals("ld"), lib.linker());
        assertTrue(lib.times().optimizeNanos() > 0 && lib.times().emitNanos() > 0 && lib.times().linkNanos() > 0);
        System.out.println("linker " + lib.linker() + "; " + lib.times());
    }

    @Test
    void compilesForPortableTargets() {
        for (String name : new String[] {"x86-64", "x86-64-avx2", "x86-64-avx512", "x86-64-v3", "x86-64-v4"}) {
            NativeModuleCompiler.ObjectCode code =
                    new NativeModuleCompiler(CpuTarget.named(name)).compileToObject("add", ADD);
            assertEquals(1, code.bytes()[16], name);
        }
    }

    @Test
    void parseErrorNamesTheLine() {
        String bad = ADD.replace("add i32 %a, %b", "addd i32 %a, %b");
        NativeCompileException e = assertThrows(NativeCompileException.class,
                () -> new NativeModuleCompiler(CpuTarget.host()).compileToObject("bad", bad));
        assertTrue(e.getMessage().contains("does not parse"), e.getMessage());
        assertTrue(e.getMessage().contains("[IR line 3: %s = addd i32 %a, %b]"), e.getMessage());
    }

    @Test
    void verifierErrorNamesTheLine() {
        String bad = String.join("\n",
                "define i32 @f(i32 %a) {",
                "entry:",
                "  br label %next",
                "next:",
                "  %u = add i32 %v, 1",
                "  %v = add i32 %a, 1",
                "  ret i32 %u",
                "}",
                "");
        NativeCompileException e = assertThrows(NativeCompileException.class,
                () -> new NativeModuleCompiler(CpuTarget.host()).compileToObject("bad", bad));
        assertTrue(e.getMessage().contains("IR is invalid"), e.getMessage());
        assertTrue(e.getMessage().contains("IR line 6"), e.getMessage());
    }

    @Test
    void compilesFromSeveralThreadsAtOnce() throws Exception {
        NativeModuleCompiler compiler = new NativeModuleCompiler(CpuTarget.named(CpuTarget.AVX2));
        byte[] expected = compiler.compileToObject("add", ADD).bytes();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<byte[]>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(pool.submit(() -> compiler.compileToObject("add", ADD).bytes()));
            }
            for (java.util.concurrent.Future<byte[]> r : results) {
                assertArrayEquals(expected, r.get(), "the same IR gives the same object on every thread");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rejectsBadOptLevel() {
        assertThrows(IllegalArgumentException.class, () -> new NativeModuleCompiler(CpuTarget.host(), 4));
    }
}
