package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.analysis.MemoryPlan;
import dev.nnvm.compiler.analysis.SymbolicSize;
import dev.nnvm.compiler.codegen.llvm.AttentionGenerator;
import dev.nnvm.compiler.codegen.llvm.BlockedConvGenerator;
import dev.nnvm.compiler.codegen.llvm.CpuTarget;
import dev.nnvm.compiler.codegen.llvm.GemmGenerator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a whole optimized graph as one LLVM module with a single entry
 * point, {@code int32_t nnvm_model_run(const nnvm_call*)} (the runtime's
 * ABI, runtime/src/main/c/nnvm_model_abi.h): the kernels in order, each
 * handed pointers into the caller's inputs and outputs, the weights blob and
 * the planned workspace. Region bases of the workspace are computed once per
 * call from the symbol values, so one compiled model serves every batch size.
 */
public final class ModelToLlvm {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ModelToLlvm.class);

  /** The exported entry point's name. */
  public static final String ENTRY = "nnvm_model_run";

  /** The fused attention kernel's symbol (one function serves every attention node). */
  static final String ATTENTION = "nnvm_attention";

  /**
   * Matrix products use at most this many threads; their packing scratch is
   * sized for it, so the workspace does not depend on the caller's count.
   */
  public static final int MAX_GEMM_THREADS = 8;

  /**
   * From this many rows a matrix product runs with 12-row register blocks
   * ({@link GemmGenerator#MR_LARGE}), below with 6 (all-MiniLM-L6-v2: M = 128
   * faster with 6, M = 4096 with 12; see benchmarks/RESULTS.md).
   */
  static final long TALL_ROWS = 1024;

  /** Field order of {@code struct nnvm_call}, as an LLVM type (C layout on x86-64). */
  private static final String CALL_TYPE =
      "%nnvm_call = type { ptr, ptr, ptr, ptr, ptr, i32, ptr, ptr, i32 }";

  private ModelToLlvm() {}

  /**
   * The generated module: its IR, the order of the symbolic dimensions, the
   * loop kernels, and the scratch bytes the matrix products need after the
   * planned workspace (the caller's workspace holds both).
   */
  public record Module(String ir, List<String> symbols, List<Kernel> kernels, long scratchBytes) {
    /** Workspace bytes to hand the entry point for a binding. */
    public long workspaceBytes(MemoryPlan plan, Map<String, Long> bindings) {
      return plan.workspaceBytes(bindings) + scratchBytes;
    }
  }

  /**
   * @param graph the optimized, typed graph (every node must lower to loops)
   * @param plan its memory plan
   * @param weights where its constants live in the weights blob
   * @param symbols the order in which the runtime passes symbol values
   */
  public static Module generate(Graph graph, MemoryPlan plan, WeightsLayout weights, List<String> symbols) {
    return generate(graph, plan, weights, symbols, CpuTarget.host());
  }

  /** As {@link #generate(Graph, MemoryPlan, WeightsLayout, List)}, with matrix kernels for {@code target}. */
  public static Module generate(Graph graph, MemoryPlan plan, WeightsLayout weights, List<String> symbols,
      CpuTarget target) {
    if (!plan.unplanned().isEmpty()) {
      throw new UnsupportedModelException("values of unknown size cannot be compiled yet: " + plan.unplanned());
    }
    checkDeclaredOutputs(graph);
    KernelLowering lowering = KernelLowering.standard();
    GemmGenerator gemm = new GemmGenerator(target);
    List<Step> steps = new ArrayList<>();
    List<Kernel> kernels = new ArrayList<>();
    List<GemmGenerator.Kernel> gemmKernels = new ArrayList<>();
    StringBuilder defs = new StringBuilder();
    StringBuilder globals = new StringBuilder();
    List<String> slowConvolutions = new ArrayList<>();
    Map<String, Integer> seenNames = new HashMap<>();
    long packing = 0;
    long columns = 0;
    BlockedConvGenerator blockedGen = new BlockedConvGenerator(target);
    Map<String, BlockedConvGenerator.Kernel> blockedKernels = new java.util.LinkedHashMap<>();
    for (Node n : graph.nodes()) {
      BlockedConvolutions.Plan bc = BlockedConvolutions.plan(n, graph);
      if (bc != null && bc.block() == blockedGen.block()
          && weights.offsets().containsKey(BlockedConvolutions.packedName(bc.weights(), blockedGen.stripWidth()))) {
        // A residual Add and ReLU after the convolution are applied as it stores; anything else runs after it.
        MatrixProducts.StoreEpilogue store = bc.store();
        if (store != null) {
          bc = bc.withEpilogue(bc.output(), null, store);
        }
        GemmGenerator.Epilogue kind = new GemmGenerator.Epilogue(bc.bias() != null,
            store != null && store.residual() != null, store != null && store.relu());
        int rows = blockedGen.rows();
        long[] walk = {bc.walk(rows)[0], bc.walk(rows)[1], bc.steps(rows)[0], bc.steps(rows)[1]};
        // One function per epilogue and pixel stride, with micro-kernels for every tile width its convolutions need.
        String name = "nnvm_cnchwc_" + kind.toString().replace('+', '_') + "_s" + walk[3];
        List<Integer> widths = new ArrayList<>(BlockedConvGenerator.tileWidths(walk[1], rows));
        widths.add(rows);
        BlockedConvGenerator.Kernel known = blockedKernels.get(name);
        if (known != null) {
          widths.addAll(known.rowCounts());
        }
        blockedKernels.put(name, new BlockedConvGenerator.Kernel(name, kind, widths, walk[3]));
        Kernel pad = null;
        if (bc.padded()) {
          pad = unique(BlockedConvolutions.padKernel("pad_" + (n.name().isEmpty() ? n.output(0) : n.name()), bc),
              seenNames);
          kernels.add(pad);
          defs.append(KernelToLlvm.module(pad).replace("define void @", "define internal void @"));
          columns = Math.max(columns, MemoryPlan.align(4 * bc.paddedElements()));
        }
        String offsets = tapTable(globals, "@nnvm_taps_" + steps.size(), bc.offsets());
        Kernel epilogue = bc.epilogue() == null ? null : unique(lowering.lower(bc.epilogue(), graph), seenNames);
        steps.add(new Step(null, null, null, null, pad, offsets, null, epilogue, null, bc, name, walk));
        if (epilogue != null) {
          kernels.add(epilogue);
          defs.append(KernelToLlvm.module(epilogue).replace("define void @", "define internal void @"));
        }
        continue;
      }
      AttentionPlan attention = AttentionPlan.of(n, graph);
      if (attention != null) {
        steps.add(new Step(null, null, null, null, null, null, null, null, attention, null, null, null));
        continue;
      }
      MatrixProducts.Plan mm = MatrixProducts.plan(n, graph);
      Kernel epilogue = null;
      if (mm != null) {
        // B stored pre-packed for this target's register width, when the compiler put it in the weights so.
        String packed = MatrixProducts.packedName(mm.b(), gemm.blocking().nr());
        boolean packedB = weights.offsets().containsKey(packed) && mm.im2col() == null;
        if (packedB) {
          mm = mm.withB(packed);
        }
        boolean packedA = weights.offsets().containsKey(MatrixProducts.packedNameA(mm.a()));
        if (packedA) {
          mm = mm.withA(MatrixProducts.packedNameA(mm.a()));
        }
        // A 1x1 convolution over few pixels as a transposed product, when its weights were stored for it.
        String packedT = MatrixProducts.packedNameT(mm.a(), gemm.blocking().nr());
        boolean transposed = mm.transposed() && weights.offsets().containsKey(packedT);
        if (transposed) {
          mm = mm.withA(packedT);
        }
        // A stride-1 convolution with pre-packed weights reads the padded image directly (implicit GEMM).
        MatrixProducts.Implicit implicit = mm.im2col() == null || !packedA ? null : mm.im2col().implicit();
        // A residual Add and ReLU after the product are applied by the GEMM as it stores (not by the implicit
        // convolution, which writes a tiled intermediate); then the group has no loop epilogue.
        MatrixProducts.StoreEpilogue store = implicit == null ? mm.store() : null;
        if (store != null) {
          mm = mm.withEpilogue(mm.output(), null, store);
        }
        // One GEMM function per epilogue kind serves every product that needs it.
        GemmGenerator.Epilogue kind = new GemmGenerator.Epilogue(mm.bias() != null && !mm.rowBias(),
            store != null && store.residual() != null, store != null && store.relu(),
            mm.bias() != null && mm.rowBias());
        GemmGenerator.Kernel gk = transposed
            ? transposedKernel(gemmKernels, new GemmGenerator.Epilogue(mm.bias() != null, kind.residual(), kind.relu()),
                transposedRows(Exprs.constValue(mm.n()), target))
            : implicit != null ? convKernel(gemmKernels, kind)
            : gemmKernel(gemmKernels, kind, packedB, packedA, packedA ? GemmGenerator.PACKED_A_MR : GemmGenerator.MR);
        // Tall products may take 12-row register blocks (chosen per call by M); pre-packed A has its own.
        Long rows = Exprs.constValue(mm.m());
        GemmGenerator.Kernel tall = packedA || transposed || (rows != null && rows < TALL_ROWS) ? null
            : gemmKernel(gemmKernels, kind, packedB, false, GemmGenerator.MR_LARGE);
        // Packing buffers are bounded by the cache blocking, so a symbolic N or K is bounded too.
        long nBound = Exprs.constValue(mm.n()) != null ? Exprs.constValue(mm.n()) : 1L << 40;
        long kBound = Exprs.constValue(mm.k()) != null ? Exprs.constValue(mm.k()) : 1L << 40;
        packing = Math.max(packing, gemm.workspaceBytes(1L << 40, nBound, kBound, MAX_GEMM_THREADS,
            GemmGenerator.MR_LARGE));
        Kernel im2col = null;
        String offsets = null;
        Kernel compact = null;
        if (implicit != null) {
          im2col = unique(implicit.pad(), seenNames);
          compact = unique(implicit.compact(), seenNames);
          kernels.add(compact);
          defs.append(KernelToLlvm.module(compact).replace("define void @", "define internal void @"));
          columns = Math.max(columns, MemoryPlan.align(4 * implicit.paddedElements())
              + MemoryPlan.align(4 * implicit.tempElements()));
          offsets = tapTable(globals, "@nnvm_taps_" + steps.size(), implicit.offsets());
        } else if (mm.im2col() != null) {
          im2col = unique(mm.im2col().kernel(), seenNames);
          columns = Math.max(columns, MemoryPlan.align(4 * mm.im2col().columnElements()));
        }
        if (im2col != null) {
          kernels.add(im2col);
          defs.append(KernelToLlvm.module(im2col).replace("define void @", "define internal void @"));
        }
        if (mm.epilogue() != null) {
          epilogue = unique(lowering.lower(mm.epilogue(), graph), seenNames);
        }
        steps.add(new Step(null, gk, tall, mm, im2col, offsets, compact, epilogue, null, null, null, null));
      } else {
        Kernel k = unique(lowering.lower(n, graph), seenNames);
        steps.add(new Step(k));
        epilogue = k;
        if (isDenseConv(n)) {
          slowConvolutions.add(n.name());
        }
      }
      if (epilogue != null) {
        kernels.add(epilogue);
        defs.append(KernelToLlvm.module(epilogue).replace("define void @", "define internal void @"));
      }
    }
    StringBuilder ir = new StringBuilder();
    String loops = mergeDeclarations(defs.toString());
    // The matrix module opens with the target triple, which LLVM accepts only before type definitions.
    String matrices = gemmKernels.isEmpty() && blockedKernels.isEmpty() ? ""
        : gemm.module(gemmKernels, List.copyOf(blockedKernels.values()));
    String attention = steps.stream().anyMatch(s -> s.attention() != null)
        ? new AttentionGenerator(target).function(ATTENTION) : "";
    ir.append(dedupeDeclarations(matrices, attention + CALL_TYPE + "\n\n" + loops + "declare i32 @llvm.smin.i32(i32, i32)\n"
        + "declare i64 @llvm.smin.i64(i64, i64)\n"
        + "declare void @llvm.memmove.p0.p0.i64(ptr, ptr, i64, i1)\n"));
    if (!slowConvolutions.isEmpty()) {
      LOG.warn("{} convolution kernel(s) run as direct loop nests, much slower than the GEMM path, which takes "
          + "2-D float convolutions with static channel, spatial and kernel sizes (these are 1-D or 3-D, of another "
          + "element type or of symbolic size): {}", slowConvolutions.size(), slowConvolutions);
    }
    ir.append(globals).append('\n');
    ir.append(entry(graph, plan, weights, symbols, steps, columns));
    return new Module(ir.toString(), List.copyOf(symbols), kernels, columns + MemoryPlan.align(packing));
  }

  /**
   * The runtime sizes output buffers from the declared output types, the
   * kernels write what the computation produces: the two must agree, or
   * native code would write past the caller's buffer.
   */
  private static void checkDeclaredOutputs(Graph graph) {
    for (ValueInfo o : graph.outputs()) {
      dev.nnvm.compiler.ir.TensorType inferred = graph.valueTypes().get(o.name());
      dev.nnvm.compiler.ir.TensorType declared = o.type();
      if (inferred == null || !declared.shape().hasRank()) {
        continue;
      }
      boolean ok = declared.dtype() == inferred.dtype() && inferred.shape().hasRank()
          && declared.shape().rank() == inferred.shape().rank();
      for (int i = 0; ok && i < declared.shape().rank(); i++) {
        dev.nnvm.runtime.Dim d = declared.shape().dim(i);
        dev.nnvm.runtime.Dim c = inferred.shape().dim(i);
        ok = !(d.isStatic() && c.isStatic()) || d.equals(c);
      }
      if (!ok) {
        throw new dev.nnvm.compiler.ir.ModelException("graph output '" + o.name() + "' is declared " + declared
            + " but the model computes " + inferred);
      }
    }
  }

  /**
   * One call of the entry point: a loop kernel, or a matrix product (with the
   * columns copy of a convolution before it) and an optional loop epilogue.
   */
  private record Step(Kernel loop, GemmGenerator.Kernel gemm, GemmGenerator.Kernel tallGemm,
      MatrixProducts.Plan product, Kernel im2col, String tapOffsets, Kernel compact,
      Kernel epilogue, AttentionPlan attention, BlockedConvolutions.Plan blocked, String blockedKernel,
      long[] blockedWalk) {
    Step(Kernel loop) {
      this(loop, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** The kernel's own result name and the buffer it lives in, when they differ (a fused group's product). */
    Map<String, String> aliases() {
      if (product != null) {
        return Map.of(product.result(), product.output());
      }
      return blocked == null ? Map.of() : Map.of(blocked.result(), blocked.output());
    }
  }

  /** A convolution's tap offsets as a private i64 array {@code name} in {@code globals}; returns the name. */
  private static String tapTable(StringBuilder globals, String name, long[] offsets) {
    globals.append(name).append(" = private unnamed_addr constant [").append(offsets.length).append(" x i64] [");
    for (int i = 0; i < offsets.length; i++) {
      globals.append(i == 0 ? "i64 " : ", i64 ").append(offsets[i]);
    }
    globals.append("]\n");
    return name;
  }

  private static Kernel unique(Kernel k, Map<String, Integer> seen) {
    int dup = seen.merge(k.name(), 1, Integer::sum);
    return dup > 1 ? new Kernel(k.name() + "_" + dup, k.inputs(), k.outputs(), k.symbols(), k.body()) : k;
  }

  /** Both halves as one module text, each function declared once. */
  private static String dedupeDeclarations(String a, String b) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    StringBuilder out = new StringBuilder();
    for (String part : List.of(a, b)) {
      for (String line : part.split("\n", -1)) {
        if (line.startsWith("declare ") && !seen.add(line.substring(0, line.indexOf('(')))) {
          continue;
        }
        out.append(line).append('\n');
      }
    }
    return out.toString();
  }

  /** Kernel modules each declare what they call; keep one declaration of each and renumber loop metadata. */
  private static String mergeDeclarations(String text) {
    StringBuilder body = new StringBuilder();
    java.util.LinkedHashSet<String> decls = new java.util.LinkedHashSet<>();
    List<String> meta = new ArrayList<>();
    int base = 0;
    for (String module : text.split("(?m)^; kernel ")) {
      if (module.isBlank()) {
        continue;
      }
      int localMax = -1;
      StringBuilder m = new StringBuilder();
      for (String line : module.split("\n")) {
        if (line.startsWith("declare ")) {
          decls.add(line);
        } else if (line.startsWith("!")) {
          meta.add(renumber(line, base));
          localMax = Math.max(localMax, Integer.parseInt(line.substring(1, line.indexOf(' '))));
        } else {
          m.append(renumber(line, base)).append('\n');
        }
      }
      body.append("; kernel ").append(m);
      base += localMax + 1;
    }
    StringBuilder out = new StringBuilder(body);
    decls.forEach(d -> out.append(d).append('\n'));
    meta.forEach(d -> out.append(d).append('\n'));
    return out.append('\n').toString();
  }

  private static String renumber(String line, int base) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("!(\\d+)").matcher(line);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(sb, "!" + (Integer.parseInt(m.group(1)) + base));
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /**
   * The entry function. The scratch after the planned workspace holds the
   * convolutions' columns buffer ({@code columnBytes}) and then the GEMM
   * packing buffers.
   */
  private static String entry(Graph graph, MemoryPlan plan, WeightsLayout weights, List<String> symbols,
      List<Step> steps, long columnBytes) {
    StringBuilder b = new StringBuilder();
    Counter t = new Counter();
    b.append("define i32 @").append(ENTRY).append("(ptr nocapture readonly %call) nounwind {\nentry:\n");
    String inputs = field(b, t, "%call", 0, "ptr");
    String outputs = field(b, t, "%call", 1, "ptr");
    String workspace = field(b, t, "%call", 2, "ptr");
    String weightBase = field(b, t, "%call", 3, "ptr");
    String symbolArray = field(b, t, "%call", 4, "ptr");
    String threads = field(b, t, "%call", 5, "i32");
    String pfor = field(b, t, "%call", 6, "ptr");
    String gemmThreads = t.next();
    b.append("  ").append(gemmThreads).append(" = call i32 @llvm.smin.i32(i32 ").append(threads).append(", i32 ")
        .append(MAX_GEMM_THREADS).append(")\n");
    Map<String, String> symbolValues = new HashMap<>();
    for (int i = 0; i < symbols.size(); i++) {
      String p = t.next();
      b.append("  ").append(p).append(" = getelementptr i64, ptr ").append(symbolArray).append(", i64 ").append(i)
          .append('\n');
      String v = t.next();
      b.append("  ").append(v).append(" = load i64, ptr ").append(p).append('\n');
      symbolValues.put(symbols.get(i), v);
    }
    List<String> regionBase = new ArrayList<>();
    String at = "0";
    for (SymbolicSize region : plan.regions()) {
      regionBase.add(at);
      String size = monomial(b, t, region.monomial(), symbolValues, region.coefficient());
      String next = t.next();
      b.append("  ").append(next).append(" = add i64 ").append(at).append(", ").append(size).append('\n');
      at = next;
    }
    Map<String, Integer> inputIndex = new HashMap<>();
    for (int i = 0; i < graph.inputs().size(); i++) {
      inputIndex.put(graph.inputs().get(i).name(), i);
    }
    Map<String, Integer> outputIndex = new HashMap<>();
    for (int i = 0; i < graph.outputs().size(); i++) {
      outputIndex.put(graph.outputs().get(i).name(), i);
    }
    Pointers pointers = new Pointers(b, t, inputs, outputs, workspace, weightBase, inputIndex, outputIndex, weights,
        plan, regionBase, symbolValues);
    String columns = t.next();
    b.append("  ").append(columns).append(" = getelementptr i8, ptr ").append(workspace).append(", i64 ").append(at)
        .append('\n');
    String scratch = t.next();
    b.append("  ").append(scratch).append(" = getelementptr i8, ptr ").append(columns).append(", i64 ")
        .append(columnBytes).append('\n');
    for (Step step : steps) {
      if (step.attention() != null) {
        attentionCall(b, step.attention(), pointers, pfor, threads);
        continue;
      }
      if (step.gemm() != null) {
        gemmCall(b, t, step, pointers, columns, scratch, pfor, gemmThreads, threads);
      }
      if (step.blocked() != null) {
        blockedCall(b, t, step, pointers, columns, pfor, gemmThreads, threads);
      }
      Kernel k = step.gemm() == null && step.blocked() == null ? step.loop() : step.epilogue();
      if (k == null) {
        continue;
      }
      Map<String, String> aliases = step.aliases();
      List<String> ptrs = new ArrayList<>();
      for (BufferRef buf : k.inputs()) {
        ptrs.add(pointers.of(aliases.getOrDefault(buf.name(), buf.name())));
      }
      for (BufferRef buf : k.outputs()) {
        ptrs.add(pointers.of(aliases.getOrDefault(buf.name(), buf.name())));
      }
      callKernel(b, t, k, ptrs, symbolValues, pfor, threads);
    }
    copyUnproducedOutputs(graph, pointers);
    b.append("  ret i32 0\n}\n");
    String top = "nounwind {\nentry:\n";
    b.insert(b.indexOf(top) + top.length(), t.allocas);
    return b.toString();
  }

  /** Calls a loop kernel with its buffers (inputs, then outputs) at the given addresses. */
  private static void callKernel(StringBuilder b, Counter t, Kernel k, List<String> ptrs,
      Map<String, String> symbolValues, String pfor, String threads) {
    // Stack slots live in the entry block: a call inside a batch loop must not grow the stack per batch.
    String bufs = t.next();
    t.allocas.append("  ").append(bufs).append(" = alloca [").append(ptrs.size()).append(" x ptr]\n");
    for (int i = 0; i < ptrs.size(); i++) {
      String slot = t.next();
      b.append("  ").append(slot).append(" = getelementptr [").append(ptrs.size()).append(" x ptr], ptr ")
          .append(bufs).append(", i64 0, i64 ").append(i).append('\n');
      b.append("  store ptr ").append(ptrs.get(i)).append(", ptr ").append(slot).append('\n');
    }
    String syms = t.next();
    int ns = Math.max(1, k.symbols().size());
    t.allocas.append("  ").append(syms).append(" = alloca [").append(ns).append(" x i64]\n");
    for (int i = 0; i < k.symbols().size(); i++) {
      String v = symbolValues.get(k.symbols().get(i));
      if (v == null) {
        throw new UnsupportedModelException("kernel " + k.name() + " needs symbol " + k.symbols().get(i)
            + ", which the model's inputs do not define");
      }
      String slot = t.next();
      b.append("  ").append(slot).append(" = getelementptr [").append(ns).append(" x i64], ptr ").append(syms)
          .append(", i64 0, i64 ").append(i).append('\n');
      b.append("  store i64 ").append(v).append(", ptr ").append(slot).append('\n');
    }
    b.append("  call void @").append(KernelToLlvm.symbolName(k.name())).append("(ptr ").append(bufs)
        .append(", ptr ").append(syms).append(", ptr ").append(pfor).append(", i32 ").append(threads).append(")\n");
  }

  /**
   * Outputs no kernel writes, because they are constants (folded at compile
   * time) or graph inputs passed through, are copied into the caller's
   * output buffers at the end of the run.
   */
  private static void copyUnproducedOutputs(Graph graph, Pointers p) {
    Map<String, Node> producers = graph.producers();
    for (int i = 0; i < graph.outputs().size(); i++) {
      String name = graph.outputs().get(i).name();
      if (producers.containsKey(name)) {
        continue;
      }
      TensorType type = graph.typeOf(name).orElseThrow(() -> new UnsupportedModelException(
          "graph output '" + name + "' has no inferred type"));
      if (!p.inputIndex().containsKey(name) && !p.weights().offsets().containsKey(name)) {
        throw new UnsupportedModelException("graph output '" + name + "' is neither computed, a constant nor an input");
      }
      String src = p.inputIndex().containsKey(name) ? loadPointer(p.b(), p.t(), p.inputs(), p.inputIndex().get(name))
          : p.weight(name);
      String dst = loadPointer(p.b(), p.t(), p.outputs(), i);
      SymbolicSize size = SymbolicSize.of(type);
      if (size == null) {
        throw new UnsupportedModelException("graph output '" + name + "' has shape " + type.shape()
            + ": its size is not known");
      }
      String bytes = monomial(p.b(), p.t(), size.monomial(), p.symbolValues(), size.coefficient());
      p.b().append("  call void @llvm.memmove.p0.p0.i64(ptr ").append(dst).append(", ptr ").append(src)
          .append(", i64 ").append(bytes).append(", i1 false)\n");
    }
  }

  /** Where each value lives, as IR computing its address in the entry function. */
  private record Pointers(StringBuilder b, Counter t, String inputs, String outputs, String workspace,
      String weightBase, Map<String, Integer> inputIndex, Map<String, Integer> outputIndex, WeightsLayout weights,
      MemoryPlan plan, List<String> regionBase, Map<String, String> symbolValues) {
    String of(String name) {
      if (inputIndex.containsKey(name)) {
        return loadPointer(b, t, inputs, inputIndex.get(name));
      }
      if (outputIndex.containsKey(name)) {
        return loadPointer(b, t, outputs, outputIndex.get(name));
      }
      if (weights.offsets().containsKey(name)) {
        return weight(name);
      }
      MemoryPlan.Allocation a = plan.allocations().get(name);
      if (a == null) {
        throw new UnsupportedModelException("value '" + name + "' has no place in the workspace plan");
      }
      String off = monomial(b, t, plan.regions().get(a.region()).monomial(), symbolValues, a.offset());
      String full = t.next();
      b.append("  ").append(full).append(" = add i64 ").append(regionBase.get(a.region())).append(", ").append(off)
          .append('\n');
      String ptr = t.next();
      b.append("  ").append(ptr).append(" = getelementptr i8, ptr ").append(workspace).append(", i64 ").append(full)
          .append('\n');
      return ptr;
    }

    /** The address of a constant in the weights blob. */
    String weight(String name) {
      String ptr = t.next();
      b.append("  ").append(ptr).append(" = getelementptr i8, ptr ").append(weightBase).append(", i64 ")
          .append(weights.offsets().get(name)).append('\n');
      return ptr;
    }

    /** An index expression (constants, symbols, +, *) as i64 instructions. */
    String index(Expr e) {
      if (e instanceof Expr.IntConst c) {
        return Long.toString(c.value());
      }
      if (e instanceof Expr.Var v) {
        String r = symbolValues.get(v.name());
        if (r == null) {
          throw new UnsupportedModelException("symbol " + v.name() + " is not defined by the model's inputs");
        }
        return r;
      }
      if (e instanceof Expr.Binary bin && (bin.op() == Expr.BinaryOp.MUL || bin.op() == Expr.BinaryOp.ADD)) {
        String x = index(bin.a());
        String y = index(bin.b());
        String r = t.next();
        b.append("  ").append(r).append(bin.op() == Expr.BinaryOp.MUL ? " = mul i64 " : " = add i64 ").append(x)
            .append(", ").append(y).append('\n');
        return r;
      }
      throw new IllegalArgumentException("not an index expression: " + e);
    }
  }

  /**
   * The matrix product: for each batch, [M, K] x [K, N] (+ bias) at the
   * plan's strides; a convolution first copies the batch's image windows into
   * {@code columns} and multiplies by those.
   */
  private static void gemmCall(StringBuilder b, Counter t, Step step, Pointers p, String columns, String scratch,
      String pfor, String gemmThreads, String threads) {
    MatrixProducts.Plan mm = step.product();
    String a = p.of(mm.a());
    String bm = mm.im2col() != null ? p.of(mm.im2col().image()) : p.of(mm.b());
    String c = p.of(mm.output());
    String bias = mm.bias() == null ? "null" : p.of(mm.bias());
    String batches = p.index(mm.batches());
    String m = p.index(mm.m());
    String n = p.index(mm.n());
    String k = p.index(mm.k());
    String aStride = p.index(mm.aStride());
    String bStride = p.index(mm.im2col() != null ? mm.im2col().imageStride() : mm.bStride());
    String cStride = p.index(mm.cStride());
    String residual = mm.store() == null || mm.store().residual() == null ? null : p.of(mm.store().residual());
    loop(b, t, batches, i -> {
      String aPtr = offset(b, t, a, i, aStride);
      String cPtr = offset(b, t, c, i, cStride);
      String bPtr = offset(b, t, bm, i, bStride);
      // The residual is shaped like the output: same offsets, same leading dimension.
      String rPtr = residual == null ? "null" : offset(b, t, residual, i, cStride);
      MatrixProducts.Im2col cols = mm.im2col();
      if (step.tapOffsets() != null) {
        // Implicit convolution: the image zero-padded into the scratch, then read there tap by tap.
        MatrixProducts.Implicit imp = cols.implicit();
        callKernel(b, t, step.im2col(), List.of(bPtr, columns), Map.of(), pfor, threads);
        String tiles = t.next();
        b.append("  ").append(tiles).append(" = getelementptr i8, ptr ").append(columns).append(", i64 ")
            .append(MemoryPlan.align(4 * imp.paddedElements())).append('\n');
        b.append("  call void @").append(step.gemm().name()).append("(i64 ").append(m).append(", i64 ")
            .append(cols.outRows() * imp.ldx()).append(", i64 ").append(k).append(", ptr ").append(aPtr)
            .append(", ptr ").append(columns).append(", ptr ").append(step.tapOffsets()).append(", ptr ")
            .append(tiles).append(", ptr ").append(bias).append(", ptr ").append(pfor).append(", i32 ")
            .append(threads).append(")\n");
        callKernel(b, t, step.compact(), List.of(tiles, cPtr), Map.of(), pfor, threads);
        return;
      }
      if (cols == null && step.gemm().transposed()) {
        transposedGemm(b, step, n, m, k, bPtr, n, aPtr, cPtr, n, bias, rPtr, pfor, gemmThreads);
        return;
      }
      if (cols == null) {
        gemm(b, t, step, m, n, k, aPtr, k, bPtr, n, cPtr, n, bias, rPtr, scratch, pfor, gemmThreads);
        return;
      }
      long blocks = (cols.outRows() + cols.rowsPerBlock() - 1) / cols.rowsPerBlock();
      loop(b, t, Long.toString(blocks), blk -> {
        String first = t.next();
        b.append("  ").append(first).append(" = mul i64 ").append(blk).append(", ").append(cols.rowsPerBlock())
            .append('\n');
        String left = t.next();
        b.append("  ").append(left).append(" = sub i64 ").append(cols.outRows()).append(", ").append(first)
            .append('\n');
        String rows = t.next();
        b.append("  ").append(rows).append(" = call i64 @llvm.smin.i64(i64 ").append(left).append(", i64 ")
            .append(cols.rowsPerBlock()).append(")\n");
        callKernel(b, t, step.im2col(), List.of(bPtr, columns), Map.of(WindowKernels.IM2COL_FIRST_ROW, first,
            WindowKernels.IM2COL_ROWS, rows), pfor, threads);
        String pixels = t.next();
        b.append("  ").append(pixels).append(" = mul i64 ").append(rows).append(", ").append(cols.outCols())
            .append('\n');
        String at = t.next();
        b.append("  ").append(at).append(" = mul i64 ").append(first).append(", ").append(cols.outCols()).append('\n');
        String cBlock = offset(b, t, cPtr, "1", at);
        String rBlock = residual == null ? "null" : offset(b, t, rPtr, "1", at);
        String ldColumns = Long.toString(cols.rowsPerBlock() * cols.outCols());
        if (step.gemm().transposed()) {
          transposedGemm(b, step, pixels, m, k, columns, ldColumns, aPtr, cBlock, n, bias, rBlock, pfor, gemmThreads);
        } else {
          gemm(b, t, step, m, pixels, k, aPtr, k, columns, ldColumns, cBlock, n, bias, rBlock, scratch, pfor,
              gemmThreads);
        }
      });
    });
  }

  /**
   * A blocked convolution: per batch item, the image copied zero-padded into {@code columns} when the
   * convolution pads, then the direct convolution kernel reading it tap by tap.
   */
  private static void blockedCall(StringBuilder b, Counter t, Step step, Pointers p, String columns, String pfor,
      String gemmThreads, String threads) {
    BlockedConvolutions.Plan bc = step.blocked();
    String x = p.of(bc.x());
    String w = p.of(BlockedConvolutions.packedName(bc.weights(), 2 * bc.block()));
    String c = p.of(bc.output());
    String bias = bc.bias() == null ? "null" : p.of(bc.bias());
    String residual = bc.store() == null || bc.store().residual() == null ? null : p.of(bc.store().residual());
    String batches = p.index(bc.batches());
    if (step.im2col() == null) {
      // Unpadded: one call over every batch item, each weights strip read once for all of them.
      blockedKernelCall(b, step, batches, x, c, residual == null ? "null" : residual, bias, w, pfor, gemmThreads);
      return;
    }
    loop(b, t, batches, i -> {
      String xPtr = offset(b, t, x, i, Long.toString(bc.imageStride()));
      String cPtr = offset(b, t, c, i, Long.toString(bc.outputStride()));
      String rPtr = residual == null ? "null" : offset(b, t, residual, i, Long.toString(bc.outputStride()));
      callKernel(b, t, step.im2col(), List.of(xPtr, columns), Map.of(), pfor, threads);
      blockedKernelCall(b, step, "1", columns, cPtr, rPtr, bias, w, pfor, gemmThreads);
    });
  }

  /** One call of a blocked convolution function over {@code items} batch items from {@code image} on. */
  private static void blockedKernelCall(StringBuilder b, Step step, String items, String image, String cPtr,
      String rPtr, String bias, String w, String pfor, String gemmThreads) {
    BlockedConvolutions.Plan bc = step.blocked();
    long[] walk = step.blockedWalk();
    b.append("  call void @").append(step.blockedKernel()).append("(i64 ").append(items).append(", i64 ")
        .append(bc.imageStride()).append(", i64 ").append(bc.outputStride()).append(", i64 ").append(walk[0])
        .append(", i64 ").append(walk[1]).append(", i64 ").append(bc.out()[0]).append(", i64 ").append(bc.taps())
        .append(", ptr ").append(image).append(", i64 ").append(walk[2]).append(", i64 ").append(walk[3])
        .append(", ptr ").append(step.tapOffsets()).append(", ptr ").append(w).append(", ptr ").append(cPtr)
        .append(", ptr ").append(bias).append(", ptr ").append(rPtr).append(", ptr ").append(pfor).append(", i32 ")
        .append(gemmThreads).append(")\n");
  }

  /** One call of the fused attention kernel for a whole {@code nnvm.Attention} node. */
  private static void attentionCall(StringBuilder b, AttentionPlan a, Pointers p, String pfor, String threads) {
    // Operands first: computing an index or a pointer emits instructions.
    List<String> args = new ArrayList<>();
    for (Expr e : List.of(a.batch(), a.heads(), a.sq(), a.sk(), a.d(), a.dv())) {
      args.add("i64 " + p.index(e));
    }
    for (String value : new String[] {a.q(), a.kt(), a.v()}) {
      args.add("ptr " + p.of(value));
    }
    args.add("ptr " + (a.mask() == null ? "null" : p.of(a.mask())));
    for (Expr e : List.of(a.maskOuter(), a.maskInner(), a.maskRow())) {
      args.add("i64 " + p.index(e));
    }
    args.add("ptr " + p.of(a.output()));
    args.add("float " + KernelToLlvm.floatLiteral(a.scale(), DType.FLOAT32));
    args.add("ptr " + pfor);
    args.add("i32 " + threads);
    b.append("  call void @").append(ATTENTION).append('(').append(String.join(", ", args)).append(")\n");
  }

  /**
   * A transposed product: pixels are the rows, C [channels, pixels] = (X^T [pixels, K] x W^T [K, channels])^T,
   * X the image or its columns ({@code ldx} floats a row), W the weights stored transposed and packed.
   */
  private static void transposedGemm(StringBuilder b, Step step, String pixels, String channels, String k, String x,
      String ldx, String w, String c, String ldc, String bias, String r, String pfor, String threads) {
    b.append("  call void @").append(step.gemm().name()).append("(i64 ").append(pixels).append(", i64 ")
        .append(channels).append(", i64 ").append(k).append(", ptr ").append(x).append(", i64 ").append(ldx)
        .append(", ptr ").append(w).append(", ptr ").append(c).append(", i64 ").append(ldc).append(", ptr ")
        .append(bias).append(", ptr ").append(r).append(", i64 ").append(ldc).append(", ptr ").append(pfor)
        .append(", i32 ").append(threads).append(")\n");
  }

  private static void gemm(StringBuilder b, Counter t, Step step, String m, String n, String k, String a,
      String lda, String bm, String ldb, String c, String ldc, String bias, String r, String scratch, String pfor,
      String threads) {
    String args = "(i64 " + m + ", i64 " + n + ", i64 " + k + ", ptr " + a + ", i64 " + lda + ", ptr " + bm
        + ", i64 " + ldb + ", ptr " + c + ", i64 " + ldc + ", ptr " + bias + ", ptr " + r + ", i64 " + ldc
        + ", ptr " + scratch + ", ptr " + pfor + ", i32 " + threads + ")\n";
    if (step.tallGemm() == null) {
      b.append("  call void @").append(step.gemm().name()).append(args);
      return;
    }
    int id = t.n++;
    String tall = t.next();
    b.append("  ").append(tall).append(" = icmp sge i64 ").append(m).append(", ").append(TALL_ROWS).append('\n');
    b.append("  br i1 ").append(tall).append(", label %talls").append(id).append(", label %shorts").append(id)
        .append('\n');
    b.append("talls").append(id).append(":\n  call void @").append(step.tallGemm().name()).append(args);
    b.append("  br label %gemmdone").append(id).append('\n');
    b.append("shorts").append(id).append(":\n  call void @").append(step.gemm().name()).append(args);
    b.append("  br label %gemmdone").append(id).append("\ngemmdone").append(id).append(":\n");
  }

  /** A one-group Conv, alone or as the master of a fused group. */
  private static boolean isDenseConv(Node n) {
    Node master = n.domain().equals(dev.nnvm.compiler.ops.NnvmOps.DOMAIN) && n.opType().equals(
        dev.nnvm.compiler.ops.NnvmOps.FUSED) ? n.attribute("body").asGraph().nodes().get(0) : n;
    return master.domain().isEmpty() && master.opType().equals("Conv")
        && (master.attribute("group") == null || master.attribute("group").asInt() == 1);
  }

  /** The implicit convolution function for an epilogue, added to the list when new. */
  private static GemmGenerator.Kernel convKernel(List<GemmGenerator.Kernel> kernels, GemmGenerator.Epilogue kind) {
    for (GemmGenerator.Kernel x : kernels) {
      if (x.implicitConv() && x.epilogue().equals(kind)) {
        return x;
      }
    }
    GemmGenerator.Kernel k = GemmGenerator.Kernel.implicitConv("nnvm_conv_" + kernels.size(), kind);
    kernels.add(k);
    return k;
  }

  /** The GEMM function for an epilogue, packing and register block, added to the list when new. */
  /**
   * Pixel rows of a transposed product's register block: the count among 6-8 that pads {@code pixels}
   * least (7 for ResNet's 49 and 196), 6 where 16 vector registers allow no more than 6 x 2 accumulators.
   */
  static int transposedRows(long pixels, CpuTarget target) {
    if (target.vectorWidth() < 16) {
      return GemmGenerator.MR;
    }
    int best = GemmGenerator.MR;
    for (int mr = GemmGenerator.MR; mr <= GemmGenerator.TRANSPOSED_MAX_MR; mr++) {
      if ((pixels + mr - 1) / mr * mr < (pixels + best - 1) / best * best) {
        best = mr;
      }
    }
    return best;
  }

  private static GemmGenerator.Kernel transposedKernel(List<GemmGenerator.Kernel> kernels,
      GemmGenerator.Epilogue kind, int mr) {
    for (GemmGenerator.Kernel x : kernels) {
      if (x.transposed() && x.epilogue().equals(kind) && x.mr() == mr) {
        return x;
      }
    }
    GemmGenerator.Kernel k = GemmGenerator.Kernel.transposed("nnvm_tgemm_" + kernels.size(), kind, mr);
    kernels.add(k);
    return k;
  }

  private static GemmGenerator.Kernel gemmKernel(List<GemmGenerator.Kernel> kernels, GemmGenerator.Epilogue kind,
      boolean packedB, boolean packedA, int mr) {
    for (GemmGenerator.Kernel x : kernels) {
      if (!x.implicitConv() && !x.transposed() && x.epilogue().equals(kind) && x.packedB() == packedB
          && x.packedA() == packedA && x.mr() == mr) {
        return x;
      }
    }
    GemmGenerator.Kernel k = new GemmGenerator.Kernel("nnvm_gemm_" + kernels.size(), kind, packedB, packedA, mr);
    kernels.add(k);
    return k;
  }

  /** {@code for (iv = 0; iv < count; iv++) body(iv)}, emitted in place; the body may contain loops. */
  private static void loop(StringBuilder b, Counter t, String count, java.util.function.Consumer<String> body) {
    int id = t.n++;
    String pre = t.next();
    b.append("  br label %loopentry").append(id).append("\nloopentry").append(id).append(":\n");
    b.append("  ").append(pre).append(" = icmp sgt i64 ").append(count).append(", 0\n");
    b.append("  br i1 ").append(pre).append(", label %loop").append(id).append(", label %loopdone").append(id)
        .append('\n');
    String iv = t.next();
    String next = t.next();
    b.append("loop").append(id).append(":\n");
    b.append("  ").append(iv).append(" = phi i64 [ 0, %loopentry").append(id).append(" ], [ ").append(next)
        .append(", %looplatch").append(id).append(" ]\n");
    body.accept(iv);
    b.append("  br label %looplatch").append(id).append("\nlooplatch").append(id).append(":\n");
    b.append("  ").append(next).append(" = add i64 ").append(iv).append(", 1\n");
    String more = t.next();
    b.append("  ").append(more).append(" = icmp slt i64 ").append(next).append(", ").append(count).append('\n');
    b.append("  br i1 ").append(more).append(", label %loop").append(id).append(", label %loopdone").append(id)
        .append('\n');
    b.append("loopdone").append(id).append(":\n");
  }

  /** {@code base + batch * stride} floats, as a pointer. */
  private static String offset(StringBuilder b, Counter t, String base, String batch, String stride) {
    String elements = t.next();
    b.append("  ").append(elements).append(" = mul i64 ").append(batch).append(", ").append(stride).append('\n');
    String ptr = t.next();
    b.append("  ").append(ptr).append(" = getelementptr float, ptr ").append(base).append(", i64 ").append(elements)
        .append('\n');
    return ptr;
  }

  private static final class Counter {
    private int n;
    /** Allocas, placed at the top of the entry block. */
    private final StringBuilder allocas = new StringBuilder();

    String next() {
      return "%m" + n++;
    }
  }

  private static String field(StringBuilder b, Counter t, String call, int index, String type) {
    String p = t.next();
    b.append("  ").append(p).append(" = getelementptr %nnvm_call, ptr ").append(call).append(", i32 0, i32 ")
        .append(index).append('\n');
    String v = t.next();
    b.append("  ").append(v).append(" = load ").append(type).append(", ptr ").append(p).append('\n');
    return v;
  }

  private static String loadPointer(StringBuilder b, Counter t, String array, int index) {
    String p = t.next();
    b.append("  ").append(p).append(" = getelementptr ptr, ptr ").append(array).append(", i64 ").append(index)
        .append('\n');
    String v = t.next();
    b.append("  ").append(v).append(" = load ptr, ptr ").append(p).append('\n');
    return v;
  }

  /** {@code coefficient * product of symbols^power} as i64 instructions. */
  private static String monomial(StringBuilder b, Counter t, Map<String, Integer> powers, Map<String, String> values,
      long coefficient) {
    String acc = Long.toString(coefficient);
    for (Map.Entry<String, Integer> e : powers.entrySet()) {
      String v = values.get(e.getKey());
      if (v == null) {
        throw new UnsupportedModelException("the workspace depends on symbol " + e.getKey()
            + ", which the model's inputs do not define");
      }
      for (int i = 0; i < e.getValue(); i++) {
        String r = t.next();
        b.append("  ").append(r).append(" = mul i64 ").append(acc).append(", ").append(v).append('\n');
        acc = r;
      }
    }
    return acc;
  }

  /** The symbolic dimensions of the graph inputs, in first-use order: the order the runtime passes them. */
  public static List<String> inputSymbols(Graph graph) {
    List<String> out = new ArrayList<>();
    for (ValueInfo in : graph.inputs()) {
      if (in.type().shape().hasRank()) {
        in.type().shape().dims().forEach(d -> {
          if (d.isSymbolic() && !out.contains(d.symbol())) {
            out.add(d.symbol());
          }
        });
      }
    }
    return out;
  }
}
