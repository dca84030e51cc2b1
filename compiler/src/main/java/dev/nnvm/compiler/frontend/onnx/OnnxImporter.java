package dev.nnvm.compiler.frontend.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads ONNX models ({@code ModelProto}) into the graph IR.
 *
 * <p>Initializers and {@code Constant} nodes become graph constants; external
 * tensor data is read from files inside the model's folder only; sub-graphs
 * (If, Loop, Scan bodies) are converted recursively. Every node is checked
 * against the operator registry, and all unsupported operators are reported
 * together in one error.
 */
public final class OnnxImporter {
  /**
   * The oldest ONNX opset accepted. Opset 6 is the one the PyTorch-converted
   * test graphs use; where it differs from later opsets it does so through
   * attributes the operator schemas do not declare (Add's {@code broadcast},
   * BatchNormalization's {@code is_test}), which are reported as unsupported.
   */
  public static final int MIN_OPSET = 6;
  /** The newest ONNX opset accepted (the newest in the conformance suite). */
  public static final int MAX_OPSET = 28;

  /**
   * The dim_param some exporters (PaddlePaddle) write for every unknown
   * dimension. It names no symbol: two "?" dimensions need not be equal.
   */
  static final String ANONYMOUS_DIM = "?";

  private final OpRegistry registry;

  public OnnxImporter(OpRegistry registry) {
    this.registry = registry;
  }

  /** Imports a model file with the standard operator registry. */
  public static Graph load(Path file) {
    return new OnnxImporter(OpRegistry.standard()).read(file);
  }

  public Graph read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ModelException("model file not found: " + file);
    } catch (IOException e) {
      throw new ModelException("cannot read model file " + file + ": " + e.getMessage(), e);
    }
    return read(bytes, file.toAbsolutePath().getParent(), file.getFileName().toString());
  }

  /**
   * Imports a serialized model. {@code baseDir} is where external data lives
   * (null when the model has none); {@code what} names the model in errors.
   */
  public Graph read(byte[] bytes, Path baseDir, String what) {
    Onnx.Model model;
    try {
      model = Onnx.Model.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new ModelException(what + " is not a valid ONNX model: " + e.getMessage(), e);
    }
    if (!model.hasGraph()) {
      throw new ModelException(what + " is not a valid ONNX model: it has no graph");
    }
    Map<String, Integer> opsets = new LinkedHashMap<>();
    for (Onnx.OpsetId id : model.getOpsetImportList()) {
      opsets.put(Node.normalizeDomain(id.getDomain()), (int) id.getVersion());
    }
    if (model.getOpsetImportCount() == 0) {
      throw new ModelException(what + ": the model imports no opset");
    }
    Integer onnxOpset = opsets.get("");
    if (onnxOpset != null && (onnxOpset < MIN_OPSET || onnxOpset > MAX_OPSET)) {
      throw new UnsupportedModelException(what + ": ONNX opset " + onnxOpset + " is not supported (supported: "
          + MIN_OPSET + " to " + MAX_OPSET + ")");
    }
    Set<String> functions = new HashSet<>();
    for (Onnx.Function f : model.getFunctionsList()) {
      functions.add(Node.normalizeDomain(f.getDomain()) + "::" + f.getName());
    }
    Graph g = new Converter(baseDir, opsets, functions).graph(model.getGraph(), true);
    if (onnxOpset != null && onnxOpset < LegacyOpsetUpgrade.OPSET) {
      g = LegacyOpsetUpgrade.apply(g);
    }
    checkOperators(g, what);
    return g;
  }

  /** How many nodes of one unknown operator an error names before "and N more". */
  private static final int NODES_NAMED = 3;
  /** How many other (attribute, element type) problems an error lists. */
  private static final int PROBLEMS_LISTED = 20;

  /**
   * Reports every node the registry cannot run, in one error: nodes of
   * unknown operators grouped by operator (naming the first few nodes), then
   * the nodes whose attributes or types are refused.
   */
  private void checkOperators(Graph g, String what) {
    Map<String, List<String>> unknown = new LinkedHashMap<>();
    List<String> refused = new ArrayList<>();
    collectUnsupported(g, unknown, refused);
    int count = refused.size();
    List<String> parts = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : unknown.entrySet()) {
      List<String> nodes = e.getValue();
      count += nodes.size();
      parts.add("operator " + e.getKey() + " is not supported (" + nodes.size() + (nodes.size() == 1 ? " node: "
          : " nodes: ") + String.join(", ", nodes.subList(0, Math.min(nodes.size(), NODES_NAMED)))
          + (nodes.size() > NODES_NAMED ? " and " + (nodes.size() - NODES_NAMED) + " more" : "") + ")");
    }
    parts.addAll(refused.subList(0, Math.min(refused.size(), PROBLEMS_LISTED)));
    if (refused.size() > PROBLEMS_LISTED) {
      parts.add("and " + (refused.size() - PROBLEMS_LISTED) + " more");
    }
    if (count > 0) {
      throw new UnsupportedModelException(what + ": " + count + " unsupported node(s): " + String.join("; ", parts)
          + (unknown.isEmpty() ? "" : " [" + registry.size() + " operators are supported; see OpRegistry.all()]"));
    }
  }

  private void collectUnsupported(Graph g, Map<String, List<String>> unknown, List<String> refused) {
    for (Node n : g.nodes()) {
      if (registry.find(n.domain(), n.opType()).isEmpty()) {
        unknown.computeIfAbsent(n.qualifiedOp(), k -> new ArrayList<>())
            .add(n.describe().substring(n.qualifiedOp().length() + 1));
      } else {
        try {
          registry.validate(n);
        } catch (UnsupportedModelException e) {
          refused.add(e.getMessage());
        }
      }
      for (Graph sub : n.subgraphs()) {
        collectUnsupported(sub, unknown, refused);
      }
    }
  }

  /** Converts one model's messages; holds what the conversion of nested graphs shares. */
  private static final class Converter {
    private final Path baseDir;
    private final Map<String, Integer> opsets;
    private final Set<String> functions;

    Converter(Path baseDir, Map<String, Integer> opsets, Set<String> functions) {
      this.baseDir = baseDir;
      this.opsets = opsets;
      this.functions = functions;
    }

    Graph graph(Onnx.Graph p, boolean topLevel) {
      String gname = p.getName().isEmpty() ? (topLevel ? "main" : "body") : p.getName();
      Graph.Builder b = Graph.builder(gname).opsets(opsets);
      if (p.getSparseInitializerCount() > 0) {
        throw new UnsupportedModelException("graph '" + gname + "': sparse initializers are not supported");
      }
      for (Onnx.Tensor t : p.getInitializerList()) {
        if (t.getName().isEmpty()) {
          throw new ModelException("graph '" + gname + "': an initializer has no name");
        }
        b.constant(t.getName(), OnnxTensors.fromProto(t, baseDir, "initializer '" + t.getName() + "'"));
      }
      Set<String> constants = new HashSet<>();
      for (Onnx.Tensor t : p.getInitializerList()) {
        constants.add(t.getName());
      }
      for (Onnx.ValueInfo v : p.getInputList()) {
        if (!constants.contains(v.getName())) {
          b.input(v.getName(), type(v, "graph input"));
        }
      }
      for (Onnx.ValueInfo v : p.getValueInfoList()) {
        if (v.hasType() && v.getType().hasTensorType()) {
          b.valueType(v.getName(), type(v, "value"));
        }
      }
      Set<String> names = new HashSet<>();
      Set<String> zipped = topLevel ? zipMapOutputs(p) : Set.of();
      int index = 0;
      for (Onnx.Node np : p.getNodeList()) {
        Node n = node(np, index++);
        if (np.getOutputCount() == 1 && zipped.contains(np.getOutput(0))) {
          // ZipMap turns a [N, classes] probability tensor into a sequence of maps; a graph output keeps the
          // tensor (columns in the ZipMap's class label order), which is what a batch of rows can carry.
          n = new Node(n.name(), "Identity", "", List.of(np.getInput(0)), List.of(np.getOutput(0)), Map.of());
        }
        if (n.opType().equals("Constant") && n.domain().isEmpty() && n.outputs().size() == 1
            && n.attributes().size() == 1) {
          Tensor value = constantValue(n);
          if (value != null) {
            b.constant(n.output(0), value);
            continue;
          }
        }
        if (!n.name().isEmpty() && !names.add(n.name())) {
          n = n.withName(n.name() + "#" + index);
        }
        b.node(n);
      }
      for (Onnx.ValueInfo v : p.getOutputList()) {
        b.output(v.getName(), zipped.contains(v.getName()) ? TensorType.unknownShape(DType.FLOAT32)
            : type(v, "graph output"));
      }
      return b.build();
    }

    /**
     * The outputs of {@code ai.onnx.ml.ZipMap} nodes that are graph outputs and feed nothing else (scikit-learn
     * classifiers end that way): they become their input tensor.
     */
    private static Set<String> zipMapOutputs(Onnx.Graph p) {
      Set<String> graphOutputs = new HashSet<>();
      for (Onnx.ValueInfo v : p.getOutputList()) {
        graphOutputs.add(v.getName());
      }
      Set<String> consumed = new HashSet<>();
      for (Onnx.Node n : p.getNodeList()) {
        consumed.addAll(n.getInputList());
      }
      Set<String> out = new HashSet<>();
      for (Onnx.Node n : p.getNodeList()) {
        if (n.getOpType().equals("ZipMap") && Node.normalizeDomain(n.getDomain()).equals("ai.onnx.ml")
            && n.getOutputCount() == 1 && n.getInputCount() == 1 && graphOutputs.contains(n.getOutput(0))
            && !consumed.contains(n.getOutput(0))) {
          out.add(n.getOutput(0));
        }
      }
      return out;
    }

    private static Tensor constantValue(Node n) {
      Map.Entry<String, Attribute> e = n.attributes().entrySet().iterator().next();
      Attribute a = e.getValue();
      switch (e.getKey()) {
        case "value": return a.asTensor();
        case "value_float": return Tensor.scalarFloat(a.asFloat());
        case "value_floats": {
          float[] v = a.asFloats();
          return Tensor.ofFloats(new long[] {v.length}, v);
        }
        case "value_int": return Tensor.scalarLong(DType.INT64, a.asInt());
        case "value_ints": return Tensor.vector(a.asInts());
        default: return null;
      }
    }

    private Node node(Onnx.Node p, int index) {
      String domain = Node.normalizeDomain(p.getDomain());
      String opType = p.getOpType();
      String label = p.getName().isEmpty() ? opType + " #" + index : p.getName();
      if (opType.isEmpty()) {
        throw new ModelException("node '" + label + "' has no operator type");
      }
      if (functions.contains(domain + "::" + opType)) {
        throw new UnsupportedModelException("node '" + label + "': model-local function " + opType
            + " is not supported (inline it before export)");
      }
      if (!opsets.containsKey(domain)) {
        throw new ModelException("node '" + label + "' uses domain '" + domain + "', which the model does not import");
      }
      Map<String, Attribute> attrs = new LinkedHashMap<>();
      for (Onnx.Attribute a : p.getAttributeList()) {
        if (attrs.put(a.getName(), attribute(a, opType + " '" + label + "'")) != null) {
          throw new ModelException(opType + " '" + label + "': attribute '" + a.getName() + "' given twice");
        }
      }
      return new Node(p.getName(), opType, domain, p.getInputList(), p.getOutputList(), attrs);
    }

    private Attribute attribute(Onnx.Attribute a, String where) {
      String what = where + " attribute '" + a.getName() + "'";
      if (a.hasRefAttrName() && !a.getRefAttrName().isEmpty()) {
        throw new UnsupportedModelException(what + ": attribute references (functions) are not supported");
      }
      Onnx.Attribute.Kind kind = a.hasType() ? a.getType() : guessKind(a);
      switch (kind) {
        case FLOAT: return Attribute.ofFloat(a.getF());
        case INT: return Attribute.ofInt(a.getI());
        case STRING: return Attribute.ofString(a.getS().toStringUtf8());
        case TENSOR: return Attribute.ofTensor(OnnxTensors.fromProto(a.getT(), baseDir, what));
        case GRAPH: return Attribute.ofGraph(graph(a.getG(), false));
        case FLOATS: {
          float[] v = new float[a.getFloatsCount()];
          for (int i = 0; i < v.length; i++) {
            v[i] = a.getFloats(i);
          }
          return Attribute.ofFloats(v);
        }
        case INTS: {
          long[] v = new long[a.getIntsCount()];
          for (int i = 0; i < v.length; i++) {
            v[i] = a.getInts(i);
          }
          return Attribute.ofInts(v);
        }
        case STRINGS: {
          List<String> v = new ArrayList<>();
          a.getStringsList().forEach(s -> v.add(s.toStringUtf8()));
          return Attribute.ofStrings(v);
        }
        case TENSORS: {
          List<Tensor> v = new ArrayList<>();
          for (Onnx.Tensor t : a.getTensorsList()) {
            v.add(OnnxTensors.fromProto(t, baseDir, what));
          }
          return Attribute.ofTensors(v);
        }
        case GRAPHS: {
          List<Graph> v = new ArrayList<>();
          for (Onnx.Graph g : a.getGraphsList()) {
            v.add(graph(g, false));
          }
          return Attribute.ofGraphs(v);
        }
        default:
          throw new UnsupportedModelException(what + ": attribute kind " + kind + " is not supported");
      }
    }

    /** Very old files omit the attribute kind; infer it from which field is set. */
    private static Onnx.Attribute.Kind guessKind(Onnx.Attribute a) {
      if (a.hasF()) {
        return Onnx.Attribute.Kind.FLOAT;
      } else if (a.hasI()) {
        return Onnx.Attribute.Kind.INT;
      } else if (a.hasS()) {
        return Onnx.Attribute.Kind.STRING;
      } else if (a.hasT()) {
        return Onnx.Attribute.Kind.TENSOR;
      } else if (a.hasG()) {
        return Onnx.Attribute.Kind.GRAPH;
      } else if (a.getFloatsCount() > 0) {
        return Onnx.Attribute.Kind.FLOATS;
      } else if (a.getIntsCount() > 0) {
        return Onnx.Attribute.Kind.INTS;
      } else if (a.getStringsCount() > 0) {
        return Onnx.Attribute.Kind.STRINGS;
      }
      return Onnx.Attribute.Kind.UNDEFINED;
    }

    private static TensorType type(Onnx.ValueInfo v, String role) {
      String what = role + " '" + v.getName() + "'";
      if (!v.hasType()) {
        return TensorType.unknownShape(DType.FLOAT32);
      }
      Onnx.Type t = v.getType();
      if (!t.hasTensorType()) {
        String kind = t.hasSequenceType() ? "sequence" : t.hasMapType() ? "map" : t.hasOptionalType() ? "optional"
            : t.hasSparseTensorType() ? "sparse tensor" : "non-tensor";
        throw new UnsupportedModelException(what + ": " + kind + " values are not supported");
      }
      Onnx.Type.TensorType tt = t.getTensorType();
      DType dtype;
      try {
        dtype = DType.fromOnnx(tt.getElemType());
      } catch (IllegalArgumentException e) {
        throw new UnsupportedModelException(what + ": element type " + DType.onnxName(tt.getElemType())
            + " is not supported");
      }
      if (!tt.hasShape()) {
        return TensorType.unknownShape(dtype);
      }
      List<Dim> dims = new ArrayList<>();
      for (Onnx.Shape.Dim d : tt.getShape().getDimList()) {
        if (d.hasDimValue() && d.getDimValue() >= 0) {
          dims.add(Dim.of(d.getDimValue()));
        } else if (d.hasDimParam() && !d.getDimParam().isEmpty() && !d.getDimParam().equals(ANONYMOUS_DIM)) {
          dims.add(Dim.symbol(d.getDimParam()));
        } else {
          dims.add(Dim.unknown());
        }
      }
      return new TensorType(dtype, Shape.of(dims));
    }
  }
}
