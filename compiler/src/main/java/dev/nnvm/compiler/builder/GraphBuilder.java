package dev.nnvm.compiler.builder;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.analysis.Verifier;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Builds graphs from Java, the way {@code nnvm.symbol} builds them from
 * Python: typed methods add one operator each and return a {@link Value}.
 *
 * <pre>
 * GraphBuilder b = new GraphBuilder("mlp");
 * Value x = b.input("x", DType.FLOAT32, "N", 784);
 * Value h = b.relu(b.dense(x, w1, b1));
 * b.output("y", b.softmax(b.dense(h, w2, b2), -1));
 * Graph g = b.build();
 * </pre>
 *
 * <p>Each operator is checked against the registry and its output types are
 * inferred when it is added, so a mistake fails at the call that made it,
 * naming the node. Node and value names are generated uniquely from the
 * operator ({@code conv_0}, {@code conv_1}). Operators whose form changed
 * between opsets (axes as attribute or input, Gelu from opset 20) are written
 * in the form of the builder's opset. {@link #build()} returns a graph with
 * every intermediate type annotated that passes the {@link Verifier}.
 */
public final class GraphBuilder {
  /** The ONNX opset written when none is given. */
  public static final int DEFAULT_OPSET = 17;
  /** The oldest opset the builder writes (where Slice, Clip and reductions took their current forms). */
  public static final int MIN_OPSET = 13;

  private final String name;
  private final int opset;
  private final OpRegistry registry;
  private final Graph.Builder graph;
  private final Map<String, TensorType> types = new HashMap<>();
  private final Map<String, Tensor> constants = new HashMap<>();
  private final Set<String> inputs = new HashSet<>();
  private final Map<String, Integer> domains = new HashMap<>();
  private final Set<String> used = new HashSet<>();
  private final Map<String, Integer> counters = new HashMap<>();
  private final Map<String, String> renames = new LinkedHashMap<>();
  private final List<String> outputs = new ArrayList<>();

  public GraphBuilder(String name) {
    this(name, DEFAULT_OPSET, OpRegistry.standard());
  }

  public GraphBuilder(String name, int opset) {
    this(name, opset, OpRegistry.standard());
  }

  public GraphBuilder(String name, int opset, OpRegistry registry) {
    if (opset < MIN_OPSET) {
      throw new IllegalArgumentException("the graph builder writes ONNX opset " + MIN_OPSET + " or newer, got " + opset);
    }
    this.name = Objects.requireNonNull(name, "name");
    this.opset = opset;
    this.registry = Objects.requireNonNull(registry, "registry");
    this.graph = Graph.builder(name).opset("", opset);
  }

  public int opset() {
    return opset;
  }

  // ---------------------------------------------------------------- values

  /**
   * A graph input. Each dimension is a size (Integer or Long), a symbol name
   * (String, e.g. "N") or null for an unknown size.
   */
  public Value input(String valueName, DType dtype, Object... dims) {
    List<Dim> ds = new ArrayList<>();
    for (Object d : dims) {
      if (d == null) {
        ds.add(Dim.unknown());
      } else if (d instanceof String) {
        ds.add(Dim.symbol((String) d));
      } else if (d instanceof Integer || d instanceof Long) {
        ds.add(Dim.of(((Number) d).longValue()));
      } else {
        throw new IllegalArgumentException("input '" + valueName + "': a dimension must be a size, a symbol name or "
            + "null, got " + d.getClass().getSimpleName() + " " + d);
      }
    }
    return input(valueName, new TensorType(dtype, Shape.of(ds)));
  }

  public Value input(String valueName, TensorType type) {
    claim(valueName);
    graph.input(valueName, type);
    inputs.add(valueName);
    types.put(valueName, type);
    return new Value(this, valueName, type);
  }

  /** A named constant (a weight). */
  public Value constant(String valueName, Tensor value) {
    claim(valueName);
    graph.constant(valueName, value);
    constants.put(valueName, value);
    types.put(valueName, value.type());
    return new Value(this, valueName, value.type());
  }

  /** A constant with a generated name. */
  public Value constant(Tensor value) {
    return constant(fresh("const"), value);
  }

  /** A scalar constant of an element type. */
  public Value scalar(DType dtype, double v) {
    return constant(Tensor.fromDoubles(dtype, new long[0], new double[] {v}));
  }

  /** An i64 vector constant (shapes, axes, indices). */
  public Value ints(long... values) {
    return constant(Tensor.vector(values.clone()));
  }

  /**
   * Makes {@code v} a graph output called {@code outputName}. The producing
   * node's output is renamed; a graph input, a constant or a value already
   * output under another name goes through an Identity node.
   */
  public GraphBuilder output(String outputName, Value v) {
    check(v);
    String current = resolve(v.name());
    if (current.equals(outputName)) {
      if (!outputs.contains(outputName)) {
        outputs.add(outputName);
      }
      return this;
    }
    boolean direct = types.containsKey(current) && !constants.containsKey(current)
        && !inputs.contains(current) && !outputs.contains(current);
    claim(outputName);
    if (direct) {
      renames.put(current, outputName);
    } else {
      emitNamed(outputName, "Identity", List.of(new Value(this, current, v.type())), Map.of());
    }
    types.put(outputName, v.type());
    outputs.add(outputName);
    return this;
  }

  /**
   * The finished graph: outputs typed, every intermediate type annotated,
   * verified.
   *
   * @throws ModelException when no output was declared or verification fails
   */
  public Graph build() {
    if (outputs.isEmpty()) {
      throw new ModelException("graph '" + name + "' has no outputs; call output(name, value)");
    }
    Graph raw = graph.build();
    List<Node> nodes = new ArrayList<>();
    for (Node n : raw.nodes()) {
      nodes.add(n.withInputs(renamed(n.inputs())).withOutputs(renamed(n.outputs())));
    }
    Graph.Builder b = raw.toBuilder().nodes(nodes);
    for (String o : outputs) {
      b.output(o, types.get(o));
    }
    Graph typed = new TypeInference(registry).apply(b.build());
    List<ValueInfo> outs = new ArrayList<>();
    for (ValueInfo o : typed.outputs()) {
      outs.add(new ValueInfo(o.name(), typed.typeOf(o.name()).orElse(o.type())));
    }
    return new Verifier(registry).verify(typed.toBuilder().outputs(outs).build());
  }

  private List<String> renamed(List<String> names) {
    List<String> out = new ArrayList<>(names.size());
    for (String n : names) {
      out.add(renames.getOrDefault(n, n));
    }
    return out;
  }

  private String resolve(String valueName) {
    return renames.getOrDefault(valueName, valueName);
  }

  private void claim(String valueName) {
    if (valueName.isEmpty()) {
      throw new IllegalArgumentException("graph '" + name + "': a value name must not be empty");
    }
    if (!used.add(valueName)) {
      throw new IllegalArgumentException("graph '" + name + "': the name '" + valueName + "' is already used");
    }
  }

  private String fresh(String base) {
    while (true) {
      int k = counters.merge(base, 1, Integer::sum) - 1;
      String candidate = base + "_" + k;
      if (!used.contains(candidate)) {
        return candidate;
      }
    }
  }

  private void check(Value v) {
    Objects.requireNonNull(v, "value");
    if (v.owner() != this) {
      throw new IllegalArgumentException("value " + v.name() + " belongs to another graph builder");
    }
  }

  // ------------------------------------------------------ generic operator

  /** Any operator of the default (ONNX) domain with one output; a null input is an omitted optional one. */
  public Value op(String opType, List<Value> inputs, Map<String, Attribute> attributes) {
    return op(Node.ONNX_DOMAIN, opType, inputs, attributes, 1).get(0);
  }

  /**
   * Any operator with {@code outputCount} outputs. A domain other than ONNX
   * is imported at version 1 unless {@link #importDomain} said otherwise.
   */
  public List<Value> op(String domain, String opType, List<Value> inputs, Map<String, Attribute> attributes,
      int outputCount) {
    String nodeName = fresh(opType.toLowerCase(Locale.ROOT));
    used.add(nodeName);
    List<String> outs = new ArrayList<>();
    for (int i = 0; i < outputCount; i++) {
      String o = outputCount == 1 ? nodeName : fresh(nodeName);
      used.add(o);
      outs.add(o);
    }
    return emit(nodeName, domain, opType, inputs, attributes, outs);
  }

  /** Imports an operator domain at a version (for {@link #op(String, String, List, Map, int)}). */
  public GraphBuilder importDomain(String domain, int version) {
    graph.opset(domain, version);
    domains.put(Node.normalizeDomain(domain), version);
    return this;
  }

  private Value emitNamed(String out, String opType, List<Value> inputs, Map<String, Attribute> attributes) {
    String nodeName = fresh(opType.toLowerCase(Locale.ROOT));
    used.add(nodeName);
    return emit(nodeName, Node.ONNX_DOMAIN, opType, inputs, attributes, List.of(out)).get(0);
  }

  private List<Value> emit(String nodeName, String domain, String opType, List<Value> inputs,
      Map<String, Attribute> attributes, List<String> outs) {
    List<String> inNames = new ArrayList<>();
    List<TensorType> inTypes = new ArrayList<>();
    List<Tensor> inValues = new ArrayList<>();
    for (Value v : inputs) {
      if (v == null) {
        inNames.add("");
        inTypes.add(null);
        inValues.add(null);
      } else {
        check(v);
        inNames.add(v.name());
        inTypes.add(v.type());
        inValues.add(constants.get(v.name()));
      }
    }
    Node node = new Node(nodeName, opType, domain, inNames, outs, attributes);
    OpDef def = registry.validate(node);
    List<TensorType> outTypes;
    try {
      int version = node.domain().isEmpty() ? opset : domains.getOrDefault(node.domain(), 1);
      outTypes = def.typeRule().infer(new InferContext(node, def, version, inTypes, inValues));
    } catch (ModelException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new ModelException(node.describe() + ": type inference failed: " + e, e);
    }
    if (!node.domain().isEmpty() && !domains.containsKey(node.domain())) {
      importDomain(node.domain(), 1);
    }
    graph.node(node);
    List<Value> result = new ArrayList<>();
    for (int i = 0; i < outs.size(); i++) {
      TensorType t = i < outTypes.size() ? outTypes.get(i) : null;
      if (t == null) {
        throw new ModelException(node.describe() + ": the type of output " + i + " cannot be inferred");
      }
      types.put(outs.get(i), t);
      result.add(new Value(this, outs.get(i), t));
    }
    return result;
  }

  private Value op1(String opType, Map<String, Attribute> attrs, Value... inputs) {
    return op(opType, Arrays.asList(inputs), attrs);
  }

  private static Map<String, Attribute> attrs(Object... keyValues) {
    Map<String, Attribute> m = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      Object v = keyValues[i + 1];
      Attribute a;
      if (v instanceof Attribute) {
        a = (Attribute) v;
      } else if (v instanceof long[]) {
        a = Attribute.ofInts((long[]) v);
      } else if (v instanceof Long || v instanceof Integer) {
        a = Attribute.ofInt(((Number) v).longValue());
      } else if (v instanceof Float || v instanceof Double) {
        a = Attribute.ofFloat(((Number) v).floatValue());
      } else {
        a = Attribute.ofString((String) v);
      }
      m.put((String) keyValues[i], a);
    }
    return m;
  }

  // ------------------------------------------------------------ arithmetic

  public Value add(Value a, Value b) {
    return op1("Add", Map.of(), a, b);
  }

  public Value sub(Value a, Value b) {
    return op1("Sub", Map.of(), a, b);
  }

  public Value mul(Value a, Value b) {
    return op1("Mul", Map.of(), a, b);
  }

  public Value div(Value a, Value b) {
    return op1("Div", Map.of(), a, b);
  }

  public Value pow(Value a, Value b) {
    return op1("Pow", Map.of(), a, b);
  }

  public Value sqrt(Value x) {
    return op1("Sqrt", Map.of(), x);
  }

  public Value erf(Value x) {
    return op1("Erf", Map.of(), x);
  }

  public Value relu(Value x) {
    return op1("Relu", Map.of(), x);
  }

  public Value sigmoid(Value x) {
    return op1("Sigmoid", Map.of(), x);
  }

  public Value tanh(Value x) {
    return op1("Tanh", Map.of(), x);
  }

  /**
   * GELU with the exact (erf) formula: the Gelu operator from opset 20,
   * {@code x * 0.5 * (1 + erf(x / sqrt(2)))} before.
   */
  public Value gelu(Value x) {
    if (opset >= 20) {
      return op1("Gelu", Map.of(), x);
    }
    DType t = x.type().dtype();
    Value e = erf(div(x, scalar(t, Math.sqrt(2))));
    return mul(mul(x, scalar(t, 0.5)), add(e, scalar(t, 1)));
  }

  /** Clip to [min, max] (constants of x's element type). */
  public Value clip(Value x, double min, double max) {
    DType t = x.type().dtype();
    return op1("Clip", Map.of(), x, scalar(t, min), scalar(t, max));
  }

  public Value where(Value condition, Value a, Value b) {
    return op1("Where", Map.of(), condition, a, b);
  }

  public Value cast(Value x, DType to) {
    return op1("Cast", attrs("to", (long) to.onnxCode()), x);
  }

  // ---------------------------------------------------------------- linear

  public Value matmul(Value a, Value b) {
    return op1("MatMul", Map.of(), a, b);
  }

  /** {@code alpha * A' * B' + beta * C}; c may be null. */
  public Value gemm(Value a, Value b, Value c, float alpha, float beta, boolean transA, boolean transB) {
    return op("Gemm", Arrays.asList(a, b, c),
        attrs("alpha", alpha, "beta", beta, "transA", transA ? 1L : 0L, "transB", transB ? 1L : 0L));
  }

  /** A fully connected layer: {@code x [N, in]} times {@code weight [out, in]} transposed, plus bias (or null). */
  public Value dense(Value x, Value weight, Value bias) {
    return gemm(x, weight, bias, 1f, 1f, false, true);
  }

  // ----------------------------------------------------------- convolution

  /** 2-D convolution with stride 1, no padding, no dilation, one group; bias may be null. */
  public Value conv2d(Value x, Value weight, Value bias) {
    return conv2d(x, weight, bias, new long[] {1, 1}, new long[] {0, 0, 0, 0}, new long[] {1, 1}, 1);
  }

  /**
   * 2-D convolution: {@code strides [sH, sW]}, {@code pads [top, left,
   * bottom, right]}, {@code dilations [dH, dW]}; bias may be null.
   */
  public Value conv2d(Value x, Value weight, Value bias, long[] strides, long[] pads, long[] dilations, long groups) {
    return op("Conv", Arrays.asList(x, weight, bias), attrs("strides", strides.clone(), "pads", pads.clone(),
        "dilations", dilations.clone(), "group", groups));
  }

  public Value maxPool2d(Value x, long[] kernel, long[] strides, long[] pads) {
    return op1("MaxPool", attrs("kernel_shape", kernel.clone(), "strides", strides.clone(), "pads", pads.clone()), x);
  }

  /** Average pooling; padded cells count toward the average when {@code countIncludePad}. */
  public Value avgPool2d(Value x, long[] kernel, long[] strides, long[] pads, boolean countIncludePad) {
    return op1("AveragePool", attrs("kernel_shape", kernel.clone(), "strides", strides.clone(), "pads", pads.clone(),
        "count_include_pad", countIncludePad ? 1L : 0L), x);
  }

  public Value globalAvgPool(Value x) {
    return op1("GlobalAveragePool", Map.of(), x);
  }

  // --------------------------------------------------------- normalization

  /** Inference-mode batch normalization over axis 1. */
  public Value batchNorm(Value x, Value scale, Value bias, Value mean, Value var, float epsilon) {
    return op1("BatchNormalization", attrs("epsilon", epsilon), x, scale, bias, mean, var);
  }

  /** Layer normalization over the axes from {@code axis} on (opset 17 or newer); bias may be null. */
  public Value layerNorm(Value x, Value scale, Value bias, long axis, float epsilon) {
    if (opset < 17) {
      throw new UnsupportedOperationException("LayerNormalization needs opset 17 or newer, the builder writes " + opset);
    }
    return op("LayerNormalization", Arrays.asList(x, scale, bias), attrs("axis", axis, "epsilon", epsilon));
  }

  public Value softmax(Value x, long axis) {
    return op1("Softmax", attrs("axis", axis), x);
  }

  // ----------------------------------------------------------------- shape

  /** Reshape to a constant shape (0 copies the input dimension, -1 is inferred). */
  public Value reshape(Value x, long... shape) {
    return op1("Reshape", Map.of(), x, ints(shape));
  }

  public Value transpose(Value x, long... perm) {
    return op1("Transpose", attrs("perm", perm.clone()), x);
  }

  public Value concat(long axis, Value... values) {
    return op1("Concat", attrs("axis", axis), values);
  }

  public Value flatten(Value x, long axis) {
    return op1("Flatten", attrs("axis", axis), x);
  }

  /** Slice along {@code axes} from {@code starts} (inclusive) to {@code ends} (exclusive) with step 1. */
  public Value slice(Value x, long[] starts, long[] ends, long[] axes) {
    return op1("Slice", Map.of(), x, ints(starts), ints(ends), ints(axes));
  }

  public Value slice(Value x, long[] starts, long[] ends, long[] axes, long[] steps) {
    return op1("Slice", Map.of(), x, ints(starts), ints(ends), ints(axes), ints(steps));
  }

  public Value gather(Value x, Value indices, long axis) {
    return op1("Gather", attrs("axis", axis), x, indices);
  }

  public Value unsqueeze(Value x, long... axes) {
    return op1("Unsqueeze", Map.of(), x, ints(axes));
  }

  public Value squeeze(Value x, long... axes) {
    return op1("Squeeze", Map.of(), x, ints(axes));
  }

  // ------------------------------------------------------------ reductions

  public Value reduceMean(Value x, boolean keepDims, long... axes) {
    return reduce("ReduceMean", 18, x, keepDims, axes);
  }

  public Value reduceSum(Value x, boolean keepDims, long... axes) {
    return reduce("ReduceSum", 13, x, keepDims, axes);
  }

  /** A reduction, with axes as an input from {@code inputSince} on and as an attribute before. */
  private Value reduce(String opType, int inputSince, Value x, boolean keepDims, long[] axes) {
    long keep = keepDims ? 1L : 0L;
    if (opset >= inputSince) {
      return op1(opType, attrs("keepdims", keep), x, ints(axes));
    }
    return op1(opType, attrs("axes", axes.clone(), "keepdims", keep), x);
  }
}
