package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rewrites training-time constructs for inference (NNVM's SimplifyInference):
 * {@code Identity} and inference-mode {@code Dropout} disappear (their uses
 * read the input directly), and {@code BatchNormalization} with constant
 * statistics becomes a per-channel {@code Mul} by
 * {@code scale / sqrt(var + epsilon)} and {@code Add} of
 * {@code B - mean * that}, which FoldScaleAxis can then fold into a
 * preceding convolution.
 *
 * <p>A node whose output is a graph output is kept, so output names survive;
 * a Dropout whose mask is read, or that runs in training mode, is kept.
 */
public final class SimplifyInference extends TypedPass {
  public static final SimplifyInference INSTANCE = new SimplifyInference();

  private SimplifyInference() {}

  @Override
  public String name() {
    return "SimplifyInference";
  }

  @Override
  public int minLevel() {
    return 1;
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    Set<String> outputs = new HashSet<>();
    for (ValueInfo o : graph.outputs()) {
      outputs.add(o.name());
    }
    Map<String, List<Node>> consumers = graph.consumers();
    Set<String> names = new HashSet<>(graph.constants().keySet());
    graph.nodes().forEach(n -> names.addAll(n.outputs()));
    graph.inputs().forEach(v -> names.add(v.name()));

    Map<String, String> renames = new HashMap<>();
    Map<String, Tensor> constants = new LinkedHashMap<>(graph.constants());
    List<Node> out = new ArrayList<>();
    boolean changed = false;
    for (Node n : graph.nodes()) {
      if (!n.domain().isEmpty()) {
        out.add(n);
        continue;
      }
      switch (n.opType()) {
        case "Identity":
          if (!outputs.contains(n.output(0))) {
            renames.put(n.output(0), n.input(0));
            changed = true;
            continue;
          }
          break;
        case "Dropout":
          if (isInferenceDropout(n, graph, consumers, outputs)) {
            renames.put(n.output(0), n.input(0));
            changed = true;
            continue;
          }
          break;
        case "BatchNormalization": {
          List<Node> replacement = batchNormAsScaleShift(n, graph, constants, names);
          if (replacement != null) {
            out.addAll(replacement);
            changed = true;
            continue;
          }
          break;
        }
        default:
          break;
      }
      out.add(n);
    }
    if (!changed) {
      return graph;
    }
    List<Node> renamed = ValueRenaming.renameUses(out, renames);
    Map<String, TensorType> types = new LinkedHashMap<>(graph.valueTypes());
    types.keySet().removeAll(renames.keySet());
    Graph rewritten = graph.toBuilder().nodes(renamed).constants(constants).valueTypes(types).build();
    return retype(rewritten, ctx);
  }

  private static boolean isInferenceDropout(Node n, Graph g, Map<String, List<Node>> consumers, Set<String> outputs) {
    if (outputs.contains(n.output(0))) {
      return false;
    }
    if (n.outputs().size() > 1 && !n.output(1).isEmpty()
        && (consumers.containsKey(n.output(1)) || outputs.contains(n.output(1)))) {
      return false;
    }
    if (n.hasInput(2)) {
      Tensor training = g.constants().get(n.input(2));
      return training != null && !training.getBool(0);
    }
    Attribute legacy = n.attribute("is_test");
    return legacy == null || legacy.asInt() != 0;
  }

  private static List<Node> batchNormAsScaleShift(Node n, Graph g, Map<String, Tensor> constants, Set<String> names) {
    if (n.outputs().size() > 1 || n.inputs().size() < 5) {
      return null;
    }
    Attribute training = n.attribute("training_mode");
    if (training != null && training.asInt() != 0) {
      return null;
    }
    Tensor gamma = constants.get(n.input(1));
    Tensor beta = constants.get(n.input(2));
    Tensor mean = constants.get(n.input(3));
    Tensor var = constants.get(n.input(4));
    Optional<TensorType> xt = g.typeOf(n.input(0));
    if (gamma == null || beta == null || mean == null || var == null || xt.isEmpty() || !xt.get().shape().hasRank()
        || xt.get().shape().rank() < 2 || !xt.get().dtype().isFloatingPoint()) {
      return null;
    }
    int c = gamma.size();
    if (beta.size() != c || mean.size() != c || var.size() != c) {
      return null;
    }
    Attribute epsAttr = n.attribute("epsilon");
    double eps = epsAttr == null ? 1e-5 : epsAttr.asFloat();
    double[] scale = new double[c];
    double[] shift = new double[c];
    for (int i = 0; i < c; i++) {
      double s = gamma.getDouble(i) / Math.sqrt(var.getDouble(i) + eps);
      scale[i] = s;
      shift[i] = beta.getDouble(i) - mean.getDouble(i) * s;
    }
    int rank = xt.get().shape().rank();
    long[] shape = new long[rank - 1];
    java.util.Arrays.fill(shape, 1);
    shape[0] = c;
    String base = n.name().isEmpty() ? n.output(0) : n.name();
    String scaleName = fresh(base + "/scale", names);
    String shiftName = fresh(base + "/shift", names);
    String scaled = fresh(base + "/scaled", names);
    constants.put(scaleName, Tensor.fromDoubles(xt.get().dtype(), shape, scale));
    constants.put(shiftName, Tensor.fromDoubles(xt.get().dtype(), shape, shift));
    return List.of(
        Node.of(base + "/mul", "Mul", List.of(n.input(0), scaleName), List.of(scaled)),
        Node.of(base + "/add", "Add", List.of(scaled, shiftName), List.of(n.output(0))));
  }

  /** A value name not used yet (and reserves it). */
  static String fresh(String want, Set<String> names) {
    String name = want;
    for (int i = 1; names.contains(name); i++) {
      name = want + "_" + i;
    }
    names.add(name);
    return name;
  }
}
