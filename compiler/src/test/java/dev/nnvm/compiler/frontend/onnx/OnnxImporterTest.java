package dev.nnvm.compiler.frontend.onnx;

import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.floatAttr;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.graphAttr;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.intAttr;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.model;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.node;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.stringAttr;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.tensorAttr;
import static dev.nnvm.compiler.frontend.onnx.OnnxProtos.tensorInfo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.runtime.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OnnxImporterTest {
  private static final OnnxImporter IMPORTER = new OnnxImporter(OpRegistry.standard());

  private static Graph read(Onnx.Model m) {
    return IMPORTER.read(m.toByteArray(), null, "model");
  }

  private static <E extends Throwable> String error(Class<E> type, Onnx.Model m) {
    return error(type, m.toByteArray());
  }

  private static <E extends Throwable> String error(Class<E> type, byte[] bytes) {
    return assertThrows(type, () -> IMPORTER.read(bytes, null, "model")).getMessage();
  }

  private static Onnx.Graph.Builder graph() {
    return Onnx.Graph.newBuilder().setName("g");
  }

  private static Onnx.Model reluModel(int opset) {
    return model(opset, graph().addInput(tensorInfo("x", DType.FLOAT32, 2))
        .addNode(node("relu", "Relu", List.of("x"), List.of("y")))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build());
  }

  @Test
  void initializersBecomeConstantsNotInputs() {
    Onnx.Tensor w = OnnxTensors.toProto(Tensor.ofFloats(new long[] {2}, 3f, 4f), "w");
    Onnx.Model m = OnnxProtos.addModel(w);
    // Older exporters also list initializers as graph inputs; they stay constants.
    m = m.toBuilder().setGraph(m.getGraph().toBuilder().addInput(tensorInfo("w", DType.FLOAT32, 2))).build();
    Graph g = read(m);
    assertEquals(List.of("x"), g.inputs().stream().map(v -> v.name()).toList());
    assertEquals(Tensor.ofFloats(new long[] {2}, 3f, 4f), g.constants().get("w"));
    assertEquals(TensorType.of(DType.FLOAT32, 2), g.outputs().get(0).type());
    assertEquals(Map.of("", 17), g.opsets());
  }

  @Test
  void initializerWithoutANameIsRefused() {
    Onnx.Tensor w = OnnxTensors.toProto(Tensor.ofFloats(new long[] {2}, 3f, 4f), "");
    assertTrue(error(ModelException.class, OnnxProtos.addModel(w)).contains("an initializer has no name"));
  }

  private static Graph constantModel(Onnx.Attribute value) {
    return read(model(17, graph().addNode(node("c", "Constant", List.of(), List.of("y"), value))
        .addOutput(Onnx.ValueInfo.newBuilder().setName("y")).build()));
  }

  @Test
  void constantNodesOfEveryNumericFormBecomeConstants() {
    Tensor t = Tensor.ofLongs(DType.INT32, new long[] {2, 1}, 7, -7);
    assertEquals(t, constantModel(tensorAttr("value", OnnxTensors.toProto(t, ""))).constants().get("y"));
    assertEquals(Tensor.scalarFloat(2.5f), constantModel(floatAttr("value_float", 2.5f)).constants().get("y"));
    assertEquals(Tensor.scalarLong(DType.INT64, -3), constantModel(intAttr("value_int", -3)).constants().get("y"));
    Onnx.Attribute floats = Onnx.Attribute.newBuilder().setName("value_floats").setType(Onnx.Attribute.Kind.FLOATS)
        .addFloats(1f).addFloats(2f).build();
    assertEquals(Tensor.ofFloats(new long[] {2}, 1f, 2f), constantModel(floats).constants().get("y"));
    Onnx.Attribute ints = Onnx.Attribute.newBuilder().setName("value_ints").setType(Onnx.Attribute.Kind.INTS)
        .addInts(4).addInts(5).addInts(6).build();
    assertEquals(Tensor.vector(4, 5, 6), constantModel(ints).constants().get("y"));
    for (Graph g : List.of(constantModel(floats), constantModel(ints))) {
      assertTrue(g.nodes().isEmpty(), "folded Constant nodes leave no node");
    }
  }

  @Test
  void stringConstantsEvaluate() {
    Graph one = constantModel(stringAttr("value_string", "héllo"));
    assertEquals(Tensor.ofStrings(new long[0], "héllo"),
        ReferenceEvaluator.standard().run(one, Map.of()).get("y"));
    Onnx.Attribute strings = Onnx.Attribute.newBuilder().setName("value_strings")
        .setType(Onnx.Attribute.Kind.STRINGS).addStrings(ByteString.copyFromUtf8("a"))
        .addStrings(ByteString.copyFromUtf8("b")).build();
    assertEquals(Tensor.ofStrings(new long[] {2}, "a", "b"),
        ReferenceEvaluator.standard().run(constantModel(strings), Map.of()).get("y"));
  }

  @Test
  void attributeKindIsInferredWhenOldFilesOmitIt() {
    Onnx.Attribute untyped = Onnx.Attribute.newBuilder().setName("value_int").setI(9).build();
    assertEquals(Tensor.scalarLong(DType.INT64, 9), constantModel(untyped).constants().get("y"));
  }

  @ParameterizedTest
  @ValueSource(ints = {OnnxImporter.MIN_OPSET, 13, OnnxImporter.MAX_OPSET})
  void acceptsOpsetsInRange(int opset) {
    assertEquals(opset, read(reluModel(opset)).opsets().get(""));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, OnnxImporter.MIN_OPSET - 1, OnnxImporter.MAX_OPSET + 1})
  void refusesOpsetsOutOfRange(int opset) {
    String msg = error(UnsupportedModelException.class, reluModel(opset));
    assertEquals("model: ONNX opset " + opset + " is not supported (supported: " + OnnxImporter.MIN_OPSET + " to "
        + OnnxImporter.MAX_OPSET + ")", msg);
  }

  @Test
  void refusesAModelWithoutOpsetImports() {
    Onnx.Model m = reluModel(17).toBuilder().clearOpsetImport().build();
    assertTrue(error(ModelException.class, m).contains("imports no opset"));
  }

  @Test
  void listsEveryUnsupportedNodeWithItsOperator() {
    Onnx.Model m = model(17, graph().addInput(tensorInfo("x", DType.FLOAT32, 2))
        .addNode(node("first", "FrobnicateA", List.of("x"), List.of("a")))
        .addNode(node("ok", "Relu", List.of("a"), List.of("b")))
        .addNode(node("second", "FrobnicateB", List.of("b"), List.of("y")))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build());
    String msg = error(UnsupportedModelException.class, m);
    assertTrue(msg.startsWith("model: 2 unsupported node(s): "), msg);
    for (String part : List.of("first", "FrobnicateA", "second", "FrobnicateB")) {
      assertTrue(msg.contains(part), "message names " + part + ": " + msg);
    }
  }

  @Test
  void groupsUnsupportedNodesByOperator() {
    Onnx.Graph.Builder g = graph().addInput(tensorInfo("v0", DType.FLOAT32, 2));
    for (int i = 0; i < 5; i++) {
      g.addNode(node("f" + i, "Frob", List.of("v" + i), List.of("v" + (i + 1))));
    }
    g.addNode(node("", "Zap", List.of("v5"), List.of("y")));
    String msg = error(UnsupportedModelException.class, model(17, g.addOutput(tensorInfo("y", DType.FLOAT32, 2))
        .build()));
    assertTrue(msg.startsWith("model: 6 unsupported node(s): operator Frob is not supported (5 nodes: 'f0', 'f1', "
        + "'f2' and 2 more); operator Zap is not supported (1 node: '<y>') ["), msg);
  }

  @Test
  void listsRefusedAttributesWithTheNode() {
    Onnx.Model m = model(17, graph().addInput(tensorInfo("x", DType.FLOAT32, 2))
        .addNode(node("r", "Relu", List.of("x"), List.of("y"), intAttr("frobnication", 1)))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build());
    String msg = error(UnsupportedModelException.class, m);
    assertTrue(msg.startsWith("model: 1 unsupported node(s): Relu 'r': attribute 'frobnication' is not supported"),
        msg);
  }

  @Test
  void refusesANodeInADomainTheModelDoesNotImport() {
    Onnx.Model m = model(17, graph().addInput(tensorInfo("x", DType.FLOAT32, 2))
        .addNode(node("n", "Foo", List.of("x"), List.of("y")).toBuilder().setDomain("com.example"))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build());
    assertTrue(error(ModelException.class, m).contains("uses domain 'com.example', which the model does not import"));
  }

  @Test
  void refusesAnAttributeGivenTwice() {
    Onnx.Model m = model(17, graph().addInput(tensorInfo("x", DType.FLOAT32, 2))
        .addNode(node("r", "Relu", List.of("x"), List.of("y"), intAttr("a", 1), intAttr("a", 2)))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build());
    assertTrue(error(ModelException.class, m).contains("Relu 'r': attribute 'a' given twice"));
  }

  @Test
  void refusesModelLocalFunctions() {
    Onnx.Model m = model(17, graph().addInput(tensorInfo("x", DType.FLOAT32, 2))
        .addNode(node("call", "MyFn", List.of("x"), List.of("y")).toBuilder().setDomain("local"))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build()).toBuilder()
        .addOpsetImport(Onnx.OpsetId.newBuilder().setDomain("local").setVersion(1))
        .addFunctions(Onnx.Function.newBuilder().setName("MyFn").setDomain("local")).build();
    assertTrue(error(UnsupportedModelException.class, m).contains("model-local function MyFn"));
  }

  @Test
  void nonTensorValuesAreUnsupported() {
    Onnx.Type tensor = tensorInfo("t", DType.FLOAT32, 2).getType();
    Map<String, Onnx.Type> kinds = Map.of(
        "sequence", Onnx.Type.newBuilder().setSequenceType(Onnx.Type.SequenceType.newBuilder().setElemType(tensor))
            .build(),
        "map", Onnx.Type.newBuilder().setMapType(Onnx.Type.MapType.newBuilder().setKeyType(7).setValueType(tensor))
            .build(),
        "optional", Onnx.Type.newBuilder().setOptionalType(Onnx.Type.OptionalType.newBuilder().setElemType(tensor))
            .build());
    for (Map.Entry<String, Onnx.Type> k : kinds.entrySet()) {
      Onnx.Model m = model(17, graph().addInput(Onnx.ValueInfo.newBuilder().setName("s").setType(k.getValue()))
          .addNode(node("r", "Relu", List.of("s"), List.of("y")))
          .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build());
      assertEquals("graph input 's': " + k.getKey() + " values are not supported",
          error(UnsupportedModelException.class, m));
    }
  }

  @Test
  void unsupportedInputElementTypeIsNamed() {
    Onnx.ValueInfo complex = Onnx.ValueInfo.newBuilder().setName("z").setType(Onnx.Type.newBuilder()
        .setTensorType(Onnx.Type.TensorType.newBuilder().setElemType(15))).build();
    Onnx.Model m = model(17, graph().addInput(complex).addNode(node("r", "Relu", List.of("z"), List.of("y")))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build());
    assertEquals("graph input 'z': element type COMPLEX128 is not supported",
        error(UnsupportedModelException.class, m));
  }

  @Test
  void symbolicAndUnknownDimensionsAreKept() {
    Onnx.Shape shape = Onnx.Shape.newBuilder().addDim(Onnx.Shape.Dim.newBuilder().setDimParam("batch"))
        .addDim(Onnx.Shape.Dim.newBuilder()).addDim(Onnx.Shape.Dim.newBuilder().setDimValue(3)).build();
    Onnx.ValueInfo x = Onnx.ValueInfo.newBuilder().setName("x").setType(Onnx.Type.newBuilder()
        .setTensorType(Onnx.Type.TensorType.newBuilder().setElemType(1).setShape(shape))).build();
    Graph g = read(model(17, graph().addInput(x).addNode(node("r", "Relu", List.of("x"), List.of("y")))
        .addOutput(Onnx.ValueInfo.newBuilder().setName("y")).build()));
    assertEquals(TensorType.parse("f32[batch, ?, 3]"), g.inputs().get(0).type());
  }

  @Test
  void questionMarkDimensionsAreUnknownNotOneSymbol() {
    Onnx.Shape shape = Onnx.Shape.newBuilder().addDim(Onnx.Shape.Dim.newBuilder().setDimValue(-1))
        .addDim(Onnx.Shape.Dim.newBuilder().setDimParam("?")).addDim(Onnx.Shape.Dim.newBuilder().setDimParam("?"))
        .build();
    Onnx.ValueInfo x = Onnx.ValueInfo.newBuilder().setName("x").setType(Onnx.Type.newBuilder()
        .setTensorType(Onnx.Type.TensorType.newBuilder().setElemType(1).setShape(shape))).build();
    Graph g = read(model(17, graph().addInput(x).addNode(node("r", "Relu", List.of("x"), List.of("y")))
        .addOutput(Onnx.ValueInfo.newBuilder().setName("y")).build()));
    assertEquals(TensorType.parse("f32[?, ?, ?]"), g.inputs().get(0).type());
    Tensor input = Tensor.zeros(DType.FLOAT32, new long[] {1, 2, 3});
    assertEquals(input, ReferenceEvaluator.standard().run(g, Map.of("x", input)).get("y"));
  }

  // ---- malformed input: always a ModelException, never an unchecked exception from inside

  @Test
  void garbageBytesAreAModelException() {
    assertTrue(error(ModelException.class, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f})
        .startsWith("model is not a valid ONNX model"));
    assertTrue(error(ModelException.class, "not a model at all".getBytes()).startsWith("model"));
  }

  @Test
  void emptyBytesHaveNoGraph() {
    assertEquals("model is not a valid ONNX model: it has no graph", error(ModelException.class, new byte[0]));
  }

  @Test
  void modelWithoutAGraphIsRefused() {
    Onnx.Model m = reluModel(17).toBuilder().clearGraph().build();
    assertEquals("model is not a valid ONNX model: it has no graph", error(ModelException.class, m));
  }

  @Test
  void everyTruncationIsImportedOrRefusedCleanly() {
    Onnx.Tensor w = OnnxTensors.toProto(Tensor.ofFloats(new long[] {2}, 3f, 4f), "w");
    byte[] full = ifModel().toByteArray();
    byte[] withWeights = OnnxProtos.addModel(w).toByteArray();
    for (byte[] bytes : List.of(full, withWeights)) {
      for (int len = 0; len < bytes.length; len++) {
        importCleanly(java.util.Arrays.copyOf(bytes, len), "truncated to " + len + " bytes");
      }
    }
  }

  @Test
  void corruptedBytesAreImportedOrRefusedCleanly() {
    byte[] original = ifModel().toByteArray();
    Random random = new Random(20261125);
    for (int trial = 0; trial < 2000; trial++) {
      byte[] bytes = original.clone();
      int flips = 1 + random.nextInt(4);
      for (int i = 0; i < flips; i++) {
        bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
      }
      importCleanly(bytes, "corruption trial " + trial);
    }
  }

  private static void importCleanly(byte[] bytes, String what) {
    try {
      IMPORTER.read(bytes, null, "model");
    } catch (ModelException e) {
      assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), what + ": empty message");
    } catch (RuntimeException e) {
      fail(what + ": unchecked " + e, e);
    }
  }

  @Test
  void missingFileIsAModelException(@TempDir Path dir) {
    ModelException e = assertThrows(ModelException.class, () -> OnnxImporter.load(dir.resolve("none.onnx")));
    assertTrue(e.getMessage().startsWith("model file not found"), e.getMessage());
  }

  @Test
  void truncatedFileIsAModelException(@TempDir Path dir) throws Exception {
    byte[] bytes = reluModel(17).toByteArray();
    Path f = dir.resolve("cut.onnx");
    Files.write(f, java.util.Arrays.copyOf(bytes, bytes.length - 3));
    ModelException e = assertThrows(ModelException.class, () -> OnnxImporter.load(f));
    assertTrue(e.getMessage().startsWith("cut.onnx"), e.getMessage());
  }

  // ---- sub-graphs

  /** y = If(cond) then x + [10, 20] (a sub-graph initializer) else Relu(x); both branches read the outer x. */
  static Onnx.Model ifModel() {
    Onnx.Graph thenBranch = Onnx.Graph.newBuilder().setName("then")
        .addInitializer(OnnxTensors.toProto(Tensor.ofFloats(new long[] {2}, 10f, 20f), "ten"))
        .addNode(node("then_add", "Add", List.of("x", "ten"), List.of("then_out")))
        .addOutput(tensorInfo("then_out", DType.FLOAT32, 2)).build();
    Onnx.Graph elseBranch = Onnx.Graph.newBuilder().setName("else")
        .addNode(node("else_relu", "Relu", List.of("x"), List.of("else_out")))
        .addOutput(tensorInfo("else_out", DType.FLOAT32, 2)).build();
    return model(17, graph()
        .addInput(tensorInfo("cond", DType.BOOL))
        .addInput(tensorInfo("x", DType.FLOAT32, 2))
        .addNode(node("if", "If", List.of("cond"), List.of("y"), graphAttr("then_branch", thenBranch),
            graphAttr("else_branch", elseBranch)))
        .addOutput(tensorInfo("y", DType.FLOAT32, 2)).build());
  }

  @Test
  void ifSubGraphsImportAndEvaluate() {
    Graph g = read(ifModel());
    assertEquals(1, g.nodes().size());
    List<Graph> branches = g.nodes().get(0).subgraphs();
    assertEquals(2, branches.size());
    assertEquals(Tensor.ofFloats(new long[] {2}, 10f, 20f), branches.get(0).constants().get("ten"));
    Tensor x = Tensor.ofFloats(new long[] {2}, -1f, 2f);
    ReferenceEvaluator eval = ReferenceEvaluator.standard();
    assertEquals(Tensor.ofFloats(new long[] {2}, 9f, 22f),
        eval.run(g, Map.of("cond", Tensor.ofBools(new long[0], true), "x", x)).get("y"));
    Comparison.assertClose("else", Tensor.ofFloats(new long[] {2}, 0f, 2f),
        eval.run(g, Map.of("cond", Tensor.ofBools(new long[0], false), "x", x)).get("y"), 0, 0);
  }

  @Test
  void unsupportedNodesInsideSubGraphsAreListed() {
    Onnx.Model m = ifModel();
    Onnx.Graph.Builder g = m.getGraph().toBuilder();
    Onnx.Node.Builder ifNode = g.getNode(0).toBuilder();
    Onnx.Graph elseBranch = ifNode.getAttribute(1).getG().toBuilder()
        .setNode(0, node("deep", "Frobnicate", List.of("x"), List.of("else_out"))).build();
    ifNode.setAttribute(1, graphAttr("else_branch", elseBranch));
    String msg = error(UnsupportedModelException.class, m.toBuilder().setGraph(g.setNode(0, ifNode)).build());
    assertTrue(msg.contains("deep") && msg.contains("Frobnicate"), msg);
  }

  @Test
  void exportedGraphsImportBackEqual() {
    Graph g = read(ifModel());
    assertEquals(g, read(OnnxExporter.toProto(g)));
  }
}
