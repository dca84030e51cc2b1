package dev.nnvm.compiler.codegen.llvm;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Emits LLVM IR (text) for direct convolution on the blocked channel layout NCHW{b}c, {@code b} the
 * vector width (16 floats on AVX-512, 8 on AVX2): a register-blocked micro-kernel over a run of
 * output pixels of one output row and {@code 2b} output channels.
 *
 * <h2>How it works</h2>
 * In NCHW{b}c the {@code b} channels of a pixel are one vector, so a convolution is, per output row,
 * a product of [pixels, taps x b] (the image, read in place) by [taps x b, channels] (the weights):
 * pixels are the rows of the register block ({@link #rows} of them: 14 on AVX-512, 6 on AVX2), two
 * channel blocks its two vector columns. Per tap (input channel block, kernel row, kernel column) the
 * micro-kernel reads the tap's offset from a table, then for each of the {@code b} input channels
 * (4 a loop step) loads two weight vectors and broadcasts one input value per pixel: {@code 2 x rows}
 * FMAs per {@code 2 + rows} loads, 28 accumulators in registers on AVX-512. Pixels are a constant
 * {@link Kernel#pixelStride} floats apart in the image ({@code stride x b}), so a tile's pixels are
 * fixed displacements from one pointer and strided convolutions read in place too; padding is done
 * once per image by the caller (a zero-padded copy). The store needs no shuffle: the
 * accumulator of pixel {@code i} and channel block {@code v} is the output vector at
 * {@code C + v * plane + i * b}, and bias, residual (laid out like C) and ReLU are applied in
 * registers before it.
 *
 * <p>Unlike an implicit GEMM over NCHW, nothing is computed and dropped: each output row is split
 * into tiles of nearly equal width ({@code ceil(OW / rows)} tiles of {@code floor} or {@code ceil}
 * of {@code OW / tiles} pixels: 56 = 4 x 14, 28 = 2 x 14, 7 = 7, 20 = 10 + 10), and the
 * micro-kernels are generated for exactly those widths ({@link Kernel#rowCounts}) down to half a
 * register block; a narrower one (or any other) runs on the full-width kernel with its extra rows
 * reading the last pixel again and not stored.
 *
 * <h2>Exported C ABI</h2>
 * <pre>{@code
 * void g(int64_t NB,               // batch items
 *        int64_t xbatch, int64_t cbatch,  // floats between batch items in X, and in C and R
 *        int64_t OH, int64_t OW,   // output rows and pixels per row
 *        int64_t N,                // output channels, a multiple of b
 *        int64_t taps,             // input channel blocks x KH x KW; K = taps * b
 *        const float* X,           // the (padded) images, each [C/b, Hp, Wp, b]
 *        int64_t xrow, int64_t xpix,  // floats between the windows of consecutive output rows / pixels
 *        const int64_t* offs,      // [taps]: floats from a window's origin to the tap's first channel
 *        const float* W,           // weights, ceil(N / 2b) strips of [K, 2b] (see packWeights)
 *        float* C,                 // [N/b, OH * OW, b]
 *        const float* bias,        // [N], read with a bias epilogue
 *        const float* R,           // residual laid out like C, read with a residual epilogue
 *        parallel_for, int32_t threads);
 * }</pre>
 * The tasks are (channel strip, batch item, output row), strip-major, so a thread's rows, of every
 * batch item, share its strips' weights in cache: the weights are read once per call, not per image.
 */
public final class BlockedConvGenerator {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /**
     * Input channels per step of the micro-kernel's loop, as the GEMM's unrolling: all 16 of a tap in one
     * block let LLVM's scheduler hoist the broadcasts and spill (light ResNet-50 41 -> 52 ms).
     */
    private static final int UNROLL = 4;

    private final CpuTarget target;

    public BlockedConvGenerator(CpuTarget target) {
        this.target = Objects.requireNonNull(target, "target");
    }

    /**
     * One exported convolution function: its C symbol, its epilogue (a column bias: per output
     * channel), the tile widths it has specialized micro-kernels for, and the floats between the
     * windows of consecutive pixels ({@code stride x b}), a constant so that a tile's pixels are
     * constant offsets from one pointer.
     */
    public record Kernel(String name, GemmGenerator.Epilogue epilogue, List<Integer> rowCounts, long pixelStride) {
        public Kernel {
            if (pixelStride < 1) {
                throw new IllegalArgumentException("pixel stride " + pixelStride);
            }
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(epilogue, "epilogue");
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("kernel name '" + name + "' is not a C identifier");
            }
            if (epilogue.rowBias()) {
                throw new IllegalArgumentException("a blocked convolution's bias is per output channel (a column bias)");
            }
            rowCounts = List.copyOf(new TreeSet<>(rowCounts));
        }
    }

    /** The channel block (floats per vector) of this target's kernels. */
    public int block() {
        return target.vectorWidth();
    }

    /** Output channels per weights strip: two vectors. */
    public int stripWidth() {
        return 2 * block();
    }

    /** Pixels in the register block: 14 with 32 vector registers (28 accumulators), 6 with 16 (12). */
    public int rows() {
        return rows(target);
    }

    public static int rows(CpuTarget target) {
        return target.vectorWidth() >= 16 ? 14 : 6;
    }

    /** The tile widths an output row of {@code width} pixels is split into (one or two values). */
    public static List<Integer> tileWidths(long width, int rows) {
        long tiles = (width + rows - 1) / rows;
        long base = width / tiles;
        List<Integer> out = new ArrayList<>();
        out.add(Math.toIntExact(base));
        if (width % tiles != 0) {
            out.add(Math.toIntExact(base + 1));
        }
        return out;
    }

    /**
     * Weights packed as a blocked kernel reads them: {@code w} is the plain [O, I, KH, KW] (row-major);
     * the result holds {@code ceil(O / nr)} strips of [I/b, KH, KW, b, nr] (k = ((ib * KH + kh) * KW + kw)
     * * b + ci, then the strip's nr output channels), the last strip zero-padded.
     */
    public static float[] packWeights(float[] w, int o, int i, int kh, int kw, int b, int nr) {
        if (w.length != (long) o * i * kh * kw || i % b != 0) {
            throw new IllegalArgumentException("weights of " + w.length + " floats are not [" + o + ", " + i + ", "
                    + kh + ", " + kw + "] with input channels a multiple of " + b);
        }
        int strips = (o + nr - 1) / nr;
        int k = i * kh * kw;
        float[] out = new float[Math.multiplyExact(Math.multiplyExact(strips, k), nr)];
        for (int oc = 0; oc < o; oc++) {
            int s = oc / nr;
            int j = oc % nr;
            for (int ic = 0; ic < i; ic++) {
                for (int y = 0; y < kh; y++) {
                    for (int x = 0; x < kw; x++) {
                        int kk = (((ic / b) * kh + y) * kw + x) * b + ic % b;
                        out[(s * k + kk) * nr + j] = w[((oc * i + ic) * kh + y) * kw + x];
                    }
                }
            }
        }
        return out;
    }

    /** The functions of one kernel (driver, tasks, micro-kernels); the intrinsics are declared by the GEMM module. */
    public String kernel(Kernel kernel) {
        int mr = rows();
        List<TaskDriver.Field> fields = TaskDriver.fields("i64 NB", "i64 xbatch", "i64 cbatch", "i64 OH", "i64 OW",
                "i64 N", "i64 taps", "ptr X", "i64 xrow", "i64 xpix", "ptr offs", "ptr W", "ptr C", "ptr bias",
                "ptr R");
        String g = kernel.name();
        String setup = "  %ohpos = icmp sgt i64 %OH, 0\n  %owpos = icmp sgt i64 %OW, 0\n  %npos = icmp sgt i64 %N, 0\n"
                + "  %bpos = icmp sgt i64 %NB, 0\n  %w0 = and i1 %ohpos, %owpos\n  %w1 = and i1 %w0, %bpos\n"
                + "  %work = and i1 %w1, %npos\n"
                + "  %s0 = add i64 %N, " + (stripWidth() - 1) + "\n  %strips = sdiv i64 %s0, " + stripWidth() + "\n"
                + "  %rowsall = mul i64 %NB, %OH\n  %tasks = mul i64 %strips, %rowsall\n";
        StringBuilder s = new StringBuilder();
        s.append(TaskDriver.entry(g, attributes(), fields, List.of(), setup, "%work", "%tasks"));
        s.append(TaskDriver.taskPrologue(g, attributes(), fields));
        s.append(TASK_BODY.replace("$G", g).replace("$NR", Integer.toString(stripWidth()))
                .replace("$B", Integer.toString(block())).replace("$MRm1", Integer.toString(mr - 1))
                .replace("$MR", Integer.toString(mr)));
        // The dispatcher: a specialized micro-kernel per tile width (pixels at constant displacements), the
        // full-width one with clamped pixel offsets (a register each) for any other.
        String params = "i64 %taps, ptr %ap, i64 %xpix, ptr %offs, ptr %bp, ptr %c, i64 %plane, i64 %mr, i64 %nr, "
                + "ptr %biasp, ptr %rp";
        s.append("define internal void @").append(g).append(".ukernel(").append(params).append(") ").append(attributes())
                .append(" {\nentry:\n");
        List<Integer> special = new ArrayList<>();
        for (int r : kernel.rowCounts()) {
            if (r >= narrowest(mr) && r <= mr) {
                special.add(r);
            }
        }
        for (int r : special) {
            s.append("  %is").append(r).append(" = icmp eq i64 %mr, ").append(r).append('\n');
            s.append("  br i1 %is").append(r).append(", label %k").append(r).append(", label %n").append(r)
                    .append("\nk").append(r).append(":\n  call void @").append(g).append(".uk").append(r).append('(')
                    .append(params).append(")\n  ret void\nn").append(r).append(":\n");
        }
        s.append("  call void @").append(g).append(".ukc(").append(params).append(")\n  ret void\n}\n\n");
        for (int r : special) {
            s.append(microKernel(kernel, r, false));
        }
        s.append(microKernel(kernel, mr, true));
        return s.toString();
    }

    /**
     * The narrowest tile with a micro-kernel of its own: half a register block. Narrower ones (images
     * under half a block wide, rare and small) share the clamped full-width kernel, which bounds the
     * micro-kernels (and compile time) a model needs.
     */
    static int narrowest(int mr) {
        return (mr + 1) / 2;
    }

    /**
     * One micro-kernel of {@code rows} pixels x 2 vectors. With {@code clamped}, {@code %mr} (at most
     * {@code rows}) pixels are valid: the others read the last valid one and are not stored.
     */
    private String microKernel(Kernel kernel, int rows, boolean clamped) {
        int vw = target.vectorWidth();
        int b = block();
        int nv = stripWidth() / vw;
        String vt = "<" + vw + " x float>";
        GemmGenerator.Epilogue ep = kernel.epilogue();
        StringBuilder s = new StringBuilder();
        s.append("define internal void @").append(kernel.name()).append(clamped ? ".ukc" : ".uk" + rows)
                .append("(i64 %taps, ptr noalias %ap, i64 %xpix, ptr noalias %offs, ptr noalias %bp, ptr %c, ")
                .append("i64 %plane, i64 %mr, i64 %nr, ptr %biasp, ptr %rp) ").append(attributes())
                .append(" {\nentry:\n");
        // Pixel i of the tile is i * pixel stride floats from the tile's first (clamped: the last valid one).
        String[] rowOff = new String[rows];
        if (clamped) {
            s.append("  %mrm1 = sub i64 %mr, 1\n");
        }
        for (int i = 0; i < rows; i++) {
            if (clamped) {
                s.append("  %arc").append(i).append(" = call i64 @llvm.smin.i64(i64 ").append(i).append(", i64 %mrm1)\n");
                s.append("  %aro").append(i).append(" = mul i64 %arc").append(i).append(", ").append(kernel.pixelStride())
                        .append('\n');
                rowOff[i] = "%aro" + i;
            } else {
                rowOff[i] = Long.toString((long) i * kernel.pixelStride());
            }
        }
        // k runs over taps x b input channels, UNROLL at a time (b is a multiple of UNROLL: one tap per step).
        int perTap = b / UNROLL;
        s.append("  %quads = mul i64 %taps, ").append(perTap).append('\n');
        s.append("  br label %loop\nloop:\n  %k4 = phi i64 [ 0, %entry ], [ %k4.next, %body ]\n");
        GemmGenerator.accumulatorPhis(s, rows, nv, vt, "%s" + (UNROLL - 1), "%body");
        s.append("  %more = icmp slt i64 %k4, %quads\n  br i1 %more, label %body, label %store\nbody:\n");
        s.append("  %kk = udiv i64 %k4, ").append(perTap).append('\n');
        s.append("  %cq = urem i64 %k4, ").append(perTap).append('\n');
        s.append("  %ci0 = mul i64 %cq, ").append(UNROLL).append('\n');
        s.append("  %offp = getelementptr i64, ptr %offs, i64 %kk\n");
        s.append("  %toff = load i64, ptr %offp, align 8\n");
        s.append("  %ao = add i64 %toff, %ci0\n");
        s.append("  %at = getelementptr float, ptr %ap, i64 %ao\n");
        s.append("  %bo = mul i64 %k4, ").append(UNROLL * stripWidth()).append('\n');
        s.append("  %bkp = getelementptr float, ptr %bp, i64 %bo\n");
        for (int u = 0; u < UNROLL; u++) {
            String in = u == 0 ? "acc" : "s" + (u - 1);
            String out = "s" + u;
            for (int v = 0; v < nv; v++) {
                s.append("  %").append(out).append(".bq").append(v).append(" = getelementptr float, ptr %bkp, i64 ")
                        .append(u * stripWidth() + v * vw).append('\n');
                s.append("  %").append(out).append(".b").append(v).append(" = load ").append(vt).append(", ptr %")
                        .append(out).append(".bq").append(v).append(", align 4\n");
            }
            for (int i = 0; i < rows; i++) {
                String a = "%" + out + ".a" + i;
                if (clamped) {
                    s.append("  ").append(a).append("o = add i64 ").append(rowOff[i]).append(", ").append(u).append('\n');
                    s.append("  ").append(a).append("q = getelementptr float, ptr %at, i64 ").append(a).append("o\n");
                } else {
                    s.append("  ").append(a).append("q = getelementptr float, ptr %at, i64 ")
                            .append(Long.parseLong(rowOff[i]) + u).append('\n');
                }
                GemmGenerator.broadcastFmas(s, out, in, i, vw, nv);
            }
        }
        s.append("  %k4.next = add i64 %k4, 1\n  br label %loop\n");
        // Store: vector v of the strip exists when nr > v * vw; pixel i when i < mr (clamped kernels).
        s.append("store:\n");
        String all = allTrue(vw);
        for (int v = 0; v < nv; v++) {
            s.append("  br label %v").append(v).append("check\nv").append(v).append("check:\n");
            s.append("  %vok").append(v).append(" = icmp sgt i64 %nr, ").append(v * vw).append('\n');
            s.append("  br i1 %vok").append(v).append(", label %v").append(v).append("go, label %done\n");
            s.append("v").append(v).append("go:\n");
            s.append("  %vo").append(v).append(" = mul i64 %plane, ").append(v).append('\n');
            if (ep.bias()) {
                s.append("  %bsp").append(v).append(" = getelementptr float, ptr %biasp, i64 ").append(v * vw).append('\n');
                s.append("  %bias").append(v).append(" = load ").append(vt).append(", ptr %bsp").append(v)
                        .append(", align 4\n");
            }
            for (int i = 0; i < rows; i++) {
                String id = i + "." + v;
                String next = i + 1 < rows ? "r" + (i + 1) + "v" + v : "v" + (v + 1) + "end";
                if (clamped) {
                    s.append("  %in").append(id.replace('.', '_')).append(" = icmp slt i64 ").append(i).append(", %mr\n");
                    s.append("  br i1 %in").append(id.replace('.', '_')).append(", label %r").append(i).append("v")
                            .append(v).append("do, label %v").append(v + 1).append("end\nr").append(i).append("v")
                            .append(v).append("do:\n");
                }
                s.append("  %co.").append(id).append(" = add i64 %vo").append(v).append(", ").append(i * b).append('\n');
                s.append("  %cp.").append(id).append(" = getelementptr float, ptr %c, i64 %co.").append(id).append('\n');
                String x = "%acc." + id;
                if (ep.bias()) {
                    s.append("  %xb.").append(id).append(" = fadd ").append(vt).append(' ').append(x).append(", %bias")
                            .append(v).append('\n');
                    x = "%xb." + id;
                }
                if (ep.residual()) {
                    s.append("  %rpp.").append(id).append(" = getelementptr float, ptr %rp, i64 %co.").append(id)
                            .append('\n');
                }
                x = GemmGenerator.residualAndRelu(s, ep, "", id, x, vw, "%rpp." + id, all);
                s.append("  store ").append(vt).append(' ').append(x).append(", ptr %cp.").append(id)
                        .append(", align 4\n");
                if (clamped) {
                    s.append("  br label %").append(next).append('\n');
                    if (i + 1 < rows) {
                        s.append(next).append(":\n");
                    }
                }
            }
            if (!clamped) {
                s.append("  br label %v").append(v + 1).append("end\n");
            }
            s.append("v").append(v + 1).append("end:\n");
            if (v + 1 == nv) {
                s.append("  br label %done\n");
            } else {
                s.append("  br label %v").append(v + 1).append("check\n");
            }
        }
        s.append("done:\n  ret void\n}\n\n");
        return s.toString();
    }

    private static String allTrue(int lanes) {
        StringBuilder s = new StringBuilder("<");
        for (int i = 0; i < lanes; i++) {
            s.append(i == 0 ? "" : ", ").append("i1 true");
        }
        return s.append('>').toString();
    }

    private static String attributes() {
        return "#0";
    }

    /**
     * The task: for each (strip, output row) in [b, e), the row's tiles in turn. Tile widths: {@code tiles =
     * ceil(OW / MR)}, the first {@code OW % tiles} of them one pixel wider than {@code OW / tiles}.
     */
    private static final String TASK_BODY = """
              %plane0 = mul i64 %OH, %OW
              %plane = mul i64 %plane0, $B
              %kall = mul i64 %taps, $B
              %wstrip = mul i64 %kall, $NR
              %nt0 = add i64 %OW, $MRm1
              %ntiles = sdiv i64 %nt0, $MR
              %tbase = sdiv i64 %OW, %ntiles
              %textra = srem i64 %OW, %ntiles
              %rowc = mul i64 %OW, $B
              %rowsall = mul i64 %NB, %OH
              br label %tloop
            tloop:
              %t = phi i64 [ %b, %entry ], [ %t.next, %rowdone ]
              %tmore = icmp slt i64 %t, %e
              br i1 %tmore, label %tbody, label %exit
            tbody:
              %strip = sdiv i64 %t, %rowsall
              %trow = srem i64 %t, %rowsall
              %item = sdiv i64 %trow, %OH
              %oh = srem i64 %trow, %OH
              %xio = mul i64 %item, %xbatch
              %Xi = getelementptr float, ptr %X, i64 %xio
              %cio = mul i64 %item, %cbatch
              %Ci = getelementptr float, ptr %C, i64 %cio
              %Ri = getelementptr float, ptr %R, i64 %cio
              %col = mul i64 %strip, $NR
              %nleft = sub i64 %N, %col
              %nr = call i64 @llvm.smin.i64(i64 %nleft, i64 $NR)
              %wo = mul i64 %strip, %wstrip
              %wp = getelementptr float, ptr %W, i64 %wo
              %biasp = getelementptr float, ptr %bias, i64 %col
              %xro = mul i64 %oh, %xrow
              %xr = getelementptr float, ptr %Xi, i64 %xro
              %cblk = sdiv i64 %col, $B
              %cbo = mul i64 %cblk, %plane
              %cro = mul i64 %oh, %rowc
              %cto = add i64 %cbo, %cro
              br label %iloop
            iloop:
              %i = phi i64 [ 0, %tbody ], [ %i.next, %ibody ]
              %ow = phi i64 [ 0, %tbody ], [ %ow.next, %ibody ]
              %imore = icmp slt i64 %i, %ntiles
              br i1 %imore, label %ibody, label %rowdone
            ibody:
              %wide = icmp slt i64 %i, %textra
              %wadd = zext i1 %wide to i64
              %mr = add i64 %tbase, %wadd
              %xo = mul i64 %ow, %xpix
              %ap = getelementptr float, ptr %xr, i64 %xo
              %owb = mul i64 %ow, $B
              %co = add i64 %cto, %owb
              %cp = getelementptr float, ptr %Ci, i64 %co
              %rp = getelementptr float, ptr %Ri, i64 %co
              call void @$G.ukernel(i64 %taps, ptr %ap, i64 %xpix, ptr %offs, ptr %wp, ptr %cp, i64 %plane, i64 %mr, i64 %nr, ptr %biasp, ptr %rp)
              %i.next = add i64 %i, 1
              %ow.next = add i64 %ow, %mr
              br label %iloop
            rowdone:
              %t.next = add i64 %t, 1
              br label %tloop
            exit:
              ret void
            }

            """;
}
