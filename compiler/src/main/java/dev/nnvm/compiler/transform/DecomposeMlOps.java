package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rewrites the {@code ai.onnx.ml} operators that standard operators express exactly into those, so they compile
 * through the ordinary lowering (fused elementwise kernels, the packed GEMM): {@code Binarizer}, {@code Scaler},
 * {@code Normalizer}, {@code Imputer} (float), {@code ArrayFeatureExtractor}, {@code LinearRegressor} and
 * {@code LinearClassifier} (integer labels). scikit-learn pipelines of scalers and linear models then compile.
 * Forms the standard operators cannot express are left as they are (the compiler then refuses them naming the
 * node): PROBIT and SOFTMAX_ZERO transforms, string labels, integer Imputer inputs, a Normalizer over an input
 * whose rows may hold zeros only (kept exact below with a {@code Where}).
 */
public final class DecomposeMlOps extends TypedPass {
  public static final DecomposeMlOps INSTANCE = new DecomposeMlOps();
  private static final String ML = "ai.onnx.ml";

  private DecomposeMlOps() {}

  @Override
  public String name() {
    return "DecomposeMlOps";
  }

  @Override
  public int minLevel() {
    return 0;
  }

  @Override
  public Graph apply(Graph graph, PassContext ctx) {
    Set<String> names = new HashSet<>(graph.constants().keySet());
    graph.nodes().forEach(n -> names.addAll(n.outputs()));
    graph.inputs().forEach(v -> names.add(v.name()));
    Map<String, Tensor> constants = new LinkedHashMap<>(graph.constants());
    List<Node> out = new ArrayList<>();
    boolean changed = false;
    for (Node n : graph.nodes()) {
      List<Node> replacement = n.domain().equals(ML) ? new Rewriter(graph, n, names, constants).rewrite() : null;
      if (replacement == null) {
        out.add(n);
      } else {
        out.addAll(replacement);
        changed = true;
      }
    }
    if (!changed) {
      return graph;
    }
    return retype(graph.toBuilder().nodes(out).constants(constants).build(), ctx);
  }

  /** Builds the standard-operator form of one node. */
  private static final class Rewriter {
    private final Graph graph;
    private final Node n;
    private final Set<String> names;
    private final Map<String, Tensor> constants;
    private final List<Node> nodes = new ArrayList<>();

    Rewriter(Graph graph, Node n, Set<String> names, Map<String, Tensor> constants) {
      this.graph = graph;
      this.n = n;
      this.names = names;
      this.constants = constants;
    }

    /** The replacement nodes, or null to keep the node. */
    List<Node> rewrite() {
      Optional<TensorType> xt = graph.typeOf(n.input(0));
      if (xt.isEmpty() || !xt.get().shape().hasRank()) {
        return null;
      }
      TensorType x = xt.get();
      switch (n.opType()) {
        case "Binarizer": {
          float t = attrFloat("threshold", 0f);
          String above = op("Greater", n.input(0), constant(Tensor.fromDoubles(x.dtype(), new long[0],
              new double[] {t})));
          String ones = op("Cast", Map.of("to", Attribute.ofInt(x.dtype().onnxCode())), above);
          // A NaN stays NaN, as in the reference kernel.
          emit("Where", List.of(op("IsNaN", n.input(0)), n.input(0), ones), n.output(0), Map.of());
          return nodes;
        }
        case "Scaler": {
          String xf = asFloat(x);
          float[] offset = floats("offset");
          float[] scale = floats("scale");
          String shifted = offset.length == 0 ? xf : op("Sub", xf, constant(vector(offset)));
          emit("Mul", List.of(shifted, constant(vector(scale.length == 0 ? new float[] {1f} : scale))), n.output(0),
              Map.of());
          return nodes;
        }
        case "Normalizer": {
          if (x.shape().rank() != 2) {
            return null;
          }
          String xf = asFloat(x);
          String norm = attrString("norm", "MAX");
          String reduce = switch (norm) {
            case "L1" -> "ReduceL1";
            case "L2" -> "ReduceL2";
            default -> "ReduceMax";
          };
          // Opset 18 moved the reduce axes from an attribute to an input.
          String d = opset() >= 18 ? op(reduce, Map.of("keepdims", Attribute.ofInt(1)), xf, constant(Tensor.vector(1)))
              : op(reduce, Map.of("keepdims", Attribute.ofInt(1), "axes", Attribute.ofInts(1)), xf);
          String zero = constant(Tensor.scalarFloat(0f));
          emit("Where", List.of(op("Equal", d, zero), xf, op("Div", xf, d)), n.output(0), Map.of());
          return nodes;
        }
        case "Imputer": {
          if (!x.dtype().isFloatingPoint() || !n.attributes().containsKey("imputed_value_floats")) {
            return null;
          }
          float replaced = attrFloat("replaced_value_float", 0f);
          String hit = Float.isNaN(replaced) ? op("IsNaN", n.input(0))
              : op("Equal", n.input(0), constant(Tensor.fromDoubles(x.dtype(), new long[0],
                  new double[] {replaced})));
          float[] imputed = floats("imputed_value_floats");
          double[] v = new double[imputed.length];
          for (int i = 0; i < v.length; i++) {
            v[i] = imputed[i];
          }
          String with = constant(Tensor.fromDoubles(x.dtype(), new long[] {v.length}, v));
          emit("Where", List.of(hit, with, n.input(0)), n.output(0), Map.of());
          return nodes;
        }
        case "ArrayFeatureExtractor": {
          if (x.shape().rank() < 2) {
            return null;
          }
          emit("Gather", List.of(n.input(0), n.input(1)), n.output(0), Map.of("axis", Attribute.ofInt(-1)));
          return nodes;
        }
        case "LinearRegressor": {
          long targets = attrInt("targets", 1);
          String post = attrString("post_transform", "NONE");
          if (x.shape().rank() != 2 || !x.shape().dim(1).isStatic() || !(post.equals("NONE") || targets > 1
              && (post.equals("SOFTMAX") || post.equals("LOGISTIC")))) {
            return null;
          }
          String scores = linear(x, (int) targets, floats("coefficients"), floats("intercepts"));
          if (scores == null) {
            return null;
          }
          emitTransform(post, scores, n.output(0));
          return nodes;
        }
        case "LinearClassifier":
          return classifier(x);
        default:
          return null;
      }
    }

    private List<Node> classifier(TensorType x) {
      String post = attrString("post_transform", "NONE");
      long[] labels = n.attributes().containsKey("classlabels_ints") ? n.attribute("classlabels_ints").asInts()
          : null;
      float[] b = floats("intercepts");
      int classes = b.length;
      if (labels == null || x.shape().rank() != 2 || !x.shape().dim(1).isStatic() || classes == 0
          || !(post.equals("NONE") || post.equals("SOFTMAX") || post.equals("LOGISTIC"))) {
        return null;
      }
      String scores = linear(x, classes, floats("coefficients"), b);
      if (scores == null) {
        return null;
      }
      if (classes == 1) {
        if (opset() < 13) {
          return null; // Squeeze's axes are an input from opset 13
        }
        // One score column: no transform applies (as ONNX Runtime); two labels give [1 - s, s].
        String positive = op("Greater", scores, constant(Tensor.scalarFloat(0f)));
        long pos = labels.length == 2 ? labels[1] : 1;
        long neg = labels.length == 2 ? labels[0] : 0;
        String label = op("Where", positive, constant(Tensor.scalarLong(DType.INT64, pos)),
            constant(Tensor.scalarLong(DType.INT64, neg)));
        emit("Squeeze", List.of(label, constant(Tensor.vector(1))), n.output(0), Map.of());
        if (labels.length == 2) {
          String complement = op("Sub", constant(Tensor.scalarFloat(1f)), scores);
          emit("Concat", List.of(complement, scores), n.output(1), Map.of("axis", Attribute.ofInt(1)));
        } else {
          emit("Identity", List.of(scores), n.output(1), Map.of());
        }
        return nodes;
      }
      if (labels.length != classes) {
        return null;
      }
      String best = op("ArgMax", Map.of("axis", Attribute.ofInt(1), "keepdims", Attribute.ofInt(0),
          "select_last_index", Attribute.ofInt(0)), scores);
      emit("Gather", List.of(constant(Tensor.vector(labels)), best), n.output(0), Map.of("axis", Attribute.ofInt(0)));
      emitTransform(post, scores, n.output(1));
      return nodes;
    }

    /** {@code x W^T + b} as MatMul and Add with constant weights, or null when the sizes do not fit. */
    private String linear(TensorType x, int outputs, float[] w, float[] b) {
      int features = (int) x.shape().dim(1).value();
      if (w.length != outputs * features || (b.length != 0 && b.length != outputs)) {
        return null;
      }
      float[] wt = new float[w.length];
      for (int t = 0; t < outputs; t++) {
        for (int f = 0; f < features; f++) {
          wt[f * outputs + t] = w[t * features + f];
        }
      }
      String product = op("MatMul", asFloat(x), constant(Tensor.ofFloats(new long[] {features, outputs}, wt)));
      return b.length == 0 ? product : op("Add", product, constant(Tensor.ofFloats(new long[] {outputs}, b)));
    }

    private void emitTransform(String post, String scores, String output) {
      switch (post) {
        case "SOFTMAX" -> emit("Softmax", List.of(scores), output, Map.of("axis", Attribute.ofInt(1)));
        case "LOGISTIC" -> emit("Sigmoid", List.of(scores), output, Map.of());
        default -> emit("Identity", List.of(scores), output, Map.of());
      }
    }

    private int opset() {
      Integer v = graph.opsets().get("");
      return v == null ? 17 : v;
    }

    private String asFloat(TensorType x) {
      return x.dtype() == DType.FLOAT32 ? n.input(0)
          : op("Cast", Map.of("to", Attribute.ofInt(DType.FLOAT32.onnxCode())), n.input(0));
    }

    private static Tensor vector(float[] v) {
      return v.length == 1 ? Tensor.scalarFloat(v[0]) : Tensor.ofFloats(new long[] {v.length}, v);
    }

    private String constant(Tensor t) {
      String name = fresh("const");
      constants.put(name, t);
      return name;
    }

    private String op(String type, String... inputs) {
      return op(type, Map.of(), inputs);
    }

    private String op(String type, Map<String, Attribute> attrs, String... inputs) {
      String out = fresh(type.toLowerCase(java.util.Locale.ROOT));
      emit(type, List.of(inputs), out, attrs);
      return out;
    }

    private void emit(String type, List<String> inputs, String output, Map<String, Attribute> attrs) {
      String base = n.name().isEmpty() ? n.output(0) : n.name();
      nodes.add(new Node(base + "/" + type + "_" + nodes.size(), type, "", inputs, List.of(output), attrs));
    }

    private String fresh(String what) {
      String base = (n.name().isEmpty() ? n.output(0) : n.name()) + "/" + what;
      String name = base;
      for (int i = 1; names.contains(name); i++) {
        name = base + "_" + i;
      }
      names.add(name);
      return name;
    }

    private float[] floats(String name) {
      Attribute a = n.attribute(name);
      return a == null ? new float[0] : a.asFloats();
    }

    private float attrFloat(String name, float dflt) {
      Attribute a = n.attribute(name);
      return a == null ? dflt : a.asFloat();
    }

    private long attrInt(String name, long dflt) {
      Attribute a = n.attribute(name);
      return a == null ? dflt : a.asInt();
    }

    private String attrString(String name, String dflt) {
      Attribute a = n.attribute(name);
      return a == null ? dflt : a.asString();
    }
  }
}
