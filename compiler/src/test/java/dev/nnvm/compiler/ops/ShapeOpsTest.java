package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.analysis.TypeInference;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.compiler.testing.OrtOracle;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShapeOpsTest {
  private static Tensor i64(long... v) {
    return Tensor.vector(v);
  }

  @Test
  void reshapeCopiesZeroAndInfersMinusOne() {
    OpTester.op("Reshape").opset(13).input("x", DType.FLOAT32, 2, 3, 4).constant("s", i64(0, -1)).check();
    OpTester.op("Reshape").opset(14).input("x", DType.INT64, 2, 3, 4).constant("s", i64(4, 0, 2)).check();
    OpTester.op("Reshape").opset(14).input("x", DType.FLOAT32, 2, 0, 4).constant("s", i64(0, 4, 2))
        .attr("allowzero", 1L).check();
    OpTester.op("Reshape").opset(7).input("x", DType.BOOL, 6).constant("s", i64(1, 2, 1, 3)).check();
  }

  @Test
  void flattenAxes() {
    for (long axis : new long[] {0, 1, 2, 3, -1, -3}) {
      OpTester.op("Flatten").opset(13).input("x", DType.FLOAT32, 2, 3, 4).attr("axis", axis).check();
    }
  }

  @Test
  void squeezeAndUnsqueezeAttributeAndInputForms() {
    OpTester.op("Squeeze").opset(11).input("x", DType.FLOAT32, 1, 3, 1, 2).attr("axes", -2L, 0L).check();
    OpTester.op("Squeeze").opset(13).input("x", DType.FLOAT32, 1, 3, 1, 2).constant("a", i64(2)).check();
    OpTester.op("Squeeze").opset(13).input("x", DType.INT32, 1, 3, 1, 2).check();
    OpTester.op("Squeeze").opset(13).input("x", DType.FLOAT32, 1, 3, 1).constant("a", i64()).check();
    OpTester.op("Unsqueeze").opset(11).input("x", DType.FLOAT32, 3, 2).attr("axes", 0L, -1L).check();
    OpTester.op("Unsqueeze").opset(13).input("x", DType.FLOAT32, 3, 2).constant("a", i64(3, 1)).check();
  }

  @Test
  void shapeSizeIdentity() {
    OpTester.op("Shape").opset(13).input("x", DType.FLOAT32, 2, 3, 4).check();
    OpTester.op("Shape").opset(15).input("x", DType.FLOAT32, 2, 3, 4).attr("start", -2L).check();
    OpTester.op("Shape").opset(15).input("x", DType.FLOAT32, 2, 3, 4).attr("start", 1L).attr("end", -1L).check();
    OpTester.op("Shape").opset(15).input("x", DType.FLOAT32, 2, 3, 4).attr("start", 2L).attr("end", 1L).check();
    OpTester.op("Size").opset(13).input("x", DType.INT8, 2, 3, 4).check();
    OpTester.op("Identity").opset(16).input("x", DType.FLOAT64, 5).check();
  }

  @Test
  void constantOfShapeRangeExpandEyeLike() {
    OpTester.op("ConstantOfShape").opset(20).constant("s", i64(2, 3)).check();
    OpTester.op("ConstantOfShape").opset(20).constant("s", i64(3))
        .attr("value", Attribute.ofTensor(Tensor.ofLongs(DType.INT32, new long[] {1}, 7))).check();
    OpTester.op("Range").opset(11).constant("a", Tensor.scalarFloat(1f)).constant("b", Tensor.scalarFloat(-2f))
        .constant("c", Tensor.scalarFloat(-0.7f)).check();
    OpTester.op("Range").opset(11).input("a", Tensor.scalarLong(DType.INT64, 2))
        .input("b", Tensor.scalarLong(DType.INT64, 11)).input("c", Tensor.scalarLong(DType.INT64, 3)).check();
    OpTester.op("Expand").opset(13).input("x", DType.FLOAT32, 3, 1).constant("s", i64(2, 1, 4)).check();
    OpTester.op("Expand").opset(13).input("x", DType.INT64, 2, 3).constant("s", i64(3)).check();
    OpTester.op("EyeLike").opset(9).input("x", DType.FLOAT32, 3, 4).attr("k", 1L).check();
    OpTester.op("EyeLike").opset(9).input("x", DType.FLOAT32, 4, 3).attr("k", -2L)
        .attr("dtype", (long) DType.INT32.onnxCode()).check();
  }

  // ---- type inference with symbolic dims ----

  private static Graph transformerInput() {
    return Graph.builder("t").opset("", 17).input("x", TensorType.parse("f32[N, seq, 384]")).build();
  }

  private static Map<String, TensorType> infer(Graph.Builder b, String... outputs) {
    for (String o : outputs) {
      b.output(o, TensorType.unknownShape(DType.FLOAT32));
    }
    return TypeInference.infer(b.build()).valueTypes();
  }

  private static Node node(String op, List<String> in, String out, Map<String, Attribute> attrs) {
    return new Node(out, op, "", in, List.of(out), attrs);
  }

  @Test
  void shapeOfSymbolicInputIsTypedVector() {
    Map<String, TensorType> t = infer(transformerInput().toBuilder()
        .node(node("Shape", List.of("x"), "s", Map.of())), "s");
    assertEquals(TensorType.parse("i64[3]"), t.get("s"));
  }

  @Test
  void reshapeKeepsSymbolsAndInfersMinusOne() {
    Map<String, TensorType> t = infer(transformerInput().toBuilder()
        .constant("heads", i64(0, 0, 6, 64))
        .constant("merge", i64(0, 0, -1))
        .constant("flat", i64(-1, 384))
        .node(node("Reshape", List.of("x", "heads"), "h", Map.of()))
        .node(node("Transpose", List.of("h"), "ht", Map.of("perm", Attribute.ofInts(0, 2, 1, 3))))
        .node(node("Reshape", List.of("h", "merge"), "m", Map.of()))
        .node(node("Reshape", List.of("x", "flat"), "f", Map.of())), "ht", "m", "f");
    assertEquals(TensorType.parse("f32[N, seq, 6, 64]"), t.get("h"));
    assertEquals(TensorType.parse("f32[N, 6, seq, 64]"), t.get("ht"));
    assertEquals(TensorType.parse("f32[N, seq, 384]"), t.get("m"));
    assertEquals(TensorType.parse("f32[?, 384]"), t.get("f"));
  }

  @Test
  void reshapeMinusOneTakesTheOnlyRemainingSymbol() {
    Map<String, TensorType> t = infer(Graph.builder("t").opset("", 17).input("x", TensorType.parse("f32[1, seq, 384]"))
        .constant("s", i64(-1, 384))
        .node(node("Reshape", List.of("x", "s"), "r", Map.of())), "r");
    assertEquals(TensorType.parse("f32[seq, 384]"), t.get("r"));
  }

  @Test
  void constantSliceGatherUnsqueezeConcatGiveExactShapes() {
    Map<String, TensorType> t = infer(transformerInput().toBuilder()
        .constant("starts", i64(0)).constant("ends", i64(1)).constant("axes", i64(2))
        .constant("idx", Tensor.scalarLong(DType.INT64, 1))
        .constant("ax0", i64(0))
        .constant("a", i64(2, 3)).constant("b", i64(4))
        .node(node("Slice", List.of("x", "starts", "ends", "axes"), "sl", Map.of()))
        .node(node("Gather", List.of("x", "idx"), "g", Map.of("axis", Attribute.ofInt(1))))
        .node(node("Unsqueeze", List.of("g", "ax0"), "u", Map.of()))
        .node(node("Concat", List.of("a", "b"), "c", Map.of("axis", Attribute.ofInt(0))))
        .node(node("Squeeze", List.of("u", "ax0"), "sq", Map.of())), "sl", "u", "c", "sq");
    assertEquals(TensorType.parse("f32[N, seq, 1]"), t.get("sl"));
    assertEquals(TensorType.parse("f32[1, N, 384]"), t.get("u"));
    assertEquals(TensorType.parse("i64[3]"), t.get("c"));
    assertEquals(TensorType.parse("f32[N, 384]"), t.get("sq"));
  }

  @Test
  void concatAndSplitKeepSymbolsOffTheAxis() {
    Map<String, TensorType> t = infer(transformerInput().toBuilder()
        .input("y", TensorType.parse("f32[N, seq, 128]"))
        .node(node("Concat", List.of("x", "y"), "c", Map.of("axis", Attribute.ofInt(-1))))
        .node(new Node("sp", "Split", "", List.of("c"), List.of("p0", "p1"), Map.of("axis", Attribute.ofInt(2))))
        .node(node("Concat", List.of("x", "x"), "cs", Map.of("axis", Attribute.ofInt(1)))), "p0", "p1", "cs");
    assertEquals(TensorType.parse("f32[N, seq, 512]"), t.get("c"));
    assertEquals(TensorType.parse("f32[N, seq, 256]"), t.get("p0"));
    assertEquals(TensorType.parse("f32[N, ?, 384]"), t.get("cs"));
  }

  @Test
  void shapeChainFoldsWhenInputIsStatic() {
    Map<String, TensorType> t = infer(Graph.builder("t").opset("", 17)
        .constant("x", Tensor.zeros(DType.FLOAT32, new long[] {2, 3}))
        .input("y", TensorType.parse("f32[6]"))
        .constant("i", Tensor.scalarLong(DType.INT64, 0))
        .constant("minus", i64(-1))
        .node(node("Shape", List.of("x"), "s", Map.of()))
        .node(node("Gather", List.of("s", "i"), "g", Map.of()))
        .node(node("Unsqueeze", List.of("g", "i"), "u", Map.of()))
        .node(node("Concat", List.of("u", "minus"), "c", Map.of("axis", Attribute.ofInt(0))))
        .node(node("Reshape", List.of("y", "c"), "r", Map.of())), "r");
    assertEquals(TensorType.parse("f32[2, 3]"), t.get("r"));
  }

  @Test
  void unknownShapeInputsGiveKnownRanks() {
    Map<String, TensorType> t = infer(transformerInput().toBuilder()
        .input("s", TensorType.parse("i64[4]"))
        .node(node("Reshape", List.of("x", "s"), "r", Map.of()))
        .node(node("Expand", List.of("x", "s"), "e", Map.of())), "r", "e");
    assertEquals(TensorType.parse("f32[?, ?, ?, ?]"), t.get("r"));
    assertEquals(TensorType.parse("f32[?, ?, ?, ?]"), t.get("e"));
  }

  @Test
  void layoutOpsKeepSymbolsWhereDimsAreUnchanged() {
    Map<String, TensorType> t = infer(transformerInput().toBuilder()
        .input("img", TensorType.parse("f32[N, 16, H, W]"))
        .input("ids", TensorType.parse("i64[N, seq]"))
        .constant("pads", i64(0, 0, 1, 0, 0, 3))
        .constant("reps", i64(1, 1, 2))
        .constant("e", i64(1, 1, 384))
        .constant("depth", Tensor.scalarLong(DType.INT64, 10))
        .constant("onoff", Tensor.ofFloats(new long[] {2}, 0f, 1f))
        .constant("sc", Tensor.ofFloats(new long[] {4}, 1f, 1f, 2f, 2f))
        .node(node("Pad", List.of("x", "pads"), "p", Map.of()))
        .node(node("Tile", List.of("x", "reps"), "ti", Map.of()))
        .node(node("Expand", List.of("x", "e"), "ex", Map.of()))
        .node(node("Flatten", List.of("x"), "fl", Map.of("axis", Attribute.ofInt(2))))
        .node(node("DepthToSpace", List.of("img"), "d2s", Map.of("blocksize", Attribute.ofInt(2))))
        .node(node("Gather", List.of("x", "ids"), "emb", Map.of("axis", Attribute.ofInt(2))))
        .node(node("OneHot", List.of("ids", "depth", "onoff"), "oh", Map.of()))
        .node(node("NonZero", List.of("ids"), "nz", Map.of()))
        .node(node("Trilu", List.of("x"), "tri", Map.of()))
        .node(new Node("rs", "Resize", "", List.of("img", "", "sc"), List.of("rs"), Map.of())),
        "p", "ti", "ex", "fl", "d2s", "emb", "oh", "nz", "tri", "rs");
    assertEquals(TensorType.parse("f32[N, seq, 388]"), t.get("p"));
    assertEquals(TensorType.parse("f32[N, seq, 768]"), t.get("ti"));
    assertEquals(TensorType.parse("f32[N, seq, 384]"), t.get("ex"));
    assertEquals(TensorType.parse("f32[?, 384]"), t.get("fl"));
    assertEquals(TensorType.parse("f32[N, 4, ?, ?]"), t.get("d2s"));
    assertEquals(TensorType.parse("f32[N, seq, N, seq]"), t.get("emb"));
    assertEquals(TensorType.parse("f32[N, seq, 10]"), t.get("oh"));
    assertEquals(TensorType.parse("i64[2, ?]"), t.get("nz"));
    assertEquals(TensorType.parse("f32[N, seq, 384]"), t.get("tri"));
    assertEquals(TensorType.parse("f32[N, 16, ?, ?]"), t.get("rs"));
  }

  /** The head-split chain of exported transformers, on a symbolic input, run by both engines. */
  @Test
  void shapeGatherUnsqueezeConcatReshapeChainMatchesOnnxRuntime() throws Exception {
    Graph g = transformerInput().toBuilder()
        .constant("i0", Tensor.scalarLong(DType.INT64, 0))
        .constant("i1", Tensor.scalarLong(DType.INT64, 1))
        .constant("ax", i64(0))
        .constant("tail", i64(6, 64))
        .node(node("Shape", List.of("x"), "s", Map.of()))
        .node(node("Gather", List.of("s", "i0"), "n", Map.of()))
        .node(node("Gather", List.of("s", "i1"), "q", Map.of()))
        .node(node("Unsqueeze", List.of("n", "ax"), "nu", Map.of()))
        .node(node("Unsqueeze", List.of("q", "ax"), "qu", Map.of()))
        .node(node("Concat", List.of("nu", "qu", "tail"), "shape", Map.of("axis", Attribute.ofInt(0))))
        .node(node("Reshape", List.of("x", "shape"), "h", Map.of()))
        .node(node("Transpose", List.of("h"), "y", Map.of("perm", Attribute.ofInts(0, 2, 1, 3))))
        .output("y", TensorType.unknownShape(DType.FLOAT32))
        .build();
    Map<String, TensorType> types = TypeInference.infer(g).valueTypes();
    assertEquals(TensorType.parse("i64[]"), types.get("n"));
    assertEquals(TensorType.parse("i64[4]"), types.get("shape"));
    // Shape values flow through the chain, so the head split keeps N and seq symbolic.
    assertEquals(TensorType.parse("f32[N, 6, seq, 64]"), types.get("y"));
    Map<String, Tensor> feeds = Map.of("x", new RandomTensors(3).of(DType.FLOAT32, 2, 5, 384));
    Tensor ours = ReferenceEvaluator.standard().run(g, feeds).get("y");
    Tensor theirs = OrtOracle.run(OnnxExporter.toBytes(g), feeds).get("y");
    assertEquals(theirs, ours);
    assertEquals(TensorType.parse("f32[2, 6, 5, 64]"), ours.type());
  }

  @Test
  void badReshapeNamesTheNode() {
    ModelException e = assertThrows(ModelException.class, () -> infer(transformerInput().toBuilder()
        .constant("s", i64(0, 0, 7, 64))
        .node(node("Reshape", List.of("x", "s"), "bad", Map.of())), "bad"));
    assertTrue(e.getMessage().contains("Reshape 'bad'"), e.getMessage());
    ModelException sq = assertThrows(ModelException.class, () -> infer(transformerInput().toBuilder()
        .constant("a", i64(2))
        .node(node("Squeeze", List.of("x", "a"), "sq", Map.of())), "sq"));
    assertTrue(sq.getMessage().contains("Squeeze 'sq'") && sq.getMessage().contains("384"), sq.getMessage());
  }
}
