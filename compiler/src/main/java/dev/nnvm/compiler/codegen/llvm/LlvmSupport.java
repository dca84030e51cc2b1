package dev.nnvm.compiler.codegen.llvm;

import static org.bytedeco.llvm.global.LLVM.LLVMDisposeMessage;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeAArch64AsmParser;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeAArch64AsmPrinter;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeAArch64Target;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeAArch64TargetInfo;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeAArch64TargetMC;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86AsmParser;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86AsmPrinter;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86Target;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86TargetInfo;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86TargetMC;

import org.bytedeco.javacpp.BytePointer;

/** Loads LLVM and registers the X86 and AArch64 back ends once per JVM; reads LLVM-owned strings. */
final class LlvmSupport {
    private static volatile boolean initialized;

    static {
        // JavaCPP logs through SLF4J (the application's logging settings) instead of printing to stderr: its
        // "Versions of org.bytedeco:javacpp:1.5.14 and org.bytedeco:llvm:20.1.7-1.5.12 do not match" warning is
        // about a pairing this project pins on purpose and measured (../shared/DESIGN.md), nothing a user can act
        // on. Must run before JavaCPP's Loader initializes, which the first LLVM call below does.
        if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
            System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
        }
        // Under slf4j-simple (nnvmc, the demo) that logger shows errors only; other bindings follow their config.
        if (System.getProperty("org.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader", "error");
        }
    }

    private LlvmSupport() {}

    /**
     * Registers the X86 and AArch64 targets (idempotent, thread-safe; both are in the presets' libLLVM, so the
     * AArch64 one costs no extra load). The first call loads libLLVM (about a second).
     */
    static void initialize() {
        if (initialized) {
            return;
        }
        synchronized (LlvmSupport.class) {
            if (!initialized) {
                LLVMInitializeX86TargetInfo();
                LLVMInitializeX86Target();
                LLVMInitializeX86TargetMC();
                LLVMInitializeX86AsmPrinter();
                LLVMInitializeX86AsmParser();
                LLVMInitializeAArch64TargetInfo();
                LLVMInitializeAArch64Target();
                LLVMInitializeAArch64TargetMC();
                LLVMInitializeAArch64AsmPrinter();
                LLVMInitializeAArch64AsmParser();
                initialized = true;
            }
        }
    }

    /** Copies a string LLVM allocated and frees it with {@code LLVMDisposeMessage}; null stays null. */
    static String takeMessage(BytePointer message) {
        if (message == null || message.isNull()) {
            return null;
        }
        try {
            return message.getString();
        } finally {
            LLVMDisposeMessage(message);
        }
    }
}
