package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tree ensembles of the {@code ai.onnx.ml} domain that scikit-learn, XGBoost and LightGBM exporters write:
 * {@code TreeEnsembleRegressor} and {@code TreeEnsembleClassifier} (opsets 1 and 3: values, weights and base
 * values as float lists or as tensors). Reference kernels, written to give ONNX Runtime's results, including where
 * the specification is silent and ONNX Runtime decides:
 *
 * <ul>
 *   <li>A tree's root is its first node in list order; trees are taken in the order their first node appears.
 *       A branch compares the feature with the node's value ({@code BRANCH_LEQ: x <= v}, {@code LT}, {@code GTE},
 *       {@code GT}, {@code EQ}, {@code NEQ}); a NaN feature goes to the true branch where the node's
 *       {@code nodes_missing_value_tracks_true} is 1, else it follows the comparison (false, except for NEQ).
 *       Integer features are compared as float, double features as double.</li>
 *   <li>Scores accumulate in float: SUM, AVERAGE (the sum over the number of trees), MIN or MAX of the leaf
 *       weights each target gets; then base values are added.</li>
 *   <li>Post transforms: LOGISTIC, SOFTMAX, SOFTMAX_ZERO (zero scores stay out of the softmax), and PROBIT with
 *       ONNX Runtime's closed-form inverse error function (Winitzki's approximation, a = 0.147; relative error
 *       about 1e-3 against the exact probit). A regressor with one target applies PROBIT only, as ONNX Runtime
 *       does.</li>
 *   <li>Classifier with two classes: when only one class gets leaf weights (XGBoost, LightGBM binary models),
 *       that score decides: above 0.5 (all weights positive) or above 0 (mixed signs) picks the second label,
 *       and the two output scores are derived from it ({@code [1 - s, s]}, {@code [-s, s]},
 *       {@code [s, -s]}, or both through the logistic function).</li>
 * </ul>
 *
 * <p>The ensemble is checked when the node is typed (so at import): attribute lengths, node ids unique per tree,
 * children that exist, no cycles, leaf weights on leaves, targets and classes in range, feature indexes within
 * the input's width when that is known. Each error names the node.
 */
final class TreeEnsembleOps {
  static final String ML = "ai.onnx.ml";
  private static final String[] MODES = {"BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ",
      "BRANCH_NEQ", "LEAF"};
  private static final int LEAF = 6;

  private TreeEnsembleOps() {}

  static void register(OpRegistry r) {
    List<AttrSpec> nodes = List.of(
        AttrSpec.of("nodes_treeids", Attribute.Kind.INTS),
        AttrSpec.of("nodes_nodeids", Attribute.Kind.INTS),
        AttrSpec.of("nodes_featureids", Attribute.Kind.INTS),
        AttrSpec.of("nodes_modes", Attribute.Kind.STRINGS),
        AttrSpec.of("nodes_values", Attribute.Kind.FLOATS),
        AttrSpec.of("nodes_values_as_tensor", Attribute.Kind.TENSOR),
        AttrSpec.of("nodes_truenodeids", Attribute.Kind.INTS),
        AttrSpec.of("nodes_falsenodeids", Attribute.Kind.INTS),
        AttrSpec.of("nodes_missing_value_tracks_true", Attribute.Kind.INTS),
        AttrSpec.of("nodes_hitrates", Attribute.Kind.FLOATS),
        AttrSpec.of("nodes_hitrates_as_tensor", Attribute.Kind.TENSOR),
        AttrSpec.of("base_values", Attribute.Kind.FLOATS),
        AttrSpec.of("base_values_as_tensor", Attribute.Kind.TENSOR),
        AttrSpec.ofString("post_transform", "NONE")
            .oneOf(MlAttributes.TRANSFORMS.toArray(new String[0])));
    OpDef.builder(ML, "TreeEnsembleRegressor")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attrs(nodes)
        .attr(AttrSpec.ofString("aggregate_function", "SUM").oneOf("SUM", "AVERAGE", "MIN", "MAX"))
        .attr(AttrSpec.ofInt("n_targets", 1))
        .attr(AttrSpec.of("target_ids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("target_nodeids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("target_treeids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("target_weights", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("target_weights_as_tensor", Attribute.Kind.TENSOR))
        .infer(ctx -> {
          Ensemble e = new Ensemble(ctx, false, featureCount(ctx));
          return List.of(new TensorType(DType.FLOAT32, Shape.of(MlAttributes.rows(ctx), Dim.of(e.targets))));
        })
        .eval(ctx -> List.of(new Ensemble(ctx, false, width(ctx.input(0))).regress(ctx.input(0))))
        .register(r);
    OpDef.builder(ML, "TreeEnsembleClassifier")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(2)
        .attrs(nodes)
        .attr(AttrSpec.of("class_ids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("class_nodeids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("class_treeids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("class_weights", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("class_weights_as_tensor", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("classlabels_int64s", Attribute.Kind.INTS))
        .attr(AttrSpec.of("classlabels_strings", Attribute.Kind.STRINGS))
        .infer(ctx -> {
          Ensemble e = new Ensemble(ctx, true, featureCount(ctx));
          Dim n = MlAttributes.rows(ctx);
          return List.of(new TensorType(e.stringLabels != null ? DType.STRING : DType.INT64, Shape.of(n)),
              new TensorType(DType.FLOAT32, Shape.of(n, Dim.of(e.targets))));
        })
        .eval(ctx -> new Ensemble(ctx, true, width(ctx.input(0))).classify(ctx.input(0)))
        .register(r);
    registerOpset5(r);
  }

  /**
   * The opset-5 {@code TreeEnsemble}: roots by index, leaves in their own arrays (one target and weight each),
   * thresholds, modes (0 LEQ, 1 LT, 2 GTE, 3 GT, 4 EQ, 5 NEQ, 6 MEMBER: the feature is in a set, the sets being
   * the NaN-separated runs of {@code membership_values}, one per MEMBER node in node order) and the output in
   * the input's element type; aggregate 0 AVERAGE, 1 SUM, 2 MIN, 3 MAX; post transform 0 NONE, 1 SOFTMAX,
   * 2 LOGISTIC, 3 SOFTMAX_ZERO, 4 PROBIT.
   */
  static void registerOpset5(OpRegistry r) {
    OpDef.builder(ML, "TreeEnsemble")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.ofInt("aggregate_function", 1))
        .attr(AttrSpec.of("leaf_targetids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("leaf_weights", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("membership_values", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("n_targets", Attribute.Kind.INT))
        .attr(AttrSpec.of("nodes_falseleafs", Attribute.Kind.INTS))
        .attr(AttrSpec.of("nodes_falsenodeids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("nodes_featureids", Attribute.Kind.INTS))
        .attr(AttrSpec.of("nodes_hitrates", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("nodes_missing_value_tracks_true", Attribute.Kind.INTS))
        .attr(AttrSpec.of("nodes_modes", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("nodes_splits", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("nodes_trueleafs", Attribute.Kind.INTS))
        .attr(AttrSpec.of("nodes_truenodeids", Attribute.Kind.INTS))
        .attr(AttrSpec.ofInt("post_transform", 0))
        .attr(AttrSpec.of("tree_roots", Attribute.Kind.INTS))
        .infer(ctx -> {
          Opset5 e = new Opset5(ctx, featureCount(ctx));
          return List.of(new TensorType(ctx.inputType(0).dtype(), Shape.of(MlAttributes.rows(ctx), Dim.of(e.targets))));
        })
        .eval(ctx -> List.of(new Opset5(ctx, width(ctx.input(0))).run(ctx.input(0))))
        .register(r);
  }

  /** An opset-5 ensemble, parsed and checked. */
  private static final class Opset5 {
    final int targets;
    final int[] roots;
    final int[] feature;
    final double[] split;
    final int[] mode;
    final boolean[] missingTrue;
    final int[] trueNext;
    final boolean[] trueLeaf;
    final int[] falseNext;
    final boolean[] falseLeaf;
    final int[] leafTarget;
    final double[] leafWeight;
    final double[][] sets;
    final int aggregate;
    final int post;

    Opset5(OpContext ctx, long width) {
      long n = ctx.hasAttr("n_targets") ? ctx.attrInt("n_targets") : -1;
      if (n < 1) {
        throw ctx.error("n_targets must be given and at least 1");
      }
      targets = (int) n;
      feature = toInts(MlAttributes.ints(ctx, "nodes_featureids"));
      int count = feature.length;
      split = MlAttributes.tensorDoubles(ctx, "nodes_splits");
      mode = ctx.hasAttr("nodes_modes") ? toInts(ctx.attrTensor("nodes_modes").toLongArray()) : new int[0];
      trueNext = toInts(MlAttributes.ints(ctx, "nodes_truenodeids"));
      falseNext = toInts(MlAttributes.ints(ctx, "nodes_falsenodeids"));
      trueLeaf = flags(MlAttributes.ints(ctx, "nodes_trueleafs"));
      falseLeaf = flags(MlAttributes.ints(ctx, "nodes_falseleafs"));
      boolean[] missing = flags(MlAttributes.ints(ctx, "nodes_missing_value_tracks_true"));
      missingTrue = missing.length == 0 ? new boolean[count] : missing;
      for (Object[] c : new Object[][] {{"nodes_splits", split.length}, {"nodes_modes", mode.length},
          {"nodes_truenodeids", trueNext.length}, {"nodes_falsenodeids", falseNext.length},
          {"nodes_trueleafs", trueLeaf.length}, {"nodes_falseleafs", falseLeaf.length},
          {"nodes_missing_value_tracks_true", missingTrue.length}}) {
        if ((int) c[1] != count) {
          throw ctx.error("%s has %d entries, expected %d (one per node)", c[0], c[1], count);
        }
      }
      leafTarget = toInts(MlAttributes.ints(ctx, "leaf_targetids"));
      leafWeight = MlAttributes.tensorDoubles(ctx, "leaf_weights");
      if (leafTarget.length != leafWeight.length) {
        throw ctx.error("leaf_targetids has %d entries, leaf_weights %d", leafTarget.length, leafWeight.length);
      }
      for (int i = 0; i < leafTarget.length; i++) {
        if (leafTarget[i] < 0 || leafTarget[i] >= targets) {
          throw ctx.error("leaf %d: target %d is out of range for %d targets", i, leafTarget[i], targets);
        }
      }
      roots = toInts(MlAttributes.ints(ctx, "tree_roots"));
      double[] members = MlAttributes.tensorDoubles(ctx, "membership_values");
      sets = new double[count][];
      int at = 0;
      for (int i = 0; i < count; i++) {
        if (mode[i] < 0 || mode[i] > 6) {
          throw ctx.error("node %d: mode %d is not 0 to 6", i, mode[i]);
        }
        if (mode[i] != 6 && width >= 0 && feature[i] >= width) {
          throw ctx.error("node %d: feature index %d is out of range for an input of %d features", i, feature[i],
              width);
        }
        if (mode[i] == 6) {
          int start = at;
          while (at < members.length && !Double.isNaN(members[at])) {
            at++;
          }
          sets[i] = Arrays.copyOfRange(members, start, at);
          at++;
        }
        checkNext(ctx, i, trueNext[i], trueLeaf[i], count);
        checkNext(ctx, i, falseNext[i], falseLeaf[i], count);
      }
      for (int root : roots) {
        if (root < 0 || root >= count) {
          throw ctx.error("tree root %d is not a node index (0 to %d)", root, count - 1);
        }
      }
      aggregate = (int) ctx.attrInt("aggregate_function");
      post = (int) ctx.attrInt("post_transform");
      if (aggregate < 0 || aggregate > 3 || post < 0 || post > 4) {
        throw ctx.error("aggregate_function must be 0 to 3 and post_transform 0 to 4, got %d and %d", aggregate,
            post);
      }
    }

    private void checkNext(OpContext ctx, int node, int next, boolean leaf, int count) {
      if (leaf ? next < 0 || next >= leafTarget.length : next < 0 || next >= count) {
        throw ctx.error("node %d: branch to %s %d, which does not exist", node, leaf ? "leaf" : "node", next);
      }
      if (!leaf && next <= node) {
        throw ctx.error("node %d: branch back to node %d (nodes must come before their children)", node, next);
      }
    }

    Tensor run(Tensor x) {
      int width = (int) width(x);
      int rows = x.size() / Math.max(width, 1);
      double[] out = new double[rows * targets];
      double[] score = new double[targets];
      boolean[] has = new boolean[targets];
      for (int r = 0; r < rows; r++) {
        Arrays.fill(score, 0);
        Arrays.fill(has, false);
        for (int root : roots) {
          int node = root;
          int leaf;
          while (true) {
            double v = x.getDouble(r * width + feature[node]);
            boolean go;
            if (missingTrue[node] && Double.isNaN(v)) {
              go = true;
            } else {
              if (mode[node] == 6) {
                go = false;
                for (double m : sets[node]) {
                  go |= v == m;
                }
              } else {
                go = MlAttributes.branch(mode[node], v, split[node]);
              }
            }
            if (go ? trueLeaf[node] : falseLeaf[node]) {
              leaf = go ? trueNext[node] : falseNext[node];
              break;
            }
            node = go ? trueNext[node] : falseNext[node];
          }
          int k = leafTarget[leaf];
          double w = leafWeight[leaf];
          switch (aggregate) {
            case 2: score[k] = !has[k] || w < score[k] ? w : score[k]; break;
            case 3: score[k] = !has[k] || w > score[k] ? w : score[k]; break;
            default: score[k] += w; break;
          }
          has[k] = true;
        }
        float[] row = new float[targets];
        for (int k = 0; k < targets; k++) {
          row[k] = (float) (aggregate == 0 ? score[k] / roots.length : score[k]);
        }
        // Opset 5 numbers the transforms 0 NONE, 1 SOFTMAX, 2 LOGISTIC, 3 SOFTMAX_ZERO, 4 PROBIT.
        transform(row, new int[] {0, 2, 1, 3, 4}[post]);
        for (int k = 0; k < targets; k++) {
          out[r * targets + k] = row[k];
        }
      }
      return Tensor.fromDoubles(x.dtype(), new long[] {rows, targets}, out);
    }

    private static int[] toInts(long[] v) {
      int[] out = new int[v.length];
      for (int i = 0; i < v.length; i++) {
        out[i] = (int) v[i];
      }
      return out;
    }

    private static boolean[] flags(long[] v) {
      boolean[] out = new boolean[v.length];
      for (int i = 0; i < v.length; i++) {
        out[i] = v[i] != 0;
      }
      return out;
    }
  }

  /** Features per row of an input value. */
  private static long width(Tensor x) {
    return x.rank() == 0 ? -1 : x.dim(x.rank() - 1);
  }

  /** Features per row of input X, or -1 when its type does not say. */
  private static long featureCount(InferContext ctx) {
    Shape x = ctx.inputType(0).shape();
    if (!x.hasRank() || x.rank() == 0) {
      return -1;
    }
    Dim last = x.dim(x.rank() - 1);
    return last.isStatic() ? last.value() : -1;
  }


  /** The ensemble of one node, parsed and checked. */
  private static final class Ensemble {
    final int targets;
    final int[] feature;
    final float[] value;
    final byte[] mode;
    final boolean[] missingTrue;
    final int[] trueChild;
    final int[] falseChild;
    final int[] roots;
    /** Per node: the targets (classes) its weights go to, and the weights. */
    final int[][] weightTargets;
    final float[][] weights;
    final float[] base;
    final int transform;
    final String aggregate;
    final long[] intLabels;
    final String[] stringLabels;
    final boolean binaryCase;
    final boolean allPositive;

    /** @param width features per row of the input, or -1 when not known */
    Ensemble(OpContext ctx, boolean classifier, long width) {
      long[] treeIds = MlAttributes.ints(ctx, "nodes_treeids");
      long[] nodeIds = MlAttributes.ints(ctx, "nodes_nodeids");
      int n = nodeIds.length;
      if (n == 0) {
        throw ctx.error("the ensemble has no nodes (nodes_nodeids is empty)");
      }
      long[] features = MlAttributes.ints(ctx, "nodes_featureids");
      List<String> modes = MlAttributes.strings(ctx, "nodes_modes");
      float[] values = floats(ctx, "nodes_values");
      long[] trues = MlAttributes.ints(ctx, "nodes_truenodeids");
      long[] falses = MlAttributes.ints(ctx, "nodes_falsenodeids");
      long[] missing = MlAttributes.ints(ctx, "nodes_missing_value_tracks_true");
      sameLength(ctx, n, "nodes_treeids", treeIds.length);
      sameLength(ctx, n, "nodes_featureids", features.length);
      sameLength(ctx, n, "nodes_modes", modes.size());
      sameLength(ctx, n, "nodes_values", values.length);
      sameLength(ctx, n, "nodes_truenodeids", trues.length);
      sameLength(ctx, n, "nodes_falsenodeids", falses.length);
      if (missing.length != 0) {
        sameLength(ctx, n, "nodes_missing_value_tracks_true", missing.length);
      }
      Map<Long, Map<Long, Integer>> index = new LinkedHashMap<>();
      feature = new int[n];
      value = values;
      mode = new byte[n];
      missingTrue = new boolean[n];
      for (int i = 0; i < n; i++) {
        Integer previous = index.computeIfAbsent(treeIds[i], t -> new HashMap<>()).put(nodeIds[i], i);
        if (previous != null) {
          throw ctx.error("tree %d has node id %d twice (entries %d and %d)", treeIds[i], nodeIds[i], previous, i);
        }
        int m = Arrays.asList(MODES).indexOf(modes.get(i));
        if (m < 0) {
          throw ctx.error("tree %d node %d: mode '%s' is not one of %s", treeIds[i], nodeIds[i], modes.get(i),
              Arrays.toString(MODES));
        }
        mode[i] = (byte) m;
        if (m != LEAF && features[i] < 0) {
          throw ctx.error("tree %d node %d: feature index %d is negative", treeIds[i], nodeIds[i], features[i]);
        }
        feature[i] = (int) features[i];
        missingTrue[i] = missing.length != 0 && missing[i] != 0;
      }
      trueChild = new int[n];
      falseChild = new int[n];
      for (int i = 0; i < n; i++) {
        if (mode[i] == LEAF) {
          trueChild[i] = falseChild[i] = -1;
          continue;
        }
        if (width >= 0 && feature[i] >= width) {
          throw ctx.error("tree %d node %d: feature index %d is out of range for an input of %d features",
              treeIds[i], nodeIds[i], feature[i], width);
        }
        Map<Long, Integer> tree = index.get(treeIds[i]);
        trueChild[i] = child(ctx, tree, treeIds[i], nodeIds[i], trues[i], "true");
        falseChild[i] = child(ctx, tree, treeIds[i], nodeIds[i], falses[i], "false");
      }
      roots = new int[index.size()];
      int t = 0;
      for (Map<Long, Integer> tree : index.values()) {
        int first = Integer.MAX_VALUE;
        for (int i : tree.values()) {
          first = Math.min(first, i);
        }
        roots[t++] = first;
      }
      checkAcyclic(ctx, treeIds, nodeIds);

      String prefix = classifier ? "class_" : "target_";
      long[] wTrees = MlAttributes.ints(ctx, prefix + "treeids");
      long[] wNodes = MlAttributes.ints(ctx, prefix + "nodeids");
      long[] wIds = MlAttributes.ints(ctx, prefix + "ids");
      float[] wValues = floats(ctx, prefix + "weights");
      sameLength(ctx, wIds.length, prefix + "treeids", wTrees.length);
      sameLength(ctx, wIds.length, prefix + "nodeids", wNodes.length);
      sameLength(ctx, wIds.length, prefix + "weights", wValues.length);
      if (classifier) {
        long[] ints = MlAttributes.ints(ctx, "classlabels_int64s");
        List<String> strings = MlAttributes.strings(ctx, "classlabels_strings");
        if ((ints.length == 0) == strings.isEmpty()) {
          throw ctx.error("give the class labels as classlabels_int64s or as classlabels_strings (exactly one)");
        }
        intLabels = ints.length == 0 ? null : ints;
        stringLabels = strings.isEmpty() ? null : strings.toArray(new String[0]);
        targets = ints.length == 0 ? strings.size() : ints.length;
        if (targets < 2) {
          throw ctx.error("a classifier needs at least 2 class labels, got %d", targets);
        }
        aggregate = "SUM";
      } else {
        intLabels = null;
        stringLabels = null;
        long nTargets = ctx.attrInt("n_targets");
        if (nTargets < 1 || nTargets > Integer.MAX_VALUE) {
          throw ctx.error("n_targets must be at least 1, got %d", nTargets);
        }
        targets = (int) nTargets;
        aggregate = ctx.attrString("aggregate_function");
      }
      List<List<int[]>> perNodeTargets = new ArrayList<>();
      List<List<Float>> perNodeWeights = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        perNodeTargets.add(new ArrayList<>());
        perNodeWeights.add(new ArrayList<>());
      }
      java.util.Set<Long> weightClasses = new java.util.HashSet<>();
      boolean positive = true;
      for (int k = 0; k < wIds.length; k++) {
        Map<Long, Integer> tree = index.get(wTrees[k]);
        Integer at = tree == null ? null : tree.get(wNodes[k]);
        if (at == null) {
          throw ctx.error("%sweights entry %d names tree %d node %d, which does not exist", prefix, k, wTrees[k],
              wNodes[k]);
        }
        if (mode[at] != LEAF) {
          throw ctx.error("%sweights entry %d: tree %d node %d is not a LEAF", prefix, k, wTrees[k], wNodes[k]);
        }
        if (wIds[k] < 0 || wIds[k] >= targets) {
          throw ctx.error("%sids entry %d is %d, out of range for %d %s", prefix, k, wIds[k], targets,
              classifier ? "classes" : "targets");
        }
        perNodeTargets.get(at).add(new int[] {(int) wIds[k]});
        perNodeWeights.get(at).add(wValues[k]);
        weightClasses.add(wIds[k]);
        positive &= !(wValues[k] < 0);
      }
      weightTargets = new int[n][];
      weights = new float[n][];
      for (int i = 0; i < n; i++) {
        List<int[]> ts = perNodeTargets.get(i);
        weightTargets[i] = new int[ts.size()];
        weights[i] = new float[ts.size()];
        for (int j = 0; j < ts.size(); j++) {
          weightTargets[i][j] = ts.get(j)[0];
          weights[i][j] = perNodeWeights.get(i).get(j);
        }
      }
      binaryCase = classifier && targets == 2 && weightClasses.size() == 1;
      allPositive = positive;
      base = floats(ctx, "base_values");
      transform = MlAttributes.transform(ctx.attrString("post_transform"));
    }

    private static int child(OpContext ctx, Map<Long, Integer> tree, long treeId, long nodeId, long childId,
        String which) {
      Integer c = tree.get(childId);
      if (c == null) {
        throw ctx.error("tree %d node %d: its %s branch goes to node %d, which tree %d does not have", treeId, nodeId,
            which, childId, treeId);
      }
      return c;
    }

    /** Fails naming a node on a cycle (a branch back to a node on its own path). */
    private void checkAcyclic(OpContext ctx, long[] treeIds, long[] nodeIds) {
      byte[] state = new byte[mode.length]; // 0 new, 1 on the current path, 2 done
      int[] stack = new int[mode.length + 1];
      int[] next = new int[mode.length + 1];
      for (int root : roots) {
        if (state[root] != 0) {
          continue;
        }
        int depth = 0;
        stack[0] = root;
        next[0] = 0;
        state[root] = 1;
        while (depth >= 0) {
          int node = stack[depth];
          if (mode[node] == LEAF || next[depth] == 2) {
            state[node] = 2;
            depth--;
            continue;
          }
          int c = next[depth]++ == 0 ? trueChild[node] : falseChild[node];
          if (state[c] == 1) {
            throw ctx.error("tree %d node %d: its branch to node %d makes a cycle", treeIds[node], nodeIds[node],
                nodeIds[c]);
          }
          if (state[c] == 0) {
            state[c] = 1;
            stack[++depth] = c;
            next[depth] = 0;
          }
        }
      }
    }

    /** The leaf a row reaches from a root. */
    private int walk(int node, Tensor x, int row, int width, boolean asDouble) {
      while (mode[node] != LEAF) {
        double raw = x.getDouble(row * width + feature[node]);
        double v = asDouble ? raw : (double) (float) raw;
        boolean go;
        if (missingTrue[node] && Double.isNaN(v)) {
          go = true;
        } else {
          go = MlAttributes.branch(mode[node], v, value[node]);
        }
        node = go ? trueChild[node] : falseChild[node];
      }
      return node;
    }

    /** Per row: the aggregated scores and which targets got a weight. */
    private void scores(Tensor x, int row, int width, float[] score, boolean[] has) {
      Arrays.fill(score, 0f);
      Arrays.fill(has, false);
      boolean asDouble = x.dtype() == DType.FLOAT64;
      for (int root : roots) {
        int leaf = walk(root, x, row, width, asDouble);
        for (int j = 0; j < weights[leaf].length; j++) {
          int k = weightTargets[leaf][j];
          float w = weights[leaf][j];
          switch (aggregate) {
            case "MIN": score[k] = !has[k] || w < score[k] ? w : score[k]; break;
            case "MAX": score[k] = !has[k] || w > score[k] ? w : score[k]; break;
            default: score[k] += w; break;
          }
          has[k] = true;
        }
      }
    }

    private int[] shape(Tensor x) {
      if (x.rank() == 2) {
        return new int[] {(int) x.dim(0), (int) x.dim(1)};
      }
      return new int[] {1, (int) x.dim(0)};
    }

    Tensor regress(Tensor x) {
      int[] nf = shape(x);
      float[] out = new float[nf[0] * targets];
      float[] score = new float[targets];
      boolean[] has = new boolean[targets];
      for (int r = 0; r < nf[0]; r++) {
        scores(x, r, nf[1], score, has);
        for (int k = 0; k < targets; k++) {
          float s = score[k];
          if (aggregate.equals("AVERAGE")) {
            s /= roots.length;
          }
          s += base.length == targets ? base[k] : 0f;
          score[k] = s;
        }
        if (targets >= 2) {
          transform(score, transform);
        } else if (transform == 4) {
          score[0] = probit(score[0]);
        }
        System.arraycopy(score, 0, out, r * targets, targets);
      }
      return Tensor.of(DType.FLOAT32, new long[] {nf[0], targets}, out);
    }

    List<Tensor> classify(Tensor x) {
      int[] nf = shape(x);
      float[] z = new float[nf[0] * targets];
      int[] label = new int[nf[0]];
      float[] score = new float[targets];
      boolean[] has = new boolean[targets];
      for (int r = 0; r < nf[0]; r++) {
        scores(x, r, nf[1], score, has);
        float[] written;
        if (targets > 2) {
          for (int k = 0; k < base.length && k < targets; k++) {
            score[k] = has[k] ? score[k] + base[k] : base[k];
            has[k] = true;
          }
          int best = -1;
          for (int k = 0; k < targets; k++) {
            if (has[k] && (best < 0 || score[k] > score[best])) {
              best = k;
            }
          }
          label[r] = Math.max(best, 0);
          transform(score, transform);
          written = score;
        } else {
          label[r] = binary(score, has, z, r);
          continue;
        }
        System.arraycopy(written, 0, z, r * targets, targets);
      }
      Tensor labels;
      long[] shape = {nf[0]};
      if (stringLabels != null) {
        String[] s = new String[nf[0]];
        for (int r = 0; r < s.length; r++) {
          s[r] = stringLabels[label[r]];
        }
        labels = Tensor.ofStrings(shape, s);
      } else {
        long[] l = new long[nf[0]];
        for (int r = 0; r < l.length; r++) {
          l[r] = label[r] < 0 ? -label[r] - 1 : intLabels[label[r]];
        }
        labels = Tensor.ofLongs(DType.INT64, shape, l);
      }
      return List.of(labels, Tensor.of(DType.FLOAT32, new long[] {nf[0], targets}, z));
    }

    /**
     * Two classes, as ONNX Runtime decides them; writes row {@code r} of {@code z} and returns the label's class
     * index, or for an integer-labelled model outside the binary case, {@code -(raw label) - 1} (ONNX Runtime
     * then answers 1 or 0 itself, not a class label).
     */
    private int binary(float[] score, boolean[] has, float[] z, int r) {
      float s0 = score[0];
      float s1 = score[1];
      boolean has0 = has[0];
      boolean has1 = has[1];
      int extra = -1;
      boolean two;
      if (base.length == 2) {
        if (has1) {
          s1 = base[1] + s0;
          s0 = -s1;
        } else {
          s1 += base[1];
          s0 += base[0];
        }
        two = true;
      } else if (base.length == 1) {
        s0 += base[0];
        two = has1;
      } else {
        if (base.length == 0) {
          extra = 3;
        }
        two = has1;
      }
      float positive = two && has1 ? s1 : (has0 ? s0 : 0f);
      int label;
      if (binaryCase) {
        if (allPositive) {
          extra = positive > 0.5f ? 0 : 1;
        } else {
          extra = positive > 0f ? 2 : 3;
        }
        label = extra == 0 || extra == 2 ? 1 : 0;
      } else {
        int raw = positive > 0f ? 1 : 0;
        label = stringLabels != null ? raw : -raw - 1;
      }
      float[] out;
      if (two) {
        out = new float[] {s0, s1};
        transform(out, transform);
      } else if (transform == 4) {
        out = new float[] {probit(s0), 0f};
      } else {
        switch (extra) {
          case 0:
          case 1: out = new float[] {1f - s0, s0}; break;
          case 2: out = transform == 1 ? new float[] {logistic(-s0), logistic(s0)} : new float[] {-s0, s0}; break;
          case 3: out = transform == 1 ? new float[] {logistic(-s0), logistic(s0)} : new float[] {s0, -s0}; break;
          default: out = new float[] {s0, 0f}; break;
        }
      }
      z[r * 2] = out[0];
      z[r * 2 + 1] = out[1];
      return label;
    }

    private static void sameLength(OpContext ctx, int n, String name, int length) {
      if (length != n) {
        throw ctx.error("%s has %d entries, expected %d (one per entry of the list it goes with)", name, length, n);
      }
    }

    /** A float list given as FLOATS or (opset 3) as a float tensor named {@code name + "_as_tensor"}. */
    private static float[] floats(OpContext ctx, String name) {
      boolean list = ctx.hasAttr(name);
      boolean tensor = ctx.hasAttr(name + "_as_tensor");
      if (list && tensor) {
        throw ctx.error("give %s or %s_as_tensor, not both", name, name);
      }
      if (tensor) {
        return ctx.attrTensor(name + "_as_tensor").toFloatArray();
      }
      return list ? ctx.attrFloats(name) : new float[0];
    }
  }

  /** Post transforms on a row of scores (two or more). */
  static void transform(float[] s, int transform) {
    switch (transform) {
      case 1:
        for (int i = 0; i < s.length; i++) {
          s[i] = logistic(s[i]);
        }
        break;
      case 2: {
        float max = -Float.MAX_VALUE;
        for (float v : s) {
          max = Math.max(max, v);
        }
        float sum = 0f;
        for (int i = 0; i < s.length; i++) {
          s[i] = (float) Math.exp(s[i] - max);
          sum += s[i];
        }
        for (int i = 0; i < s.length; i++) {
          s[i] /= sum;
        }
        break;
      }
      case 3: {
        float max = -Float.MAX_VALUE;
        for (float v : s) {
          max = Math.max(max, v);
        }
        float expNegMax = (float) Math.exp(-max);
        float sum = 0f;
        for (int i = 0; i < s.length; i++) {
          if (s[i] > 1e-7f || s[i] < -1e-7f) {
            s[i] = (float) Math.exp(s[i] - max);
            sum += s[i];
          } else {
            s[i] *= expNegMax;
          }
        }
        for (int i = 0; i < s.length; i++) {
          s[i] /= sum;
        }
        break;
      }
      case 4:
        for (int i = 0; i < s.length; i++) {
          s[i] = probit(s[i]);
        }
        break;
      default:
        break;
    }
  }

  static float logistic(float v) {
    float e = (float) (1 / (1 + Math.exp(-Math.abs(v))));
    return v < 0 ? 1 - e : e;
  }

  /** sqrt(2) erfinv(2p - 1) with Winitzki's closed form (a = 0.147), the approximation ONNX Runtime uses. */
  static float probit(float p) {
    float x = 2 * p - 1;
    float sign = x < 0 ? -1f : 1f;
    float t = (1 - x) * (1 + x);
    float log = (float) Math.log(t);
    float a = 2 / ((float) Math.PI * 0.147f) + 0.5f * log;
    float b = 1 / 0.147f * log;
    float erfinv = sign * (float) Math.sqrt(-a + (float) Math.sqrt(a * a - b));
    return 1.41421356f * erfinv;
  }
}
