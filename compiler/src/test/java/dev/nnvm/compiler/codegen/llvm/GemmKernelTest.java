package dev.nnvm.compiler.codegen.llvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nnvm.compiler.codegen.llvm.GemmGenerator.Blocking;
import dev.nnvm.compiler.codegen.llvm.GemmGenerator.Epilogue;
import dev.nnvm.compiler.codegen.llvm.GemmGenerator.Kernel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles generated GEMM kernels into shared libraries and runs them from a C driver
 * ({@code src/test/c/gemm_driver.c}, built with gcc here) against a double-precision reference.
 */
class GemmKernelTest {
    /** The kernels the driver expects, by name. */
    static final List<Kernel> KERNELS = List.of(
            new Kernel("gemm", Epilogue.NONE),
            new Kernel("gemm_bias", new Epilogue(true, false, false)),
            new Kernel("gemm_bias_relu", new Epilogue(true, false, true)),
            new Kernel("gemm_residual", new Epilogue(false, true, false)),
            new Kernel("gemm_bias_residual_relu", new Epilogue(true, true, true)),
            new Kernel("gemm_rowbias_relu", new Epilogue(false, false, true, true)),
            new Kernel("gemm_mr12_bias_residual_relu", new Epilogue(true, true, true), false, false,
                    GemmGenerator.MR_LARGE));

    @TempDir
    static Path dir;

    static Path driver;

    @BeforeAll
    static void buildDriver() throws Exception {
        driver = dir.resolve("gemm_driver");
        Path source = Path.of("src/test/c/gemm_driver.c").toAbsolutePath();
        Result gcc = run(List.of("gcc", "-O2", "-Wall", "-Werror", "-o", driver.toString(), source.toString(),
                "-ldl", "-lm", "-lpthread"));
        assertEquals(0, gcc.exit, "gcc failed:\n" + gcc.output);
    }

    @Test
    void hostKernelsMatchTheReference() throws Exception {
        checkVariant(CpuTarget.host());
    }

    @Test
    void avx2KernelsMatchTheReference() throws Exception {
        CpuTarget avx2 = CpuTarget.named(CpuTarget.AVX2);
        assumeTrue(avx2.runsHere(), "this CPU cannot run the AVX2 variant: " + avx2.missingHere());
        checkVariant(avx2);
    }

    @Test
    void sseKernelsMatchTheReference() throws Exception {
        checkVariant(CpuTarget.named("x86-64"));
    }

    @Test
    void workspaceSizeAgreesWithTheExportedFunction() throws Exception {
        GemmGenerator gen = new GemmGenerator(CpuTarget.host());
        Path lib = library(gen, "ws");
        long[][] cases = {{1, 1, 1, 1}, {4096, 384, 1536, 1}, {4096, 1536, 384, 4}, {7, 9000, 3, 2}, {5, 5, 0, 0}};
        for (long[] c : cases) {
            Result r = run(List.of(driver.toString(), "ws", lib.toString(), Long.toString(c[0]), Long.toString(c[1]),
                    Long.toString(c[2]), Long.toString(c[3])));
            assertEquals(0, r.exit, r.output);
            assertEquals(gen.workspaceBytes(c[0], c[1], c[2], (int) c[3]), Long.parseLong(r.output.strip()),
                    "workspace for M,N,K,threads = " + java.util.Arrays.toString(c));
        }
    }

    @Test
    void refusesBadNamesAndBlocking() {
        assertThrows(IllegalArgumentException.class, () -> new Kernel("my-gemm", Epilogue.NONE));
        GemmGenerator gen = new GemmGenerator(CpuTarget.named(CpuTarget.AVX2));
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> gen.module(List.of(new Kernel("g", Epilogue.NONE), new Kernel("g", Epilogue.NONE))));
        assertTrue(dup.getMessage().contains("'g' appears twice"), dup.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Blocking(16, 256, 100, 4096, 4));
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> new GemmGenerator(CpuTarget.named(CpuTarget.AVX512), new Blocking(8, 256, 240, 4096, 4)));
        assertTrue(width.getMessage().contains("vector width 16"), width.getMessage());
        assertThrows(IllegalArgumentException.class, () -> gen.workspaceBytes(-1, 2, 3, 1));
    }

    private static void checkVariant(CpuTarget target) throws Exception {
        GemmGenerator gen = new GemmGenerator(target);
        Path lib = library(gen, "check-" + target.name());
        Result r = run(List.of(driver.toString(), "check", lib.toString()));
        System.out.println(target + ", blocking " + gen.blocking() + ":\n" + r.output);
        assertEquals(0, r.exit, "GEMM check failed for " + target + ":\n" + r.output);
        assertTrue(r.output.contains(" 0 failed"), r.output);
    }

    private static Path library(GemmGenerator gen, String name) throws IOException {
        NativeLibrary lib = new NativeModuleCompiler(gen.target()).compile(name, gen.module(KERNELS));
        System.out.println(name + ": " + KERNELS.size() + " kernels, " + lib.times() + ", linker " + lib.linker());
        Path so = dir.resolve(name + ".so");
        Files.write(so, lib.sharedLibrary());
        return so;
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command + " timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
