package dev.nnvm.compiler.codegen.llvm;

/**
 * IR for a kernel that measures the fp32 FMA peak of one core: {@value #CHAINS} independent chains
 * of vector multiply-adds ({@code llvm.fmuladd}: one FMA where the target has FMA; enough chains
 * to cover the FMA latency on every x86 core we know), at the target's
 * vector width. Exports, for a name {@code p}:
 * <pre>{@code
 * float   p(int64_t iterations);  // runs the chains, returns their sum (keeps the work alive)
 * int64_t p_flops_per_iteration(void);
 * }</pre>
 */
public final class FmaPeakKernel {
    /** Independent accumulator chains. */
    public static final int CHAINS = 12;

    private FmaPeakKernel() {}

    /** Floating-point operations one iteration performs on {@code target}. */
    public static long flopsPerIteration(CpuTarget target) {
        return 2L * CHAINS * target.vectorWidth();
    }

    /** A whole module exporting {@code name} and {@code name_flops_per_iteration}. */
    public static String module(CpuTarget target, String name) {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("FMA kernel name '" + name + "' is not a C identifier");
        }
        int vw = target.vectorWidth();
        String vt = "<" + vw + " x float>";
        StringBuilder s = new StringBuilder();
        s.append("target triple = \"").append(target.triple()).append("\"\n\n");
        s.append("define i64 @").append(name).append("_flops_per_iteration() {\n  ret i64 ")
                .append(flopsPerIteration(target)).append("\n}\n\n");
        s.append("define float @").append(name).append("(i64 %n) #0 {\nentry:\n");
        s.append("  %nf = sitofp i64 %n to float\n");
        s.append("  %seed0 = insertelement ").append(vt).append(" poison, float %nf, i64 0\n");
        s.append("  %seed = shufflevector ").append(vt).append(" %seed0, ").append(vt).append(" poison, <").append(vw)
                .append(" x i32> zeroinitializer\n");
        for (int c = 0; c < CHAINS; c++) {
            s.append("  %init").append(c).append(" = fmul ").append(vt).append(" %seed, splat (float ")
                    .append(String.format("%.1f", 1.0 + c)).append(")\n");
        }
        s.append("  br label %loop\nloop:\n  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]\n");
        for (int c = 0; c < CHAINS; c++) {
            s.append("  %a").append(c).append(" = phi ").append(vt).append(" [ %init").append(c)
                    .append(", %entry ], [ %b").append(c).append(", %loop ]\n");
        }
        for (int c = 0; c < CHAINS; c++) {
            s.append("  %b").append(c).append(" = call ").append(vt).append(" @llvm.fmuladd.v").append(vw)
                    .append("f32(").append(vt).append(" %a").append(c).append(", ").append(vt)
                    .append(" splat (float 0x3FEFFFFFE0000000), ").append(vt).append(" splat (float 0x3E7AD7F2A0000000))\n");
        }
        s.append("  %i.next = add i64 %i, 1\n  %more = icmp slt i64 %i.next, %n\n");
        s.append("  br i1 %more, label %loop, label %exit\nexit:\n");
        String acc = "%b0";
        for (int c = 1; c < CHAINS; c++) {
            s.append("  %s").append(c).append(" = fadd ").append(vt).append(' ').append(acc).append(", %b").append(c)
                    .append('\n');
            acc = "%s" + c;
        }
        s.append("  %r = call float @llvm.vector.reduce.fadd.v").append(vw).append("f32(float 0.0, ").append(vt)
                .append(' ').append(acc).append(")\n  ret float %r\n}\n\n");
        s.append("declare ").append(vt).append(" @llvm.fmuladd.v").append(vw).append("f32(").append(vt).append(", ")
                .append(vt).append(", ").append(vt).append(")\n");
        s.append("declare float @llvm.vector.reduce.fadd.v").append(vw).append("f32(float, ").append(vt).append(")\n");
        s.append("\nattributes #0 = { nounwind \"min-legal-vector-width\"=\"").append(32 * vw).append("\" }\n");
        return s.toString();
    }
}
