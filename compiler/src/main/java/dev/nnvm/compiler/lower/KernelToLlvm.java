package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.codegen.llvm.ExpF32;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a lowered {@link Kernel} as LLVM IR text (opaque pointers), ready
 * for the LLVM toolchain to optimize and compile. The function has a uniform
 * C ABI: {@code void name(void* const* buffers, const int64_t* symbols,
 * parallel_for, int32_t threads)}, buffers in the kernel's order (inputs,
 * then outputs), symbols in {@link Kernel#symbols()} order, and the
 * runtime's {@code parallel_for} with the thread count the caller allows.
 * The outermost parallel loop (collapsed with the next one when that is not
 * the innermost, so a batch of 1 still splits) becomes a task function that
 * {@code parallel_for} runs over ranges; with one thread it is called
 * directly. Inner loops are left to LLVM's loop vectorizer (forcing it with
 * metadata only produced warnings where a reduction must stay ordered); an
 * innermost {@link Stmt.ForKind#VECTORIZABLE} loop is declared parallel
 * ({@code llvm.loop.parallel_accesses}, its loads and stores in one access
 * group), which is what that kind promises: without it, a kernel that
 * updates a buffer in place (a GEMM epilogue, an in-place elementwise
 * kernel) reads and writes two pointers LLVM cannot tell apart, and its
 * runtime overlap check sends every call to the scalar loop. Bools are bytes
 * in memory and {@code i1} in registers.
 */
public final class KernelToLlvm {
  private final StringBuilder out = new StringBuilder();
  private final Map<String, String> buffers = new HashMap<>();
  private final Map<String, String> vars = new HashMap<>();
  private final Map<String, String> locals = new HashMap<>();
  private final Map<String, String> declarations = new LinkedHashMap<>();
  private final Kernel kernel;
  private final StringBuilder tasks = new StringBuilder();
  private int tmp;
  private int label;
  /** Loop metadata of this kernel, numbered from 0 (the model writer renumbers it per kernel). */
  private final StringBuilder metadata = new StringBuilder();
  private int metadataCount;
  /** While emitting the body of a parallel innermost loop: its access group, tagged on loads and stores. */
  private String accessGroup;
  private int taskCount;
  private boolean inTask;

  private KernelToLlvm(Kernel kernel) {
    this.kernel = kernel;
  }

  /** A C identifier for a kernel name. */
  public static String symbolName(String kernelName) {
    String s = kernelName.replaceAll("[^A-Za-z0-9_]", "_");
    return "nnvm_k_" + s;
  }

  /** The IR of one kernel as a whole module. */
  public static String module(Kernel k) {
    return new KernelToLlvm(k).emit();
  }

  private String emit() {
    StringBuilder body = out;
    line("entry:");
    prologue("%buffers", "%symbols");
    declareLocals(kernel.body());
    stmt(kernel.body());
    line("ret void");
    StringBuilder m = new StringBuilder();
    m.append("; kernel ").append(kernel.name()).append('\n');
    m.append("define void @").append(symbolName(kernel.name()))
        .append("(ptr noalias nocapture readonly %buffers, ptr noalias nocapture readonly %symbols, ptr %pfor, ")
        // noinline: one call per kernel costs nothing, and each kernel keeps its own symbol for profilers.
        .append("i32 %threads) nounwind noinline {\n");
    m.append(body).append("}\n\n");
    m.append(tasks);
    for (String d : declarations.values()) {
      m.append(d).append('\n');
    }
    m.append(metadata);
    return m.toString();
  }

  /** The access-group annotation for a load or store, or nothing outside parallel loops. */
  private String accessTag() {
    return accessGroup == null ? "" : ", !llvm.access.group " + accessGroup;
  }

  /** Loads the buffer pointers and symbol values from their arrays. */
  private void prologue(String bufferArray, String symbolArray) {
    List<BufferRef> all = new ArrayList<>(kernel.inputs());
    all.addAll(kernel.outputs());
    for (int i = 0; i < all.size(); i++) {
      String slot = next();
      line(slot + " = getelementptr ptr, ptr " + bufferArray + ", i64 " + i);
      String p = next();
      line(p + " = load ptr, ptr " + slot + ", align 8");
      buffers.put(all.get(i).name(), p);
    }
    for (int i = 0; i < kernel.symbols().size(); i++) {
      String slot = next();
      line(slot + " = getelementptr i64, ptr " + symbolArray + ", i64 " + i);
      String v = next();
      line(v + " = load i64, ptr " + slot + ", align 8");
      vars.put(kernel.symbols().get(i), v);
    }
  }

  /**
   * The outermost parallel loop as a task function over index ranges, run by
   * the runtime's parallel_for when more than one thread is allowed.
   */
  private void parallel(Stmt.For f) {
    Expr.Var outer = f.var();
    Stmt inner = f.body();
    Expr.Var second = null;
    String total = expr(f.extent());
    String secondExtent = null;
    if (inner instanceof Stmt.For g && g.body() instanceof Stmt.For) {
      second = g.var();
      secondExtent = expr(g.extent());
      String product = next();
      line(product + " = mul i64 " + total + ", " + secondExtent);
      total = product;
      inner = g.body();
    }
    String task = "@" + symbolName(kernel.name()) + ".task" + taskCount++;
    String ctx = next();
    line(ctx + " = alloca [2 x ptr]");
    String c0 = next();
    line(c0 + " = getelementptr [2 x ptr], ptr " + ctx + ", i64 0, i64 0");
    line("store ptr %buffers, ptr " + c0);
    String c1 = next();
    line(c1 + " = getelementptr [2 x ptr], ptr " + ctx + ", i64 0, i64 1");
    line("store ptr %symbols, ptr " + c1);
    String many = next();
    line(many + " = icmp sgt i32 %threads, 1");
    String has = next();
    line(has + " = icmp ne ptr %pfor, null");
    // Split only when there is enough work to pay for waking other threads:
    // at least MIN_PARALLEL_WORK innermost iterations in all.
    String work = total;
    for (Expr e : innerExtents(inner)) {
      String w = next();
      line(w + " = mul i64 " + work + ", " + expr(e));
      work = w;
    }
    String enough = next();
    line(enough + " = icmp sge i64 " + work + ", " + MIN_PARALLEL_WORK);
    String several = next();
    line(several + " = icmp sgt i64 " + total + ", 1");
    String big = next();
    line(big + " = and i1 " + enough + ", " + several);
    String a = next();
    line(a + " = and i1 " + many + ", " + has);
    String go = next();
    line(go + " = and i1 " + a + ", " + big);
    String par = nextLabel("par");
    String ser = nextLabel("ser");
    String join = nextLabel("join");
    line("br i1 " + go + ", label %" + par + ", label %" + ser);
    line(par + ":");
    line("call void %pfor(i64 " + total + ", ptr " + task + ", ptr " + ctx + ", i32 %threads)");
    line("br label %" + join);
    line(ser + ":");
    line("call void " + task + "(i64 0, i64 " + total + ", ptr " + ctx + ")");
    line("br label %" + join);
    line(join + ":");
    emitTask(task, outer, second, inner);
  }

  private void emitTask(String task, Expr.Var outer, Expr.Var second, Stmt inner) {
    StringBuilder savedOut = new StringBuilder(out);
    Map<String, String> savedBuffers = new HashMap<>(buffers);
    Map<String, String> savedVars = new HashMap<>(vars);
    Map<String, String> savedLocals = new HashMap<>(locals);
    out.setLength(0);
    buffers.clear();
    vars.clear();
    locals.clear();
    inTask = true;
    line("entry:");
    String b = next();
    line(b + " = getelementptr [2 x ptr], ptr %ctx, i64 0, i64 0");
    String bufferArray = next();
    line(bufferArray + " = load ptr, ptr " + b);
    String s = next();
    line(s + " = getelementptr [2 x ptr], ptr %ctx, i64 0, i64 1");
    String symbolArray = next();
    line(symbolArray + " = load ptr, ptr " + s);
    prologue(bufferArray, symbolArray);
    declareLocals(inner);
    String secondExtent = null;
    if (second != null) {
      secondExtent = "%e2_" + label++;
      // Recompute the second loop's extent inside the task from the symbols.
      line(secondExtent + " = add i64 0, " + expr(secondExtentOf(second)));
    }
    String head = nextLabel("thead");
    String body = nextLabel("tbody");
    String exit = nextLabel("texit");
    String nonEmpty = next();
    line(nonEmpty + " = icmp slt i64 %begin, %end");
    line("br i1 " + nonEmpty + ", label %" + head + ", label %" + exit);
    line(head + ":");
    String p = "%p_" + label++;
    String pNext = p + "_next";
    line(p + " = phi i64 [ %begin, %entry ], [ " + pNext + ", %" + body + "_latch ]");
    if (second == null) {
      vars.put(outer.name(), p);
    } else {
      String q = next();
      line(q + " = sdiv i64 " + p + ", " + secondExtent);
      String r = next();
      line(r + " = srem i64 " + p + ", " + secondExtent);
      vars.put(outer.name(), q);
      vars.put(second.name(), r);
    }
    line("br label %" + body);
    line(body + ":");
    stmt(inner);
    line("br label %" + body + "_latch");
    line(body + "_latch:");
    line(pNext + " = add nuw nsw i64 " + p + ", 1");
    String done = next();
    line(done + " = icmp eq i64 " + pNext + ", %end");
    line("br i1 " + done + ", label %" + exit + ", label %" + head);
    line(exit + ":");
    line("ret void");
    tasks.append("define internal void ").append(task).append("(i64 %begin, i64 %end, ptr nocapture readonly %ctx) ")
        .append("nounwind {\n").append(out).append("}\n\n");
    out.setLength(0);
    out.append(savedOut);
    buffers.clear();
    buffers.putAll(savedBuffers);
    vars.clear();
    vars.putAll(savedVars);
    locals.clear();
    locals.putAll(savedLocals);
    inTask = false;
  }

  /**
   * Innermost iterations worth splitting a loop over threads for: below
   * this, the hand-off to the pool costs about as much as the loop. With the
   * pool's polling hand-offs, 8K measured best (64K before them; MiniLM b1 on
   * 2 threads 9.2 -> 8.7 ms, ResNet-50 28.8 -> 27.6 ms).
   */
  static final long MIN_PARALLEL_WORK = 1L << 13;

  /** The extents of the loops nested in a statement, outermost first (the longest nest of a sequence). */
  private static List<Expr> innerExtents(Stmt s) {
    List<Expr> out = new ArrayList<>();
    if (s instanceof Stmt.For f) {
      out.add(f.extent());
      out.addAll(innerExtents(f.body()));
    } else if (s instanceof Stmt.Seq seq) {
      List<Expr> longest = List.of();
      for (Stmt x : seq.body()) {
        List<Expr> e = innerExtents(x);
        if (e.size() > longest.size()) {
          longest = e;
        }
      }
      out.addAll(longest);
    }
    return out;
  }

  private Expr secondExtentOf(Expr.Var second) {
    return secondExtents.get(second.name());
  }

  private final Map<String, Expr> secondExtents = new HashMap<>();

  private void line(String s) {
    out.append(s.endsWith(":") ? "" : "  ").append(s).append('\n');
  }

  private String next() {
    return "%t" + tmp++;
  }

  private String nextLabel(String base) {
    return base + label++;
  }

  private void declareLocals(Stmt s) {
    if (s instanceof Stmt.For f) {
      declareLocals(f.body());
    } else if (s instanceof Stmt.Seq seq) {
      seq.body().forEach(this::declareLocals);
    } else if (s instanceof Stmt.Declare d && !locals.containsKey(d.local().name())) {
      String p = "%local_" + d.local().name();
      line(p + " = alloca " + regType(d.local().type()));
      locals.put(d.local().name(), p);
    }
  }

  private void stmt(Stmt s) {
    if (s instanceof Stmt.For f && f.kind() == Stmt.ForKind.PARALLEL && !inTask) {
      if (f.body() instanceof Stmt.For g) {
        secondExtents.put(g.var().name(), g.extent());
      }
      parallel(f);
    } else if (s instanceof Stmt.For f) {
      loop(f);
    } else if (s instanceof Stmt.Seq seq) {
      seq.body().forEach(this::stmt);
    } else if (s instanceof Stmt.Store st) {
      String index = expr(st.index());
      String value = storeValue(expr(st.value()), st.value().type(), st.buffer().dtype());
      String p = next();
      line(p + " = getelementptr " + memType(st.buffer().dtype()) + ", ptr " + buffers.get(st.buffer().name())
          + ", i64 " + index);
      line("store " + memType(st.buffer().dtype()) + " " + value + ", ptr " + p + accessTag());
    } else if (s instanceof Stmt.Declare d) {
      line("store " + regType(d.local().type()) + " " + expr(d.init()) + ", ptr " + locals.get(d.local().name()));
    } else if (s instanceof Stmt.Assign a) {
      line("store " + regType(a.local().type()) + " " + accumulate(a) + ", ptr " + locals.get(a.local().name()));
    }
  }

  private void loop(Stmt.For f) {
    String extent = expr(f.extent());
    String pre = nextLabel("pre");
    String head = nextLabel("head");
    String body = nextLabel("body");
    String latch = nextLabel("latch");
    String exit = nextLabel("exit");
    line("br label %" + pre);
    line(pre + ":");
    String nonEmpty = next();
    line(nonEmpty + " = icmp sgt i64 " + extent + ", 0");
    line("br i1 " + nonEmpty + ", label %" + head + ", label %" + exit);
    line(head + ":");
    String i = "%" + f.var().name() + "_" + label++;
    String iNext = i + "_next";
    line(i + " = phi i64 [ 0, %" + pre + " ], [ " + iNext + ", %" + latch + " ]");
    String saved = vars.put(f.var().name(), i);
    line("br label %" + body);
    line(body + ":");
    String loopTag = "";
    boolean parallel = f.kind() == Stmt.ForKind.VECTORIZABLE && accessGroup == null && innermost(f.body());
    if (parallel) {
      int group = metadataCount++;
      int loopId = metadataCount++;
      int property = metadataCount++;
      metadata.append('!').append(group).append(" = distinct !{}\n");
      metadata.append('!').append(loopId).append(" = distinct !{!").append(loopId).append(", !").append(property)
          .append("}\n");
      metadata.append('!').append(property).append(" = !{!\"llvm.loop.parallel_accesses\", !").append(group)
          .append("}\n");
      accessGroup = "!" + group;
      loopTag = ", !llvm.loop !" + loopId;
    }
    stmt(f.body());
    if (parallel) {
      accessGroup = null;
    }
    line("br label %" + latch);
    line(latch + ":");
    line(iNext + " = add nuw nsw i64 " + i + ", 1");
    String done = next();
    line(done + " = icmp eq i64 " + iNext + ", " + extent);
    line("br i1 " + done + ", label %" + exit + ", label %" + head + loopTag);
    line(exit + ":");
    if (saved == null) {
      vars.remove(f.var().name());
    } else {
      vars.put(f.var().name(), saved);
    }
  }

  /** Whether a loop body has no loops of its own. */
  private static boolean innermost(Stmt s) {
    if (s instanceof Stmt.For) {
      return false;
    }
    if (s instanceof Stmt.Seq seq) {
      return seq.body().stream().allMatch(KernelToLlvm::innermost);
    }
    return true;
  }

  /** The LLVM type of a value in registers. */
  static String regType(DType t) {
    switch (t) {
      case FLOAT32: return "float";
      case FLOAT64: return "double";
      case BOOL: return "i1";
      case INT8: case UINT8: return "i8";
      case INT16: case UINT16: return "i16";
      case INT32: case UINT32: return "i32";
      case INT64: case UINT64: return "i64";
      default: throw new UnsupportedModelException("element type " + t + " is not supported by the loop code generator");
    }
  }

  /** The LLVM type of an element in memory (bools are bytes). */
  static String memType(DType t) {
    return t == DType.BOOL ? "i8" : regType(t);
  }

  private String storeValue(String v, DType from, DType to) {
    String converted = convert(v, from, to);
    if (to == DType.BOOL) {
      String z = next();
      line(z + " = zext i1 " + converted + " to i8");
      return z;
    }
    return converted;
  }

  private String expr(Expr e) {
    if (e instanceof Expr.IntConst c) {
      return c.type() == DType.BOOL ? (c.value() != 0 ? "true" : "false") : Long.toString(c.value());
    } else if (e instanceof Expr.FloatConst c) {
      return floatLiteral(c.value(), c.type());
    } else if (e instanceof Expr.Var v) {
      String r = vars.get(v.name());
      if (r == null) {
        throw new IllegalStateException("unbound variable " + v.name() + " in kernel " + kernel.name());
      }
      return r;
    } else if (e instanceof Expr.Local l) {
      String r = next();
      line(r + " = load " + regType(l.type()) + ", ptr " + locals.get(l.name()));
      return r;
    } else if (e instanceof Expr.Load ld) {
      String index = expr(ld.index());
      String p = next();
      DType t = ld.buffer().dtype();
      line(p + " = getelementptr " + memType(t) + ", ptr " + buffers.get(ld.buffer().name()) + ", i64 " + index);
      String v = next();
      line(v + " = load " + memType(t) + ", ptr " + p + accessTag());
      if (t == DType.BOOL) {
        String b = next();
        line(b + " = icmp ne i8 " + v + ", 0");
        return b;
      }
      return v;
    } else if (e instanceof Expr.Unary u) {
      return unary(u);
    } else if (e instanceof Expr.Binary b) {
      return binary(b);
    } else if (e instanceof Expr.Compare c) {
      return compare(c);
    } else if (e instanceof Expr.Select s) {
      String c = expr(s.cond());
      String a = expr(s.a());
      String b = expr(s.b());
      String r = next();
      line(r + " = select i1 " + c + ", " + regType(s.type()) + " " + a + ", " + regType(s.type()) + " " + b);
      return r;
    } else if (e instanceof Expr.Convert c) {
      return convert(expr(c.x()), c.x().type(), c.type());
    }
    throw new IllegalStateException("unknown expression " + e);
  }

  static String floatLiteral(double v, DType t) {
    double value = t == DType.FLOAT32 ? (double) (float) v : v;
    return String.format(Locale.ROOT, "0x%016X", Double.doubleToRawLongBits(value));
  }

  private String intrinsic(String name, DType t, int arity) {
    String ty = regType(t);
    String suffix = t == DType.FLOAT32 ? "f32" : "f64";
    String fn = "@llvm." + name + "." + suffix;
    declarations.putIfAbsent(fn, "declare " + ty + " " + fn + "(" + String.join(", ", java.util.Collections.nCopies(
        arity, ty)) + ")");
    return fn;
  }

  private String libm(String name, DType t) {
    String fn = "@" + name + (t == DType.FLOAT32 ? "f" : "");
    String ty = regType(t);
    declarations.putIfAbsent(fn, "declare " + ty + " " + fn + "(" + ty + ") nounwind readnone");
    return fn;
  }

  private String call(String fn, DType t, String... args) {
    String ty = regType(t);
    List<String> typed = new ArrayList<>();
    for (String a : args) {
      typed.add(ty + " " + a);
    }
    String r = next();
    line(r + " = call " + ty + " " + fn + "(" + String.join(", ", typed) + ")");
    return r;
  }

  private String unary(Expr.Unary u) {
    DType t = u.type();
    String x = expr(u.x());
    String ty = regType(t);
    String r;
    if (t.isFloatingPoint()) {
      switch (u.op()) {
        case NEG: r = next(); line(r + " = fneg " + ty + " " + x); return r;
        case ABS: return call(intrinsic("fabs", t, 1), t, x);
        case EXP: return t == DType.FLOAT32 ? expF32(x) : call(intrinsic("exp", t, 1), t, x);
        case LOG: return call(intrinsic("log", t, 1), t, x);
        case SQRT: return call(intrinsic("sqrt", t, 1), t, x);
        case SIN: return call(intrinsic("sin", t, 1), t, x);
        case COS: return call(intrinsic("cos", t, 1), t, x);
        case FLOOR: return call(intrinsic("floor", t, 1), t, x);
        case CEIL: return call(intrinsic("ceil", t, 1), t, x);
        case ROUND_EVEN: return call(intrinsic("roundeven", t, 1), t, x);
        case TAN: return call(libm("tan", t), t, x);
        case TANH: return call(libm("tanh", t), t, x);
        case ASIN: case ACOS: case ATAN: case SINH: case COSH: case ASINH: case ACOSH: case ATANH:
          return call(libm(u.op().name().toLowerCase(java.util.Locale.ROOT), t), t, x);
        case ERF: return t == DType.FLOAT32 ? erfF32(x) : call(libm("erf", t), t, x);
        case SIGN: {
          String pos = next();
          line(pos + " = fcmp ogt " + ty + " " + x + ", 0.0");
          String neg = next();
          line(neg + " = fcmp olt " + ty + " " + x + ", 0.0");
          String a = next();
          line(a + " = select i1 " + neg + ", " + ty + " -1.0, " + ty + " " + x);
          r = next();
          line(r + " = select i1 " + pos + ", " + ty + " 1.0, " + ty + " " + a);
          return r;
        }
        default: break;
      }
    } else {
      switch (u.op()) {
        case NEG: r = next(); line(r + " = sub " + ty + " 0, " + x); return r;
        case NOT: r = next(); line(r + " = xor " + ty + " " + x + ", " + (t == DType.BOOL ? "true" : "-1")); return r;
        case ABS: {
          String neg = next();
          line(neg + " = icmp slt " + ty + " " + x + ", 0");
          String m = next();
          line(m + " = sub " + ty + " 0, " + x);
          r = next();
          line(r + " = select i1 " + neg + ", " + ty + " " + m + ", " + ty + " " + x);
          return r;
        }
        default: break;
      }
    }
    if (u.op() == Expr.UnaryOp.IS_NAN) {
      String xt = regType(u.x().type());
      r = next();
      line(r + " = fcmp uno " + xt + " " + x + ", " + x);
      return r;
    }
    throw new UnsupportedModelException("kernel " + kernel.name() + ": " + u.op() + " on " + t + " has no code generator");
  }

  private String f32(double v) {
    return floatLiteral(v, DType.FLOAT32);
  }

  private String op(String instr, String a, String b) {
    String r = next();
    line(r + " = " + instr + " float " + a + ", " + b);
    return r;
  }

  /** exp for f32 inline (see {@link ExpF32}), so loops over it vectorize. */
  private String expF32(String x) {
    List<String> lines = new ArrayList<>();
    String result = ExpF32.emit(this::next, lines, 1, x);
    lines.forEach(this::line);
    for (String d : ExpF32.declarations(1)) {
      declarations.putIfAbsent(d.substring(d.indexOf('@'), d.indexOf('(')), d);
    }
    return result;
  }

  /**
   * erf for f32 inline: Abramowitz and Stegun 7.1.26,
   * {@code 1 - (a1 t + ... + a5 t^5) e^(-x^2)} with {@code t = 1 / (1 + p|x|)},
   * absolute error below 1.5e-7, sign restored at the end.
   */
  private String erfF32(String x) {
    String ax = call(intrinsic("fabs", DType.FLOAT32, 1), DType.FLOAT32, x);
    String t = op("fdiv", f32(1.0), op("fadd", f32(1.0), op("fmul", ax, f32(0.3275911))));
    String poly = f32(1.061405429);
    for (double coef : new double[] {-1.453152027, 1.421413741, -0.284496736, 0.254829592}) {
      poly = op("fadd", op("fmul", poly, t), f32(coef));
    }
    poly = op("fmul", poly, t);
    String negSquare = next();
    line(negSquare + " = fneg float " + op("fmul", ax, ax));
    String e = expF32(negSquare);
    String y = op("fsub", f32(1.0), op("fmul", poly, e));
    return call(intrinsic("copysign", DType.FLOAT32, 2), DType.FLOAT32, y, x);
  }

  /**
   * A local's new value. A floating accumulation {@code acc = acc + x} (or
   * {@code *}) is emitted with the {@code reassoc} flag, which lets LLVM
   * vectorize the reduction loop around it by summing in several lanes;
   * the result differs from the sequential sum only by rounding.
   */
  private String accumulate(Stmt.Assign a) {
    if (a.value() instanceof Expr.Binary b && b.type().isFloatingPoint() && b.a().equals(a.local())
        && (b.op() == Expr.BinaryOp.MAX || b.op() == Expr.BinaryOp.MIN)) {
      // A running max or min (softmax rows, ReduceMax, pooling) as llvm.maximum / llvm.minimum: the same
      // NaN-propagating result as the compare-and-select form, in a form LLVM vectorizes as a reduction.
      return call(intrinsic(b.op() == Expr.BinaryOp.MAX ? "maximum" : "minimum", b.type(), 2), b.type(),
          expr(b.a()), expr(b.b()));
    }
    if (a.value() instanceof Expr.Binary b && b.type().isFloatingPoint() && b.a().equals(a.local())
        && (b.op() == Expr.BinaryOp.ADD || b.op() == Expr.BinaryOp.MUL)) {
      String acc = expr(b.a());
      String x = expr(b.b());
      String r = next();
      line(r + " = " + (b.op() == Expr.BinaryOp.ADD ? "fadd" : "fmul") + " reassoc nsz " + regType(b.type()) + " "
          + acc + ", " + x);
      return r;
    }
    return expr(a.value());
  }

  private String binary(Expr.Binary b) {
    DType t = b.type();
    String x = expr(b.a());
    String y = expr(b.b());
    String ty = regType(t);
    if (t.isFloatingPoint()) {
      switch (b.op()) {
        case MIN: case MAX: {
          // NaN-propagating min/max (numpy semantics), without the fminimum/fmaximum intrinsics
          // that some backends cannot select.
          String c = next();
          line(c + " = fcmp " + (b.op() == Expr.BinaryOp.MIN ? "olt " : "ogt ") + ty + " " + x + ", " + y);
          String pick = next();
          line(pick + " = select i1 " + c + ", " + ty + " " + x + ", " + ty + " " + y);
          String nan = next();
          line(nan + " = fcmp uno " + ty + " " + x + ", " + y);
          String sum = next();
          line(sum + " = fadd " + ty + " " + x + ", " + y);
          String r = next();
          line(r + " = select i1 " + nan + ", " + ty + " " + sum + ", " + ty + " " + pick);
          return r;
        }
        case POW: return call(intrinsic("pow", t, 2), t, x, y);
        default: break;
      }
    }
    String r = next();
    if (t.isFloatingPoint()) {
      switch (b.op()) {
        case ADD: line(r + " = fadd " + ty + " " + x + ", " + y); return r;
        case SUB: line(r + " = fsub " + ty + " " + x + ", " + y); return r;
        case MUL: line(r + " = fmul " + ty + " " + x + ", " + y); return r;
        case DIV: line(r + " = fdiv " + ty + " " + x + ", " + y); return r;
        case REM: line(r + " = frem " + ty + " " + x + ", " + y); return r;
        default: break;
      }
    } else {
      boolean signed = t.isSigned() || t == DType.INT64;
      switch (b.op()) {
        case ADD: line(r + " = add " + ty + " " + x + ", " + y); return r;
        case SUB: line(r + " = sub " + ty + " " + x + ", " + y); return r;
        case MUL: line(r + " = mul " + ty + " " + x + ", " + y); return r;
        case DIV: line(r + " = " + (signed ? "sdiv " : "udiv ") + ty + " " + x + ", " + y); return r;
        case REM: line(r + " = " + (signed ? "srem " : "urem ") + ty + " " + x + ", " + y); return r;
        case AND: line(r + " = and " + ty + " " + x + ", " + y); return r;
        case OR: line(r + " = or " + ty + " " + x + ", " + y); return r;
        case XOR: line(r + " = xor " + ty + " " + x + ", " + y); return r;
        case MIN: case MAX: {
          String pred = (b.op() == Expr.BinaryOp.MIN ? "lt" : "gt");
          line(r + " = icmp " + (signed ? "s" : "u") + pred + " " + ty + " " + x + ", " + y);
          String s = next();
          line(s + " = select i1 " + r + ", " + ty + " " + x + ", " + ty + " " + y);
          return s;
        }
        default: break;
      }
    }
    throw new UnsupportedModelException("kernel " + kernel.name() + ": " + b.op() + " on " + t + " has no code generator");
  }

  private String compare(Expr.Compare c) {
    DType t = c.a().type();
    String x = expr(c.a());
    String y = expr(c.b());
    String r = next();
    String pred;
    if (t.isFloatingPoint()) {
      pred = switch (c.op()) {
        case EQ -> "fcmp oeq";
        case NE -> "fcmp une";
        case LT -> "fcmp olt";
        case LE -> "fcmp ole";
        case GT -> "fcmp ogt";
        case GE -> "fcmp oge";
      };
    } else {
      String s = t.isSigned() || t == DType.INT64 ? "s" : "u";
      pred = switch (c.op()) {
        case EQ -> "icmp eq";
        case NE -> "icmp ne";
        case LT -> "icmp " + s + "lt";
        case LE -> "icmp " + s + "le";
        case GT -> "icmp " + s + "gt";
        case GE -> "icmp " + s + "ge";
      };
    }
    line(r + " = " + pred + " " + regType(t) + " " + x + ", " + y);
    return r;
  }

  /** ONNX Cast semantics between register types. */
  private String convert(String v, DType from, DType to) {
    if (from == to) {
      return v;
    }
    String f = regType(from);
    String t = regType(to);
    if (!from.isFloatingPoint() && !to.isFloatingPoint() && from != DType.BOOL && to != DType.BOOL
        && from.byteSize() == to.byteSize()) {
      return v;
    }
    String r = next();
    if (to == DType.BOOL) {
      line(r + " = " + (from.isFloatingPoint() ? "fcmp une " : "icmp ne ") + f + " " + v + ", "
          + (from.isFloatingPoint() ? "0.0" : "0"));
      return r;
    }
    if (from == DType.BOOL) {
      line(r + " = " + (to.isFloatingPoint() ? "uitofp" : "zext") + " i1 " + v + " to " + t);
      return r;
    }
    if (from.isFloatingPoint() && to.isFloatingPoint()) {
      line(r + " = " + (to.byteSize() > from.byteSize() ? "fpext " : "fptrunc ") + f + " " + v + " to " + t);
    } else if (from.isFloatingPoint()) {
      line(r + " = " + (to.isSigned() ? "fptosi " : "fptoui ") + f + " " + v + " to " + t);
    } else if (to.isFloatingPoint()) {
      line(r + " = " + (from.isSigned() ? "sitofp " : "uitofp ") + f + " " + v + " to " + t);
    } else if (to.byteSize() < from.byteSize()) {
      line(r + " = trunc " + f + " " + v + " to " + t);
    } else {
      line(r + " = " + (from.isSigned() ? "sext " : "zext ") + f + " " + v + " to " + t);
    }
    return r;
  }
}
