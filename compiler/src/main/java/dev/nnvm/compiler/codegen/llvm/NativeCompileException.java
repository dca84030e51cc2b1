package dev.nnvm.compiler.codegen.llvm;

/** LLVM IR that does not parse, verify, optimize, emit or link; the message says which and why. */
public final class NativeCompileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NativeCompileException(String message) {
        super(message);
    }

    public NativeCompileException(String message, Throwable cause) {
        super(message, cause);
    }
}
