package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * TreeEnsembleRegressor and TreeEnsembleClassifier ({@code ai.onnx.ml}) against ONNX Runtime's own kernels, on
 * random forests (every branch mode, NaN features with missing-value tracks both ways) and random inputs from a
 * fixed, printed seed: regression with one and three targets under each aggregate function and post transform,
 * multi-class with integer and string labels, the binary cases exporters write (one class of weights, all
 * positive or of mixed signs; both classes), float, double and int64 features. Broken ensembles are refused when
 * the node is typed, naming the tree and node.
 */
class TreeEnsembleOpsTest {
  private static final long SEED = Long.getLong("nnvm.seed", 20261206L);
  private static final String ML = TreeEnsembleOps.ML;
  private static final int FEATURES = 6;

  /** A random forest's attributes: nodes in preorder per tree, weights on leaves for {@code weightIds}. */
  private static final class Forest {
    final List<Long> trees = new ArrayList<>();
    final List<Long> nodes = new ArrayList<>();
    final List<Long> features = new ArrayList<>();
    final List<String> modes = new ArrayList<>();
    final List<Float> values = new ArrayList<>();
    final List<Long> trues = new ArrayList<>();
    final List<Long> falses = new ArrayList<>();
    final List<Long> missing = new ArrayList<>();
    final List<Long> wTrees = new ArrayList<>();
    final List<Long> wNodes = new ArrayList<>();
    final List<Long> wIds = new ArrayList<>();
    final List<Float> wValues = new ArrayList<>();
    private final SplittableRandom random;
    private final int[] weightIds;
    private final double lo;
    private final double hi;
    private long next;

    Forest(SplittableRandom random, int trees, int depth, int[] weightIds, double lo, double hi) {
      this.random = random;
      this.weightIds = weightIds;
      this.lo = lo;
      this.hi = hi;
      for (long t = 0; t < trees; t++) {
        next = 0;
        node(t, depth);
      }
    }

    private long node(long tree, int depth) {
      long id = next++;
      int at = nodes.size();
      trees.add(tree);
      nodes.add(id);
      if (depth == 0) {
        features.add(0L);
        modes.add("LEAF");
        values.add(0f);
        trues.add(0L);
        falses.add(0L);
        missing.add(0L);
        for (int k : weightIds) {
          wTrees.add(tree);
          wNodes.add(id);
          wIds.add((long) k);
          wValues.add((float) (lo + (hi - lo) * random.nextDouble()));
        }
        return id;
      }
      String[] modes = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"};
      features.add((long) random.nextInt(FEATURES));
      // EQ and NEQ are rare in real models: 1 in 12.
      int m = random.nextInt(12);
      this.modes.add(modes[m < 10 ? m % 4 : m - 6]);
      values.add((float) (random.nextDouble() * 2 - 1));
      missing.add((long) random.nextInt(2));
      trues.add(0L);
      falses.add(0L);
      trues.set(at, node(tree, depth - 1));
      falses.set(at, node(tree, depth - 1));
      return id;
    }

    OpTesterAttrs attrs(boolean classifier) {
      String p = classifier ? "class_" : "target_";
      OpTesterAttrs a = new OpTesterAttrs();
      a.put("nodes_treeids", longs(trees));
      a.put("nodes_nodeids", longs(nodes));
      a.put("nodes_featureids", longs(features));
      a.put("nodes_modes", Attribute.ofStrings(modes));
      a.put("nodes_values", floats(values));
      a.put("nodes_truenodeids", longs(trues));
      a.put("nodes_falsenodeids", longs(falses));
      a.put("nodes_missing_value_tracks_true", longs(missing));
      a.put(p + "treeids", longs(wTrees));
      a.put(p + "nodeids", longs(wNodes));
      a.put(p + "ids", longs(wIds));
      a.put(p + "weights", floats(wValues));
      return a;
    }
  }

  /** Attributes in insertion order. */
  private static final class OpTesterAttrs extends java.util.LinkedHashMap<String, Attribute> {}

  private static Attribute longs(List<Long> v) {
    return Attribute.ofInts(v.stream().mapToLong(Long::longValue).toArray());
  }

  private static Attribute floats(List<Float> v) {
    float[] f = new float[v.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = v.get(i);
    }
    return Attribute.ofFloats(f);
  }

  /** [rows, FEATURES] in [-1.2, 1.2) with about one value in ten NaN. */
  private static Tensor features(SplittableRandom random, int rows, DType dtype) {
    double[] v = new double[rows * FEATURES];
    for (int i = 0; i < v.length; i++) {
      v[i] = dtype != DType.FLOAT32 && dtype != DType.FLOAT64 ? random.nextInt(-3, 4)
          : random.nextInt(10) == 0 ? Double.NaN : random.nextDouble() * 2.4 - 1.2;
    }
    return Tensor.fromDoubles(dtype, new long[] {rows, FEATURES}, v);
  }

  private static OpTester tester(String op, Map<String, Attribute> attrs, Tensor x, String... outputs) {
    OpTester t = OpTester.op(op).domain(ML).input("X", x).outputs(outputs).tolerance(1e-5, 1e-5);
    attrs.forEach(t::attr);
    return t;
  }

  @Test
  void regressorMatchesOnnxRuntime() {
    System.out.println("tree ensemble seed " + SEED);
    SplittableRandom random = new SplittableRandom(SEED);
    for (String aggregate : new String[] {"SUM", "AVERAGE", "MIN", "MAX"}) {
      for (int targets : new int[] {1, 3}) {
        Forest f = new Forest(random, 7, 4, targets == 1 ? new int[] {0} : new int[] {0, 1, 2}, -1, 1);
        OpTesterAttrs a = f.attrs(false);
        a.put("aggregate_function", Attribute.ofString(aggregate));
        a.put("n_targets", Attribute.ofInt(targets));
        a.put("base_values", Attribute.ofFloats(targets == 1 ? new float[] {0.25f} : new float[] {0.5f, -1f, 2f}));
        for (String post : targets == 1 ? new String[] {"NONE"}
            : new String[] {"NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"}) {
          a.put("post_transform", Attribute.ofString(post));
          tester("TreeEnsembleRegressor", a, features(random, 40, DType.FLOAT32), "Y").check();
        }
      }
    }
    // PROBIT: scores kept inside (0, 1).
    Forest f = new Forest(random, 3, 3, new int[] {0}, 0.01, 0.3);
    OpTesterAttrs a = f.attrs(false);
    a.put("post_transform", Attribute.ofString("PROBIT"));
    a.put("n_targets", Attribute.ofInt(1));
    tester("TreeEnsembleRegressor", a, features(random, 30, DType.FLOAT32), "Y").check();
    // Double features (ONNX Runtime's regressor takes float and double; integers: see the classifier).
    Forest g = new Forest(random, 5, 3, new int[] {0, 1}, -1, 1);
    OpTesterAttrs b = g.attrs(false);
    b.put("n_targets", Attribute.ofInt(2));
    tester("TreeEnsembleRegressor", b, features(random, 30, DType.FLOAT64), "Y").check();
  }

  @Test
  void classifierMatchesOnnxRuntime() {
    System.out.println("tree ensemble seed " + SEED);
    SplittableRandom random = new SplittableRandom(SEED + 1);
    // Multi-class (a random forest's class probabilities per leaf), integer and string labels.
    for (String post : new String[] {"NONE", "SOFTMAX", "LOGISTIC"}) {
      Forest f = new Forest(random, 6, 4, new int[] {0, 1, 2}, 0, 1);
      OpTesterAttrs a = f.attrs(true);
      a.put("classlabels_int64s", Attribute.ofInts(10, 20, 30));
      a.put("post_transform", Attribute.ofString(post));
      tester("TreeEnsembleClassifier", a, features(random, 40, DType.FLOAT32), "label", "scores").check();
    }
    Forest s = new Forest(random, 4, 3, new int[] {0, 1, 2, 3}, -0.5, 1);
    OpTesterAttrs strings = s.attrs(true);
    strings.put("classlabels_strings", Attribute.ofStrings(List.of("cat", "dog", "eel", "fox")));
    strings.put("base_values", Attribute.ofFloats(0.1f, 0.2f, -0.1f, 0f));
    Map<String, Tensor> out = tester("TreeEnsembleClassifier", strings, features(random, 40, DType.FLOAT32),
        "label", "scores").check();
    assertEquals(DType.STRING, out.get("label").dtype());

    // Binary, one class of weights (XGBoost and LightGBM binary models): positive weights (a probability) and
    // mixed signs (a margin, LOGISTIC), with and without base values.
    Forest p = new Forest(random, 3, 3, new int[] {0}, 0, 0.33);
    OpTesterAttrs pos = p.attrs(true);
    pos.put("classlabels_int64s", Attribute.ofInts(0, 1));
    tester("TreeEnsembleClassifier", pos, features(random, 40, DType.FLOAT32), "label", "scores").check();
    Forest m = new Forest(random, 5, 3, new int[] {0}, -1, 1);
    for (float[] base : new float[][] {{}, {0.2f}}) {
      OpTesterAttrs mixed = m.attrs(true);
      mixed.put("classlabels_int64s", Attribute.ofInts(0, 1));
      mixed.put("post_transform", Attribute.ofString("LOGISTIC"));
      if (base.length > 0) {
        mixed.put("base_values", Attribute.ofFloats(base));
      }
      tester("TreeEnsembleClassifier", mixed, features(random, 40, DType.FLOAT32), "label", "scores").check();
    }
    // Binary with both classes weighted (scikit-learn's random forest), string labels; double and int64 features.
    Forest both = new Forest(random, 4, 3, new int[] {0, 1}, 0, 1);
    OpTesterAttrs two = both.attrs(true);
    two.put("classlabels_strings", Attribute.ofStrings(List.of("no", "yes")));
    tester("TreeEnsembleClassifier", two, features(random, 40, DType.FLOAT64), "label", "scores").check();
    tester("TreeEnsembleClassifier", two, features(random, 40, DType.INT64), "label", "scores").check();
  }

  /** An ONNX file with the ai.onnx.ml domain imports (no longer refused) and evaluates to the same outputs. */
  @Test
  void onnxFileWithTheMlDomainImports() {
    SplittableRandom random = new SplittableRandom(SEED + 2);
    Forest f = new Forest(random, 3, 3, new int[] {0, 1, 2}, 0, 1);
    OpTesterAttrs a = f.attrs(true);
    a.put("classlabels_int64s", Attribute.ofInts(7, 8, 9));
    a.put("post_transform", Attribute.ofString("SOFTMAX"));
    Tensor x = features(random, 12, DType.FLOAT32);
    OpTester t = tester("TreeEnsembleClassifier", a, x, "label", "scores");
    dev.nnvm.compiler.ir.Graph g = t.graph();
    dev.nnvm.compiler.ir.Graph imported = new dev.nnvm.compiler.frontend.onnx.OnnxImporter(
        dev.nnvm.compiler.ir.op.OpRegistry.standard()).read(dev.nnvm.compiler.frontend.onnx.OnnxExporter.toBytes(g),
        null, "tree ensemble");
    Map<String, Tensor> want = t.check(Map.of("X", x));
    Map<String, Tensor> got = dev.nnvm.compiler.eval.ReferenceEvaluator.standard().run(imported, Map.of("X", x));
    assertEquals(want.get("label"), got.get("label"));
    assertEquals(want.get("scores"), got.get("scores"));
  }

  /**
   * A scikit-learn-style classifier ending in ZipMap (probabilities as a sequence of maps, which a batch cannot
   * carry): at import the ZipMap output becomes the [N, classes] probability tensor, columns in label order, and
   * every row equals the map ONNX Runtime returns for it.
   */
  @Test
  void zipMapGraphOutputImportsAsTheProbabilityTensor() throws Exception {
    SplittableRandom random = new SplittableRandom(SEED + 3);
    Forest f = new Forest(random, 4, 3, new int[] {0, 1, 2}, 0, 1);
    OpTesterAttrs a = f.attrs(true);
    a.put("classlabels_int64s", Attribute.ofInts(5, 6, 7));
    Tensor x = features(random, 9, DType.FLOAT32);
    dev.nnvm.compiler.ir.Graph g = tester("TreeEnsembleClassifier", a, x, "label", "probabilities").graph();
    dev.nnvm.compiler.frontend.onnx.proto.Onnx.Model proto = dev.nnvm.compiler.frontend.onnx.OnnxExporter.toProto(g);
    var graph = proto.getGraph().toBuilder();
    graph.addNode(dev.nnvm.compiler.frontend.onnx.proto.Onnx.Node.newBuilder().setName("zipmap")
        .setOpType("ZipMap").setDomain(ML).addInput("probabilities").addOutput("output_probability")
        .addAttribute(dev.nnvm.compiler.frontend.onnx.proto.Onnx.Attribute.newBuilder()
            .setName("classlabels_int64s").setType(dev.nnvm.compiler.frontend.onnx.proto.Onnx.Attribute.Kind.INTS)
            .addInts(5).addInts(6).addInts(7)));
    var floatTensor = dev.nnvm.compiler.frontend.onnx.proto.Onnx.Type.newBuilder().setTensorType(
        dev.nnvm.compiler.frontend.onnx.proto.Onnx.Type.TensorType.newBuilder().setElemType(1));
    var mapType = dev.nnvm.compiler.frontend.onnx.proto.Onnx.Type.newBuilder().setMapType(
        dev.nnvm.compiler.frontend.onnx.proto.Onnx.Type.MapType.newBuilder().setKeyType(7).setValueType(floatTensor));
    var seqType = dev.nnvm.compiler.frontend.onnx.proto.Onnx.Type.newBuilder().setSequenceType(
        dev.nnvm.compiler.frontend.onnx.proto.Onnx.Type.SequenceType.newBuilder().setElemType(mapType));
    for (int i = 0; i < graph.getOutputCount(); i++) {
      if (graph.getOutput(i).getName().equals("probabilities")) {
        graph.setOutput(i, graph.getOutput(i).toBuilder().setName("output_probability").setType(seqType));
      }
    }
    byte[] bytes = proto.toBuilder().setGraph(graph).build().toByteArray();

    dev.nnvm.compiler.ir.Graph imported = new dev.nnvm.compiler.frontend.onnx.OnnxImporter(
        dev.nnvm.compiler.ir.op.OpRegistry.standard()).read(bytes, null, "zipmap model");
    Map<String, Tensor> ours = dev.nnvm.compiler.eval.ReferenceEvaluator.standard().run(imported, Map.of("X", x));
    Tensor probs = ours.get("output_probability");
    assertEquals(DType.FLOAT32, probs.dtype());
    assertEquals(9, probs.dim(0));
    assertEquals(3, probs.dim(1));

    ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
    try (ai.onnxruntime.OrtSession session = env.createSession(bytes);
        ai.onnxruntime.OnnxTensor in = ai.onnxruntime.OnnxTensor.createTensor(env,
            java.nio.FloatBuffer.wrap(x.toFloatArray()), new long[] {9, FEATURES});
        ai.onnxruntime.OrtSession.Result r = session.run(Map.of("X", in))) {
      List<?> rows = (List<?>) r.get("output_probability").orElseThrow().getValue();
      assertEquals(9, rows.size());
      double maxAbs = 0;
      for (int row = 0; row < 9; row++) {
        Object m = rows.get(row);
        Map<?, ?> map = m instanceof ai.onnxruntime.OnnxMap om ? om.getValue() : (Map<?, ?>) m;
        for (int c = 0; c < 3; c++) {
          float want = ((Number) map.get(5L + c)).floatValue();
          maxAbs = Math.max(maxAbs, Math.abs(want - probs.getDouble(row * 3 + c)));
        }
      }
      System.out.printf("ZipMap output as a tensor vs ONNX Runtime's maps: max abs error %.3g%n", maxAbs);
      assertTrue(maxAbs < 1e-6, "max abs error " + maxAbs);
      long[] labels = (long[]) r.get("label").orElseThrow().getValue();
      assertEquals(java.util.Arrays.toString(labels), java.util.Arrays.toString(ours.get("label").toLongArray()));
    }
  }

  /**
   * The opset-5 TreeEnsemble against ONNX Runtime: the same random forests (one target) rewritten in its layout
   * (roots by index, leaves apart), every aggregate function and the post transforms, NaN features included.
   */
  @Test
  void opset5TreeEnsembleMatchesOnnxRuntime() {
    SplittableRandom random = new SplittableRandom(SEED + 4);
    for (int aggregate = 0; aggregate <= 3; aggregate++) {
      Forest f = new Forest(random, 6, 4, new int[] {0}, -1, 1);
      List<Long> roots = new ArrayList<>();
      List<Integer> nodeIndex = new ArrayList<>();
      List<Integer> leafIndex = new ArrayList<>();
      int nodes = 0;
      int leaves = 0;
      for (int i = 0; i < f.nodes.size(); i++) {
        boolean leaf = f.modes.get(i).equals("LEAF");
        nodeIndex.add(leaf ? -1 : nodes);
        leafIndex.add(leaf ? leaves : -1);
        if (leaf) {
          leaves++;
        } else {
          nodes++;
        }
        if (f.nodes.get(i) == 0) {
          roots.add((long) nodeIndex.get(i));
        }
      }
      long[] features = new long[nodes];
      float[] splits = new float[nodes];
      long[] modes = new long[nodes];
      long[] trueIds = new long[nodes];
      long[] falseIds = new long[nodes];
      long[] trueLeafs = new long[nodes];
      long[] falseLeafs = new long[nodes];
      long[] missing = new long[nodes];
      float[] weights = new float[leaves];
      String[] names = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"};
      for (int i = 0; i < f.nodes.size(); i++) {
        if (leafIndex.get(i) >= 0) {
          weights[leafIndex.get(i)] = f.wValues.get(leafIndex.get(i));
          continue;
        }
        int n = nodeIndex.get(i);
        features[n] = f.features.get(i);
        splits[n] = f.values.get(i);
        modes[n] = java.util.Arrays.asList(names).indexOf(f.modes.get(i));
        missing[n] = f.missing.get(i);
        // Children: node ids are preorder within a tree, so the list index is the tree's first index plus the id.
        int treeStart = i - (int) (long) f.nodes.get(i);
        int t = treeStart + (int) (long) f.trues.get(i);
        int e = treeStart + (int) (long) f.falses.get(i);
        trueLeafs[n] = leafIndex.get(t) >= 0 ? 1 : 0;
        trueIds[n] = leafIndex.get(t) >= 0 ? leafIndex.get(t) : nodeIndex.get(t);
        falseLeafs[n] = leafIndex.get(e) >= 0 ? 1 : 0;
        falseIds[n] = leafIndex.get(e) >= 0 ? leafIndex.get(e) : nodeIndex.get(e);
      }
      OpTester t = OpTester.op("TreeEnsemble").domain(ML, 5).opset(21).input("X", features(random, 30, DType.FLOAT32))
          .outputs("Y").tolerance(1e-5, 1e-5)
          .attr("aggregate_function", (long) aggregate).attr("n_targets", 1L)
          .attr("tree_roots", roots.stream().mapToLong(Long::longValue).toArray())
          .attr("nodes_featureids", features).attr("nodes_modes", Attribute.ofTensor(Tensor.fromDoubles(DType.UINT8,
              new long[] {nodes}, java.util.Arrays.stream(modes).asDoubleStream().toArray())))
          .attr("nodes_splits", Attribute.ofTensor(Tensor.ofFloats(new long[] {nodes}, splits)))
          .attr("nodes_truenodeids", trueIds).attr("nodes_trueleafs", trueLeafs)
          .attr("nodes_falsenodeids", falseIds).attr("nodes_falseleafs", falseLeafs)
          .attr("nodes_missing_value_tracks_true", missing)
          .attr("leaf_targetids", new long[leaves]).attr("leaf_weights", Attribute.ofTensor(Tensor.ofFloats(new long[] {leaves}, weights)));
      t.check();
    }
  }

  @Test
  void brokenEnsemblesAreRefusedNamingTheNode() {
    SplittableRandom random = new SplittableRandom(SEED);
    Forest f = new Forest(random, 2, 2, new int[] {0}, -1, 1);
    Tensor x = features(random, 4, DType.FLOAT32);
    OpTesterAttrs missingChild = f.attrs(false);
    long[] trues = missingChild.get("nodes_truenodeids").asInts().clone();
    trues[0] = 99;
    missingChild.put("nodes_truenodeids", Attribute.ofInts(trues));
    assertRefused(missingChild, x, "tree 0 node 0: its true branch goes to node 99, which tree 0 does not have");

    OpTesterAttrs cycle = f.attrs(false);
    long[] falses = cycle.get("nodes_falsenodeids").asInts().clone();
    falses[1] = 0; // node 1's false branch back to the root
    cycle.put("nodes_falsenodeids", Attribute.ofInts(falses));
    assertRefused(cycle, x, "makes a cycle");

    OpTesterAttrs wide = f.attrs(false);
    long[] feats = wide.get("nodes_featureids").asInts().clone();
    feats[0] = FEATURES + 4;
    wide.put("nodes_featureids", Attribute.ofInts(feats));
    assertRefused(wide, x, "tree 0 node 0: feature index 10 is out of range for an input of 6 features");

    OpTesterAttrs shortList = f.attrs(false);
    shortList.put("nodes_values", Attribute.ofFloats(1f, 2f));
    assertRefused(shortList, x, "nodes_values has 2 entries, expected 14");

    OpTesterAttrs onBranch = f.attrs(false);
    long[] wNodes = onBranch.get("target_nodeids").asInts().clone();
    wNodes[0] = 0;
    onBranch.put("target_nodeids", Attribute.ofInts(wNodes));
    assertRefused(onBranch, x, "tree 0 node 0 is not a LEAF");

    OpTesterAttrs twice = f.attrs(false);
    long[] ids = twice.get("nodes_nodeids").asInts().clone();
    ids[2] = ids[1];
    twice.put("nodes_nodeids", Attribute.ofInts(ids));
    assertRefused(twice, x, "tree 0 has node id 1 twice");
  }

  private static void assertRefused(Map<String, Attribute> attrs, Tensor x, String expected) {
    ModelException e = assertThrows(ModelException.class,
        () -> tester("TreeEnsembleRegressor", attrs, x, "Y").graph());
    System.out.println("refused: " + e.getMessage());
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
