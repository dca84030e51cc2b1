package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.analysis.MemoryPlan;
import dev.nnvm.compiler.analysis.SymbolicSize;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
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
  /** The exported entry point's name. */
  public static final String ENTRY = "nnvm_model_run";

  /** Field order of {@code struct nnvm_call}, as an LLVM type (C layout on x86-64). */
  private static final String CALL_TYPE =
      "%nnvm_call = type { ptr, ptr, ptr, ptr, ptr, i32, ptr, ptr, i32 }";

  private ModelToLlvm() {}

  /** What the generated module needs besides its text: the order of the symbolic dimensions. */
  public record Module(String ir, List<String> symbols, List<Kernel> kernels) {}

  /**
   * @param graph the optimized, typed graph (every node must lower to loops)
   * @param plan its memory plan
   * @param weights where its constants live in the weights blob
   * @param symbols the order in which the runtime passes symbol values
   */
  public static Module generate(Graph graph, MemoryPlan plan, WeightsLayout weights, List<String> symbols) {
    if (!plan.unplanned().isEmpty()) {
      throw new UnsupportedModelException("values of unknown size cannot be compiled yet: " + plan.unplanned());
    }
    KernelLowering lowering = KernelLowering.standard();
    List<Kernel> kernels = new ArrayList<>();
    StringBuilder defs = new StringBuilder();
    Map<String, Integer> seenNames = new HashMap<>();
    for (Node n : graph.nodes()) {
      Kernel k = lowering.lower(n, graph);
      int dup = seenNames.merge(k.name(), 1, Integer::sum);
      if (dup > 1) {
        k = new Kernel(k.name() + "_" + dup, k.inputs(), k.outputs(), k.symbols(), k.body());
      }
      kernels.add(k);
      defs.append(KernelToLlvm.module(k).replace("define void @", "define internal void @"));
    }
    StringBuilder ir = new StringBuilder();
    ir.append(CALL_TYPE).append("\n\n");
    ir.append(mergeDeclarations(defs.toString()));
    ir.append(entry(graph, plan, weights, symbols, kernels));
    return new Module(ir.toString(), List.copyOf(symbols), kernels);
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

  private static String entry(Graph graph, MemoryPlan plan, WeightsLayout weights, List<String> symbols,
      List<Kernel> kernels) {
    StringBuilder b = new StringBuilder();
    Counter t = new Counter();
    b.append("define i32 @").append(ENTRY).append("(ptr nocapture readonly %call) nounwind {\nentry:\n");
    String inputs = field(b, t, "%call", 0, "ptr");
    String outputs = field(b, t, "%call", 1, "ptr");
    String workspace = field(b, t, "%call", 2, "ptr");
    String weightBase = field(b, t, "%call", 3, "ptr");
    String symbolArray = field(b, t, "%call", 4, "ptr");
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
    for (Kernel k : kernels) {
      List<BufferRef> all = new ArrayList<>(k.inputs());
      all.addAll(k.outputs());
      String bufs = t.next();
      b.append("  ").append(bufs).append(" = alloca [").append(all.size()).append(" x ptr]\n");
      for (int i = 0; i < all.size(); i++) {
        String name = all.get(i).name();
        String ptr;
        if (inputIndex.containsKey(name)) {
          ptr = loadPointer(b, t, inputs, inputIndex.get(name));
        } else if (outputIndex.containsKey(name)) {
          ptr = loadPointer(b, t, outputs, outputIndex.get(name));
        } else if (weights.offsets().containsKey(name)) {
          ptr = t.next();
          b.append("  ").append(ptr).append(" = getelementptr i8, ptr ").append(weightBase).append(", i64 ")
              .append(weights.offsets().get(name)).append('\n');
        } else {
          MemoryPlan.Allocation a = plan.allocations().get(name);
          if (a == null) {
            throw new UnsupportedModelException("value '" + name + "' has no place in the workspace plan");
          }
          String off = monomial(b, t, plan.regions().get(a.region()).monomial(), symbolValues, a.offset());
          String full = t.next();
          b.append("  ").append(full).append(" = add i64 ").append(regionBase.get(a.region())).append(", ")
              .append(off).append('\n');
          ptr = t.next();
          b.append("  ").append(ptr).append(" = getelementptr i8, ptr ").append(workspace).append(", i64 ").append(full)
              .append('\n');
        }
        String slot = t.next();
        b.append("  ").append(slot).append(" = getelementptr [").append(all.size()).append(" x ptr], ptr ")
            .append(bufs).append(", i64 0, i64 ").append(i).append('\n');
        b.append("  store ptr ").append(ptr).append(", ptr ").append(slot).append('\n');
      }
      String syms = t.next();
      int ns = Math.max(1, k.symbols().size());
      b.append("  ").append(syms).append(" = alloca [").append(ns).append(" x i64]\n");
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
          .append(", ptr ").append(syms).append(")\n");
    }
    b.append("  ret i32 0\n}\n");
    return b.toString();
  }

  private static final class Counter {
    private int n;

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
