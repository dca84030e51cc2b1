package dev.nnvm.compiler.codegen.llvm;

import java.util.Objects;

/**
 * Native code for one target: the ELF shared library (what an artifact carries), the object file it
 * was linked from, which linker linked it, and the compile times. Plain bytes; owns no native memory.
 */
public final class NativeLibrary {
    private final CpuTarget target;
    private final byte[] objectFile;
    private final byte[] sharedLibrary;
    private final String linker;
    private final CompileTimes times;

    NativeLibrary(CpuTarget target, byte[] objectFile, byte[] sharedLibrary, String linker, CompileTimes times) {
        this.target = Objects.requireNonNull(target);
        this.objectFile = objectFile.clone();
        this.sharedLibrary = sharedLibrary.clone();
        this.linker = Objects.requireNonNull(linker);
        this.times = Objects.requireNonNull(times);
    }

    public CpuTarget target() {
        return target;
    }

    /** The relocatable object (a copy). */
    public byte[] objectFile() {
        return objectFile.clone();
    }

    /** The shared library (a copy), loadable with {@code dlopen}. */
    public byte[] sharedLibrary() {
        return sharedLibrary.clone();
    }

    /** {@code lld} (from the LLVM presets) or {@code ld} (the system linker). */
    public String linker() {
        return linker;
    }

    public CompileTimes times() {
        return times;
    }
}
