package dev.nnvm.compiler.codegen.llvm;

import static org.bytedeco.llvm.global.LLVM.LLVMDisposeMessage;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86AsmParser;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86AsmPrinter;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86Target;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86TargetInfo;
import static org.bytedeco.llvm.global.LLVM.LLVMInitializeX86TargetMC;

import org.bytedeco.javacpp.BytePointer;

/** Loads LLVM and registers the X86 back end once per JVM; reads LLVM-owned strings. */
final class LlvmSupport {
    private static volatile boolean initialized;

    private LlvmSupport() {}

    /** Registers the X86 target (idempotent, thread-safe). The first call loads libLLVM (about a second). */
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
