package dev.nnvm.compiler.codegen.llvm;

/** Nanoseconds spent in each phase of {@link NativeModuleCompiler}. */
public record CompileTimes(long parseNanos, long verifyNanos, long optimizeNanos, long emitNanos, long linkNanos) {

    CompileTimes withLink(long nanos) {
        return new CompileTimes(parseNanos, verifyNanos, optimizeNanos, emitNanos, nanos);
    }

    public long totalNanos() {
        return parseNanos + verifyNanos + optimizeNanos + emitNanos + linkNanos;
    }

    @Override
    public String toString() {
        return String.format("parse %.1f ms, verify %.1f ms, optimize %.1f ms, emit %.1f ms, link %.1f ms, total %.1f ms",
                parseNanos / 1e6, verifyNanos / 1e6, optimizeNanos / 1e6, emitNanos / 1e6, linkNanos / 1e6,
                totalNanos() / 1e6);
    }
}
