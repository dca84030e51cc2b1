package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates an optimized graph kernel by kernel: every kernel that lowers to
 * loops runs through {@link KernelInterpreter}, the rest through the
 * reference evaluator. Comparing its outputs with the reference evaluator's
 * checks the lowering of whole models.
 */
public final class HybridEvaluator {
  private int lowered;
  private int fallback;
  private final List<String> fallbackOps = new ArrayList<>();

  public int lowered() {
    return lowered;
  }

  public int fallback() {
    return fallback;
  }

  public List<String> fallbackOps() {
    return fallbackOps;
  }

  public Map<String, Tensor> run(Graph g, Map<String, Tensor> inputs) {
    Map<String, Long> symbols = new HashMap<>();
    for (ValueInfo in : g.inputs()) {
      Tensor t = inputs.get(in.name());
      List<Dim> dims = in.type().shape().dims();
      for (int i = 0; i < dims.size(); i++) {
        if (dims.get(i).isSymbolic()) {
          symbols.put(dims.get(i).symbol(), t.dim(i));
        }
      }
    }
    Map<String, Tensor> env = new HashMap<>(g.constants());
    env.putAll(inputs);
    KernelLowering lowering = KernelLowering.standard();
    for (Node n : g.nodes()) {
      Kernel k;
      try {
        k = lowering.lower(n, g);
      } catch (UnsupportedModelException e) {
        k = null;
      }
      if (k != null) {
        List<Tensor> args = new ArrayList<>();
        for (BufferRef b : k.inputs()) {
          args.add(env.get(b.name()));
        }
        env.putAll(KernelInterpreter.run(k, args, symbols));
        lowered++;
      } else {
        env.putAll(reference(g, n, env));
        fallback++;
        fallbackOps.add(n.qualifiedOp());
      }
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (ValueInfo o : g.outputs()) {
      out.put(o.name(), env.get(o.name()));
    }
    return out;
  }

  private static Map<String, Tensor> reference(Graph g, Node n, Map<String, Tensor> env) {
    Graph.Builder one = Graph.builder("one").opsets(g.opsets());
    for (String in : n.inputs()) {
      if (!in.isEmpty()) {
        one.constant(in, env.get(in));
      }
    }
    one.node(n);
    for (String o : n.outputs()) {
      if (!o.isEmpty()) {
        one.output(o, TensorType.unknownShape(DType.FLOAT32));
      }
    }
    return ReferenceEvaluator.standard().run(one.build(), Map.of());
  }
}
