package dev.nnvm.compiler.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.codegen.CompiledModelRunner;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Differential test of one operator: builds a one-node model, evaluates it
 * with the reference evaluator and with ONNX Runtime on fresh random inputs,
 * and compares every output (reporting max abs / rel error). The inferred
 * output types are checked against the actual results too. Then the same
 * model is compiled to native code as a user would (default optimization
 * level, host CPU), run on two threads and compared with ONNX Runtime too;
 * a model the compiler refuses (no loop lowering for the operator yet, or
 * output shapes that depend on input values) is reported as refused.
 * {@code -Dnnvm.optester.compiled=false} skips the compiled half.
 *
 * <pre>{@code
 * OpTester.op("Gemm").input("A", DType.FLOAT32, 3, 4).input("B", DType.FLOAT32, 5, 4)
 *     .attr("transB", 1).check();
 * }</pre>
 */
public final class OpTester {
  private final String opType;
  private String domain = "";
  private int domainOpset = 1;
  private int opset = 17;
  private final List<String> inputNames = new ArrayList<>();
  private final Map<String, TensorType> inputTypes = new LinkedHashMap<>();
  private final Map<String, Tensor> fixedInputs = new LinkedHashMap<>();
  private final Map<String, Tensor> constants = new LinkedHashMap<>();
  private final Map<String, Attribute> attrs = new LinkedHashMap<>();
  private List<String> outputs = List.of("out");
  private double rtol = 1e-4;
  private double atol = 1e-5;
  private final RandomTensors random = new RandomTensors();

  private static final boolean COMPILED = !"false".equals(System.getProperty("nnvm.optester.compiled"));

  private OpTester(String opType) {
    this.opType = opType;
  }

  public static OpTester op(String opType) {
    return new OpTester(opType);
  }

  public OpTester domain(String d) {
    this.domain = d;
    return this;
  }

  /** The node's domain and that domain's opset version (the default is 1). */
  public OpTester domain(String d, int version) {
    domainOpset = version;
    return domain(d);
  }

  public OpTester opset(int v) {
    this.opset = v;
    return this;
  }

  /** A graph input filled with fresh random values of the given type. */
  public OpTester input(String name, DType t, long... shape) {
    inputNames.add(name);
    inputTypes.put(name, TensorType.of(t, shape));
    return this;
  }

  /** A graph input with the given value. */
  public OpTester input(String name, Tensor value) {
    inputNames.add(name);
    inputTypes.put(name, value.type());
    fixedInputs.put(name, value);
    return this;
  }

  /** An input that is a constant (initializer) of the model. */
  public OpTester constant(String name, Tensor value) {
    inputNames.add(name);
    constants.put(name, value);
    return this;
  }

  /** An omitted optional input. */
  public OpTester skipInput() {
    inputNames.add("");
    return this;
  }

  public OpTester attr(String name, long v) {
    attrs.put(name, Attribute.ofInt(v));
    return this;
  }

  public OpTester attr(String name, float v) {
    attrs.put(name, Attribute.ofFloat(v));
    return this;
  }

  public OpTester attr(String name, String v) {
    attrs.put(name, Attribute.ofString(v));
    return this;
  }

  public OpTester attr(String name, long... v) {
    attrs.put(name, Attribute.ofInts(v));
    return this;
  }

  public OpTester attr(String name, float... v) {
    attrs.put(name, Attribute.ofFloats(v));
    return this;
  }

  public OpTester attr(String name, Attribute a) {
    attrs.put(name, a);
    return this;
  }

  public OpTester outputs(String... names) {
    this.outputs = List.of(names);
    return this;
  }

  public OpTester tolerance(double rtol, double atol) {
    this.rtol = rtol;
    this.atol = atol;
    return this;
  }

  public RandomTensors random() {
    return random;
  }

  /** The one-node graph, with output types inferred. */
  public Graph graph() {
    Graph.Builder b = Graph.builder("test_" + opType).opset("", opset);
    if (!domain.isEmpty()) {
      b.opset(domain, domainOpset);
    }
    for (Map.Entry<String, TensorType> e : inputTypes.entrySet()) {
      b.input(e.getKey(), e.getValue());
    }
    constants.forEach(b::constant);
    b.node(new Node("node", opType, domain, inputNames, outputs, attrs));
    for (String o : outputs) {
      b.output(o, TensorType.unknownShape(DType.FLOAT32));
    }
    Graph g = b.build();
    Graph typed = TypeInference.infer(g);
    List<ValueInfo> outs = new ArrayList<>();
    for (String o : outputs) {
      TensorType t = typed.valueTypes().get(o);
      outs.add(new ValueInfo(o, t == null ? TensorType.unknownShape(DType.FLOAT32) : t));
    }
    return g.toBuilder().outputs(outs).build();
  }

  /** Runs both engines on random inputs and compares; returns our outputs. */
  public Map<String, Tensor> check() {
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (Map.Entry<String, TensorType> e : inputTypes.entrySet()) {
      Tensor fixed = fixedInputs.get(e.getKey());
      feeds.put(e.getKey(), fixed != null ? fixed : random.of(e.getValue().dtype(), e.getValue().shape().toArray()));
    }
    return check(feeds);
  }

  /** Runs both engines on the given inputs and compares; returns our outputs. */
  public Map<String, Tensor> check(Map<String, Tensor> feeds) {
    Graph g = graph();
    Map<String, Tensor> ours = ReferenceEvaluator.standard().run(g, feeds);
    Map<String, Tensor> theirs;
    try {
      theirs = OrtOracle.run(OnnxExporter.toBytes(g), feeds);
    } catch (Exception e) {
      throw new AssertionError(opType + ": ONNX Runtime failed on the model: " + e.getMessage(), e);
    }
    StringBuilder report = new StringBuilder(opType + " (seed " + random.seed() + ")");
    for (ValueInfo o : g.outputs()) {
      Tensor expected = theirs.get(o.name());
      Tensor actual = ours.get(o.name());
      assertTrue(actual != null, opType + ": output " + o.name() + " missing");
      Comparison c = Comparison.assertClose(opType + "." + o.name(), expected, actual, rtol, atol);
      checkInferred(o, actual);
      report.append("; ").append(c);
    }
    if (COMPILED) {
      report.append(compiled(g, feeds, theirs));
    }
    System.out.println(report);
    return ours;
  }

  /** The model compiled and run natively, compared with ONNX Runtime's outputs. */
  private String compiled(Graph g, Map<String, Tensor> feeds, Map<String, Tensor> theirs) {
    StringBuilder report = new StringBuilder("; compiled");
    try (NativeAllocator allocator = NativeAllocator.newRoot("op-tester-" + opType);
        CompiledModelRunner runner = CompiledModelRunner.optimizing(g, allocator)) {
      Map<String, Tensor> got = runner.run(feeds, 2);
      for (ValueInfo o : g.outputs()) {
        report.append(": ").append(Comparison.assertClose(opType + " compiled ." + o.name(), theirs.get(o.name()),
            got.get(o.name()), rtol, atol));
      }
    } catch (UnsupportedModelException e) {
      String why = String.valueOf(e.getMessage());
      report.append(": refused (").append(why.length() > 100 ? why.substring(0, 100) + "..." : why).append(')');
    }
    return report.toString();
  }

  private void checkInferred(ValueInfo o, Tensor actual) {
    TensorType t = o.type();
    assertEquals(actual.dtype(), t.dtype(), opType + "." + o.name() + ": inferred element type");
    Shape s = t.shape();
    if (!s.hasRank()) {
      return;
    }
    assertEquals(actual.rank(), s.rank(), opType + "." + o.name() + ": inferred rank of " + s);
    for (int i = 0; i < s.rank(); i++) {
      if (s.dim(i).isStatic()) {
        assertEquals(actual.dim(i), s.dim(i).value(), opType + "." + o.name() + ": inferred dim " + i + " of " + s);
      }
    }
  }
}
