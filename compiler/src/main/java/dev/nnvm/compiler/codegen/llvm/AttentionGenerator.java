package dev.nnvm.compiler.codegen.llvm;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Emits LLVM IR (text) for fused scaled dot-product attention,
 * {@code O = softmax(Q KT * scale + mask) V}, that never materializes the
 * score matrix: the online softmax of FlashAttention on the CPU.
 *
 * <h2>How it works</h2>
 * The work is split into units of {@link #ROW_BLOCK} query rows of one
 * (batch, head) pair, handed out through {@code parallel_for}. A unit walks
 * the keys in blocks of {@link #KEY_BLOCK}: it computes the block's scores
 * for its rows ({@link #rows} rows x 2 vectors of keys in registers, Q
 * broadcast, KT rows loaded as vectors), scaled and masked, into a stack
 * buffer of {@code ROW_BLOCK x KEY_BLOCK} floats; per row it takes the new
 * running maximum, rescales the row's sum of exponentials and its output
 * accumulators by {@code exp(old max - new max)}, and replaces the scores by
 * {@code exp(score - max)} (exp inline, {@link ExpF32}); then it adds
 * {@code P V} of the block into the output rows ({@link #rows} rows x 2
 * vectors of value columns in registers). At the end each output row is
 * divided by its sum. Memory beyond the inputs and the output: 12 KiB of
 * stack per thread, whatever the sequence length (the unfused form needs a
 * {@code batch x heads x Sq x Sk} score tensor). Edge tiles use masked loads
 * and stores; nothing outside the tensors is read or written.
 *
 * <h2>Exported C ABI</h2>
 * <pre>{@code
 * void g(int64_t BH,      // batch x heads: the flattened leading dimensions
 *        int64_t H,       // the inner leading dimension (1 when there is one), for the mask
 *        int64_t Sq, int64_t Sk, int64_t D, int64_t Dv,
 *        const float* Q,  // [BH, Sq, D]
 *        const float* KT, // [BH, D, Sk]: the keys transposed
 *        const float* V,  // [BH, Sk, Dv]
 *        const float* M,  // NULL or the additive mask: element (bh, i, k) at
 *                         // (bh / H) * mSb + (bh % H) * mSh + i * mSi + k
 *        int64_t mSb, int64_t mSh, int64_t mSi,
 *        float* O,        // [BH, Sq, Dv]
 *        float scale,
 *        void (*parallel_for)(int64_t n, void (*task)(int64_t, int64_t, void*), void* ctx, int32_t threads),
 *        int32_t threads);
 * }</pre>
 * A row whose scores are all {@code -inf} comes out NaN, as {@code softmax}
 * of such a row is; {@code Sk = 0} gives zeros (an empty sum). Reentrant.
 */
public final class AttentionGenerator {
  /** Query rows per register block: 12 x 2 vectors with 32 vector registers (AVX-512), else 6 x 2. */
  public static int rows(CpuTarget target) {
    return target.vectorWidth() >= 16 ? 12 : 6;
  }

  /** Query rows per unit of work (a multiple of every {@link #rows}). */
  public static final int ROW_BLOCK = 24;
  /** Keys per online-softmax step. */
  public static final int KEY_BLOCK = 128;

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final String NEG_INF = "0xFFF0000000000000";

  private final CpuTarget target;
  private final int vw;
  private final String vt;
  private final String mt;
  private final int rows;

  public AttentionGenerator(CpuTarget target) {
    this.target = Objects.requireNonNull(target, "target");
    this.vw = target.vectorWidth();
    this.rows = rows(target);
    this.vt = "<" + vw + " x float>";
    this.mt = "<" + vw + " x i1>";
    if (KEY_BLOCK % (2 * vw) != 0) {
      throw new IllegalArgumentException("key block " + KEY_BLOCK + " is not a multiple of two vectors of " + target);
    }
  }

  /** The function {@code name} and its helpers, then the declarations they need (no target triple). */
  public String function(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("attention kernel name '" + name + "' is not a C identifier");
    }
    String attrs = "nounwind \"min-legal-vector-width\"=\"" + 32 * vw + "\"";
    StringBuilder s = new StringBuilder();
    s.append(entry(name, attrs));
    s.append("define internal void @").append(name).append(".task(i64 %b, i64 %e, ptr %ctx) ").append(attrs)
        .append(" {\nentry:\n");
    s.append("  %S = alloca [").append(ROW_BLOCK * KEY_BLOCK).append(" x float], align 64\n");
    s.append("  %mx = alloca [").append(ROW_BLOCK).append(" x float], align 64\n");
    s.append("  %sm = alloca [").append(ROW_BLOCK).append(" x float], align 64\n");
    s.append("  br label %loop\nloop:\n  %u = phi i64 [ %b, %entry ], [ %u.next, %body ]\n");
    s.append("  %more = icmp slt i64 %u, %e\n  br i1 %more, label %body, label %exit\nbody:\n");
    s.append("  call void @").append(name).append(".unit(ptr %ctx, i64 %u, ptr %S, ptr %mx, ptr %sm)\n");
    s.append("  %u.next = add i64 %u, 1\n  br label %loop\nexit:\n  ret void\n}\n\n");
    s.append(unit(name, attrs));
    for (String d : declarations()) {
      s.append(d).append('\n');
    }
    return s.append('\n').toString();
  }

  /** The context fields: the arguments, then the number of row blocks. */
  private static final List<TaskDriver.Field> PARAMS = TaskDriver.fields("i64 BH", "i64 H", "i64 Sq", "i64 Sk",
      "i64 D", "i64 Dv", "ptr Q", "ptr KT", "ptr V", "ptr M", "i64 mSb", "i64 mSh", "i64 mSi", "ptr O",
      "float scale");
  private static final List<TaskDriver.Field> EXTRA = TaskDriver.fields("i64 rbs");

  private String entry(String g, String attrs) {
    String setup = "  %rb0 = add i64 %Sq, " + (ROW_BLOCK - 1) + "\n  %rbs = udiv i64 %rb0, " + ROW_BLOCK + "\n"
        + "  %units = mul i64 %BH, %rbs\n  %work = icmp sgt i64 %units, 0\n";
    return TaskDriver.entry(g, attrs, PARAMS, EXTRA, setup, "%work", "%units");
  }

  /** One unit: {@link #ROW_BLOCK} query rows of one (batch, head) pair against every key. */
  private String unit(String g, String attrs) {
    Ir b = new Ir(vt);
    b.raw("define internal void @" + g + ".unit(ptr %ctx, i64 %u, ptr noalias %S, ptr noalias %mx, "
        + "ptr noalias %sm) " + attrs + " {");
    b.label("entry");
    List<TaskDriver.Field> fields = new ArrayList<>(PARAMS);
    fields.addAll(EXTRA);
    b.raw(TaskDriver.loadFields(g, fields).stripTrailing());
    b.line("%bh = udiv i64 %u, %rbs");
    b.line("%rb = urem i64 %u, %rbs");
    b.line("%i0 = mul i64 %rb, " + ROW_BLOCK);
    b.line("%rleft = sub i64 %Sq, %i0");
    b.line("%rows = call i64 @llvm.smin.i64(i64 %rleft, i64 " + ROW_BLOCK + ")");
    b.line("%lastrow = sub i64 %rows, 1");
    b.line("%qr = mul i64 %bh, %Sq");
    b.line("%qr0 = add i64 %qr, %i0");
    b.line("%qo = mul i64 %qr0, %D");
    b.line("%qb = getelementptr float, ptr %Q, i64 %qo");
    b.line("%oo = mul i64 %qr0, %Dv");
    b.line("%ob = getelementptr float, ptr %O, i64 %oo");
    b.line("%kto0 = mul i64 %bh, %D");
    b.line("%kto = mul i64 %kto0, %Sk");
    b.line("%ktb = getelementptr float, ptr %KT, i64 %kto");
    b.line("%vo0 = mul i64 %bh, %Sk");
    b.line("%vo = mul i64 %vo0, %Dv");
    b.line("%vb = getelementptr float, ptr %V, i64 %vo");
    b.line("%hasmask = icmp ne ptr %M, null");
    b.line("%bo = udiv i64 %bh, %H");
    b.line("%bi = urem i64 %bh, %H");
    b.line("%mo0 = mul i64 %bo, %mSb");
    b.line("%mo1 = mul i64 %bi, %mSh");
    b.line("%mo2 = mul i64 %i0, %mSi");
    b.line("%mo3 = add i64 %mo0, %mo1");
    b.line("%mo = add i64 %mo3, %mo2");
    b.line("%mb = getelementptr float, ptr %M, i64 %mo");
    splat(b, "%scalev", "%scale");
    // Running maxima -inf, sums 0, output rows 0.
    b.loop("init", "0", "%rows", "1", r -> {
      b.line("%init.mp = getelementptr float, ptr %mx, i64 " + r);
      b.line("store float " + NEG_INF + ", ptr %init.mp");
      b.line("%init.sp = getelementptr float, ptr %sm, i64 " + r);
      b.line("store float 0.0, ptr %init.sp");
      rowVectors(b, "zero", r, v -> "bitcast <" + vw + " x i32> zeroinitializer to " + vt);
    });
    b.loop("kb", "0", "%Sk", Integer.toString(KEY_BLOCK), kb -> {
      b.line("%kleft = sub i64 %Sk, " + kb);
      b.line("%kn = call i64 @llvm.smin.i64(i64 %kleft, i64 " + KEY_BLOCK + ")");
      scores(b, kb);
      softmax(b);
      product(b, kb);
    });
    // O /= sum (an empty sum, Sk = 0, leaves the zeros).
    b.loop("fin", "0", "%rows", "1", r -> {
      b.line("%fin.sp = getelementptr float, ptr %sm, i64 " + r);
      b.line("%fin.l = load float, ptr %fin.sp");
      b.line("%fin.z = fcmp oeq float %fin.l, 0.0");
      b.line("%fin.r = fdiv float 1.0, %fin.l");
      b.line("%fin.inv = select i1 %fin.z, float 0.0, float %fin.r");
      splat(b, "%fin.iv", "%fin.inv");
      rowVectors(b, "fin", r, x -> "fmul " + vt + " " + x + ", %fin.iv");
    });
    b.line("ret void");
    b.raw("}");
    return b.text() + "\n";
  }

  /**
   * Scores of key block {@code kb} for every row of the unit, times the
   * scale, plus the mask, into {@code S} (row stride {@link #KEY_BLOCK});
   * lanes past the block's last key are -inf.
   */
  private void scores(Ir b, String kb) {
    b.loop("sr", "0", "%rows", Integer.toString(rows), r0 -> {
      String[] qrow = new String[rows];
      String[] src = new String[rows];
      for (int i = 0; i < rows; i++) {
        b.line("%sr.r" + i + " = add i64 " + r0 + ", " + i);
        src[i] = "%sr.s" + i;
        b.line(src[i] + " = call i64 @llvm.smin.i64(i64 %sr.r" + i + ", i64 %lastrow)");
        b.line("%sr.qo" + i + " = mul i64 " + src[i] + ", %D");
        qrow[i] = "%sr.q" + i;
        b.line(qrow[i] + " = getelementptr float, ptr %qb, i64 %sr.qo" + i);
      }
      b.loop("st", "0", "%kn", Integer.toString(2 * vw), kt -> {
        b.line("%st.lim0 = sub i64 %kn, " + kt);
        String[] mask = laneMasks(b, "st", "%st.lim0");
        b.line("%st.col = add i64 " + kb + ", " + kt);
        b.line("%st.kp = getelementptr float, ptr %ktb, i64 %st.col");
        String[] acc = b.accumulate("sc", "%D", rows * 2, (c, in) -> {
          b.line("%sc.ro = mul i64 " + c + ", %Sk");
          b.line("%sc.vec = getelementptr float, ptr %st.kp, i64 %sc.ro");
          return rankOneStep(b, "sc", "%sc.vec", qrow, c, mask, in);
        });
        for (int i = 0; i < rows; i++) {
          b.line("%st.so" + i + " = mul i64 %sr.r" + i + ", " + KEY_BLOCK);
          b.line("%st.so" + i + "k = add i64 %st.so" + i + ", " + kt);
          b.line("%st.mo" + i + " = mul i64 " + src[i] + ", %mSi");
          b.line("%st.mo" + i + "k = add i64 %st.mo" + i + ", %st.col");
          for (int v = 0; v < 2; v++) {
            String id = i + "." + v;
            b.line("%st.x" + id + " = fmul " + vt + " " + acc[i * 2 + v] + ", %scalev");
            // The mask row of this query row (clamped like Q), masked to the block's keys.
            b.line("%st.mp" + id + "o = add i64 %st.mo" + i + "k, " + v * vw);
            b.line("%st.mp" + id + " = getelementptr float, ptr %mb, i64 %st.mp" + id + "o");
            b.line("%st.mm" + id + " = select i1 %hasmask, " + mt + " " + mask[v] + ", " + mt + " zeroinitializer");
            b.line("%st.m" + id + " = " + maskedLoad("%st.mp" + id, "%st.mm" + id));
            b.line("%st.y" + id + " = fadd " + vt + " %st.x" + id + ", %st.m" + id);
            b.line("%st.z" + id + " = select " + mt + " " + mask[v] + ", " + vt + " %st.y" + id + ", " + vt + " "
                + splatConstant(NEG_INF));
            b.line("%st.sp" + id + "o = add i64 %st.so" + i + "k, " + v * vw);
            b.line("%st.sp" + id + " = getelementptr float, ptr %S, i64 %st.sp" + id + "o");
            b.line("store " + vt + " %st.z" + id + ", ptr %st.sp" + id + ", align 4");
          }
        }
      });
    });
  }

  /** Per row: the new running maximum, rescaled sum and output row, scores replaced by exp(score - max). */
  private void softmax(Ir b) {
    b.line("%nv0 = add i64 %kn, " + (vw - 1));
    b.line("%nvec = udiv i64 %nv0, " + vw);
    b.loop("sx", "0", "%rows", "1", r -> {
      b.line("%sx.ro = mul i64 " + r + ", " + KEY_BLOCK);
      b.line("%sx.row = getelementptr float, ptr %S, i64 %sx.ro");
      String[] max = b.accumulateFrom("mx", "%nvec", new String[] {splatConstant(NEG_INF)}, (q, in) -> {
        b.line("%mx.o = mul i64 " + q + ", " + vw);
        b.line("%mx.p = getelementptr float, ptr %sx.row, i64 %mx.o");
        b.line("%mx.x = load " + vt + ", ptr %mx.p, align 4");
        b.line("%mx.y = call " + vt + " @llvm.maximum.v" + vw + "f32(" + vt + " " + in[0] + ", " + vt + " %mx.x)");
        return new String[] {"%mx.y"};
      });
      b.line("%sx.bm = call float @llvm.vector.reduce.fmaximum.v" + vw + "f32(" + vt + " " + max[0] + ")");
      b.line("%sx.mp = getelementptr float, ptr %mx, i64 " + r);
      b.line("%sx.mold = load float, ptr %sx.mp");
      b.line("%sx.mnew = call float @llvm.maximum.f32(float %sx.mold, float %sx.bm)");
      // While every score so far is -inf, subtract 0 instead: exp(-inf) terms, not NaN from -inf - -inf.
      b.line("%sx.ninf = fcmp oeq float %sx.mnew, " + NEG_INF);
      b.line("%sx.ms = select i1 %sx.ninf, float 0.0, float %sx.mnew");
      b.line("%sx.d = fsub float %sx.mold, %sx.ms");
      String alpha = exp(b, "%sx.d", 1);
      splat(b, "%sx.msv", "%sx.ms");
      String[] sum = b.accumulateFrom("ex", "%nvec", new String[] {"zeroinitializer"}, (q, in) -> {
        b.line("%ex.o = mul i64 " + q + ", " + vw);
        b.line("%ex.p = getelementptr float, ptr %sx.row, i64 %ex.o");
        b.line("%ex.x = load " + vt + ", ptr %ex.p, align 4");
        b.line("%ex.d = fsub " + vt + " %ex.x, %sx.msv");
        String e = exp(b, "%ex.d", vw);
        b.line("store " + vt + " " + e + ", ptr %ex.p, align 4");
        b.line("%ex.s = fadd " + vt + " " + in[0] + ", " + e);
        return new String[] {"%ex.s"};
      });
      b.line("%sx.bs = call reassoc float @llvm.vector.reduce.fadd.v" + vw + "f32(float -0.0, " + vt + " "
          + sum[0] + ")");
      b.line("%sx.sp = getelementptr float, ptr %sm, i64 " + r);
      b.line("%sx.lold = load float, ptr %sx.sp");
      b.line("%sx.ls = fmul float %sx.lold, " + alpha);
      b.line("%sx.lnew = fadd float %sx.ls, %sx.bs");
      b.line("store float %sx.lnew, ptr %sx.sp");
      b.line("store float %sx.mnew, ptr %sx.mp");
      splat(b, "%sx.av", alpha);
      rowVectors(b, "rs", r, x -> "fmul " + vt + " " + x + ", %sx.av");
    });
  }

  /** O rows += P V of key block {@code kb}, {@link #rows} rows x 2 vectors of value columns at a time. */
  private void product(Ir b, String kb) {
    b.loop("pr", "0", "%rows", Integer.toString(rows), r0 -> {
      String[] orow = new String[rows];
      String[] prow = new String[rows];
      for (int i = 0; i < rows; i++) {
        b.line("%pr.r" + i + " = add i64 " + r0 + ", " + i);
        b.line("%pr.s" + i + " = call i64 @llvm.smin.i64(i64 %pr.r" + i + ", i64 %lastrow)");
        b.line("%pr.oo" + i + " = mul i64 %pr.s" + i + ", %Dv");
        orow[i] = "%pr.o" + i;
        b.line(orow[i] + " = getelementptr float, ptr %ob, i64 %pr.oo" + i);
        b.line("%pr.po" + i + " = mul i64 %pr.r" + i + ", " + KEY_BLOCK);
        prow[i] = "%pr.p" + i;
        b.line(prow[i] + " = getelementptr float, ptr %S, i64 %pr.po" + i);
      }
      b.loop("pt", "0", "%Dv", Integer.toString(2 * vw), jt -> {
        b.line("%pt.lim0 = sub i64 %Dv, " + jt);
        String[] mask = laneMasks(b, "pt", "%pt.lim0");
        String[] init = new String[rows * 2];
        for (int i = 0; i < rows; i++) {
          for (int v = 0; v < 2; v++) {
            String id = i + "." + v;
            b.line("%pt.co" + id + " = add i64 " + jt + ", " + v * vw);
            b.line("%pt.cp" + id + " = getelementptr float, ptr " + orow[i] + ", i64 %pt.co" + id);
            init[i * 2 + v] = "%pt.c" + id;
            b.line(init[i * 2 + v] + " = " + maskedLoad("%pt.cp" + id, mask[v]));
          }
        }
        b.line("%pt.vb0 = add i64 " + kb + ", 0");
        String[] acc = b.accumulateFrom("pk", "%kn", init, (k, in) -> {
          b.line("%pk.kk = add i64 %pt.vb0, " + k);
          b.line("%pk.vr = mul i64 %pk.kk, %Dv");
          b.line("%pk.vc = add i64 %pk.vr, " + jt);
          b.line("%pk.vec = getelementptr float, ptr %vb, i64 %pk.vc");
          return rankOneStep(b, "pk", "%pk.vec", prow, k, mask, in);
        });
        // Rows past the unit's last one were computed from clamped inputs and are not stored.
        for (int i = 0; i < rows; i++) {
          b.line("%pt.ok" + i + " = icmp slt i64 %pr.r" + i + ", %rows");
          b.line("%pt.sm" + i + "v = insertelement <" + vw + " x i1> poison, i1 %pt.ok" + i + ", i64 0");
          b.line("%pt.sm" + i + " = shufflevector " + mt + " %pt.sm" + i + "v, " + mt + " poison, <" + vw
              + " x i32> zeroinitializer");
          for (int v = 0; v < 2; v++) {
            String id = i + "." + v;
            b.line("%pt.w" + id + " = and " + mt + " " + mask[v] + ", %pt.sm" + i);
            b.line("call void @llvm.masked.store.v" + vw + "f32.p0(" + vt + " " + acc[i * 2 + v] + ", ptr %pt.cp"
                + id + ", i32 4, " + mt + " %pt.w" + id + ")");
          }
        }
      });
    });
  }

  /**
   * One step of a register block: {@code in[i][v] + rows[i][k] * vec[v]} for the block's rows {@code i}
   * (each a broadcast scalar) and its two vectors {@code v} (loaded from {@code vec}, masked).
   */
  private String[] rankOneStep(Ir b, String p, String vec, String[] rowPtrs, String k, String[] mask, String[] in) {
    String[] out = new String[rows * 2];
    for (int v = 0; v < 2; v++) {
      b.line("%" + p + ".bp" + v + " = getelementptr float, ptr " + vec + ", i64 " + v * vw);
      b.line("%" + p + ".b" + v + " = " + maskedLoad("%" + p + ".bp" + v, mask[v]));
    }
    for (int i = 0; i < rows; i++) {
      b.line("%" + p + ".ap" + i + " = getelementptr float, ptr " + rowPtrs[i] + ", i64 " + k);
      b.line("%" + p + ".a" + i + " = load float, ptr %" + p + ".ap" + i);
      splat(b, "%" + p + ".as" + i, "%" + p + ".a" + i);
      for (int v = 0; v < 2; v++) {
        out[i * 2 + v] = "%" + p + ".f" + i + "." + v;
        b.line(out[i * 2 + v] + " = call " + vt + " @llvm.fmuladd.v" + vw + "f32(" + vt + " %" + p + ".as" + i
            + ", " + vt + " %" + p + ".b" + v + ", " + vt + " " + in[i * 2 + v] + ")");
      }
    }
    return out;
  }

  /** Rewrites output row {@code r} ({@code Dv} floats) as {@code f(old vector)}, masked at its end. */
  private void rowVectors(Ir b, String p, String r, Function<String, String> f) {
    b.line("%" + p + ".ro = mul i64 " + r + ", %Dv");
    b.line("%" + p + ".row = getelementptr float, ptr %ob, i64 %" + p + ".ro");
    b.loop(p + "v", "0", "%Dv", Integer.toString(vw), j -> {
      b.line("%" + p + "v.left = sub i64 %Dv, " + j);
      String mask = laneMasks(b, p + "v", "%" + p + "v.left")[0];
      b.line("%" + p + "v.ptr = getelementptr float, ptr %" + p + ".row, i64 " + j);
      b.line("%" + p + "v.x = " + maskedLoad("%" + p + "v.ptr", mask));
      b.line("%" + p + "v.y = " + f.apply("%" + p + "v.x"));
      b.line("call void @llvm.masked.store.v" + vw + "f32.p0(" + vt + " %" + p + "v.y, ptr %" + p + "v.ptr, i32 4, "
          + mt + " " + mask + ")");
    });
  }

  /** Masks of the two vectors of a tile: lane {@code v * VW + l} is on when it is below {@code limit}. */
  private String[] laneMasks(Ir b, String p, String limit) {
    b.line("%" + p + ".lim = call i64 @llvm.smin.i64(i64 " + limit + ", i64 " + 2 * vw + ")");
    b.line("%" + p + ".l32 = trunc i64 %" + p + ".lim to i32");
    b.line("%" + p + ".lv0 = insertelement <" + vw + " x i32> poison, i32 %" + p + ".l32, i64 0");
    b.line("%" + p + ".lv = shufflevector <" + vw + " x i32> %" + p + ".lv0, <" + vw + " x i32> poison, <" + vw
        + " x i32> zeroinitializer");
    String[] out = new String[2];
    for (int v = 0; v < 2; v++) {
      StringBuilder lanes = new StringBuilder("<");
      for (int l = 0; l < vw; l++) {
        lanes.append(l == 0 ? "" : ", ").append("i32 ").append(v * vw + l);
      }
      lanes.append('>');
      out[v] = "%" + p + ".mask" + v;
      b.line(out[v] + " = icmp ult <" + vw + " x i32> " + lanes + ", %" + p + ".lv");
    }
    return out;
  }

  private String maskedLoad(String ptr, String mask) {
    return "call " + vt + " @llvm.masked.load.v" + vw + "f32.p0(ptr " + ptr + ", i32 4, " + mt + " " + mask + ", "
        + vt + " zeroinitializer)";
  }

  private void splat(Ir b, String name, String scalar) {
    b.line(name + "i = insertelement " + vt + " poison, float " + scalar + ", i64 0");
    b.line(name + " = shufflevector " + vt + " " + name + "i, " + vt + " poison, <" + vw + " x i32> zeroinitializer");
  }

  private String splatConstant(String literal) {
    StringBuilder s = new StringBuilder("<");
    for (int l = 0; l < vw; l++) {
      s.append(l == 0 ? "" : ", ").append("float ").append(literal);
    }
    return s.append('>').toString();
  }

  private String exp(Ir b, String x, int lanes) {
    List<String> lines = new ArrayList<>();
    String r = ExpF32.emit(b::fresh, lines, lanes, x);
    lines.forEach(b::line);
    return r;
  }

  private List<String> declarations() {
    Set<String> d = new LinkedHashSet<>();
    d.add("declare i64 @llvm.smin.i64(i64, i64)");
    d.add("declare " + vt + " @llvm.fmuladd.v" + vw + "f32(" + vt + ", " + vt + ", " + vt + ")");
    d.add("declare " + vt + " @llvm.masked.load.v" + vw + "f32.p0(ptr, i32 immarg, " + mt + ", " + vt + ")");
    d.add("declare void @llvm.masked.store.v" + vw + "f32.p0(" + vt + ", ptr, i32 immarg, " + mt + ")");
    d.add("declare " + vt + " @llvm.maximum.v" + vw + "f32(" + vt + ", " + vt + ")");
    d.add("declare float @llvm.maximum.f32(float, float)");
    d.add("declare float @llvm.vector.reduce.fmaximum.v" + vw + "f32(" + vt + ")");
    d.add("declare float @llvm.vector.reduce.fadd.v" + vw + "f32(float, " + vt + ")");
    d.addAll(ExpF32.declarations(1));
    d.addAll(ExpF32.declarations(vw));
    return new ArrayList<>(d);
  }

  public CpuTarget target() {
    return target;
  }

  /**
   * IR text with structured loops. Names inside a loop body carry the
   * loop's prefix and a per-use counter so that a body emitted twice (never
   * done here) or nested bodies do not collide: every loop prefix is unique
   * within the function.
   */
  private static final class Ir {
    private final StringBuilder out = new StringBuilder();
    /** The type of the values loops carry. */
    private final String vectorType;
    private String block = "entry";
    private int tmp;

    Ir(String vectorType) {
      this.vectorType = vectorType;
    }

    void raw(String s) {
      out.append(s).append('\n');
    }

    void label(String name) {
      out.append(name).append(":\n");
      block = name;
    }

    void line(String s) {
      out.append("  ").append(s).append('\n');
    }

    String fresh() {
      return "%x" + tmp++;
    }

    String text() {
      return out.toString();
    }

    /** {@code for (iv = start; iv < end; iv += step) body(iv)}; {@code p} names the loop's blocks. */
    void loop(String p, String start, String end, String step, java.util.function.Consumer<String> body) {
      String pred = block;
      String iv = "%" + p + ".i";
      line("br label %" + p + ".head");
      label(p + ".head");
      line(iv + " = phi i64 [ " + start + ", %" + pred + " ], [ %" + p + ".next, %" + p + ".latch ]");
      line("%" + p + ".go = icmp slt i64 " + iv + ", " + end);
      line("br i1 %" + p + ".go, label %" + p + ".body, label %" + p + ".exit");
      label(p + ".body");
      body.accept(iv);
      line("br label %" + p + ".latch");
      label(p + ".latch");
      line("%" + p + ".next = add i64 " + iv + ", " + step);
      line("br label %" + p + ".head");
      label(p + ".exit");
    }

    /** A loop of {@code n} steps carrying {@code count} vectors from zero; returns their final values. */
    String[] accumulate(String p, String n, int count, Step step) {
      String[] zeros = new String[count];
      java.util.Arrays.fill(zeros, "zeroinitializer");
      return accumulateFrom(p, n, zeros, step);
    }

    /** A loop of {@code n} steps carrying values from {@code init}; returns their final values. */
    String[] accumulateFrom(String p, String n, String[] init, Step step) {
      String pred = block;
      String iv = "%" + p + ".i";
      String[] carried = new String[init.length];
      for (int i = 0; i < init.length; i++) {
        carried[i] = "%" + p + ".c" + i;
      }
      line("br label %" + p + ".head");
      label(p + ".head");
      int phiAt = out.length();
      line("%" + p + ".go = icmp slt i64 " + iv + ", " + n);
      line("br i1 %" + p + ".go, label %" + p + ".body, label %" + p + ".exit");
      label(p + ".body");
      String[] next = step.apply(iv, carried);
      line("%" + p + ".next = add i64 " + iv + ", 1");
      String latch = block;
      line("br label %" + p + ".head");
      StringBuilder phis = new StringBuilder();
      phis.append("  ").append(iv).append(" = phi i64 [ 0, %").append(pred).append(" ], [ %").append(p)
          .append(".next, %").append(latch).append(" ]\n");
      for (int i = 0; i < init.length; i++) {
        phis.append("  ").append(carried[i]).append(" = phi ").append(vectorType).append(' ').append("[ ")
            .append(init[i]).append(", %").append(pred).append(" ], [ ").append(next[i]).append(", %").append(latch)
            .append(" ]\n");
      }
      out.insert(phiAt, phis);
      label(p + ".exit");
      return carried;
    }
  }

  @FunctionalInterface
  private interface Step {
    String[] apply(String iv, String[] in);
  }
}
