package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ops.NnvmOps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Moves 2-D convolutions to the blocked channel layout NCHW{b}c that the CPU
 * kernels want (NNVM's AlterOpLayout), with layout transforms only at the
 * boundaries of blocked regions.
 *
 * <p>How it works. One sweep in node order keeps, for each value, its blocked
 * twin when one exists. A Conv (2-D, constant weights, explicit padding,
 * channels divisible by the block, plain or depthwise) becomes
 * {@code nnvm.ConvNCHWc} on the blocked twin of its input (a
 * {@code LayoutTransform} is inserted when there is none) with weights packed
 * at compile time. Elementwise operators whose tensor inputs all have blocked
 * twins with the output's channel count, or are scalar or per-channel
 * constants (which are re-laid out), run on the blocked values too, and so do
 * global pools (as a mean or max over H and W). The plain value is
 * materialized by a {@code LayoutTransform} back, just before the first node
 * that needs it in plain layout, or at the end for graph outputs.
 */
public final class AlterOpLayout extends TypedPass {
  /** The channel block for AVX2 (8 floats per 256-bit vector). */
  public static final int AVX2_BLOCK = 8;

  public static final AlterOpLayout INSTANCE = new AlterOpLayout(AVX2_BLOCK);

  private final int block;
  private final int minLevel;
  private final boolean denseOnly;

  public AlterOpLayout(int block) {
    this(block, 3, false);
  }

  /**
   * @param block the channel block (the target's floats per vector)
   * @param minLevel the lowest optimization level that runs the pass
   * @param denseOnly whether only one-group convolutions move, and only in graphs where all do (but those
   *     reading a graph input); depthwise ones stay in NCHW
   */
  public AlterOpLayout(int block, int minLevel, boolean denseOnly) {
    if (block < 1) {
      throw new IllegalArgumentException("channel block " + block);
    }
    this.block = block;
    this.minLevel = minLevel;
    this.denseOnly = denseOnly;
  }

  public int block() {
    return block;
  }

  @Override
  public String name() {
    return "AlterOpLayout";
  }

  @Override
  public int minLevel() {
    return minLevel;
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    if (denseOnly && !allConvolutionsMove(graph)) {
      return graph;
    }
    Rewriter rw = new Rewriter(graph, ctx);
    Graph out = rw.run();
    return out == graph ? graph : retype(out, ctx);
  }

  /**
   * The input block of a Conv's packed weights when it can move to the blocked layout (the block, or 1 for
   * a depthwise convolution), else 0: 2-D, constant weights and bias, explicit padding, channels divisible
   * by the block, one group or depthwise (not with {@code denseOnly}).
   */
  private int weightBlockIn(Node n, Graph graph, Map<String, Tensor> constants) {
    Tensor w = constants.get(n.input(1));
    Optional<TensorType> xt = graph.typeOf(n.input(0));
    Attribute autoPad = n.attribute("auto_pad");
    if (w == null || w.rank() != 4 || xt.isEmpty() || !xt.get().shape().hasRank() || xt.get().shape().rank() != 4
        || !xt.get().shape().dim(1).isStatic() || autoPad != null && !autoPad.asString().equals("NOTSET")
        || n.hasInput(2) && !constants.containsKey(n.input(2))) {
      return 0;
    }
    long group = n.attribute("group") == null ? 1 : n.attribute("group").asInt();
    long outC = w.dim(0);
    long inC = xt.get().shape().dim(1).value();
    boolean depthwise = group > 1 && group == inC && group == outC && w.dim(1) == 1;
    if (group != 1 && (!depthwise || denseOnly) || outC % block != 0 || inC % block != 0) {
      return 0;
    }
    return depthwise ? 1 : block;
  }

  /**
   * Whether every convolution can move, except those reading a graph input (an image's few channels):
   * a network whose depthwise or odd-width convolutions stay in NCHW would pay a layout transform each
   * side of each of them (the PP-OCRv3 detector, MobileNetV3-based, ran 8 % slower blocked).
   */
  private boolean allConvolutionsMove(Graph graph) {
    Set<String> inputs = new HashSet<>();
    graph.inputs().forEach(v -> inputs.add(v.name()));
    boolean any = false;
    for (Node n : graph.nodes()) {
      if (FuseLayerNorm.is(n, "Conv") && !inputs.contains(n.input(0))) {
        if (weightBlockIn(n, graph, graph.constants()) == 0) {
          return false;
        }
        any = true;
      }
    }
    return any;
  }

  private final class Rewriter {
    private final Graph graph;
    private final PassContext ctx;
    private final PatternRewrite.Names names;
    private final Map<String, String> blocked = new HashMap<>();
    private final Set<String> pendingPlain = new HashSet<>();
    private final Map<String, Tensor> constants;
    private final List<Node> out = new ArrayList<>();
    private final Set<String> replaced = new HashSet<>();
    private boolean changed;

    Rewriter(Graph graph, PassContext ctx) {
      this.graph = graph;
      this.ctx = ctx;
      this.names = new PatternRewrite.Names(graph);
      this.constants = new LinkedHashMap<>(graph.constants());
    }

    Graph run() {
      for (Node n : graph.nodes()) {
        if (!(tryConv(n) || tryGlobalPool(n) || tryElementwise(n))) {
          for (String in : n.inputs()) {
            materialize(in);
          }
          for (Graph sub : n.subgraphs()) {
            dev.nnvm.compiler.analysis.OuterReads.of(sub).forEach(this::materialize);
          }
          out.add(n);
        }
      }
      for (ValueInfo o : graph.outputs()) {
        materialize(o.name());
      }
      if (!changed) {
        return graph;
      }
      // Constants replaced by their packed or re-laid form are dropped when nothing else reads them.
      Set<String> read = new HashSet<>();
      for (Node n : out) {
        read.addAll(n.inputs());
        for (Graph sub : n.subgraphs()) {
          read.addAll(dev.nnvm.compiler.analysis.OuterReads.of(sub));
        }
      }
      graph.outputs().forEach(o -> read.add(o.name()));
      replaced.removeAll(read);
      constants.keySet().removeAll(replaced);
      Set<String> defined = new HashSet<>();
      out.forEach(n -> defined.addAll(n.outputs()));
      Map<String, TensorType> types = new LinkedHashMap<>(graph.valueTypes());
      types.keySet().retainAll(defined);
      return graph.toBuilder().nodes(out).constants(constants).valueTypes(types).build();
    }

    private void materialize(String value) {
      if (pendingPlain.remove(value)) {
        out.add(transform(blocked.get(value), value, false));
      }
    }

    private Node transform(String from, String to, boolean toBlocked) {
      Map<String, Attribute> attrs = new LinkedHashMap<>();
      attrs.put("block", Attribute.ofInt(block));
      attrs.put("to_blocked", Attribute.ofInt(toBlocked ? 1 : 0));
      return new Node(names.fresh(to + (toBlocked ? "/to_nchwc" : "/to_nchw")), NnvmOps.LAYOUT_TRANSFORM,
          NnvmOps.DOMAIN, List.of(from), List.of(to), attrs);
    }

    /** The blocked twin of a plain value, transforming it when needed. */
    private String blockedInput(String value) {
      String b = blocked.get(value);
      if (b == null) {
        b = names.fresh(value + "/nchw" + block + "c");
        out.add(transform(value, b, true));
        blocked.put(value, b);
      }
      return b;
    }

    private boolean tryConv(Node n) {
      if (!FuseLayerNorm.is(n, "Conv")) {
        return false;
      }
      int weightBlockIn = weightBlockIn(n, graph, constants);
      if (weightBlockIn == 0) {
        return false;
      }
      Tensor w = constants.get(n.input(1));
      boolean depthwise = weightBlockIn == 1;
      String packedName = names.fresh(n.input(1) + "/packed" + block);
      constants.put(packedName, NnvmOps.packConvWeights(w, weightBlockIn, block));
      replaced.add(n.input(1));
      List<String> ins = new ArrayList<>(List.of(blockedInput(n.input(0)), packedName));
      if (n.hasInput(2)) {
        ins.add(n.input(2));
      }
      Map<String, Attribute> attrs = new LinkedHashMap<>();
      attrs.put("block", Attribute.ofInt(block));
      attrs.put("weight_block_in", Attribute.ofInt(weightBlockIn));
      for (String k : List.of("group", "strides", "pads", "dilations", "kernel_shape")) {
        if (n.attribute(k) != null) {
          attrs.put(k, n.attribute(k));
        }
      }
      String result = names.fresh(n.output(0) + "/nchw" + block + "c");
      out.add(new Node(n.name(), NnvmOps.CONV_BLOCKED, NnvmOps.DOMAIN, ins, List.of(result), attrs));
      blocked.put(n.output(0), result);
      pendingPlain.add(n.output(0));
      changed = true;
      return true;
    }

    private boolean tryElementwise(Node n) {
      FusionPattern p = FuseOperators.patternOf(n, ctx);
      if (!n.domain().isEmpty() || n.outputs().size() != 1 || n.subgraphs().size() > 0
          || p != FusionPattern.ELEMWISE && p != FusionPattern.BROADCAST) {
        return false;
      }
      Optional<TensorType> outType = graph.typeOf(n.output(0));
      if (outType.isEmpty() || !outType.get().shape().hasRank() || outType.get().shape().rank() != 4) {
        return false;
      }
      boolean anyBlocked = false;
      List<String> ins = new ArrayList<>();
      List<String> relaidFrom = new ArrayList<>();
      Map<String, Tensor> relaid = new LinkedHashMap<>();
      for (String in : n.inputs()) {
        if (in.isEmpty()) {
          ins.add(in);
          continue;
        }
        String b = blocked.get(in);
        Optional<TensorType> t = graph.typeOf(in);
        Tensor c = constants.get(in);
        if (b != null && t.isPresent() && sameChannels(t.get(), outType.get())) {
          ins.add(b);
          anyBlocked = true;
        } else if (c != null && c.size() == 1) {
          ins.add(in);
        } else if (c != null && c.dtype().isFloatingPoint() && outType.get().shape().dim(1).isStatic()) {
          double[] perChannel = FoldScaleAxis.perAxis(c, 4, 1, (int) outType.get().shape().dim(1).value());
          if (perChannel == null) {
            return false;
          }
          String name = names.fresh(in + "/nchw" + block + "c");
          relaid.put(name, perChannelBlocked(c, perChannel));
          ins.add(name);
          relaidFrom.add(in);
        } else {
          return false;
        }
      }
      if (!anyBlocked) {
        return false;
      }
      constants.putAll(relaid);
      replaced.addAll(relaidFrom);
      String result = names.fresh(n.output(0) + "/nchw" + block + "c");
      out.add(n.withInputs(ins).withOutputs(List.of(result)));
      blocked.put(n.output(0), result);
      pendingPlain.add(n.output(0));
      changed = true;
      return true;
    }

    /**
     * An operand whose blocked twin broadcasts like its plain form: rank 4
     * with the output's channel count (N, H and W may broadcast).
     */
    private boolean sameChannels(TensorType in, TensorType out) {
      return in.dtype() == out.dtype() && in.shape().hasRank() && in.shape().rank() == 4
          && in.shape().dim(1).equals(out.shape().dim(1));
    }

    /** GlobalAverage/MaxPool on a blocked input: a mean or max over H and W, keeping the channel block. */
    private boolean tryGlobalPool(Node n) {
      boolean avg = FuseLayerNorm.is(n, "GlobalAveragePool");
      if (!avg && !FuseLayerNorm.is(n, "GlobalMaxPool") || !blocked.containsKey(n.input(0))) {
        return false;
      }
      Optional<TensorType> t = graph.typeOf(n.input(0));
      if (t.isEmpty() || !t.get().shape().hasRank() || t.get().shape().rank() != 4) {
        return false;
      }
      Map<String, Attribute> attrs = new LinkedHashMap<>();
      attrs.put("axes", Attribute.ofInts(2, 3));
      attrs.put("keepdims", Attribute.ofInt(1));
      String result = names.fresh(n.output(0) + "/nchw" + block + "c");
      out.add(new Node(n.name(), avg ? "ReduceMean" : "ReduceMax", "", List.of(blocked.get(n.input(0))),
          List.of(result), attrs));
      blocked.put(n.output(0), result);
      pendingPlain.add(n.output(0));
      changed = true;
      return true;
    }

    /** A per-channel constant as [C/b, 1, 1, b], broadcasting against [N, C/b, H, W, b]. */
    private Tensor perChannelBlocked(Tensor like, double[] perChannel) {
      return Tensor.fromDoubles(like.dtype(), new long[] {perChannel.length / block, 1, 1, block}, perChannel);
    }
  }
}
