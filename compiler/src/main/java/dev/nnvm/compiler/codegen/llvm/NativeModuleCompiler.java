package dev.nnvm.compiler.codegen.llvm;

import static org.bytedeco.llvm.global.LLVM.LLVMCodeGenLevelAggressive;
import static org.bytedeco.llvm.global.LLVM.LLVMCodeModelDefault;
import static org.bytedeco.llvm.global.LLVM.LLVMContextCreate;
import static org.bytedeco.llvm.global.LLVM.LLVMContextDispose;
import static org.bytedeco.llvm.global.LLVM.LLVMCreateMemoryBufferWithMemoryRangeCopy;
import static org.bytedeco.llvm.global.LLVM.LLVMCreatePassBuilderOptions;
import static org.bytedeco.llvm.global.LLVM.LLVMCreateTargetDataLayout;
import static org.bytedeco.llvm.global.LLVM.LLVMCreateTargetMachine;
import static org.bytedeco.llvm.global.LLVM.LLVMDisposeErrorMessage;
import static org.bytedeco.llvm.global.LLVM.LLVMDisposeMemoryBuffer;
import static org.bytedeco.llvm.global.LLVM.LLVMDisposeModule;
import static org.bytedeco.llvm.global.LLVM.LLVMDisposePassBuilderOptions;
import static org.bytedeco.llvm.global.LLVM.LLVMDisposeTargetData;
import static org.bytedeco.llvm.global.LLVM.LLVMDisposeTargetMachine;
import static org.bytedeco.llvm.global.LLVM.LLVMGetBufferSize;
import static org.bytedeco.llvm.global.LLVM.LLVMGetBufferStart;
import static org.bytedeco.llvm.global.LLVM.LLVMGetErrorMessage;
import static org.bytedeco.llvm.global.LLVM.LLVMGetTargetFromTriple;
import static org.bytedeco.llvm.global.LLVM.LLVMObjectFile;
import static org.bytedeco.llvm.global.LLVM.LLVMParseIRInContext;
import static org.bytedeco.llvm.global.LLVM.LLVMRelocPIC;
import static org.bytedeco.llvm.global.LLVM.LLVMReturnStatusAction;
import static org.bytedeco.llvm.global.LLVM.LLVMRunPasses;
import static org.bytedeco.llvm.global.LLVM.LLVMSetModuleDataLayout;
import static org.bytedeco.llvm.global.LLVM.LLVMSetTarget;
import static org.bytedeco.llvm.global.LLVM.LLVMTargetMachineEmitToMemoryBuffer;
import static org.bytedeco.llvm.global.LLVM.LLVMVerifyModule;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.llvm.LLVM.LLVMContextRef;
import org.bytedeco.llvm.LLVM.LLVMErrorRef;
import org.bytedeco.llvm.LLVM.LLVMMemoryBufferRef;
import org.bytedeco.llvm.LLVM.LLVMModuleRef;
import org.bytedeco.llvm.LLVM.LLVMPassBuilderOptionsRef;
import org.bytedeco.llvm.LLVM.LLVMTargetDataRef;
import org.bytedeco.llvm.LLVM.LLVMTargetMachineRef;
import org.bytedeco.llvm.LLVM.LLVMTargetRef;

/**
 * Turns LLVM IR text into native code for one {@link CpuTarget}: parse, verify, optimize
 * ({@code default<O3>}), emit a position-independent object file, and link it into a shared
 * library ({@link SharedLibraryLinker}). Every phase is timed ({@link CompileTimes}).
 *
 * <p>Thread-safe: each call works in its own LLVM context and target machine, and disposes every
 * LLVM object it created before returning, on success and on failure.
 */
public final class NativeModuleCompiler {
    private final CpuTarget target;
    private final String passPipeline;

    /** A compiler for {@code target} running LLVM's {@code default<O3>} pipeline. */
    public NativeModuleCompiler(CpuTarget target) {
        this(target, 3);
    }

    /** A compiler for {@code target} at optimization level 0 to 3 ({@code default<On>}). */
    public NativeModuleCompiler(CpuTarget target, int optLevel) {
        this.target = Objects.requireNonNull(target, "target");
        if (optLevel < 0 || optLevel > 3) {
            throw new IllegalArgumentException("optimization level must be 0 to 3, got " + optLevel);
        }
        this.passPipeline = "default<O" + optLevel + ">";
    }

    public CpuTarget target() {
        return target;
    }

    /** IR text to a shared library (and the object file it was linked from). */
    public NativeLibrary compile(String moduleName, String irText) {
        ObjectCode object = compileToObject(moduleName, irText);
        long start = System.nanoTime();
        SharedLibraryLinker.Linked linked = SharedLibraryLinker.link(object.bytes(), moduleName, target);
        CompileTimes times = object.times().withLink(System.nanoTime() - start);
        return new NativeLibrary(target, object.bytes(), linked.library(), linked.linker(), times);
    }

    /** IR text to an ELF relocatable object (PIC), with the times of each phase (link time 0). */
    public ObjectCode compileToObject(String moduleName, String irText) {
        Objects.requireNonNull(moduleName, "moduleName");
        Objects.requireNonNull(irText, "irText");
        LlvmSupport.initialize();
        long t0 = System.nanoTime();
        LLVMContextRef context = LLVMContextCreate();
        LLVMModuleRef module = new LLVMModuleRef();
        LLVMTargetMachineRef machine = null;
        try {
            parse(context, moduleName, irText, module);
            long t1 = System.nanoTime();
            verify(module, moduleName, irText);
            long t2 = System.nanoTime();
            machine = createMachine();
            LLVMSetTarget(module, target.triple());
            LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(machine);
            LLVMSetModuleDataLayout(module, layout);
            LLVMDisposeTargetData(layout);
            optimize(module, machine, moduleName);
            long t3 = System.nanoTime();
            byte[] object = emit(module, machine, moduleName);
            long t4 = System.nanoTime();
            return new ObjectCode(object, new CompileTimes(t1 - t0, t2 - t1, t3 - t2, t4 - t3, 0));
        } finally {
            if (machine != null) {
                LLVMDisposeTargetMachine(machine);
            }
            if (!module.isNull()) {
                LLVMDisposeModule(module);
            }
            LLVMContextDispose(context);
        }
    }

    private static void parse(LLVMContextRef context, String moduleName, String irText, LLVMModuleRef module) {
        byte[] text = irText.getBytes(StandardCharsets.UTF_8);
        try (BytePointer data = new BytePointer(text.length + 1L);
                BytePointer name = new BytePointer(moduleName);
                BytePointer error = new BytePointer((Pointer) null)) {
            data.put(text).put(text.length, (byte) 0);
            // The parser takes ownership of the buffer, on success and on failure alike.
            LLVMMemoryBufferRef buffer = LLVMCreateMemoryBufferWithMemoryRangeCopy(data, text.length, name);
            if (LLVMParseIRInContext(context, buffer, module, error) != 0) {
                String message = LlvmSupport.takeMessage(error);
                throw new NativeCompileException("module '" + moduleName + "': IR does not parse: "
                        + withSourceLine(message, irText));
            }
        }
    }

    private static void verify(LLVMModuleRef module, String moduleName, String irText) {
        try (BytePointer error = new BytePointer((Pointer) null)) {
            int broken = LLVMVerifyModule(module, LLVMReturnStatusAction, error);
            String message = LlvmSupport.takeMessage(error);
            if (broken != 0) {
                throw new NativeCompileException("module '" + moduleName + "': IR is invalid: "
                        + withSourceLine(message, irText));
            }
        }
    }

    private LLVMTargetMachineRef createMachine() {
        LLVMTargetRef llvmTarget = new LLVMTargetRef();
        try (BytePointer error = new BytePointer((Pointer) null);
                BytePointer triple = new BytePointer(target.triple())) {
            if (LLVMGetTargetFromTriple(triple, llvmTarget, error) != 0) {
                throw new NativeCompileException("no LLVM target for " + target.triple() + ": "
                        + LlvmSupport.takeMessage(error));
            }
        }
        LLVMTargetMachineRef machine = LLVMCreateTargetMachine(llvmTarget, target.triple(), target.cpu(),
                target.features(), LLVMCodeGenLevelAggressive, LLVMRelocPIC, LLVMCodeModelDefault);
        if (machine == null || machine.isNull()) {
            throw new NativeCompileException("LLVM refused a target machine for " + target);
        }
        return machine;
    }

    private void optimize(LLVMModuleRef module, LLVMTargetMachineRef machine, String moduleName) {
        LLVMPassBuilderOptionsRef options = LLVMCreatePassBuilderOptions();
        try {
            LLVMErrorRef error = LLVMRunPasses(module, passPipeline, machine, options);
            if (error != null && !error.isNull()) {
                BytePointer message = LLVMGetErrorMessage(error);
                String text = message.getString();
                LLVMDisposeErrorMessage(message);
                throw new NativeCompileException("module '" + moduleName + "': " + passPipeline + " failed: " + text);
            }
        } finally {
            LLVMDisposePassBuilderOptions(options);
        }
    }

    private static byte[] emit(LLVMModuleRef module, LLVMTargetMachineRef machine, String moduleName) {
        LLVMMemoryBufferRef buffer = new LLVMMemoryBufferRef();
        try (BytePointer error = new BytePointer((Pointer) null)) {
            if (LLVMTargetMachineEmitToMemoryBuffer(machine, module, LLVMObjectFile, error, buffer) != 0) {
                throw new NativeCompileException("module '" + moduleName + "': object emission failed: "
                        + LlvmSupport.takeMessage(error));
            }
        }
        try {
            long size = LLVMGetBufferSize(buffer);
            if (size > Integer.MAX_VALUE - 8) {
                throw new NativeCompileException("module '" + moduleName + "': object file of " + size
                        + " bytes is too large");
            }
            byte[] bytes = new byte[(int) size];
            LLVMGetBufferStart(buffer).capacity(size).get(bytes);
            return bytes;
        } finally {
            LLVMDisposeMemoryBuffer(buffer);
        }
    }

    /**
     * Appends the IR line an LLVM message points at: parser messages carry {@code :LINE:COL:}, the
     * verifier prints the offending instruction, which is looked up in the text.
     */
    static String withSourceLine(String message, String irText) {
        String msg = message == null ? "(no message)" : message.strip();
        String[] lines = irText.split("\n", -1);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(":(\\d+):(\\d+):").matcher(msg);
        if (m.find()) {
            int line = Integer.parseInt(m.group(1));
            if (line >= 1 && line <= lines.length) {
                return msg + " [IR line " + line + ": " + lines[line - 1].strip() + "]";
            }
            return msg;
        }
        for (String reported : msg.split("\n")) {
            String wanted = reported.strip();
            if (wanted.isEmpty()) {
                continue;
            }
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].strip().equals(wanted)) {
                    return msg + " [IR line " + (i + 1) + ": " + wanted + "]";
                }
            }
        }
        return msg;
    }

    /** An object file and the times taken to produce it. */
    public record ObjectCode(byte[] bytes, CompileTimes times) {}
}
