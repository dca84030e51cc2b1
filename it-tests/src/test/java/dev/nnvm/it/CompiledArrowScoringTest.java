package dev.nnvm.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.ArrowBridge;
import dev.nnvm.arrow.BoundBatch;
import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.arrow.SchemaMapping;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.Map;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Arrow batches scored by a compiled model, the path the connectors take:
 * the bridge binds a FixedSizeList column without copying, the executor
 * writes straight into the new output column's buffer, rows with a null
 * input come back null, and every allocator returns to zero.
 */
class CompiledArrowScoringTest {
  private static final int FEATURES = 16;
  private static final String MODEL = "graph main(%x: f32[N, 16]) -> (%y: f32[N, 8]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[16, 8] = dense<" + dense(16 * 8, 0.3) + ">\n"
      + "  const %b: f32[8] = dense<" + dense(8, 0.1) + ">\n"
      + "  %m = MatMul(%x, %w)\n  %a = Add(%m, %b)\n  %y = Relu(%a)\n  return %y\n}\n";

  private BufferAllocator arrow;
  private NativeAllocator nativeMemory;

  @BeforeEach
  void open() {
    arrow = new RootAllocator();
    nativeMemory = NativeAllocator.newRoot("arrow-scoring");
  }

  @AfterEach
  void close() {
    arrow.close();
    nativeMemory.close();
  }

  private static String dense(int n, double scale) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append((float) (scale * Math.cos(i * 0.37 + 0.1)));
    }
    return sb.append(']').toString();
  }

  private FixedSizeListVector column(int rows, int nullRow, Random random) {
    FixedSizeListVector v = FixedSizeListVector.empty("features", FEATURES, arrow);
    v.addOrGetVector(FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)));
    v.allocateNew();
    Float4Vector data = (Float4Vector) v.getDataVector();
    for (int r = 0; r < rows; r++) {
      if (r == nullRow) {
        v.setNull(r);
        continue;
      }
      v.setNotNull(r);
      for (int f = 0; f < FEATURES; f++) {
        data.setSafe(r * FEATURES + f, random.nextFloat() * 2 - 1);
      }
    }
    data.setValueCount(rows * FEATURES);
    v.setValueCount(rows);
    return v;
  }

  @Test
  void batchesFlowThroughTheCompiledModelWithoutCopies() throws Exception {
    Graph g = GraphParser.parse(MODEL);
    byte[] artifact = ModelCompiler.create().compile(g, CompileOptions.defaults()).bytes();
    Random random = new Random(42);
    try (CompiledModel model = CompiledModel.load(artifact, nativeMemory);
        Executor executor = model.newExecutor(nativeMemory)) {
      SchemaMapping mapping = SchemaMapping.builder(model.inputs(), model.outputs())
          .mapInput("features", "x").mapOutput("y", "scores").build();
      try (ArrowBridge bridge = ArrowBridge.open(mapping, NullPolicy.NULL_OUTPUT, arrow, "model")) {
        long baseline = arrow.getAllocatedMemory();
        double maxAbs = 0;
        int scoredRows = 0;
        for (int batch = 0; batch < 200; batch++) {
          int rows = 1 + batch % 37;
          int nullRow = batch % 5 == 0 ? rows / 2 : -1;
          try (VectorSchemaRoot in = VectorSchemaRoot.of(column(rows, nullRow, random));
              BoundBatch bound = bridge.bind(in)) {
            NativeTensor x = bound.inputs().get("x");
            if (nullRow < 0) {
              assertTrue(bound.isZeroCopy("x"), "a batch without nulls binds in place");
              assertEquals(((FixedSizeListVector) in.getVector("features")).getDataVector().getDataBufferAddress(),
                  x.address());
            }
            executor.setInput("x", x);
            executor.setOutput("y", bound.outputs().get("y"));
            executor.run(1);
            Map<String, Tensor> want = ReferenceEvaluator.standard().run(g, Map.of("x", heap(x)));
            try (VectorSchemaRoot out = bound.finish()) {
              FixedSizeListVector scores = (FixedSizeListVector) out.getVector("scores");
              Float4Vector values = (Float4Vector) scores.getDataVector();
              assertEquals(rows, out.getRowCount());
              float[] got = new float[want.get("y").size()];
              int scored = 0;
              for (int r = 0; r < rows; r++) {
                assertEquals(r == nullRow, scores.isNull(r), "row " + r + " null");
                if (r != nullRow) {
                  for (int j = 0; j < 8; j++) {
                    got[scored * 8 + j] = values.get(r * 8 + j);
                  }
                  scored++;
                }
              }
              Comparison c = Comparison.assertClose("scores", want.get("y"), Tensor.ofFloats(want.get("y").shape(), got),
                  1e-5, 1e-6);
              maxAbs = Math.max(maxAbs, c.maxAbs());
              scoredRows += scored;
            }
            executor.setOutput("y", null);
          }
          assertEquals(baseline, arrow.getAllocatedMemory(), "Arrow memory back to its baseline after batch " + batch);
        }
        System.out.printf("compiled scoring through Arrow: 200 batches, %d rows scored, max abs err vs reference %.3g%n",
            scoredRows, maxAbs);
      }
    }
  }

  private static Tensor heap(NativeTensor t) {
    float[] v = new float[Math.toIntExact(t.elementCount())];
    t.copyTo(v);
    return Tensor.ofFloats(t.shape(), v);
  }
}
