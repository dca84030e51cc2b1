/**
 * CPU code generation through LLVM (the {@code org.bytedeco:llvm} presets).
 *
 * <ul>
 *   <li>{@link dev.nnvm.compiler.codegen.llvm.CpuTarget}: the host CPU as LLVM detects it, or a
 *       portable level ({@code x86-64}, {@code x86-64-v3}, {@code x86-64-v4}), or {@code aarch64}
 *       (NEON, cross-compiled and linked by the presets' lld); one compile can produce a variant for
 *       each, and {@code runsOn} tells which a machine can run.</li>
 *   <li>{@link dev.nnvm.compiler.codegen.llvm.NativeModuleCompiler}: LLVM IR text to a verified,
 *       O3-optimized, position-independent object and a shared library, every phase timed.</li>
 *   <li>{@link dev.nnvm.compiler.codegen.llvm.GemmGenerator}: the packed, register-blocked fp32
 *       GEMM with a fused epilogue, as IR text with a documented C ABI;
 *       {@link dev.nnvm.compiler.codegen.llvm.FmaPeakKernel} measures the core's FMA peak.</li>
 * </ul>
 *
 * <p>The kernels are tested from {@code src/test/c/gemm_driver.c}, a C program that loads the
 * shared library, so they are checked without any JNI layer.
 */
package dev.nnvm.compiler.codegen.llvm;
