package dev.nnvm.compiler.codegen.llvm;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Emits LLVM IR (text) for a BLIS-style packed single-precision GEMM on row-major matrices,
 * {@code C[M,N] = A[M,K] * B[K,N]}, with an optional epilogue fused into the store.
 *
 * <h2>How it works</h2>
 * The loops are BLIS's five: {@code jc} over N in blocks of {@code nc}, {@code pc} over K in blocks
 * of {@code kc}, where the {@code kc x nc} panel of B is packed into {@code NR}-column strips
 * (zero-padded on the right edge); {@code ic} over M in blocks of {@code mc}, where the
 * {@code mc x kc} block of A is packed into {@code MR}-row strips (zero-padded at the bottom); then
 * {@code jr} / {@code ir} over the strips, each pair handled by the micro-kernel. The micro-kernel
 * computes an {@code MR x NR} block ({@code MR} = 6, {@code NR} = 2 vectors: 6x16 with
 * {@code <8 x float>} on AVX2, 6x32 with {@code <16 x float>} on AVX-512) with every accumulator a
 * loop phi (so LLVM keeps them in registers), {@code k} unrolled, one broadcast of A and
 * {@code NR/VW} FMAs per row and step. The store adds the previous C (after the first K block) and,
 * after the last K block, applies the epilogue in registers: per-column bias, then residual,
 * then ReLU ({@code x <= 0 -> +0}, NaN stays NaN). Edge tiles use masked loads and stores, so
 * nothing outside the matrices is read or written.
 *
 * <h2>Exported C ABI</h2>
 * For a kernel named {@code g}:
 * <pre>{@code
 * void g(int64_t M, int64_t N, int64_t K,
 *        const float* A, int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc,
 *        const float* bias,                 // [N]; read only when the epilogue has a bias
 *        const float* R, int64_t ldr,       // residual [M, N]; read only with a residual
 *        void* workspace,                   // g_workspace_bytes(M, N, K, threads) bytes (64-aligned best)
 *        void (*parallel_for)(int64_t n, void (*task)(int64_t begin, int64_t end, void* ctx),
 *                             void* ctx, int32_t threads),  // may be NULL: serial
 *        int32_t threads);
 * int64_t g_workspace_bytes(int64_t M, int64_t N, int64_t K, int32_t threads);
 * }</pre>
 * Leading dimensions count floats. {@code parallel_for} must call {@code task} over disjoint
 * ranges covering {@code [0, n)} (concurrently or not) and return when all are done; the GEMM
 * splits packing B over the strips of a panel and the compute over {@code mc} blocks of rows
 * ({@code mc} shrinks so that every thread gets rows), or, for fewer than
 * {@link #COLUMN_SPLIT_ROWS} rows, over parts of the panel's column strips (each thread then packs
 * all of A for itself). M or N below 1 do nothing; K = 0 gives the
 * epilogue applied to zeros. Reentrant: all state lives in the arguments and the workspace.
 */
public final class GemmGenerator {
    /** Register-block rows. Larger blocks were measured slower (DESIGN.md) on small M. */
    public static final int MR = 6;

    /**
     * Register-block rows for tall products: 12 x 2 vectors (24 accumulators) halve the B loads
     * per FMA; measured faster from M of about a thousand rows (all-MiniLM-L6-v2 at batch 32:
     * 570 -> 543 ms), slower on M = 128 (benchmarks/RESULTS.md).
     */
    public static final int MR_LARGE = 12;

    /**
     * Register-block rows of kernels that read A pre-packed (convolution weights, whose M is
     * the output channels): 12, measured faster on every ResNet-50 layer shape (light ResNet-50,
     * 1 thread: 49.5 -> 44.6 ms).
     */
    public static final int PACKED_A_MR = MR_LARGE;

    /**
     * The longest K block of a transposed product: blocks this long keep a 32-channel strip of weights
     * (295 KB) and 49 pixels of image columns (450 KB) in a 1 MiB L2 together, and are long enough that
     * adding a block's partial sums costs little (ResNet's K = 4608 layer runs as two blocks of 2304).
     */
    public static final long TRANSPOSED_KC = 2304;

    /** The register-block rows (pixels) a transposed product may take. */
    public static final int TRANSPOSED_MIN_MR = 4;
    public static final int TRANSPOSED_MAX_MR = 8;

    /**
     * Products of fewer rows than this split their columns, not their rows, over threads: with rows
     * split, every thread streams all of B (all-MiniLM-L6-v2 at batch 1 has M = 128 and B up to
     * 2.4 MB, read once per thread), with columns each reads its part and packs A for itself.
     */
    static final int COLUMN_SPLIT_ROWS = 512;

    /** The register-block rows of the kernel being generated. */
    private int mr = MR;

    /** Whether the micro-kernel being generated reads B through an offset table (implicit convolution). */
    private boolean implicitB;

    /** Floats between consecutive k of the packed A the micro-kernel being generated reads. */
    private int aStride;

    /** Whether the micro-kernel being generated reads A unpacked, column-major (a transposed product). */
    private boolean directA;

    /** Declarations the kernels generated so far need beyond the fixed ones. */
    private final Set<String> extraDeclarations = new LinkedHashSet<>();

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final CpuTarget target;
    private final Blocking blocking;

    /**
     * What is fused into the store: {@code relu(acc + bias + R[m, n])}, each part optional; the
     * bias is per column ({@code bias[n]}) or, with {@code rowBias}, per row ({@code bias[m]}: a
     * convolution's bias when the product is weights x image columns).
     */
    public record Epilogue(boolean bias, boolean residual, boolean relu, boolean rowBias) {
        public static final Epilogue NONE = new Epilogue(false, false, false);

        public Epilogue {
            if (bias && rowBias) {
                throw new IllegalArgumentException("a GEMM epilogue has a column bias or a row bias, not both");
            }
        }

        /** Without a row bias. */
        public Epilogue(boolean bias, boolean residual, boolean relu) {
            this(bias, residual, relu, false);
        }

        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (bias) {
                parts.add("bias");
            }
            if (rowBias) {
                parts.add("rowbias");
            }
            if (residual) {
                parts.add("residual");
            }
            if (relu) {
                parts.add("relu");
            }
            return parts.isEmpty() ? "none" : String.join("+", parts);
        }
    }

    /**
     * One exported GEMM function: its C symbol, its epilogue, and whether B and A come
     * pre-packed ({@link #packB}, {@link #packA}: the function then reads them in that layout,
     * {@code ldb} / {@code lda} unused, and skips packing them on every call).
     */
    public record Kernel(String name, Epilogue epilogue, boolean packedB, boolean packedA, int mr,
            boolean implicitConv, boolean transposed) {
        public Kernel {
            if (implicitConv && (!packedA || packedB)) {
                throw new IllegalArgumentException("an implicit convolution reads pre-packed weights as A and the "
                        + "padded image as B");
            }
            if (transposed && (!packedB || packedA || implicitConv || epilogue.rowBias())) {
                throw new IllegalArgumentException("a transposed product reads the image as A and pre-packed "
                        + "weights as B, with a column bias");
            }
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(epilogue, "epilogue");
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("GEMM kernel name '" + name + "' is not a C identifier");
            }
            if (transposed ? mr < TRANSPOSED_MIN_MR || mr > TRANSPOSED_MAX_MR : mr != MR && mr != MR_LARGE) {
                throw new IllegalArgumentException("GEMM register block of " + mr + " rows: " + MR + " or "
                        + MR_LARGE + " only");
            }
            if (packedA && mr != PACKED_A_MR) {
                throw new IllegalArgumentException("pre-packed A is laid out for " + PACKED_A_MR + "-row blocks");
            }
        }

        /** A and B packed on every call, {@link #MR}-row blocks. */
        public Kernel(String name, Epilogue epilogue) {
            this(name, epilogue, false, false, MR, false, false);
        }

        /** {@link #MR}-row blocks, or {@link #PACKED_A_MR} with pre-packed A. */
        public Kernel(String name, Epilogue epilogue, boolean packedB, boolean packedA) {
            this(name, epilogue, packedB, packedA, packedA ? PACKED_A_MR : MR, false, false);
        }

        /** A product (not an implicit convolution). */
        public Kernel(String name, Epilogue epilogue, boolean packedB, boolean packedA, int mr) {
            this(name, epilogue, packedB, packedA, mr, false, false);
        }

        /**
         * An implicit convolution (stride 1, no dilation, one group), see {@link GemmGenerator}:
         * <pre>{@code
         * void g(int64_t M, int64_t P,  // P = OH * ldx pixels along the padded rows
         *        int64_t K,               // C*KH*KW
         *        const float* A,          // weights pre-packed by packA, [M, K]
         *        const float* X,          // the padded image [C, OH + KH - 1, ldx], ldx = OW + KW - 1,
         *                                 // readable NR floats past its end
         *        const int64_t* offsets,  // [K]: (c*(OH + KH - 1) + kh)*ldx + kw
         *        float* T,                // [M, P]: output pixel (oh, ow) at oh * ldx + ow
         *        const float* bias,       // [M], read with a row-bias epilogue
         *        parallel_for, int32_t threads);
         * }</pre>
         */
        public static Kernel implicitConv(String name, Epilogue epilogue) {
            return new Kernel(name, epilogue, false, true, PACKED_A_MR, true, false);
        }

        /**
         * A transposed product, for convolutions with few output pixels: pixels are the {@code mr} rows of
         * the register block and output channels its columns, so neither is padded to a tile much larger
         * than it. Computes {@code C[n, m] = sum_k X[k, m] * W[n, k]}, in K blocks of at most
         * {@link #TRANSPOSED_KC}:
         * <pre>{@code
         * void g(int64_t M,              // pixels
         *        int64_t N,              // output channels
         *        int64_t K,              // input channels (or image columns)
         *        const float* X, int64_t ldx,  // [K, ldx]: pixel m of row k at X[k * ldx + m]
         *        const float* W,         // the weights [N, K] transposed and packed by packB as [K, N]
         *        float* C, int64_t ldc,  // [N, ldc]: channel n, pixel m at C[n * ldc + m]
         *        const float* bias,      // [N], read with a bias epilogue
         *        const float* R, int64_t ldr,  // residual laid out like C
         *        parallel_for, int32_t threads);
         * }</pre>
         */
        public static Kernel transposed(String name, Epilogue epilogue, int mr) {
            return new Kernel(name, epilogue, true, false, mr, false, true);
        }
    }

    /**
     * A [M, K] (row-major) in the layout a {@code packedA} kernel reads: {@code ceil(M / R)}
     * strips of {@code R} = {@link #PACKED_A_MR} rows, each {@code K} columns of {@code R} floats
     * (k-major), the last strip zero-padded; target-independent, since {@code R} is the same for
     * every target.
     */
    public static float[] packA(float[] a, int m, int k) {
        if (a.length != (long) m * k) {
            throw new IllegalArgumentException("A has " + a.length + " floats, not " + m + " x " + k);
        }
        int strips = (m + PACKED_A_MR - 1) / PACKED_A_MR;
        float[] out = new float[Math.multiplyExact(Math.multiplyExact(strips, k), PACKED_A_MR)];
        for (int row = 0; row < m; row++) {
            int base = (row / PACKED_A_MR) * k * PACKED_A_MR + row % PACKED_A_MR;
            for (int kk = 0; kk < k; kk++) {
                out[base + kk * PACKED_A_MR] = a[row * k + kk];
            }
        }
        return out;
    }

    /**
     * B [K, N] (row-major) in the layout a {@code packedB} kernel reads: {@code ceil(N / nr)}
     * strips of {@code nr} columns, each {@code K} rows of {@code nr} floats (k-major), the last
     * strip zero-padded. Any K block of a strip is contiguous, so the layout serves every cache
     * blocking with this {@code nr} (see {@link Blocking#nr()}).
     */
    public static float[] packB(float[] b, int k, int n, int nr) {
        if (b.length != (long) k * n || nr < 1) {
            throw new IllegalArgumentException("B has " + b.length + " floats, not " + k + " x " + n);
        }
        int strips = (n + nr - 1) / nr;
        float[] out = new float[Math.multiplyExact(Math.multiplyExact(strips, k), nr)];
        for (int s = 0; s < strips; s++) {
            for (int kk = 0; kk < k; kk++) {
                int width = Math.min(nr, n - s * nr);
                System.arraycopy(b, kk * n + s * nr, out, (s * k + kk) * nr, width);
            }
        }
        return out;
    }

    /**
     * A [M, K] (row-major) transposed and laid out as {@link #packB} lays out a [K, M] B: what a
     * {@link Kernel#transposed transposed product} reads as its weights (convolution weights [M, K]).
     */
    public static float[] packTransposedB(float[] a, int m, int k, int nr) {
        if (a.length != (long) m * k) {
            throw new IllegalArgumentException("A has " + a.length + " floats, not " + m + " x " + k);
        }
        float[] t = new float[a.length];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < k; j++) {
                t[j * m + i] = a[i * k + j];
            }
        }
        return packB(t, k, m, nr);
    }

    /**
     * Register and cache blocking: {@code nr} = 2 vectors of the target, {@code kc}, {@code mc}
     * (a multiple of {@link #MR}) and {@code nc} (a multiple of {@code nr}) in elements, and the
     * unroll factor of the micro-kernel's k loop.
     */
    public record Blocking(int nr, int kc, int mc, int nc, int unroll) {
        public Blocking {
            if (nr < 1 || kc < 1 || mc < MR || nc < nr || unroll < 1) {
                throw new IllegalArgumentException("bad GEMM blocking " + this);
            }
            if (mc % MR != 0 || nc % nr != 0) {
                throw new IllegalArgumentException("GEMM blocking " + this + ": mc must be a multiple of "
                        + MR + " and nc a multiple of nr");
            }
        }

        /** Defaults measured on Zen 4 (DESIGN.md): kc 512, mc 240, nc 4096, k unrolled 4x. */
        public static Blocking defaults(CpuTarget target) {
            return new Blocking(2 * target.vectorWidth(), 512, 240, 4096, 4);
        }
    }

    public GemmGenerator(CpuTarget target) {
        this(target, Blocking.defaults(target));
    }

    public GemmGenerator(CpuTarget target, Blocking blocking) {
        this.target = Objects.requireNonNull(target, "target");
        this.blocking = Objects.requireNonNull(blocking, "blocking");
        if (blocking.nr() % target.vectorWidth() != 0) {
            throw new IllegalArgumentException("GEMM nr " + blocking.nr() + " is not a multiple of the vector width "
                    + target.vectorWidth() + " of " + target);
        }
    }

    public CpuTarget target() {
        return target;
    }

    public Blocking blocking() {
        return blocking;
    }

    /** Workspace bytes the kernel needs (what its exported {@code _workspace_bytes} returns). */
    public long workspaceBytes(long m, long n, long k, int threads) {
        return workspaceBytes(m, n, k, threads, MR);
    }

    /** Workspace bytes a kernel with {@code mr}-row register blocks needs. */
    public long workspaceBytes(long m, long n, long k, int threads, int mr) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("GEMM sizes must not be negative: M=" + m + " N=" + n + " K=" + k);
        }
        long kcMax = Math.max(Math.min(k, blocking.kc()), 1);
        long ncMax = Math.min(ceilDiv(n, blocking.nr()) * blocking.nr(), blocking.nc());
        long mcMax = Math.min(ceilDiv(m, mr) * mr, blocking.mc());
        long bytesB = roundUp64(4 * kcMax * ncMax);
        long bytesA = roundUp64(4 * mcMax * kcMax);
        return bytesB + Math.max(threads, 1) * bytesA;
    }

    /** A whole module (target triple, the kernels, the intrinsics they use). Names must differ. */
    public String module(List<Kernel> kernels) {
        return module(kernels, List.of());
    }

    /** A module with GEMM kernels and blocked-layout convolutions ({@link BlockedConvGenerator}). Names must differ. */
    public String module(List<Kernel> kernels, List<BlockedConvGenerator.Kernel> blocked) {
        Set<String> names = new LinkedHashSet<>();
        StringBuilder ir = new StringBuilder();
        ir.append("; BLIS-style fp32 GEMM for ").append(target).append(", MR=").append(MR).append(" or ")
                .append(MR_LARGE)
                .append(" NR=").append(blocking.nr()).append(" kc=").append(blocking.kc())
                .append(" mc=").append(blocking.mc()).append(" nc=").append(blocking.nc()).append('\n');
        ir.append("target triple = \"").append(target.triple()).append("\"\n\n");
        for (Kernel kernel : kernels) {
            if (!names.add(kernel.name())) {
                throw new IllegalArgumentException("GEMM kernel name '" + kernel.name() + "' appears twice");
            }
            ir.append(kernel(kernel));
        }
        BlockedConvGenerator conv = new BlockedConvGenerator(target);
        for (BlockedConvGenerator.Kernel kernel : blocked) {
            if (!names.add(kernel.name())) {
                throw new IllegalArgumentException("kernel name '" + kernel.name() + "' appears twice");
            }
            ir.append(conv.kernel(kernel));
        }
        ir.append(declarations());
        return ir.toString();
    }

    private String kernel(Kernel kernel) {
        if (!kernel.transposed() && blocking.mc() % kernel.mr() != 0) {
            throw new IllegalArgumentException("GEMM blocking " + blocking + ": mc is not a multiple of "
                    + kernel.mr() + " rows");
        }
        mr = kernel.mr();
        if (kernel.transposed()) {
            List<TaskDriver.Field> fields = TaskDriver.fields("i64 M", "i64 N", "i64 K", "ptr X", "i64 ldx", "ptr W",
                    "ptr C", "i64 ldc", "ptr bias", "ptr R", "i64 ldr");
            return TRANSPOSED_SKELETON
                    .replace("$ENTRY", TaskDriver.entry(kernel.name(), attributes(), fields, List.of(),
                            tileCount("N", blocking.nr()), "%work", "%tiles"))
                    .replace("$TASK", TaskDriver.taskPrologue(kernel.name(), attributes(), fields))
                    .replace("$G", kernel.name())
                    .replace("$KCm1", Long.toString(TRANSPOSED_KC - 1))
                    .replace("$KC", Long.toString(TRANSPOSED_KC))
                    .replace("$MR", Integer.toString(mr))
                    .replace("$NR", Integer.toString(blocking.nr()))
                    .replace("$ATTRS", attributes()) + microKernel(kernel);
        }
        if (kernel.implicitConv()) {
            List<TaskDriver.Field> fields = TaskDriver.fields("i64 M", "i64 P", "i64 K", "ptr A", "ptr X", "ptr offs",
                    "ptr T", "ptr bias");
            return CONV_SKELETON
                    .replace("$ENTRY", TaskDriver.entry(kernel.name(), attributes(), fields, List.of(),
                            tileCount("P", blocking.nr()), "%work", "%tiles"))
                    .replace("$TASK", TaskDriver.taskPrologue(kernel.name(), attributes(), fields))
                    .replace("$G", kernel.name())
                    .replace("$MRm1", Integer.toString(mr - 1))
                    .replace("$MR", Integer.toString(mr))
                    .replace("$NR", Integer.toString(blocking.nr()))
                    .replace("$KC", Integer.toString(blocking.kc()))
                    .replace("$ATTRS", attributes()) + microKernel(kernel);
        }
        String shared = SKELETON
                .replace("$G", kernel.name())
                .replace("$MRm1", Integer.toString(mr - 1))
                .replace("$MR", Integer.toString(mr))
                .replace("$NRm1", Integer.toString(blocking.nr() - 1))
                .replace("$NR", Integer.toString(blocking.nr()))
                .replace("$KC", Integer.toString(blocking.kc()))
                .replace("$MC", Integer.toString(blocking.mc()))
                .replace("$SPLITROWS", Integer.toString(COLUMN_SPLIT_ROWS))
                .replace("$NC", Integer.toString(blocking.nc()))
                .replace("$STEPS", stepVector(blocking.nr(), 0))
                .replace("$ATTRS", attributes())
                .replace("$PACKA_VECTOR", packAVector())
                // A row bias starts at the micro-tile's first row instead of its first column.
                .replace("$BIASP", kernel.epilogue().rowBias() ? "%biasr" : "%biasp")
                .replace("$PACKB_CALL", kernel.packedB() ? ""
                        : "              call void @" + kernel.name() + ".run(ptr %pfor, i64 %ntB, ptr @"
                        + kernel.name() + ".task_packB, ptr %ctx, i32 %t32)")
                .replace("$PACKA_CALL", kernel.packedA() ? ""
                        : "              call void @" + kernel.name() + ".packA(ptr %slot, ptr %asrc, i64 %lda, "
                        + "i64 %mc, i64 %kc)")
                .replace("$PREFETCH_NEXT", prefetchNextStrip(kernel))
                .replace("$APOINTER", kernel.packedA()
                        // Strip (ic + ir) / MR of the pre-packed A, from column pc on.
                        ? "              %arow = add i64 %ic, %ir\n"
                        + "              %astrip = udiv i64 %arow, " + mr + "\n"
                        + "              %ask = mul i64 %astrip, %Kall\n"
                        + "              %askp = add i64 %ask, %pc\n"
                        + "              %apo = mul i64 %askp, " + mr + "\n"
                        + "              %ap = getelementptr float, ptr %A, i64 %apo"
                        : "              %apo = mul i64 %ir, %kc\n"
                        + "              %ap = getelementptr float, ptr %slot, i64 %apo")
                .replace("$BPOINTER", kernel.packedB()
                        // Strip (jc + jr) / NR of the pre-packed B, from row pc on.
                        ? "              %bcol = add i64 %jc, %jr\n"
                        + "              %bstrip = udiv i64 %bcol, " + blocking.nr() + "\n"
                        + "              %bsk = mul i64 %bstrip, %Kall\n"
                        + "              %bskp = add i64 %bsk, %pc\n"
                        + "              %bo = mul i64 %bskp, " + blocking.nr() + "\n"
                        + "              %bp = getelementptr float, ptr %Bsrc, i64 %bo"
                        : "              %bo = mul i64 %jr, %kc\n"
                        + "              %bp = getelementptr float, ptr %packB, i64 %bo");
        return shared + microKernel(kernel);
    }

    /**
     * Prefetches (for writing) the C rows of the next row strip of the same column strip, and the residual
     * rows for reading, one strip ahead of the micro-kernel: the tiles walk down the rows of a column strip,
     * so C's rows are as many interleaved streams as the block has rows, which the hardware prefetchers do
     * not follow. It matters when C and the residual come from memory: light ResNet-50 at batch 8, whose
     * 56x56 and 28x28 1x1 outputs no longer stay in the L3 between layers, went from 378-383 to 337-350 ms
     * (1 thread); batch 1, where they stay, is unchanged.
     */
    private String prefetchNextStrip(Kernel kernel) {
        StringBuilder s = new StringBuilder();
        int lines = Math.max(1, blocking.nr() / 16);
        for (int i = 0; i < mr; i++) {
            s.append("              %pn").append(i).append(" = add i64 %row, ").append(mr + i).append('\n');
            s.append("              %pnc").append(i).append(" = mul i64 %pn").append(i).append(", %ldc\n");
            s.append("              %pnco").append(i).append(" = add i64 %pnc").append(i).append(", %col\n");
            for (int l = 0; l < lines; l++) {
                s.append("              %pnp").append(i).append('_').append(l).append(" = getelementptr float, ptr %C, i64 %pnco")
                        .append(i).append('\n');
                s.append("              %pnq").append(i).append('_').append(l).append(" = getelementptr float, ptr %pnp")
                        .append(i).append('_').append(l).append(", i64 ").append(16 * l).append('\n');
                s.append("              call void @llvm.prefetch.p0(ptr %pnq").append(i).append('_').append(l)
                        .append(", i32 1, i32 3, i32 1)\n");
            }
            if (kernel.epilogue().residual()) {
                s.append("              %pnr").append(i).append(" = mul i64 %pn").append(i).append(", %ldr\n");
                s.append("              %pnro").append(i).append(" = add i64 %pnr").append(i).append(", %col\n");
                for (int l = 0; l < lines; l++) {
                    s.append("              %pnrp").append(i).append('_').append(l).append(" = getelementptr float, ptr %R, i64 %pnro")
                            .append(i).append('\n');
                    s.append("              %pnrq").append(i).append('_').append(l).append(" = getelementptr float, ptr %pnrp")
                            .append(i).append('_').append(l).append(", i64 ").append(16 * l).append('\n');
                    s.append("              call void @llvm.prefetch.p0(ptr %pnrq").append(i).append('_').append(l)
                            .append(", i32 0, i32 3, i32 1)\n");
                }
            }
        }
        return s.toString();
    }

    /**
     * Setup lines of a driver over tiles of {@code nr} along {@code %columns}: {@code %work} (M and the
     * columns both positive) and {@code %tiles}.
     */
    private static String tileCount(String columns, int nr) {
        return "  %mpos = icmp sgt i64 %M, 0\n  %cpos = icmp sgt i64 %" + columns + ", 0\n"
                + "  %work = and i1 %mpos, %cpos\n  %t0 = add i64 %" + columns + ", " + nr + "\n"
                + "  %t1 = sub i64 %t0, 1\n  %tiles = sdiv i64 %t1, " + nr + "\n";
    }

    /**
     * The micro-kernel {@code @g.ukernel}. Every kernel but the transposed products gets three: {@code mr}
     * rows (12 or 6), and 8 and 4 (or 4 and 2) rows for the strip past the last full one (64 output channels
     * fill 5 strips of 12 and 4 rows of a sixth; 128 rows fill 21 strips of 6 and 2 rows), all reading the
     * same packed strips; {@code @g.ukernel} then picks one by the strip's rows.
     */
    private String microKernel(Kernel kernel) {
        if (kernel.transposed()) {
            return microKernel(kernel, ".ukernel", mr);
        }
        int full = mr;
        int[] tails = tailRows(full);
        StringBuilder s = new StringBuilder();
        for (int rows : tails) {
            mr = rows;
            s.append(microKernel(kernel, ".uk" + rows, full));
        }
        mr = full;
        s.append(microKernel(kernel, ".uk" + full, full));
        String params = "i64 %kc, ptr %ap, ptr %bp, ptr %c, i64 %ldc, i64 %mr, i64 %nr, i32 %first, i32 %last, "
                + "ptr %biasp, ptr %rp, i64 %ldr" + (kernel.implicitConv() ? ", ptr %offs" : "");
        String args = params;
        String g = kernel.name();
        s.append("define internal void @").append(g).append(".ukernel(").append(params).append(") ").append(attributes())
                .append(" {\nentry:\n");
        for (int rows : tails) {
            s.append("  %le").append(rows).append(" = icmp sle i64 %mr, ").append(rows).append('\n');
            s.append("  br i1 %le").append(rows).append(", label %t").append(rows).append(", label %n").append(rows)
                    .append("\nt").append(rows).append(":\n  call void @").append(g).append(".uk").append(rows)
                    .append('(').append(args).append(")\n  ret void\nn").append(rows).append(":\n");
        }
        s.append("  call void @").append(g).append(".uk").append(full).append('(').append(args)
                .append(")\n  ret void\n}\n\n");
        return s.toString();
    }

    /** Register-block rows of the micro-kernels for the last strip of an A packed in {@code full}-row strips. */
    private static int[] tailRows(int full) {
        return full == MR_LARGE ? new int[] {4, 8} : new int[] {2, 4};
    }

    /**
     * One micro-kernel: {@code mr} x NR block, accumulators in phis, k unrolled, masked fused store; A is
     * read {@code aStride} floats a step (its packed strip height).
     */
    private String microKernel(Kernel kernel, String suffix, int aStride) {
        this.aStride = aStride;
        int vw = target.vectorWidth();
        int nv = blocking.nr() / vw;
        int unroll = blocking.unroll();
        String vt = "<" + vw + " x float>";
        String g = kernel.name();
        Epilogue ep = kernel.epilogue();
        StringBuilder s = new StringBuilder();
        s.append("define internal void @").append(g).append(suffix).append("(i64 %kc, ptr noalias %ap, ptr noalias %bp, ")
                .append("ptr %c, i64 %ldc, i64 %mr, i64 %nr, i32 %first, i32 %last, ptr %biasp, ptr %rp, i64 %ldr")
                .append(kernel.implicitConv() ? ", ptr noalias %offs" : "")
                .append(kernel.transposed() ? ", i64 %lda" : "").append(") ")
                .append(attributes()).append(" {\nentry:\n");
        implicitB = kernel.implicitConv();
        directA = kernel.transposed();
        if (directA) {
            // Row i of A is pixel i: X[k * lda + i]; rows past the block's last read that one (never stored).
            s.append("  %mrm1 = sub i64 %mr, 1\n");
            for (int i = 0; i < mr; i++) {
                s.append("  %arc").append(i).append(" = call i64 @llvm.smin.i64(i64 ").append(i).append(", i64 %mrm1)\n");
                s.append("  %arow").append(i).append(" = getelementptr float, ptr %ap, i64 %arc").append(i).append('\n');
            }
        }
        for (int i = 0; i < mr; i++) {
            s.append("  %pfo").append(i).append(" = mul i64 %ldc, ").append(i).append('\n');
            s.append("  %pfp").append(i).append(" = getelementptr float, ptr %c, i64 %pfo").append(i).append('\n');
            s.append("  call void @llvm.prefetch.p0(ptr %pfp").append(i).append(", i32 1, i32 3, i32 1)\n");
        }
        s.append("  %kmain = and i64 %kc, ").append(-unroll).append('\n');
        s.append("  br label %main\n");
        // Main loop: unrolled steps, accumulators as phis.
        s.append("main:\n  %k = phi i64 [ 0, %entry ], [ %k.next, %mainbody ]\n");
        accumulatorPhis(s, mr, nv, vt, "%m" + (unroll - 1), "%mainbody");
        s.append("  %more = icmp slt i64 %k, %kmain\n  br i1 %more, label %mainbody, label %tail\n");
        s.append("mainbody:\n");
        for (int u = 0; u < unroll; u++) {
            s.append("  %kk").append(u).append(" = add i64 %k, ").append(u).append('\n');
            step(s, "m" + u, "%kk" + u, u == 0 ? "acc" : "m" + (u - 1), vw, nv);
        }
        s.append("  %k.next = add i64 %k, ").append(unroll).append("\n  br label %main\n");
        // Remainder loop: kc % unroll steps.
        s.append("tail:\n  %t = phi i64 [ %k, %main ], [ %t.next, %tailbody ]\n");
        for (int i = 0; i < mr; i++) {
            for (int v = 0; v < nv; v++) {
                s.append("  %tacc.").append(i).append('.').append(v).append(" = phi ").append(vt)
                        .append(" [ %acc.").append(i).append('.').append(v).append(", %main ], [ %r.")
                        .append(i).append('.').append(v).append(", %tailbody ]\n");
            }
        }
        s.append("  %tmore = icmp slt i64 %t, %kc\n  br i1 %tmore, label %tailbody, label %store\n");
        s.append("tailbody:\n");
        step(s, "r", "%t", "tacc", vw, nv);
        s.append("  %t.next = add i64 %t, 1\n  br label %tail\n");
        // Store: masks for the valid columns; first adds nothing from C, last applies the epilogue.
        s.append("store:\n");
        s.append("  %nr32 = trunc i64 %nr to i32\n");
        s.append("  %nrv0 = insertelement <").append(vw).append(" x i32> poison, i32 %nr32, i64 0\n");
        s.append("  %nrv = shufflevector <").append(vw).append(" x i32> %nrv0, <").append(vw)
                .append(" x i32> poison, <").append(vw).append(" x i32> zeroinitializer\n");
        s.append("  %notfirst = icmp eq i32 %first, 0\n  %islast = icmp ne i32 %last, 0\n");
        String mt = "<" + vw + " x i1>";
        for (int v = 0; v < nv; v++) {
            s.append("  %mask").append(v).append(" = icmp ult <").append(vw).append(" x i32> ")
                    .append(stepVector(vw, v * vw)).append(", %nrv\n");
            s.append("  %cm").append(v).append(" = select i1 %notfirst, ").append(mt).append(" %mask").append(v)
                    .append(", ").append(mt).append(" zeroinitializer\n");
            s.append("  %lm").append(v).append(" = select i1 %islast, ").append(mt).append(" %mask").append(v)
                    .append(", ").append(mt).append(" zeroinitializer\n");
            if (ep.bias()) {
                s.append("  %bsp").append(v).append(" = getelementptr float, ptr %biasp, i64 ").append(v * vw).append('\n');
                s.append("  %bias").append(v).append(" = call ").append(vt).append(' ').append(maskedLoad(vw))
                        .append("(ptr %bsp").append(v).append(", i32 4, ").append(mt).append(" %lm").append(v)
                        .append(", ").append(vt).append(" zeroinitializer)\n");
            }
        }
        if (kernel.transposed()) {
            transposedStore(s, ep, vw, nv);
            return s.append("}\n\n").toString();
        }
        s.append("  br label %row0\n");
        for (int i = 0; i < mr; i++) {
            String next = i + 1 < mr ? "row" + (i + 1) : "done";
            s.append("row").append(i).append(":\n");
            s.append("  %in").append(i).append(" = icmp slt i64 ").append(i).append(", %mr\n");
            s.append("  br i1 %in").append(i).append(", label %do").append(i).append(", label %done\n");
            s.append("do").append(i).append(":\n");
            s.append("  %co").append(i).append(" = mul i64 %ldc, ").append(i).append('\n');
            s.append("  %crow").append(i).append(" = getelementptr float, ptr %c, i64 %co").append(i).append('\n');
            if (ep.rowBias()) {
                // Loaded for every valid row (in bounds), counted only after the last K block.
                s.append("  %rbp").append(i).append(" = getelementptr float, ptr %biasp, i64 ").append(i).append('\n');
                s.append("  %rbl").append(i).append(" = load float, ptr %rbp").append(i).append(", align 4\n");
                s.append("  %rbs").append(i).append(" = select i1 %islast, float %rbl").append(i)
                        .append(", float 0.0\n");
                s.append("  %rbi").append(i).append(" = insertelement ").append(vt).append(" poison, float %rbs")
                        .append(i).append(", i64 0\n");
                s.append("  %rbv").append(i).append(" = shufflevector ").append(vt).append(" %rbi").append(i)
                        .append(", ").append(vt).append(" poison, <").append(vw).append(" x i32> zeroinitializer\n");
            }
            if (ep.residual()) {
                s.append("  %ro").append(i).append(" = mul i64 %ldr, ").append(i).append('\n');
                s.append("  %rrow").append(i).append(" = getelementptr float, ptr %rp, i64 %ro").append(i).append('\n');
            }
            for (int v = 0; v < nv; v++) {
                String id = i + "." + v;
                s.append("  %cp.").append(id).append(" = getelementptr float, ptr %crow").append(i).append(", i64 ")
                        .append(v * vw).append('\n');
                s.append("  %old.").append(id).append(" = call ").append(vt).append(' ').append(maskedLoad(vw))
                        .append("(ptr %cp.").append(id).append(", i32 4, ").append(mt).append(" %cm").append(v)
                        .append(", ").append(vt).append(" zeroinitializer)\n");
                String x = "%x0." + id;
                s.append("  ").append(x).append(" = fadd ").append(vt).append(" %tacc.").append(id).append(", %old.")
                        .append(id).append('\n');
                if (ep.bias()) {
                    s.append("  %x1.").append(id).append(" = fadd ").append(vt).append(' ').append(x).append(", %bias")
                            .append(v).append('\n');
                    x = "%x1." + id;
                }
                if (ep.rowBias()) {
                    s.append("  %xb.").append(id).append(" = fadd ").append(vt).append(' ').append(x).append(", %rbv")
                            .append(i).append('\n');
                    x = "%xb." + id;
                }
                if (ep.residual()) {
                    s.append("  %rpp.").append(id).append(" = getelementptr float, ptr %rrow").append(i).append(", i64 ")
                            .append(v * vw).append('\n');
                }
                x = residualAndRelu(s, ep, "", id, x, vw, "%rpp." + id, "%lm" + v);
                s.append("  call void ").append(maskedStore(vw)).append('(').append(vt).append(' ').append(x)
                        .append(", ptr %cp.").append(id).append(", i32 4, ").append(mt).append(" %mask").append(v)
                        .append(")\n");
            }
            s.append("  br label %").append(next).append('\n');
        }
        s.append("done:\n  ret void\n}\n\n");
        return s.toString();
    }

    /**
     * The residual and ReLU of an epilogue applied to {@code x} ({@code lanes} floats): the residual is
     * loaded at {@code residual} under {@code mask} (the valid lanes, none before the last K block) and
     * added, then {@code x <= 0 -> +0} under the same mask (NaN stays NaN). Value names start with
     * {@code p} and end with {@code id}. Returns the result's name.
     */
    static String residualAndRelu(StringBuilder s, Epilogue ep, String p, String id, String x, int lanes,
            String residual, String mask) {
        String vt = "<" + lanes + " x float>";
        String mt = "<" + lanes + " x i1>";
        if (ep.residual()) {
            s.append("  %").append(p).append("res.").append(id).append(" = call ").append(vt).append(' ')
                    .append(maskedLoad(lanes)).append("(ptr ").append(residual).append(", i32 4, ").append(mt).append(' ')
                    .append(mask).append(", ").append(vt).append(" zeroinitializer)\n");
            s.append("  %").append(p).append("x2.").append(id).append(" = fadd ").append(vt).append(' ').append(x)
                    .append(", %").append(p).append("res.").append(id).append('\n');
            x = "%" + p + "x2." + id;
        }
        if (ep.relu()) {
            s.append("  %").append(p).append("le.").append(id).append(" = fcmp ole ").append(vt).append(' ').append(x)
                    .append(", zeroinitializer\n");
            s.append("  %").append(p).append("neg.").append(id).append(" = and ").append(mt).append(" %").append(p)
                    .append("le.").append(id).append(", ").append(mask).append('\n');
            s.append("  %").append(p).append("x3.").append(id).append(" = select ").append(mt).append(" %").append(p)
                    .append("neg.").append(id).append(", ").append(vt).append(" zeroinitializer, ").append(vt).append(' ')
                    .append(x).append('\n');
            x = "%" + p + "x3." + id;
        }
        return x;
    }

    /**
     * The store of a transposed product's block: each of the block's columns (an output channel) gets its
     * {@code mr} pixels as one short vector (the {@code mr} row vectors are concatenated and each column
     * picked out by one shuffle), plus the partial sums of earlier K blocks, and after the last K block the
     * bias, residual and ReLU; stored (masked to the valid pixels) at {@code c + column * ldc}.
     */
    private void transposedStore(StringBuilder s, Epilogue ep, int vw, int nv) {
        String rt = "<" + mr + " x float>";
        String rm = "<" + mr + " x i1>";
        extraDeclarations.add("declare " + rt + " @llvm.masked.load.v" + mr + "f32.p0(ptr, i32 immarg, " + rm + ", "
                + rt + ")");
        extraDeclarations.add("declare void @llvm.masked.store.v" + mr + "f32.p0(" + rt + ", ptr, i32 immarg, " + rm
                + ")");
        s.append("  %mr32 = trunc i64 %mr to i32\n");
        s.append("  %mrv0 = insertelement <").append(mr).append(" x i32> poison, i32 %mr32, i64 0\n");
        s.append("  %mrv = shufflevector <").append(mr).append(" x i32> %mrv0, <").append(mr).append(" x i32> poison, <")
                .append(mr).append(" x i32> zeroinitializer\n");
        s.append("  %rowmask = icmp ult <").append(mr).append(" x i32> ").append(stepVector(mr, 0)).append(", %mrv\n");
        int rows2 = Integer.highestOneBit(mr - 1) << 1;
        for (int v = 0; v < nv; v++) {
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < rows2; i++) {
                if (i >= mr) {
                    parts.add("poison");
                    continue;
                }
                String x = "%tacc." + i + "." + v;
                if (ep.bias()) {
                    s.append("  %tb.").append(i).append('.').append(v).append(" = fadd <").append(vw).append(" x float> ")
                            .append(x).append(", %bias").append(v).append('\n');
                    x = "%tb." + i + "." + v;
                }
                parts.add(x);
            }
            int width = vw;
            int level = 0;
            while (parts.size() > 1) {
                List<String> next = new ArrayList<>();
                for (int j = 0; j < parts.size(); j += 2) {
                    String name = "%tcat." + v + "." + level + "." + j / 2;
                    s.append("  ").append(name).append(" = shufflevector <").append(width).append(" x float> ")
                            .append(parts.get(j)).append(", <").append(width).append(" x float> ").append(parts.get(j + 1))
                            .append(", ").append(indexVector(0, 2 * width)).append('\n');
                    next.add(name);
                }
                parts = next;
                width *= 2;
                level++;
            }
            String all = parts.get(0);
            for (int l = 0; l < vw; l++) {
                String id = v + "." + l;
                int column = v * vw + l;
                s.append("  %tok.").append(id).append(" = icmp slt i64 ").append(column).append(", %nr\n");
                s.append("  %tcm.").append(id).append(" = select i1 %tok.").append(id).append(", ").append(rm)
                        .append(" %rowmask, ").append(rm).append(" zeroinitializer\n");
                StringBuilder pick = new StringBuilder("<");
                for (int i = 0; i < mr; i++) {
                    pick.append(i == 0 ? "" : ", ").append("i32 ").append(i * vw + l);
                }
                pick.append('>');
                String x = "%tx." + id;
                s.append("  ").append(x).append(" = shufflevector <").append(width).append(" x float> ").append(all)
                        .append(", <").append(width).append(" x float> poison, <").append(mr).append(" x i32> ")
                        .append(pick).append('\n');
                s.append("  %tco.").append(id).append(" = mul i64 %ldc, ").append(column).append('\n');
                s.append("  %tcp.").append(id).append(" = getelementptr float, ptr %c, i64 %tco.").append(id).append('\n');
                // After the first K block, the partial sums stored by the previous ones.
                s.append("  %tom.").append(id).append(" = select i1 %notfirst, ").append(rm).append(" %tcm.").append(id)
                        .append(", ").append(rm).append(" zeroinitializer\n");
                s.append("  %told.").append(id).append(" = call ").append(rt).append(" @llvm.masked.load.v").append(mr)
                        .append("f32.p0(ptr %tcp.").append(id).append(", i32 4, ").append(rm).append(" %tom.").append(id)
                        .append(", ").append(rt).append(" zeroinitializer)\n");
                s.append("  %tx1.").append(id).append(" = fadd ").append(rt).append(' ').append(x).append(", %told.")
                        .append(id).append('\n');
                x = "%tx1." + id;
                // The residual and ReLU after the last K block only (the bias vectors are zero before it).
                s.append("  %tlm.").append(id).append(" = select i1 %islast, ").append(rm).append(" %tcm.").append(id)
                        .append(", ").append(rm).append(" zeroinitializer\n");
                if (ep.residual()) {
                    s.append("  %tro.").append(id).append(" = mul i64 %ldr, ").append(column).append('\n');
                    s.append("  %trp.").append(id).append(" = getelementptr float, ptr %rp, i64 %tro.").append(id)
                            .append('\n');
                }
                x = residualAndRelu(s, ep, "t", id, x, mr, "%trp." + id, "%tlm." + id);
                s.append("  call void @llvm.masked.store.v").append(mr).append("f32.p0(").append(rt).append(' ').append(x)
                        .append(", ptr %tcp.").append(id).append(", i32 4, ").append(rm).append(" %tcm.").append(id)
                        .append(")\n");
            }
        }
        s.append("  ret void\n");
    }

    /**
     * Packing of a full {@code MR}-row strip of A, {@code VW} columns at a time: {@code MR} row
     * vectors are transposed into k-major order by one shuffle and stored as one vector; the
     * {@code kc % VW} last columns are copied one by one. Continues at {@code qnext}.
     */
    private String packAVector() {
        int vw = target.vectorWidth();
        String vt = "<" + vw + " x float>";
        StringBuilder s = new StringBuilder();
        s.append("vpre:\n  %kv = and i64 %kc, ").append(-vw).append('\n');
        for (int i = 0; i < mr; i++) {
            s.append("  %vr").append(i).append(" = add i64 %r0, ").append(i).append('\n');
            s.append("  %vo").append(i).append(" = mul i64 %vr").append(i).append(", %lda\n");
            s.append("  %vs").append(i).append(" = getelementptr float, ptr %src, i64 %vo").append(i).append('\n');
        }
        s.append("  br label %vloop\nvloop:\n  %kk = phi i64 [ 0, %vpre ], [ %kk.next, %vbody ]\n");
        s.append("  %vmore = icmp slt i64 %kk, %kv\n  br i1 %vmore, label %vbody, label %vtail\nvbody:\n");
        for (int i = 0; i < mr; i++) {
            s.append("  %vp").append(i).append(" = getelementptr float, ptr %vs").append(i).append(", i64 %kk\n");
            s.append("  %v").append(i).append(" = load ").append(vt).append(", ptr %vp").append(i).append(", align 4\n");
        }
        // Concatenate rows pairwise up to a (mr/2 rounded to a power of two) vector, then one
        // two-input shuffle picks element (row i, column k) for position k * mr + i.
        List<String> parts = new ArrayList<>();
        List<Integer> widths = new ArrayList<>();
        for (int i = 0; i < mr; i++) {
            parts.add("%v" + i);
            widths.add(vw);
        }
        int n = 0;
        while (parts.size() > 2) {
            List<String> next = new ArrayList<>();
            List<Integer> nextWidths = new ArrayList<>();
            for (int j = 0; j + 1 < parts.size(); j += 2) {
                String name = "%cat" + n++;
                int w = widths.get(j);
                s.append("  ").append(name).append(" = shufflevector <").append(w).append(" x float> ")
                        .append(parts.get(j)).append(", <").append(w).append(" x float> ").append(parts.get(j + 1))
                        .append(", ").append(indexVector(0, 2 * w)).append('\n');
                next.add(name);
                nextWidths.add(2 * w);
            }
            if (parts.size() % 2 == 1) {
                String last = parts.get(parts.size() - 1);
                int w = widths.get(widths.size() - 1);
                String name = "%cat" + n++;
                s.append("  ").append(name).append(" = shufflevector <").append(w).append(" x float> ").append(last)
                        .append(", <").append(w).append(" x float> poison, ").append(indexVector(0, 2 * w)).append('\n');
                next.add(name);
                nextWidths.add(2 * w);
            }
            parts = next;
            widths = nextWidths;
        }
        int wide = widths.get(0);
        String lo = parts.get(0);
        String hi = parts.get(1);
        int hiWidth = widths.get(1);
        if (hiWidth != wide) {
            s.append("  %hiw = shufflevector <").append(hiWidth).append(" x float> ").append(hi).append(", <")
                    .append(hiWidth).append(" x float> poison, ").append(indexVector(0, wide)).append('\n');
            hi = "%hiw";
        }
        StringBuilder mask = new StringBuilder("<");
        for (int k = 0; k < vw; k++) {
            for (int i = 0; i < mr; i++) {
                mask.append(k == 0 && i == 0 ? "" : ", ").append("i32 ").append(i * vw + k);
            }
        }
        mask.append('>');
        s.append("  %tr = shufflevector <").append(wide).append(" x float> ").append(lo).append(", <").append(wide)
                .append(" x float> ").append(hi).append(", <").append(mr * vw).append(" x i32> ").append(mask)
                .append('\n');
        s.append("  %vdo = mul i64 %kk, ").append(mr).append('\n');
        s.append("  %vdp = getelementptr float, ptr %panel, i64 %vdo\n");
        s.append("  store <").append(mr * vw).append(" x float> %tr, ptr %vdp, align 4\n");
        s.append("  %kk.next = add i64 %kk, ").append(vw).append("\n  br label %vloop\n");
        s.append("vtail:\n  %kt = phi i64 [ %kk, %vloop ], [ %kt.next, %vtailbody ]\n");
        s.append("  %tmore = icmp slt i64 %kt, %kc\n  br i1 %tmore, label %vtailbody, label %qnext\nvtailbody:\n");
        s.append("  %tdo = mul i64 %kt, ").append(mr).append('\n');
        for (int i = 0; i < mr; i++) {
            s.append("  %ts").append(i).append(" = getelementptr float, ptr %vs").append(i).append(", i64 %kt\n");
            s.append("  %tx").append(i).append(" = load float, ptr %ts").append(i).append(", align 4\n");
            s.append("  %tdi").append(i).append(" = add i64 %tdo, ").append(i).append('\n');
            s.append("  %tdp").append(i).append(" = getelementptr float, ptr %panel, i64 %tdi").append(i).append('\n');
            s.append("  store float %tx").append(i).append(", ptr %tdp").append(i).append(", align 4\n");
        }
        s.append("  %kt.next = add i64 %kt, 1\n  br label %vtail");
        return s.toString();
    }

    private static String indexVector(int from, int lanes) {
        StringBuilder s = new StringBuilder("<").append(lanes).append(" x i32> <");
        for (int i = 0; i < lanes; i++) {
            s.append(i == 0 ? "" : ", ").append("i32 ").append(from + i);
        }
        return s.append('>').toString();
    }

    /** One k step: {@code NR/VW} loads of B, then per row a broadcast of A and {@code NR/VW} FMAs. */
    private void step(StringBuilder s, String out, String k, String in, int vw, int nv) {
        String vt = "<" + vw + " x float>";
        if (implicitB) {
            // B row k of an implicit convolution: the padded image at this tap's offset from the tile.
            s.append("  %").append(out).append(".op = getelementptr i64, ptr %offs, i64 ").append(k).append('\n');
            s.append("  %").append(out).append(".bo = load i64, ptr %").append(out).append(".op, align 8\n");
        } else {
            s.append("  %").append(out).append(".bo = mul i64 ").append(k).append(", ").append(vw * nv).append('\n');
        }
        s.append("  %").append(out).append(".ao = mul i64 ").append(k).append(", ").append(directA ? "%lda"
                : Integer.toString(aStride)).append('\n');
        for (int v = 0; v < nv; v++) {
            s.append("  %").append(out).append(".bi").append(v).append(" = add i64 %").append(out).append(".bo, ")
                    .append(v * vw).append('\n');
            s.append("  %").append(out).append(".bq").append(v).append(" = getelementptr float, ptr %bp, i64 %")
                    .append(out).append(".bi").append(v).append('\n');
            s.append("  %").append(out).append(".b").append(v).append(" = load ").append(vt).append(", ptr %")
                    .append(out).append(".bq").append(v).append(", align 4\n");
        }
        for (int i = 0; i < mr; i++) {
            String a = "%" + out + ".a" + i;
            if (directA) {
                s.append("  ").append(a).append("q = getelementptr float, ptr %arow").append(i).append(", i64 %")
                        .append(out).append(".ao\n");
            } else {
                s.append("  ").append(a).append("i = add i64 %").append(out).append(".ao, ").append(i).append('\n');
                s.append("  ").append(a).append("q = getelementptr float, ptr %ap, i64 ").append(a).append("i\n");
            }
            broadcastFmas(s, out, in, i, vw, nv);
        }
    }

    /**
     * Phis of a {@code rows} x {@code nv} block of accumulators {@code %acc.i.v}: zero from {@code %entry},
     * {@code next.i.v} from {@code latch}.
     */
    static void accumulatorPhis(StringBuilder s, int rows, int nv, String vt, String next, String latch) {
        for (int i = 0; i < rows; i++) {
            for (int v = 0; v < nv; v++) {
                s.append("  %acc.").append(i).append('.').append(v).append(" = phi ").append(vt)
                        .append(" [ zeroinitializer, %entry ], [ ").append(next).append('.').append(i).append('.')
                        .append(v).append(", ").append(latch).append(" ]\n");
            }
        }
    }

    /**
     * Row {@code i} of a register-block step: the float at {@code %out.a{i}q} broadcast, times the step's B
     * vectors {@code %out.b{v}}, added to {@code %in.i.v} into {@code %out.i.v}.
     */
    static void broadcastFmas(StringBuilder s, String out, String in, int i, int vw, int nv) {
        String vt = "<" + vw + " x float>";
        String a = "%" + out + ".a" + i;
        s.append("  ").append(a).append(" = load float, ptr ").append(a).append("q, align 4\n");
        s.append("  ").append(a).append("v = insertelement ").append(vt).append(" poison, float ").append(a)
                .append(", i64 0\n");
        s.append("  ").append(a).append("s = shufflevector ").append(vt).append(' ').append(a).append("v, ")
                .append(vt).append(" poison, <").append(vw).append(" x i32> zeroinitializer\n");
        for (int v = 0; v < nv; v++) {
            s.append("  %").append(out).append('.').append(i).append('.').append(v).append(" = call ").append(vt)
                    .append(" @llvm.fmuladd.v").append(vw).append("f32(").append(vt).append(' ').append(a)
                    .append("s, ").append(vt).append(" %").append(out).append(".b").append(v).append(", ")
                    .append(vt).append(" %").append(in).append('.').append(i).append('.').append(v).append(")\n");
        }
    }

    private String declarations() {
        int vw = target.vectorWidth();
        int nr = blocking.nr();
        Set<String> d = new LinkedHashSet<>();
        d.add("declare <" + vw + " x float> @llvm.fmuladd.v" + vw + "f32(<" + vw + " x float>, <" + vw
                + " x float>, <" + vw + " x float>)");
        d.add("declare <" + vw + " x float> " + maskedLoad(vw) + "(ptr, i32 immarg, <" + vw + " x i1>, <" + vw
                + " x float>)");
        d.add("declare <" + nr + " x float> " + maskedLoad(nr) + "(ptr, i32 immarg, <" + nr + " x i1>, <" + nr
                + " x float>)");
        d.add("declare void " + maskedStore(vw) + "(<" + vw + " x float>, ptr, i32 immarg, <" + vw + " x i1>)");
        d.add("declare void @llvm.prefetch.p0(ptr, i32 immarg, i32 immarg, i32 immarg)");
        d.add("declare i64 @llvm.smin.i64(i64, i64)");
        d.add("declare i64 @llvm.smax.i64(i64, i64)");
        d.add("declare i32 @llvm.smax.i32(i32, i32)");
        d.addAll(extraDeclarations);
        return String.join("\n", d) + "\n\nattributes #0 = { nounwind \"min-legal-vector-width\"=\""
                + 32 * Math.max(vw, nr) + "\" }\n";
    }

    private static String attributes() {
        return "#0";
    }

    private static String maskedLoad(int lanes) {
        return "@llvm.masked.load.v" + lanes + "f32.p0";
    }

    private static String maskedStore(int lanes) {
        return "@llvm.masked.store.v" + lanes + "f32.p0";
    }

    private static String stepVector(int lanes, int from) {
        StringBuilder s = new StringBuilder("<");
        for (int i = 0; i < lanes; i++) {
            s.append(i == 0 ? "" : ", ").append("i32 ").append(from + i);
        }
        return s.append('>').toString();
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long roundUp64(long bytes) {
        return (bytes + 63) & -64L;
    }

    /**
     * Everything but the micro-kernel: workspace sizing, the driver loops, the tasks handed to
     * {@code parallel_for}, and A/B packing. Context fields: 0 M, 1 N, 2 K, 3 A, 4 lda, 5 B, 6 ldb,
     * 7 C, 8 ldc, 9 bias, 10 R, 11 ldr, 12 packA, 13 packB, 14 bytes per A slot, 15 jc, 16 nc,
     * 17 pc, 18 kc, 19 mc, 20 mc blocks, 21 B-packing tasks, 22 compute tasks, 23 B strips,
     * 24 first K block, 25 last K block, 26 column parts (1: the compute tasks split the rows; more:
     * each task takes every row and one part of the panel's column strips, for products of few rows,
     * whose threads would otherwise each stream all of B).
     */
    private static final String SKELETON = """
            %$G.ctx = type { i64, i64, i64, ptr, i64, ptr, i64, ptr, i64, ptr, ptr, i64, ptr, ptr, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i32, i32, i64 }

            define internal i64 @$G.kcmax(i64 %K) $ATTRS {
              %a = call i64 @llvm.smin.i64(i64 %K, i64 $KC)
              %b = call i64 @llvm.smax.i64(i64 %a, i64 1)
              ret i64 %b
            }

            define internal i64 @$G.bytesB(i64 %N, i64 %K) $ATTRS {
              %kc = call i64 @$G.kcmax(i64 %K)
              %n1 = add i64 %N, $NRm1
              %n2 = sdiv i64 %n1, $NR
              %n3 = mul i64 %n2, $NR
              %nc = call i64 @llvm.smin.i64(i64 %n3, i64 $NC)
              %e = mul i64 %kc, %nc
              %b = mul i64 %e, 4
              %b1 = add i64 %b, 63
              %b2 = and i64 %b1, -64
              ret i64 %b2
            }

            define internal i64 @$G.bytesA(i64 %M, i64 %K) $ATTRS {
              %kc = call i64 @$G.kcmax(i64 %K)
              %m1 = add i64 %M, $MRm1
              %m2 = sdiv i64 %m1, $MR
              %m3 = mul i64 %m2, $MR
              %mc = call i64 @llvm.smin.i64(i64 %m3, i64 $MC)
              %e = mul i64 %kc, %mc
              %b = mul i64 %e, 4
              %b1 = add i64 %b, 63
              %b2 = and i64 %b1, -64
              ret i64 %b2
            }

            define i64 @$G_workspace_bytes(i64 %M, i64 %N, i64 %K, i32 %threads) $ATTRS {
              %bb = call i64 @$G.bytesB(i64 %N, i64 %K)
              %ba = call i64 @$G.bytesA(i64 %M, i64 %K)
              %t0 = call i32 @llvm.smax.i32(i32 %threads, i32 1)
              %t = sext i32 %t0 to i64
              %all = mul i64 %ba, %t
              %sum = add i64 %bb, %all
              ret i64 %sum
            }

            define internal void @$G.run(ptr %pfor, i64 %n, ptr %task, ptr %ctx, i32 %threads) $ATTRS {
            entry:
              %serialT = icmp sle i32 %threads, 1
              %serialN = icmp sle i64 %n, 1
              %serial = or i1 %serialT, %serialN
              br i1 %serial, label %direct, label %pool
            direct:
              call void %task(i64 0, i64 %n, ptr %ctx)
              ret void
            pool:
              call void %pfor(i64 %n, ptr %task, ptr %ctx, i32 %threads)
              ret void
            }

            define void @$G(i64 %M, i64 %N, i64 %K0, ptr %A, i64 %lda, ptr %B, i64 %ldb, ptr %C, i64 %ldc, ptr %bias, ptr %R, i64 %ldr, ptr %ws, ptr %pfor, i32 %threads) $ATTRS {
            entry:
              %ctx = alloca %$G.ctx, align 8
              %mpos = icmp sgt i64 %M, 0
              %npos = icmp sgt i64 %N, 0
              %work = and i1 %mpos, %npos
              br i1 %work, label %setup, label %done
            setup:
              %K = call i64 @llvm.smax.i64(i64 %K0, i64 0)
              %haspf = icmp ne ptr %pfor, null
              %many = icmp sgt i32 %threads, 1
              %par = and i1 %haspf, %many
              %t32 = select i1 %par, i32 %threads, i32 1
              %t = sext i32 %t32 to i64
              %bytesB = call i64 @$G.bytesB(i64 %N, i64 %K)
              %bytesA = call i64 @$G.bytesA(i64 %M, i64 %K)
              %packA = getelementptr i8, ptr %ws, i64 %bytesB
              %few = icmp slt i64 %M, $SPLITROWS
              %nstrips0 = add i64 %N, $NRm1
              %nstrips = sdiv i64 %nstrips0, $NR
              %twot = mul i64 %t, 2
              %wide = icmp sge i64 %nstrips, %twot
              %cs0 = and i1 %few, %wide
              %colsplit = and i1 %cs0, %par
              %cparts = select i1 %colsplit, i64 %t, i64 1
              %per0 = add i64 %M, %t
              %per1 = sub i64 %per0, 1
              %perrows = sdiv i64 %per1, %t
              %per = select i1 %colsplit, i64 %M, i64 %perrows
              %pp0 = add i64 %per, $MRm1
              %pp1 = sdiv i64 %pp0, $MR
              %pp = mul i64 %pp1, $MR
              %mc = call i64 @llvm.smin.i64(i64 %pp, i64 $MC)
              %nb0 = add i64 %M, %mc
              %nb1 = sub i64 %nb0, 1
              %nblk = sdiv i64 %nb1, %mc
              %ntR = call i64 @llvm.smin.i64(i64 %t, i64 %nblk)
              %ntC = select i1 %colsplit, i64 %t, i64 %ntR
              %f26 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 26
              store i64 %cparts, ptr %f26
              %f0 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 0
              store i64 %M, ptr %f0
              %f1 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 1
              store i64 %N, ptr %f1
              %f2 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 2
              store i64 %K, ptr %f2
              %f3 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 3
              store ptr %A, ptr %f3
              %f4 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 4
              store i64 %lda, ptr %f4
              %f5 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 5
              store ptr %B, ptr %f5
              %f6 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 6
              store i64 %ldb, ptr %f6
              %f7 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 7
              store ptr %C, ptr %f7
              %f8 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 8
              store i64 %ldc, ptr %f8
              %f9 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 9
              store ptr %bias, ptr %f9
              %f10 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 10
              store ptr %R, ptr %f10
              %f11 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 11
              store i64 %ldr, ptr %f11
              %f12 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 12
              store ptr %packA, ptr %f12
              %f13 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 13
              store ptr %ws, ptr %f13
              %f14 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 14
              store i64 %bytesA, ptr %f14
              %f19 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 19
              store i64 %mc, ptr %f19
              %f20 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 20
              store i64 %nblk, ptr %f20
              %f22 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 22
              store i64 %ntC, ptr %f22
              %f15 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 15
              %f16 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 16
              %f17 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 17
              %f18 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 18
              %f21 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 21
              %f23 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 23
              %f24 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 24
              %f25 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 25
              br label %jloop
            jloop:
              %jc = phi i64 [ 0, %setup ], [ %jc.next, %jlatch ]
              %nrem = sub i64 %N, %jc
              %nc = call i64 @llvm.smin.i64(i64 %nrem, i64 $NC)
              %np0 = add i64 %nc, $NRm1
              %npan = sdiv i64 %np0, $NR
              %ntB = call i64 @llvm.smin.i64(i64 %t, i64 %npan)
              store i64 %jc, ptr %f15
              store i64 %nc, ptr %f16
              store i64 %ntB, ptr %f21
              store i64 %npan, ptr %f23
              br label %kloop
            kloop:
              %pc = phi i64 [ 0, %jloop ], [ %pc.next, %kloop ]
              %krem = sub i64 %K, %pc
              %kc = call i64 @llvm.smin.i64(i64 %krem, i64 $KC)
              %isfirst = icmp eq i64 %pc, 0
              %first = zext i1 %isfirst to i32
              %pc.next = add i64 %pc, $KC
              %islast = icmp sge i64 %pc.next, %K
              %last = zext i1 %islast to i32
              store i64 %pc, ptr %f17
              store i64 %kc, ptr %f18
              store i32 %first, ptr %f24
              store i32 %last, ptr %f25
$PACKB_CALL
              call void @$G.run(ptr %pfor, i64 %ntC, ptr @$G.task_compute, ptr %ctx, i32 %t32)
              br i1 %islast, label %jlatch, label %kloop
            jlatch:
              %jc.next = add i64 %jc, $NC
              %jmore = icmp slt i64 %jc.next, %N
              br i1 %jmore, label %jloop, label %done
            done:
              ret void
            }

            define internal void @$G.task_packB(i64 %b, i64 %e, ptr %ctx) $ATTRS {
            entry:
              %g5 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 5
              %B = load ptr, ptr %g5
              %g6 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 6
              %ldb = load i64, ptr %g6
              %g13 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 13
              %packB = load ptr, ptr %g13
              %g15 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 15
              %jc = load i64, ptr %g15
              %g16 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 16
              %nc = load i64, ptr %g16
              %g17 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 17
              %pc = load i64, ptr %g17
              %g18 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 18
              %kc = load i64, ptr %g18
              %g21 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 21
              %nt = load i64, ptr %g21
              %g23 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 23
              %npan = load i64, ptr %g23
              %rowoff = mul i64 %pc, %ldb
              %base0 = add i64 %rowoff, %jc
              br label %iloop
            iloop:
              %i = phi i64 [ %b, %entry ], [ %i.next, %ilatch ]
              %imore = icmp slt i64 %i, %e
              br i1 %imore, label %ploop, label %exit
            ploop:
              %p = phi i64 [ %i, %iloop ], [ %p.next, %pnext ]
              %pmore = icmp slt i64 %p, %npan
              br i1 %pmore, label %pbody, label %ilatch
            pbody:
              %col = mul i64 %p, $NR
              %left = sub i64 %nc, %col
              %ncols = call i64 @llvm.smin.i64(i64 %left, i64 $NR)
              %soff = add i64 %base0, %col
              %src = getelementptr float, ptr %B, i64 %soff
              %doff = mul i64 %col, %kc
              %dst = getelementptr float, ptr %packB, i64 %doff
              %full = icmp eq i64 %ncols, $NR
              %nc32 = trunc i64 %ncols to i32
              %ncv0 = insertelement <$NR x i32> poison, i32 %nc32, i64 0
              %ncv = shufflevector <$NR x i32> %ncv0, <$NR x i32> poison, <$NR x i32> zeroinitializer
              %mask = icmp ult <$NR x i32> $STEPS, %ncv
              br i1 %full, label %kfull, label %kedge
            kfull:
              %k = phi i64 [ 0, %pbody ], [ %k.next, %kfullbody ]
              %kmore = icmp slt i64 %k, %kc
              br i1 %kmore, label %kfullbody, label %pnext
            kfullbody:
              %so = mul i64 %k, %ldb
              %sp = getelementptr float, ptr %src, i64 %so
              %v = load <$NR x float>, ptr %sp, align 4
              %do = mul i64 %k, $NR
              %dp = getelementptr float, ptr %dst, i64 %do
              store <$NR x float> %v, ptr %dp, align 4
              %k.next = add i64 %k, 1
              br label %kfull
            kedge:
              %ke = phi i64 [ 0, %pbody ], [ %ke.next, %kedgebody ]
              %kemore = icmp slt i64 %ke, %kc
              br i1 %kemore, label %kedgebody, label %pnext
            kedgebody:
              %seo = mul i64 %ke, %ldb
              %sep = getelementptr float, ptr %src, i64 %seo
              %ve = call <$NR x float> @llvm.masked.load.v$NRf32.p0(ptr %sep, i32 4, <$NR x i1> %mask, <$NR x float> zeroinitializer)
              %deo = mul i64 %ke, $NR
              %dep = getelementptr float, ptr %dst, i64 %deo
              store <$NR x float> %ve, ptr %dep, align 4
              %ke.next = add i64 %ke, 1
              br label %kedge
            pnext:
              %p.next = add i64 %p, %nt
              br label %ploop
            ilatch:
              %i.next = add i64 %i, 1
              br label %iloop
            exit:
              ret void
            }

            define internal void @$G.packA(ptr noalias %dst, ptr noalias %src, i64 %lda, i64 %mc, i64 %kc) $ATTRS {
            entry:
              br label %qloop
            qloop:
              %r0 = phi i64 [ 0, %entry ], [ %r0.next, %qnext ]
              %qmore = icmp slt i64 %r0, %mc
              br i1 %qmore, label %qbody, label %exit
            qbody:
              %poff = mul i64 %r0, %kc
              %panel = getelementptr float, ptr %dst, i64 %poff
              %rowsleft = sub i64 %mc, %r0
              %fullq = icmp sge i64 %rowsleft, $MR
              br i1 %fullq, label %vpre, label %rloop
            $PACKA_VECTOR
            rloop:
              %i = phi i64 [ 0, %qbody ], [ %i.next, %rnext ]
              %rmore = icmp slt i64 %i, $MR
              br i1 %rmore, label %rbody, label %qnext
            rbody:
              %r = add i64 %r0, %i
              %d = getelementptr float, ptr %panel, i64 %i
              %soff = mul i64 %r, %lda
              %s = getelementptr float, ptr %src, i64 %soff
              %valid = icmp slt i64 %r, %mc
              br i1 %valid, label %copy, label %zero
            copy:
              %k = phi i64 [ 0, %rbody ], [ %k.next, %copybody ]
              %kmore = icmp slt i64 %k, %kc
              br i1 %kmore, label %copybody, label %rnext
            copybody:
              %sp = getelementptr float, ptr %s, i64 %k
              %x = load float, ptr %sp, align 4
              %dk = mul i64 %k, $MR
              %dp = getelementptr float, ptr %d, i64 %dk
              store float %x, ptr %dp, align 4
              %k.next = add i64 %k, 1
              br label %copy
            zero:
              %z = phi i64 [ 0, %rbody ], [ %z.next, %zerobody ]
              %zmore = icmp slt i64 %z, %kc
              br i1 %zmore, label %zerobody, label %rnext
            zerobody:
              %dz = mul i64 %z, $MR
              %dzp = getelementptr float, ptr %d, i64 %dz
              store float 0.0, ptr %dzp, align 4
              %z.next = add i64 %z, 1
              br label %zero
            rnext:
              %i.next = add i64 %i, 1
              br label %rloop
            qnext:
              %r0.next = add i64 %r0, $MR
              br label %qloop
            exit:
              ret void
            }

            define internal void @$G.task_compute(i64 %b, i64 %e, ptr %ctx) $ATTRS {
            entry:
              %g2 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 2
              %Kall = load i64, ptr %g2
              %g5 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 5
              %Bsrc = load ptr, ptr %g5
              %g0 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 0
              %M = load i64, ptr %g0
              %g3 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 3
              %A = load ptr, ptr %g3
              %g4 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 4
              %lda = load i64, ptr %g4
              %g7 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 7
              %C = load ptr, ptr %g7
              %g8 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 8
              %ldc = load i64, ptr %g8
              %g9 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 9
              %bias = load ptr, ptr %g9
              %g10 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 10
              %R = load ptr, ptr %g10
              %g11 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 11
              %ldr = load i64, ptr %g11
              %g12 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 12
              %packA = load ptr, ptr %g12
              %g13 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 13
              %packB = load ptr, ptr %g13
              %g14 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 14
              %slotBytes = load i64, ptr %g14
              %g15 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 15
              %jc = load i64, ptr %g15
              %g16 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 16
              %nc = load i64, ptr %g16
              %g17 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 17
              %pc = load i64, ptr %g17
              %g18 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 18
              %kc = load i64, ptr %g18
              %g19 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 19
              %mcb = load i64, ptr %g19
              %g20 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 20
              %nblk = load i64, ptr %g20
              %g22 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 22
              %nt = load i64, ptr %g22
              %g24 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 24
              %first = load i32, ptr %g24
              %g25 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 25
              %last = load i32, ptr %g25
              %g26 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 26
              %cparts = load i64, ptr %g26
              %g23 = getelementptr %$G.ctx, ptr %ctx, i32 0, i32 23
              %npan = load i64, ptr %g23
              %colsplit = icmp sgt i64 %cparts, 1
              %slotoff = mul i64 %b, %slotBytes
              %slot = getelementptr i8, ptr %packA, i64 %slotoff
              %share0 = add i64 %npan, %cparts
              %share1 = sub i64 %share0, 1
              %share2 = sdiv i64 %share1, %cparts
              %share = mul i64 %share2, $NR
              br label %iloop
            iloop:
              %i = phi i64 [ %b, %entry ], [ %i.next, %ilatch ]
              %imore = icmp slt i64 %i, %e
              br i1 %imore, label %iparts, label %exit
            iparts:
              ; Column parts: task i takes every row block and strips [i * share, (i + 1) * share).
              %blk0 = select i1 %colsplit, i64 0, i64 %i
              %blkstep = select i1 %colsplit, i64 1, i64 %nt
              %jrs = mul i64 %i, %share
              %jr0 = select i1 %colsplit, i64 %jrs, i64 0
              %jre0 = add i64 %jrs, %share
              %jre1 = call i64 @llvm.smin.i64(i64 %jre0, i64 %nc)
              %jr1 = select i1 %colsplit, i64 %jre1, i64 %nc
              br label %blkloop
            blkloop:
              %blk = phi i64 [ %blk0, %iparts ], [ %blk.next, %blknext ]
              %bmore = icmp slt i64 %blk, %nblk
              br i1 %bmore, label %blkbody, label %ilatch
            blkbody:
              %ic = mul i64 %blk, %mcb
              %mleft = sub i64 %M, %ic
              %mc = call i64 @llvm.smin.i64(i64 %mleft, i64 %mcb)
              %aro = mul i64 %ic, %lda
              %ao = add i64 %aro, %pc
              %asrc = getelementptr float, ptr %A, i64 %ao
$PACKA_CALL
              br label %jrloop
            jrloop:
              %jr = phi i64 [ %jr0, %blkbody ], [ %jr.next, %jrnext ]
              %jrmore = icmp slt i64 %jr, %jr1
              br i1 %jrmore, label %jrbody, label %blknext
            jrbody:
              %nleft = sub i64 %nc, %jr
              %nr = call i64 @llvm.smin.i64(i64 %nleft, i64 $NR)
$BPOINTER
              %col = add i64 %jc, %jr
              %biasp = getelementptr float, ptr %bias, i64 %col
              br label %irloop
            irloop:
              %ir = phi i64 [ 0, %jrbody ], [ %ir.next, %irbody ]
              %irmore = icmp slt i64 %ir, %mc
              br i1 %irmore, label %irbody, label %jrnext
            irbody:
              %mleft2 = sub i64 %mc, %ir
              %mr = call i64 @llvm.smin.i64(i64 %mleft2, i64 $MR)
$APOINTER
              %row = add i64 %ic, %ir
              %cro = mul i64 %row, %ldc
              %co = add i64 %cro, %col
              %cp = getelementptr float, ptr %C, i64 %co
              %rro = mul i64 %row, %ldr
              %ro = add i64 %rro, %col
              %rp = getelementptr float, ptr %R, i64 %ro
              %biasr = getelementptr float, ptr %bias, i64 %row
$PREFETCH_NEXT
              call void @$G.ukernel(i64 %kc, ptr %ap, ptr %bp, ptr %cp, i64 %ldc, i64 %mr, i64 %nr, i32 %first, i32 %last, ptr $BIASP, ptr %rp, i64 %ldr)
              %ir.next = add i64 %ir, $MR
              br label %irloop
            jrnext:
              %jr.next = add i64 %jr, $NR
              br label %jrloop
            blknext:
              %blk.next = add i64 %blk, %blkstep
              br label %blkloop
            ilatch:
              %i.next = add i64 %i, 1
              br label %iloop
            exit:
              ret void
            }

            """;

    /**
     * The driver of an implicit convolution. Output pixels are numbered along the padded image's
     * rows (p = oh * ldx + ow, so pixel p reads the padded image from p on, tap by tap): tiles of
     * NR consecutive p by MR output channels into T [M, P], the tiles split over threads; K in
     * blocks of kc, and per block and MR-channel strip the thread's tiles in turn, so the strip's
     * kc x MR weights stay in cache across the tiles (the micro-kernel accumulates in T between
     * blocks). The caller keeps the columns ow < OW (the rest read across a row end and are
     * dropped).
     */
    /**
     * The driver of a transposed product: output-channel tiles of NR columns split over the threads, each
     * tile's pre-packed weights strip (K x NR) reused by every MR-pixel block, in K blocks of at most
     * {@link #TRANSPOSED_KC}.
     */
    private static final String TRANSPOSED_SKELETON = """
            $ENTRY$TASK
              %strip = mul i64 %K, $NR
              ; K blocks of equal length, at most $KC: one block up to $KC, two of half a K up to twice that.
              %nkb0 = add i64 %K, $KCm1
              %nkb1 = udiv i64 %nkb0, $KC
              %nkb = call i64 @llvm.smax.i64(i64 %nkb1, i64 1)
              %kcl0 = add i64 %K, %nkb
              %kcl1 = sub i64 %kcl0, 1
              %kclen = udiv i64 %kcl1, %nkb
              br label %kloop
            kloop:
              %kb = phi i64 [ 0, %entry ], [ %kb.next, %klatch ]
              %kmore = icmp slt i64 %kb, %K
              br i1 %kmore, label %kbody, label %exit
            kbody:
              %kleft = sub i64 %K, %kb
              %kc = call i64 @llvm.smin.i64(i64 %kleft, i64 %kclen)
              %isfirst = icmp eq i64 %kb, 0
              %first = zext i1 %isfirst to i32
              %kb.next = add i64 %kb, %kc
              %islast = icmp sge i64 %kb.next, %K
              %last = zext i1 %islast to i32
              %xko = mul i64 %kb, %ldx
              %xk = getelementptr float, ptr %X, i64 %xko
              %wko = mul i64 %kb, $NR
              br label %tloop
            tloop:
              %t = phi i64 [ %b, %kbody ], [ %t.next, %tlatch ]
              %tmore = icmp slt i64 %t, %e
              br i1 %tmore, label %tbody, label %klatch
            tbody:
              %col = mul i64 %t, $NR
              %nleft = sub i64 %N, %col
              %nr = call i64 @llvm.smin.i64(i64 %nleft, i64 $NR)
              %bo0 = mul i64 %t, %strip
              %bo = add i64 %bo0, %wko
              %bp = getelementptr float, ptr %W, i64 %bo
              %biasp = getelementptr float, ptr %bias, i64 %col
              %cco = mul i64 %col, %ldc
              %rco = mul i64 %col, %ldr
              br label %iloop
            iloop:
              %ir = phi i64 [ 0, %tbody ], [ %ir.next, %ibody ]
              %imore = icmp slt i64 %ir, %M
              br i1 %imore, label %ibody, label %tlatch
            ibody:
              %mleft = sub i64 %M, %ir
              %mr = call i64 @llvm.smin.i64(i64 %mleft, i64 $MR)
              %ap = getelementptr float, ptr %xk, i64 %ir
              %co = add i64 %cco, %ir
              %cp = getelementptr float, ptr %C, i64 %co
              %ro = add i64 %rco, %ir
              %rp = getelementptr float, ptr %R, i64 %ro
              call void @$G.ukernel(i64 %kc, ptr %ap, ptr %bp, ptr %cp, i64 %ldc, i64 %mr, i64 %nr, i32 %first, i32 %last, ptr %biasp, ptr %rp, i64 %ldr, i64 %ldx)
              %ir.next = add i64 %ir, $MR
              br label %iloop
            tlatch:
              %t.next = add i64 %t, 1
              br label %tloop
            klatch:
              br label %kloop
            exit:
              ret void
            }

            """;

    private static final String CONV_SKELETON = """
            $ENTRY$TASK
              %ks = mul i64 %K, $MR
              br label %kloop
            kloop:
              %kb = phi i64 [ 0, %entry ], [ %kb.next, %klatch ]
              %kmore = icmp slt i64 %kb, %K
              br i1 %kmore, label %kbody, label %exit
            kbody:
              %kleft = sub i64 %K, %kb
              %kc = call i64 @llvm.smin.i64(i64 %kleft, i64 $KC)
              %isfirst = icmp eq i64 %kb, 0
              %first = zext i1 %isfirst to i32
              %kb.next = add i64 %kb, $KC
              %islast = icmp sge i64 %kb.next, %K
              %last = zext i1 %islast to i32
              %offk = getelementptr i64, ptr %offs, i64 %kb
              %akb = mul i64 %kb, $MR
              br label %sloop
            sloop:
              %m0 = phi i64 [ 0, %kbody ], [ %m0.next, %slatch ]
              %smore = icmp slt i64 %m0, %M
              br i1 %smore, label %sbody, label %klatch
            sbody:
              %mleft = sub i64 %M, %m0
              %mr = call i64 @llvm.smin.i64(i64 %mleft, i64 $MR)
              %strip = sdiv i64 %m0, $MR
              %ao0 = mul i64 %strip, %ks
              %ao = add i64 %ao0, %akb
              %ap = getelementptr float, ptr %A, i64 %ao
              %co0 = mul i64 %m0, %P
              %biasp = getelementptr float, ptr %bias, i64 %m0
              br label %tloop
            tloop:
              %t = phi i64 [ %b, %sbody ], [ %t.next, %tbody ]
              %tmore = icmp slt i64 %t, %e
              br i1 %tmore, label %tbody, label %slatch
            tbody:
              %p = mul i64 %t, $NR
              %pleft = sub i64 %P, %p
              %nr = call i64 @llvm.smin.i64(i64 %pleft, i64 $NR)
              %xp = getelementptr float, ptr %X, i64 %p
              %co = add i64 %co0, %p
              %cp = getelementptr float, ptr %T, i64 %co
              call void @$G.ukernel(i64 %kc, ptr %ap, ptr %xp, ptr %cp, i64 %P, i64 %mr, i64 %nr, i32 %first, i32 %last, ptr %biasp, ptr null, i64 0, ptr %offk)
              %t.next = add i64 %t, 1
              br label %tloop
            slatch:
              %m0.next = add i64 %m0, $MR
              br label %sloop
            klatch:
              br label %kloop
            exit:
              ret void
            }

            """;
}
