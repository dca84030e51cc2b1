package dev.nnvm.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ScoringSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compare.VectorEqualsVisitor;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.junit.jupiter.api.Test;

/**
 * {@link RecordColumns.Batch}, the input batch a runner refills for every micro-batch: after each fill (fewer
 * rows, nulls where valid rows were, longer lists, more rows than it was sized for) it equals a batch written
 * fresh from the same rows, null rows of a fixed-size column hold zeros (the bridge binds that leaf as the
 * tensor), and the model's outputs on it are bit-identical to the outputs on the fresh batch.
 */
class RecordColumnsBatchTest {
  private static final long SEED = 20261206L;
  /** A fixed-size [2, 3] input, a varying-length one, and a scalar one. */
  private static final String MODEL = "graph three(%x: f32[N, 2, 3], %t: f32[N, S], %s: f32[N])"
      + " -> (%a: f32[N, 2, 3], %b: f32[N, S], %c: f32[N]) opset(ai.onnx=17) {\n"
      + "  %a = Relu(%x)\n  %b = Relu(%t)\n  %c = Relu(%s)\n  return %a, %b, %c\n}\n";

  @Test
  void refilledBatchEqualsAFreshOne() {
    System.out.println("rows seed " + SEED);
    ScoringSpec spec = ScoringSpec.builder(ModelCompiler.create().compile(GraphParser.parse(MODEL),
        CompileOptions.defaults()).bytes()).build();
    RecordColumns columns = RecordColumns.of(spec);
    assertEquals(List.of("x", "t", "s"), columns.columns());
    SplittableRandom random = new SplittableRandom(SEED);
    // rows, the null row, the list length (one per batch: the model's S)
    int[][] fills = {{8, 3, 4}, {5, 0, 2}, {5, 4, 9}, {12, 11, 30}, {3, -1, 1}};
    try (BufferAllocator allocator = new RootAllocator();
        RecordColumns.Batch batch = columns.newBatch(allocator);
        BatchScorer scorer = BatchScorer.open(spec, allocator)) {
      for (int[] fill : fills) {
        List<Object[]> rows = rows(random, fill[0], fill[1], fill[2]);
        String label = fill[0] + " rows, null row " + fill[1] + ", lists of " + fill[2];
        VectorSchemaRoot got = batch.fill(rows);
        try (VectorSchemaRoot want = columns.write(rows, allocator)) {
          assertEquals(want.getRowCount(), got.getRowCount(), label);
          for (int i = 0; i < want.getFieldVectors().size(); i++) {
            FieldVector w = want.getVector(i);
            FieldVector g = got.getVector(i);
            assertTrue(VectorEqualsVisitor.vectorEquals(w, g), label + ": column " + w.getName() + "\nwant "
                + w + "\ngot  " + g);
          }
          if (fill[1] >= 0) {
            ArrowBuf leaf = ((FixedSizeListVector) ((FixedSizeListVector) got.getVector("x")).getDataVector())
                .getDataVector().getDataBuffer();
            for (int j = 0; j < 6; j++) {
              assertEquals(0f, leaf.getFloat((fill[1] * 6L + j) * 4), label + ": null row's leaf is zero");
            }
          }
          try (VectorSchemaRoot outFresh = scorer.score(want); VectorSchemaRoot outReused = scorer.score(got)) {
            for (int i = 0; i < outFresh.getFieldVectors().size(); i++) {
              assertTrue(VectorEqualsVisitor.vectorEquals(outFresh.getVector(i), outReused.getVector(i)),
                  label + ": output " + outFresh.getVector(i).getName());
            }
            Float4Vector c = (Float4Vector) outReused.getVector("c");
            for (int r = 0; r < fill[0]; r++) {
              if (r != fill[1]) {
                assertEquals(Math.max(0f, (Float) rows.get(r)[2]), c.get(r), label + ": Relu(s) row " + r);
              }
            }
          }
        }
      }
    }
  }

  private static List<Object[]> rows(SplittableRandom random, int n, int nullRow, int length) {
    List<Object[]> rows = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      if (r == nullRow) {
        rows.add(null);
        continue;
      }
      float[] x = new float[6];
      for (int j = 0; j < x.length; j++) {
        x[j] = (float) (random.nextDouble() * 2 - 1);
      }
      float[] t = new float[length];
      for (int j = 0; j < t.length; j++) {
        t[j] = (float) (random.nextDouble() * 2 - 1);
      }
      rows.add(new Object[] {x, t, (float) (random.nextDouble() * 2 - 1)});
    }
    return rows;
  }
}
