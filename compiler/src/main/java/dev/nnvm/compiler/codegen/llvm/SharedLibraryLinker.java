package dev.nnvm.compiler.codegen.llvm;

import dev.nnvm.runtime.artifact.CpuFeatures;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.llvm.global.LLVM;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Links a position-independent object file into a shared library: with the {@code lld} shipped in
 * the LLVM presets' natives jar (extracted once by {@code Loader.cacheResource}, next to the
 * {@code libLLVM.so} it needs under the name {@code libLLVM.so.20.1}), else with the system
 * {@code ld}. lld links every architecture (it takes the machine from the object file), so objects
 * for another architecture than this machine's (AArch64 from x86-64) are linked by lld only: the
 * system {@code ld} is this machine's. Which one ran is logged at debug level and returned.
 * Thread-safe.
 */
final class SharedLibraryLinker {
    private static final Logger LOG = LoggerFactory.getLogger(SharedLibraryLinker.class);
    private static final long TIMEOUT_SECONDS = 120;

    private static volatile List<String> lldCommand;
    private static volatile String lldUnavailable;

    private SharedLibraryLinker() {}

    record Linked(byte[] library, String linker) {}

    static Linked link(byte[] object, String moduleName, CpuTarget target) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("nnvm-link-");
            Path in = dir.resolve("module.o");
            Path out = dir.resolve("module.so");
            Files.write(in, object);
            List<String> lld = lld();
            String failure;
            if (lld != null) {
                List<String> cmd = new ArrayList<>(lld);
                cmd.addAll(List.of("-shared", "--hash-style=both", "-o", out.toString(), in.toString()));
                failure = run(cmd);
                if (failure == null) {
                    LOG.debug("linked '{}' with lld from the LLVM presets", moduleName);
                    return new Linked(Files.readAllBytes(out), "lld");
                }
                LOG.debug("lld failed on '{}' ({}); trying the system ld", moduleName, failure);
            } else {
                failure = lldUnavailable;
            }
            if (!target.sameArchAsHost()) {
                throw new NativeCompileException("module '" + moduleName + "': cannot link a shared library for "
                        + target.arch() + ": lld: " + failure + "; the system ld links for " + CpuFeatures.host().arch()
                        + " only");
            }
            String ldFailure = run(List.of("ld", "-shared", "--hash-style=both", "-o", out.toString(), in.toString()));
            if (ldFailure == null) {
                LOG.debug("linked '{}' with the system ld (lld: {})", moduleName, failure);
                return new Linked(Files.readAllBytes(out), "ld");
            }
            throw new NativeCompileException("module '" + moduleName + "': cannot link a shared library: lld: "
                    + failure + "; ld: " + ldFailure);
        } catch (IOException e) {
            throw new NativeCompileException("module '" + moduleName + "': cannot link a shared library: " + e, e);
        } finally {
            deleteQuietly(dir);
        }
    }

    /** The lld command (extracted and ready), or null when it cannot be used here (reason kept). */
    private static List<String> lld() {
        if (lldCommand != null || lldUnavailable != null) {
            return lldCommand;
        }
        synchronized (SharedLibraryLinker.class) {
            if (lldCommand == null && lldUnavailable == null) {
                try {
                    LlvmSupport.initialize();
                    // The natives jar of this machine's platform (linux-x86_64, ...) holds lld and libLLVM.
                    String natives = "/org/bytedeco/llvm/" + Loader.getPlatform() + "/";
                    File exe = Loader.cacheResource(LLVM.class, natives + "lld");
                    if (exe == null) {
                        lldUnavailable = "no lld in the LLVM natives jar";
                        return null;
                    }
                    if (!exe.canExecute() && !exe.setExecutable(true)) {
                        lldUnavailable = "cannot make " + exe + " executable";
                        return null;
                    }
                    Path dir = exe.toPath().getParent();
                    Path llvm = dir.resolve("libLLVM.so");
                    if (!Files.exists(llvm)) {
                        llvm = Loader.cacheResource(LLVM.class, natives + "libLLVM.so").toPath();
                    }
                    Path versioned = dir.resolve("libLLVM.so.20.1");
                    if (!Files.exists(versioned)) {
                        try {
                            Files.createSymbolicLink(versioned, llvm.getFileName());
                        } catch (FileAlreadyExistsException raced) {
                            LOG.debug("{} appeared meanwhile", versioned);
                        }
                    }
                    lldCommand = List.of(exe.getPath(), "-flavor", "gnu");
                } catch (IOException | RuntimeException e) {
                    lldUnavailable = "cannot extract lld: " + e;
                }
            }
            return lldCommand;
        }
    }

    /** Runs a command; null when it succeeded, else what went wrong with its output. */
    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return command.get(0) + " timed out after " + TIMEOUT_SECONDS + " s";
            }
            if (p.exitValue() != 0) {
                return "exit " + p.exitValue() + ": " + new String(output, StandardCharsets.UTF_8).strip();
            }
            return null;
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.debug("could not delete {}: {}", dir, e.toString());
        }
    }
}
