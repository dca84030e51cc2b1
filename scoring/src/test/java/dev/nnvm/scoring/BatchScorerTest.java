package dev.nnvm.scoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.ArrowTypes;
import dev.nnvm.arrow.ColumnType;
import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.arrow.SchemaMismatchException;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The scoring core on real compiled models: batches of any size are split
 * into native runs and come back in input order, null rows follow the
 * policy, schemas are checked up front, many tasks share one load, and
 * every allocator returns to zero (each test is a leak test).
 */
class BatchScorerTest {
  private BufferAllocator arrow;

  @BeforeEach
  void open() {
    arrow = new RootAllocator();
  }

  @AfterEach
  void close() {
    assertEquals(0, arrow.getAllocatedMemory(), "Arrow memory leaked");
    arrow.close();
  }

  /** A column of rows of a static shape filled from {@code rows[r]} (null entries are null rows). */
  private VectorSchemaRoot batch(String column, long[] rowShape, float[][] rows) {
    return batch(column, rowShape, rows, arrow);
  }

  private static VectorSchemaRoot batch(String column, long[] rowShape, float[][] rows, BufferAllocator allocator) {
    Field f = ArrowTypes.field(column, new ColumnType(DType.FLOAT32, Shape.of(rowShape)));
    VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(f)), allocator);
    int n = rows.length;
    long per = Shape.of(rowShape).elementCount();
    FieldVector v = root.getVector(0);
    long entries = n;
    while (v instanceof FixedSizeListVector) {
      FixedSizeListVector l = (FixedSizeListVector) v;
      l.setInitialCapacity((int) entries);
      l.allocateNew();
      for (int i = 0; i < entries; i++) {
        l.setNotNull(i);
      }
      l.setValueCount((int) entries);
      entries *= l.getListSize();
      v = l.getDataVector();
    }
    Float4Vector leaf = (Float4Vector) v;
    leaf.allocateNew((int) entries);
    for (int r = 0; r < n; r++) {
      for (int i = 0; i < per; i++) {
        leaf.set((int) (r * per + i), rows[r] == null ? 0f : rows[r][i]);
      }
    }
    leaf.setValueCount((int) entries);
    for (int r = 0; r < n; r++) {
      if (rows[r] == null) {
        ((FixedSizeListVector) root.getVector(0)).setNull(r);
      }
    }
    root.setRowCount(n);
    return root;
  }

  private static float[][] randomRows(Random random, int n, int per, int nullEvery) {
    float[][] rows = new float[n][];
    for (int r = 0; r < n; r++) {
      if (nullEvery > 0 && r % nullEvery == nullEvery - 1) {
        continue;
      }
      rows[r] = new float[per];
      for (int i = 0; i < per; i++) {
        rows[r][i] = random.nextFloat() * 2 - 1;
      }
    }
    return rows;
  }

  private static float[] row(FixedSizeListVector v, int r) {
    Float4Vector leaf = (Float4Vector) v.getDataVector();
    float[] out = new float[v.getListSize()];
    for (int i = 0; i < out.length; i++) {
      out[i] = leaf.get(r * out.length + i);
    }
    return out;
  }

  @Test
  void largeBatchesAreSplitAndComeBackInInputOrderWithNullRows() {
    long seed = 20261207L;
    System.out.println("dense scoring, seed " + seed);
    Random random = new Random(seed);
    ScoringSpec spec = ScoringSpec.builder(TestModels.dense()).mapInput("features", "x").mapOutput("y", "scores")
        .batchSize(64).build();
    try (ModelCache cache = ModelCache.create("dense-test")) {
      try (BatchScorer scorer = BatchScorer.open(spec, arrow, cache)) {
        double maxAbs = 0;
        double maxRel = 0;
        for (int n : new int[] {1, 63, 64, 65, 1000, 0}) {
          float[][] rows = randomRows(random, n, TestModels.FEATURES, 7);
          try (VectorSchemaRoot in = batch("features", new long[] {TestModels.FEATURES}, rows);
              VectorSchemaRoot out = scorer.score(in)) {
            assertEquals(n, out.getRowCount());
            assertEquals(List.of("scores"), out.getSchema().getFields().stream().map(Field::getName).toList());
            FixedSizeListVector scores = (FixedSizeListVector) out.getVector("scores");
            for (int r = 0; r < n; r++) {
              assertEquals(rows[r] == null, scores.isNull(r), "row " + r + " of " + n + " null");
              if (rows[r] != null) {
                double[] want = TestModels.denseExpected(rows[r]);
                float[] got = row(scores, r);
                for (int j = 0; j < want.length; j++) {
                  double err = Math.abs(got[j] - want[j]);
                  maxAbs = Math.max(maxAbs, err);
                  maxRel = Math.max(maxRel, err / Math.max(1e-3, Math.abs(want[j])));
                  assertEquals(want[j], got[j], 1e-5 + 1e-5 * Math.abs(want[j]), "row " + r + " element " + j);
                }
              }
            }
          }
        }
        System.out.printf("dense scoring vs exact math: max abs %.3g, max rel %.3g%n", maxAbs, maxRel);
        // 1 + 1 + 1 + 2 + 16 native runs; the empty batch makes none (its one chunk has no rows to score).
        ScoringMetrics m = scorer.metrics();
        assertEquals(21, m.batches());
        assertEquals(1 + 63 + 64 + 65 + 1000, m.rows());
        assertTrue(m.nativeNanos() > 0);
        assertTrue(m.bytesCopied() > 0, "chunks with null rows are compacted, which copies");
        assertEquals(1, m.modelLoads());
      }
      assertEquals(1, cache.loadCount());
      assertEquals(1, cache.loadedModels(), "the model stays cached after its last lease");
      assertEquals(1, cache.evictIdle());
      assertEquals(0, cache.loadedModels());
    }
  }

  /**
   * Outputs with a variable row dimension come back as Arrow List columns (all-MiniLM-L6-v2's last_hidden_state
   * [N, seq, 384] is one): a batch larger than the batch size is scored in parts whose List columns are then
   * concatenated, nulls included. y[r][s] = (x[r][s], 2 x[r][s]).
   */
  @Test
  void listOutputsOfSplitBatchesAreConcatenatedInOrder() {
    String model = "graph seq(%x: f32[N, S]) -> (%y: f32[N, S, 2]) opset(ai.onnx=17) {\n"
        + "  const %ax: i64[1] = dense<[2]>\n  const %k: f32[2] = dense<[1.0, 2.0]>\n"
        + "  %u = Unsqueeze(%x, %ax)\n  %y = Mul(%u, %k)\n  return %y\n}\n";
    byte[] artifact = dev.nnvm.compiler.compile.ModelCompiler.create()
        .compile(dev.nnvm.compiler.text.GraphParser.parse(model),
            dev.nnvm.compiler.compile.CompileOptions.defaults().withTargets(List.of("host"))).bytes();
    ScoringSpec spec = ScoringSpec.builder(artifact).mapInput("tokens", "x").mapOutput("y", "pairs").batchSize(4)
        .build();
    int n = 11;
    int len = 5;
    Random random = new Random(20261206L);
    float[][] rows = randomRows(random, n, len, 4);
    try (BatchScorer scorer = BatchScorer.open(spec, arrow);
        org.apache.arrow.vector.complex.ListVector tokens = org.apache.arrow.vector.complex.ListVector.empty(
            "tokens", arrow)) {
      org.apache.arrow.vector.complex.impl.UnionListWriter w = tokens.getWriter();
      for (int r = 0; r < n; r++) {
        if (rows[r] == null) {
          tokens.setNull(r); // in row order: a null row's end offset is its start, the next row starts there
          continue;
        }
        w.setPosition(r);
        w.startList();
        for (float v : rows[r]) {
          w.float4().writeFloat4(v);
        }
        w.endList();
      }
      w.setValueCount(n);
      tokens.setValueCount(n);
      for (int r = 0; r < n; r++) {
        assertEquals(rows[r] == null ? null : rows[r].length, rows[r] == null ? null : tokens.getObject(r).size(),
            "input row " + r + " as built");
      }
      try (VectorSchemaRoot in = new VectorSchemaRoot(List.of(tokens));
          VectorSchemaRoot out = scorer.score(in)) {
        assertEquals(n, out.getRowCount());
        org.apache.arrow.vector.complex.ListVector pairs =
            (org.apache.arrow.vector.complex.ListVector) out.getVector("pairs");
        double maxAbs = 0;
        for (int r = 0; r < n; r++) {
          assertEquals(rows[r] == null, pairs.isNull(r), "row " + r + " null");
          if (rows[r] == null) {
            continue;
          }
          List<?> got = pairs.getObject(r);
          assertEquals(len, got.size(), "row " + r + " length");
          for (int t = 0; t < len; t++) {
            List<?> pair = (List<?>) got.get(t);
            for (int k = 0; k < 2; k++) {
              double want = (double) rows[r][t] * (k + 1);
              double err = Math.abs(((Float) pair.get(k)) - want);
              maxAbs = Math.max(maxAbs, err);
              assertTrue(err <= 1e-6, "row " + r + " token " + t + " lane " + k + ": " + pair.get(k) + " vs " + want);
            }
          }
        }
        System.out.printf("List outputs of %d rows in parts of 4 (seed 20261206): max abs err %.3g%n", n, maxAbs);
      }
    }
  }

  @Test
  void strictPolicyNamesTheRowAndColumn() {
    ScoringSpec spec = ScoringSpec.builder(TestModels.dense()).mapInput("features", "x")
        .nullPolicy(NullPolicy.STRICT).batchSize(8).build();
    float[][] rows = randomRows(new Random(3), 20, TestModels.FEATURES, 0);
    rows[13] = null;
    try (ModelCache cache = ModelCache.create("strict-test");
        BatchScorer scorer = BatchScorer.open(spec, arrow, cache);
        VectorSchemaRoot in = batch("features", new long[] {TestModels.FEATURES}, rows)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> scorer.score(in).close());
      System.out.println("STRICT: " + e.getMessage());
      assertTrue(e.getMessage().contains("row 13") && e.getMessage().contains("'features'"), e.getMessage());
    }
  }

  @Test
  void schemaProblemsAreListedTogetherBeforeAnyDataIsRead() {
    ScoringSpec spec = ScoringSpec.builder(TestModels.dense()).mapInput("features", "x").build();
    Schema wrongType = new Schema(List.of(
        ArrowTypes.field("features", new ColumnType(DType.FLOAT64, Shape.of(16)))));
    Schema wrongLength = new Schema(List.of(
        ArrowTypes.field("features", new ColumnType(DType.FLOAT32, Shape.of(15)))));
    Schema missing = new Schema(List.of(ArrowTypes.field("other", ColumnType.scalar(DType.FLOAT32))));
    try (ModelCache cache = ModelCache.create("schema-test");
        BatchScorer scorer = BatchScorer.open(spec, arrow, cache)) {
      SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> scorer.validate(wrongType));
      assertTrue(e.getMessage().contains("wrong element type"), e.getMessage());
      e = assertThrows(SchemaMismatchException.class, () -> scorer.validate(wrongLength));
      assertTrue(e.getMessage().contains("wrong per-row shape"), e.getMessage());
      e = assertThrows(SchemaMismatchException.class, () -> scorer.validate(missing));
      assertTrue(e.getMessage().contains("missing column 'features'"), e.getMessage());
      // A batch whose schema does not fit is refused before it is read.
      try (Float8Vector d = new Float8Vector("features", arrow); VectorSchemaRoot in = VectorSchemaRoot.of(d)) {
        assertThrows(SchemaMismatchException.class, () -> scorer.score(in));
      }
      assertEquals(0, scorer.metrics().batches());
    }
  }

  @Test
  void specProblemsAreListedTogether() {
    SchemaMismatchException e = assertThrows(SchemaMismatchException.class,
        () -> ScoringSpec.builder(TestModels.dense()).mapInput("features", "nope").mapOutput("z", "out")
            .dim("seq", 128).batchSize(0).threads(0).build());
    System.out.println(e.getMessage());
    assertEquals(5, e.problems().size(), e.getMessage());
    assertTrue(e.getMessage().contains("'nope'") && e.getMessage().contains("'z'")
        && e.getMessage().contains("'seq'") && e.getMessage().contains("batchSize")
        && e.getMessage().contains("threads"), e.getMessage());
  }

  @Test
  void corruptArtifactsAreRefusedWhenTheSpecIsBuilt() {
    byte[] good = TestModels.dense();
    byte[] flipped = good.clone();
    flipped[flipped.length - 100] ^= 0x5a;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScoringSpec.builder(flipped));
    System.out.println("corrupt: " + e.getMessage());
    assertTrue(e.getMessage().startsWith("not a valid NNVM artifact"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> ScoringSpec.builder("this is not a model".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertTrue(e.getMessage().startsWith("not a valid NNVM artifact"), e.getMessage());
  }

  @Test
  void specSurvivesJavaSerialization() throws Exception {
    ScoringSpec spec = ScoringSpec.builder(TestModels.dense()).mapInput("features", "x").mapOutput("y", "scores")
        .nullPolicy(NullPolicy.STRICT).threads(2).batchSize(33).build();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(spec);
    }
    ScoringSpec copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (ScoringSpec) in.readObject();
    }
    assertEquals(spec.artifactId(), copy.artifactId());
    assertEquals(Map.of("features", "x"), copy.inputColumns());
    assertEquals(Map.of("y", "scores"), copy.outputColumns());
    assertEquals(NullPolicy.STRICT, copy.nullPolicy());
    assertEquals(2, copy.threads());
    assertEquals(33, copy.batchSize());
    assertEquals(spec.inputs(), copy.inputs());
    assertEquals(spec.outputs(), copy.outputs());
    assertEquals(spec.schemaMapping().outputSchema(), copy.schemaMapping().outputSchema());
  }

  @Test
  void manyTasksShareOneLoad() throws Exception {
    ScoringSpec spec = ScoringSpec.builder(TestModels.dense()).mapInput("features", "x").batchSize(16).build();
    int tasks = 24;
    try (ModelCache cache = ModelCache.create("many-tasks")) {
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<Long>> futures = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
          long seed = 100 + t;
          futures.add(pool.submit(() -> {
            try (BufferAllocator task = arrow.newChildAllocator("task-" + seed, 0, Long.MAX_VALUE);
                BatchScorer scorer = BatchScorer.open(spec, task, cache)) {
              float[][] rows = randomRows(new Random(seed), 50, TestModels.FEATURES, 0);
              try (VectorSchemaRoot in = batch("features", new long[] {TestModels.FEATURES}, rows, task);
                  VectorSchemaRoot out = scorer.score(in)) {
                FixedSizeListVector y = (FixedSizeListVector) out.getVector("y");
                for (int r = 0; r < rows.length; r++) {
                  double[] want = TestModels.denseExpected(rows[r]);
                  float[] got = row(y, r);
                  for (int j = 0; j < want.length; j++) {
                    assertEquals(want[j], got[j], 1e-5 + 1e-5 * Math.abs(want[j]));
                  }
                }
              }
              return scorer.metrics().rows();
            }
          }));
        }
        long rows = 0;
        for (Future<Long> f : futures) {
          rows += f.get();
        }
        assertEquals(tasks * 50L, rows);
      } finally {
        pool.shutdown();
      }
      assertEquals(1, cache.loadCount(), tasks + " tasks, one load");
      assertEquals(0, cache.leases(spec.artifactId()));
    }
  }

  @Test
  void directionClassifierMatchesOnnxRuntime() throws Exception {
    byte[] artifact = TestModels.classifier();
    ScoringSpec probe = ScoringSpec.builder(artifact).build();
    String input = probe.inputs().get(0).name();
    String output = probe.outputs().get(0).name();
    assertEquals(Set.of("x"), Set.of(input));
    ScoringSpec spec = ScoringSpec.builder(artifact).mapInput("image", input).mapOutput(output, "probs")
        .batchSize(8).build();
    long seed = 4242L;
    System.out.println("direction classifier scoring, seed " + seed);
    int per = (int) Shape.of(TestModels.CLS_ROW).elementCount();
    float[][] rows = randomRows(new Random(seed), 21, per, 6);
    try (ModelCache cache = ModelCache.create("cls-test");
        BatchScorer scorer = BatchScorer.open(spec, arrow, cache);
        VectorSchemaRoot in = batch("image", TestModels.CLS_ROW, rows);
        VectorSchemaRoot out = scorer.score(in)) {
      assertTrue(scorer.metrics().batches() >= 3);
      FixedSizeListVector probs = (FixedSizeListVector) out.getVector("probs");
      List<float[]> scored = new ArrayList<>();
      for (float[] r : rows) {
        if (r != null) {
          scored.add(r);
        }
      }
      float[] x = new float[scored.size() * per];
      for (int i = 0; i < scored.size(); i++) {
        System.arraycopy(scored.get(i), 0, x, i * per, per);
      }
      float[] want = TestModels.ort(TestModels.classifierOnnx(), input, x,
          new long[] {scored.size(), 3, 48, 192}).values().iterator().next();
      int k = probs.getListSize();
      assertEquals(want.length, scored.size() * k);
      double maxAbs = 0;
      double maxRel = 0;
      int s = 0;
      for (int r = 0; r < rows.length; r++) {
        assertEquals(rows[r] == null, probs.isNull(r), "row " + r);
        if (rows[r] == null) {
          continue;
        }
        float[] got = row(probs, r);
        for (int j = 0; j < k; j++) {
          double w = want[s * k + j];
          double err = Math.abs(got[j] - w);
          maxAbs = Math.max(maxAbs, err);
          maxRel = Math.max(maxRel, err / Math.max(1e-3, Math.abs(w)));
          assertEquals(w, got[j], 1e-4 + 1e-3 * Math.abs(w), "row " + r + " class " + j);
        }
        s++;
      }
      System.out.printf("direction classifier vs ONNX Runtime (%d rows, %d null): max abs %.3g, max rel %.3g%n",
          rows.length, rows.length - scored.size(), maxAbs, maxRel);
      assertFalse(scored.isEmpty());
    }
  }
}
