package dev.nnvm.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStatusCode;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Server and clients in one JVM on loopback: answers bit-identical to local
 * {@link BatchScorer} runs, concurrent clients under a run limit, tokens,
 * refused uploads, bad batches, clients that go away, draining on close.
 * Every test closes its server (which fails if the server leaked Arrow
 * memory) and its client allocator (checked to be back at zero).
 */
class NnvmFlightServerTest {
  private static final String TOKEN = "s3cret-token-for-tests";

  private BufferAllocator arrow;
  private final List<NnvmFlightServer> servers = new ArrayList<>();

  @BeforeEach
  void open() {
    arrow = new RootAllocator();
  }

  @AfterEach
  void close() {
    for (NnvmFlightServer s : servers) {
      s.close();
      assertEquals(0, s.nativeBytes(), "the server's model memory is back to zero");
    }
    assertEquals(0, arrow.getAllocatedMemory(), "client Arrow memory leaked");
    arrow.close();
  }

  private NnvmFlightServer start(ServerOptions.Builder options) {
    NnvmFlightServer s = NnvmFlightServer.start(options.port(0).build());
    servers.add(s);
    return s;
  }

  private NnvmFlightClient client(NnvmFlightServer server, String token) {
    return NnvmFlightClient.builder(server.uri()).token(token).allocator(arrow).connect();
  }

  /** The local reference: the same spec a server builds (one native run per batch), on this JVM's runtime. */
  private static ScoringSpec localSpec(int variant, int maxBatchRows) {
    return ScoringSpec.builder(TestModels.dense(variant)).batchSize(maxBatchRows).build();
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }

  private static FlightStatusCode status(Runnable call) {
    return assertThrows(FlightRuntimeException.class, call::run).status().code();
  }

  @Test
  void answersAreBitIdenticalToLocalScoringAndListedWithMetadata() {
    long seed = 20261206L;
    Random random = new Random(seed);
    NnvmFlightServer server = start(ServerOptions.builder().maxBatchRows(512));
    int[] sizes = {1, 7, 64, 300, 0, 512};
    double maxAbs = 0;
    try (NnvmFlightClient client = client(server, null);
        ModelCache cache = ModelCache.create("local-reference")) {
      RemoteModel model = client.upload(TestModels.dense(0));
      assertEquals(model.hash(), client.upload(TestModels.dense(0)).hash(), "a second upload finds the model");
      assertEquals(1, server.loadedModels());
      ModelInfo info = client.model(model.hash()).info();
      assertEquals("dense0", info.name());
      assertEquals(List.of("N"), info.symbols());
      assertEquals(List.of(new ModelInfo.TensorInfo("x", "f32", "[N, 16]")), info.inputs());
      assertEquals(List.of(new ModelInfo.TensorInfo("y", "f32", "[N, 8]"), new ModelInfo.TensorInfo("a", "f32",
          "[N, 8]")), info.outputs());
      assertTrue(info.weightsBytes() >= (16 * 8 + 8) * 4, "weights: " + info.weightsBytes());
      assertEquals(TestModels.dense(0).length, info.artifactBytes());
      try (BatchScorer local = BatchScorer.open(localSpec(0, 512), arrow, cache);
          RemoteSession session = model.session()) {
        for (int n : sizes) {
          float[][] rows = TestModels.randomRows(random, n, 5);
          try (VectorSchemaRoot in = TestModels.batch(rows, arrow);
              VectorSchemaRoot expected = local.score(in);
              VectorSchemaRoot remote = session.score(in);
              VectorSchemaRoot single = model.score(in)) {
            Outputs.assertBitIdentical(expected, remote, n + " rows through a session");
            Outputs.assertBitIdentical(expected, single, n + " rows through score()");
            maxAbs = Math.max(maxAbs, Outputs.maxAbsError(rows, remote, 0));
          }
        }
        session.finish();
      }
      ModelInfo after = client.list().get(0);
      long rows = 2L * java.util.Arrays.stream(sizes).sum();
      assertEquals(rows, after.rows(), "rows the server counted");
      assertEquals(2L * sizes.length, after.batches(), "batches the server counted");
      assertEquals(0, after.exchanges(), "no exchange open any more");
    }
    System.out.printf("seed %d: %d batches bit-identical to local BatchScorer runs, max abs error vs double"
        + " precision %.3g%n", seed, sizes.length, maxAbs);
    assertTrue(maxAbs < 1e-5, "max abs error " + maxAbs);
  }

  @Test
  void streamsManyBatchesInOrderWithAWindow() {
    long seed = 77L;
    Random random = new Random(seed);
    NnvmFlightServer server = start(ServerOptions.builder());
    List<float[][]> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      all.add(TestModels.randomRows(random, 1 + random.nextInt(100), 0));
    }
    double[] maxAbs = {0};
    int[] seen = {0};
    try (NnvmFlightClient client = client(server, null)) {
      RemoteModel model = client.upload(TestModels.dense(0));
      List<VectorSchemaRoot> batches = new ArrayList<>();
      try (RemoteSession session = model.session()) {
        for (float[][] rows : all) {
          batches.add(TestModels.batch(rows, arrow));
        }
        long scored = session.scoreAll(batches.iterator(), out -> {
          float[][] rows = all.get(seen[0]++);
          assertEquals(rows.length, out.getRowCount(), "answer " + (seen[0] - 1) + " is its batch's");
          maxAbs[0] = Math.max(maxAbs[0], Outputs.maxAbsError(rows, out, 0));
        }, 3);
        session.finish();
        assertEquals(all.size(), scored);
      } finally {
        batches.forEach(VectorSchemaRoot::close);
      }
    }
    System.out.printf("seed %d: %d streamed batches in order, max abs error %.3g%n", seed, seen[0], maxAbs[0]);
    assertEquals(all.size(), seen[0]);
    assertTrue(maxAbs[0] < 1e-5, "max abs error " + maxAbs[0]);
  }

  @Test
  void concurrentClientsShareOneModelUnderTheRunLimit() throws Exception {
    long seed = 4242L;
    NnvmFlightServer server = start(ServerOptions.builder().token(TOKEN).maxConcurrentRuns(2).maxBatchRows(256));
    int clients = 4;
    int batchesEach = 6;
    List<List<float[][]>> inputs = new ArrayList<>();
    Random random = new Random(seed);
    for (int c = 0; c < clients; c++) {
      List<float[][]> mine = new ArrayList<>();
      for (int b = 0; b < batchesEach; b++) {
        mine.add(TestModels.randomRows(random, 1 + random.nextInt(256), 9));
      }
      inputs.add(mine);
    }
    String hash;
    try (NnvmFlightClient uploader = client(server, TOKEN)) {
      hash = uploader.upload(TestModels.dense(1)).hash();
    }
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try (ModelCache cache = ModelCache.create("local-reference");
        BatchScorer local = BatchScorer.open(localSpec(1, 256), arrow, cache)) {
      List<Future<Double>> results = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        List<float[][]> mine = inputs.get(c);
        results.add(pool.submit(() -> {
          double max = 0;
          try (NnvmFlightClient client = client(server, TOKEN); RemoteSession s = client.session(hash)) {
            for (float[][] rows : mine) {
              try (VectorSchemaRoot in = TestModels.batch(rows, arrow); VectorSchemaRoot out = s.score(in)) {
                max = Math.max(max, Outputs.maxAbsError(rows, out, 1));
              }
            }
            s.finish();
          }
          return max;
        }));
      }
      double maxAbs = 0;
      for (Future<Double> f : results) {
        maxAbs = Math.max(maxAbs, f.get(60, TimeUnit.SECONDS));
      }
      // The same batches locally, after the fact: every remote answer equals its local run bit for bit.
      try (NnvmFlightClient client = client(server, TOKEN); RemoteSession s = client.session(hash)) {
        for (List<float[][]> mine : inputs) {
          for (float[][] rows : mine) {
            try (VectorSchemaRoot in = TestModels.batch(rows, arrow); VectorSchemaRoot expected = local.score(in);
                VectorSchemaRoot remote = s.score(in)) {
              Outputs.assertBitIdentical(expected, remote, rows.length + " rows");
            }
          }
        }
        s.finish();
      }
      System.out.printf("seed %d: %d clients x %d batches, peak %d concurrent native runs (limit 2), max abs error"
          + " %.3g%n", seed, clients, batchesEach, server.peakConcurrentRuns(), maxAbs);
      assertTrue(maxAbs < 1e-5, "max abs error " + maxAbs);
      assertTrue(server.peakConcurrentRuns() >= 1 && server.peakConcurrentRuns() <= 2,
          "peak concurrent runs " + server.peakConcurrentRuns());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void callsWithoutTheRightTokenAreRefused() {
    NnvmFlightServer server = start(ServerOptions.builder().token(TOKEN));
    try (NnvmFlightClient none = client(server, null);
        NnvmFlightClient wrong = client(server, TOKEN + "x");
        NnvmFlightClient prefix = client(server, TOKEN.substring(0, 5));
        NnvmFlightClient right = client(server, TOKEN)) {
      for (NnvmFlightClient c : List.of(none, wrong, prefix)) {
        assertEquals(FlightStatusCode.UNAUTHENTICATED, status(c::list));
        assertEquals(FlightStatusCode.UNAUTHENTICATED, status(() -> c.upload(TestModels.dense(0))));
      }
      assertEquals(0, server.loadedModels(), "no upload got through");
      String hash = right.upload(TestModels.dense(0)).hash();
      try (VectorSchemaRoot in = TestModels.batch(TestModels.randomRows(new Random(1), 3, 0), arrow)) {
        FlightRuntimeException e = assertThrows(FlightRuntimeException.class, () -> wrong.score(hash, in));
        assertEquals(FlightStatusCode.UNAUTHENTICATED, e.status().code());
        assertTrue(e.getMessage().contains("wrong bearer token"), e.getMessage());
        try (VectorSchemaRoot out = right.score(hash, in)) {
          assertEquals(3, out.getRowCount());
        }
      }
      assertEquals(1, right.list().size());
    }
  }

  @Test
  void aBindBeyondLoopbackNeedsAToken() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ServerOptions.builder().bind("0.0.0.0").build());
    assertTrue(e.getMessage().contains("needs a token"), e.getMessage());
    assertEquals("0.0.0.0", ServerOptions.builder().bind("0.0.0.0").token(TOKEN).build().bind());
    IllegalArgumentException tls = assertThrows(IllegalArgumentException.class,
        () -> ServerOptions.builder().tls(java.nio.file.Path.of("cert.pem"), null).maxBatchRows(0).build());
    assertTrue(tls.getMessage().contains("both a certificate and a key"), tls.getMessage());
    assertTrue(tls.getMessage().contains("maxBatchRows"), tls.getMessage());
  }

  @Test
  void corruptedAndOversizedUploadsAreRefused() {
    byte[] good = TestModels.dense(0);
    NnvmFlightServer server = start(ServerOptions.builder().maxUploadBytes(good.length + 100));
    try (NnvmFlightClient client = client(server, null)) {
      byte[] flipped = good.clone();
      flipped[flipped.length / 2] ^= 0x20;
      FlightRuntimeException e = assertThrows(FlightRuntimeException.class, () -> client.upload(flipped));
      assertEquals(FlightStatusCode.INVALID_ARGUMENT, e.status().code());
      assertTrue(e.getMessage().contains("not a valid NNVM artifact"), e.getMessage());
      byte[] truncated = java.util.Arrays.copyOf(good, good.length - 10);
      assertEquals(FlightStatusCode.INVALID_ARGUMENT, status(() -> client.upload(truncated)));
      byte[] newer = good.clone();
      newer[11] = 9;
      FlightRuntimeException version = assertThrows(FlightRuntimeException.class, () -> client.upload(newer));
      assertTrue(version.getMessage().contains("format 9"), version.getMessage());

      byte[] big = java.util.Arrays.copyOf(good, good.length + 101);
      FlightRuntimeException over = assertThrows(FlightRuntimeException.class, () -> client.upload(big));
      assertEquals(FlightStatusCode.RESOURCE_EXHAUSTED, over.status().code());
      assertTrue(over.getMessage().contains("at most " + (good.length + 100) + " bytes"), over.getMessage());
      byte[] huge = new byte[good.length + 100 + (2 << 20)];
      assertEquals(FlightStatusCode.RESOURCE_EXHAUSTED, status(() -> client.upload(huge)),
          "beyond the gRPC message limit the transport refuses it");
      assertEquals(0, server.loadedModels());
      assertEquals(List.of(), client.list());
      assertEquals(good.length, client.upload(good).info().artifactBytes(), "the server still takes a good one");
    }
  }

  @Test
  void aServerWithAnUploadKeyTakesOnlyUploadsSignedWithIt() {
    byte[] key = "upload-key".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    NnvmFlightServer server = start(ServerOptions.builder().token(TOKEN).uploadKey(key));
    try (NnvmFlightClient unsigned = client(server, TOKEN);
        NnvmFlightClient wrongKey = NnvmFlightClient.builder(server.uri()).token(TOKEN).allocator(arrow)
            .uploadKey("other-key".getBytes(java.nio.charset.StandardCharsets.UTF_8)).connect();
        NnvmFlightClient signed = NnvmFlightClient.builder(server.uri()).token(TOKEN).allocator(arrow)
            .uploadKey(key).connect()) {
      FlightRuntimeException e = assertThrows(FlightRuntimeException.class,
          () -> unsigned.upload(TestModels.dense(0)));
      assertEquals(FlightStatusCode.UNAUTHENTICATED, e.status().code());
      assertTrue(e.getMessage().contains("signed uploads only"), e.getMessage());
      FlightRuntimeException w = assertThrows(FlightRuntimeException.class,
          () -> wrongKey.upload(TestModels.dense(0)));
      assertEquals(FlightStatusCode.UNAUTHENTICATED, w.status().code());
      assertTrue(w.getMessage().contains("signature does not match"), w.getMessage());
      assertEquals(0, server.loadedModels());
      RemoteModel model = signed.upload(TestModels.dense(0));
      assertEquals(List.of(model.hash()), unsigned.list().stream().map(ModelInfo::hash).toList(),
          "calls other than uploads need only the token");
    }
  }

  @Test
  void theLoadedModelLimitHoldsUntilOneIsUnloaded() {
    NnvmFlightServer server = start(ServerOptions.builder().maxLoadedModels(1));
    try (NnvmFlightClient client = client(server, null)) {
      RemoteModel first = client.upload(TestModels.dense(0));
      FlightRuntimeException e = assertThrows(FlightRuntimeException.class, () -> client.upload(TestModels.dense(1)));
      assertEquals(FlightStatusCode.RESOURCE_EXHAUSTED, e.status().code());
      assertTrue(e.getMessage().contains("--max-loaded-models"), e.getMessage());
      first.unload();
      assertEquals(0, server.nativeBytes(), "weights freed on unload");
      assertEquals(FlightStatusCode.NOT_FOUND, status(() -> client.model(first.hash())));
      assertEquals(FlightStatusCode.NOT_FOUND, status(first::unload));
      RemoteModel second = client.upload(TestModels.dense(1));
      assertNotEquals(first.hash(), second.hash());
      assertEquals(List.of("dense1"), client.list().stream().map(ModelInfo::name).toList());
    }
  }

  @Test
  void aBadBatchFailsOnlyItsOwnCall() throws Exception {
    NnvmFlightServer server = start(ServerOptions.builder().maxBatchRows(100));
    Random random = new Random(99);
    try (NnvmFlightClient client = client(server, null)) {
      RemoteModel model = client.upload(TestModels.dense(0));
      try (RemoteSession steady = model.session()) {
        float[][] rows = TestModels.randomRows(random, 10, 0);
        try (VectorSchemaRoot in = TestModels.batch(rows, arrow); VectorSchemaRoot out = steady.score(in)) {
          assertEquals(10, out.getRowCount());
        }

        // x as f64: narrowing to the model's f32 is refused, naming the column.
        try (VectorSchemaRoot wrongType = doubles(3)) {
          FlightRuntimeException e = assertThrows(FlightRuntimeException.class, () -> model.score(wrongType));
          assertEquals(FlightStatusCode.INVALID_ARGUMENT, e.status().code());
          assertTrue(e.getMessage().contains("'x'") && e.getMessage().contains("dense0"), e.getMessage());
        }
        // A List column whose row 2 has 15 values instead of 16.
        try (VectorSchemaRoot shortRow = lists(new int[] {16, 16, 15, 16})) {
          FlightRuntimeException e = assertThrows(FlightRuntimeException.class, () -> model.score(shortRow));
          assertEquals(FlightStatusCode.INVALID_ARGUMENT, e.status().code());
          assertTrue(e.getMessage().contains("column 'x'") && e.getMessage().contains("row 2"), e.getMessage());
        }
        // More rows than the server's limit.
        try (VectorSchemaRoot tooMany = TestModels.batch(TestModels.randomRows(random, 101, 0), arrow)) {
          FlightRuntimeException e = assertThrows(FlightRuntimeException.class, () -> model.score(tooMany));
          assertEquals(FlightStatusCode.INVALID_ARGUMENT, e.status().code());
          assertTrue(e.getMessage().contains("101 rows"), e.getMessage());
        }
        // A null row under STRICT names the row.
        try (RemoteSession strict = model.session(NullPolicy.STRICT);
            VectorSchemaRoot withNull = TestModels.batch(TestModels.randomRows(random, 4, 2), arrow)) {
          FlightRuntimeException e = assertThrows(FlightRuntimeException.class, () -> strict.score(withNull));
          assertEquals(FlightStatusCode.INVALID_ARGUMENT, e.status().code());
          assertTrue(e.getMessage().contains("row 1"), e.getMessage());
        }
        // An unknown model.
        try (VectorSchemaRoot in = TestModels.batch(rows, arrow)) {
          assertEquals(FlightStatusCode.NOT_FOUND, status(() -> client.score("0".repeat(64), in)));
        }

        // The session opened before all this goes on.
        float[][] more = TestModels.randomRows(random, 50, 0);
        try (VectorSchemaRoot in = TestModels.batch(more, arrow); VectorSchemaRoot out = steady.score(in)) {
          assertTrue(Outputs.maxAbsError(more, out, 0) < 1e-5);
        }
        steady.finish();
      }
      assertEquals(1, server.loadedModels());
      // The client sees an exchange end before the server's handler has returned: wait for it, briefly.
      await(() -> server.callsInFlight() == 0, "every call of this test ended on the server");
    }
  }

  private VectorSchemaRoot doubles(int n) {
    Field leaf = new Field("$data$", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)),
        null);
    Field x = new Field("x", FieldType.nullable(new ArrowType.FixedSizeList(16)), List.of(leaf));
    VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(x)), arrow);
    FixedSizeListVector v = (FixedSizeListVector) root.getVector(0);
    v.allocateNew();
    Float8Vector d = (Float8Vector) v.getDataVector();
    d.allocateNew(n * 16);
    for (int i = 0; i < n * 16; i++) {
      d.set(i, i * 0.01);
    }
    d.setValueCount(n * 16);
    for (int r = 0; r < n; r++) {
      v.setNotNull(r);
    }
    v.setValueCount(n);
    root.setRowCount(n);
    return root;
  }

  private VectorSchemaRoot lists(int[] lengths) {
    Field leaf = new Field("$data$", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
        null);
    Field x = new Field("x", FieldType.nullable(new ArrowType.List()), List.of(leaf));
    VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(x)), arrow);
    ListVector v = (ListVector) root.getVector(0);
    v.allocateNew();
    UnionListWriter w = v.getWriter();
    for (int r = 0; r < lengths.length; r++) {
      w.setPosition(r);
      w.startList();
      for (int i = 0; i < lengths[r]; i++) {
        w.float4().writeFloat4(i * 0.1f);
      }
      w.endList();
    }
    w.setValueCount(lengths.length);
    root.setRowCount(lengths.length);
    return root;
  }

  @Test
  void aClientThatGoesAwayMidExchangeLeavesTheServerHealthy() throws Exception {
    NnvmFlightServer server = start(ServerOptions.builder());
    Random random = new Random(5);
    String hash;
    try (NnvmFlightClient first = client(server, null)) {
      hash = first.upload(TestModels.dense(0)).hash();
      RemoteSession s = first.session(hash);
      try (VectorSchemaRoot in = TestModels.batch(TestModels.randomRows(random, 200, 0), arrow)) {
        try (VectorSchemaRoot out = s.score(in)) {
          assertEquals(200, out.getRowCount());
        }
        s.send(in);
        s.send(in);
      }
      await(() -> server.callsInFlight() == 1, "the exchange is running");
      s.close();
    }
    await(() -> server.callsInFlight() == 0, "the abandoned exchange ended on the server");
    try (NnvmFlightClient second = client(server, null)) {
      float[][] rows = TestModels.randomRows(random, 30, 4);
      try (VectorSchemaRoot in = TestModels.batch(rows, arrow); VectorSchemaRoot out = second.score(hash, in)) {
        assertTrue(Outputs.maxAbsError(rows, out, 0) < 1e-5);
      }
      assertEquals(0, second.list().get(0).exchanges());
      second.unload(hash);
    }
    assertEquals(0, server.loadedModels());
    assertEquals(0, server.nativeBytes(), "the model's native memory is freed after unload");
    assertEquals(0, server.arrowBytes(), "the server's Arrow memory is back to zero");
  }

  @Test
  void closingDrainsExchangesInFlight() throws Exception {
    NnvmFlightServer server = start(ServerOptions.builder());
    Random random = new Random(11);
    try (NnvmFlightClient client = client(server, null)) {
      RemoteModel model = client.upload(TestModels.dense(0));
      try (RemoteSession s = model.session()) {
        float[][] rows = TestModels.randomRows(random, 40, 0);
        try (VectorSchemaRoot in = TestModels.batch(rows, arrow); VectorSchemaRoot out = s.score(in)) {
          assertEquals(40, out.getRowCount());
        }
        Thread closer = new Thread(server::close, "closer");
        closer.start();
        await(server::isDraining, "the server is draining");
        assertTrue(closer.isAlive(), "close waits for the exchange");
        float[][] more = TestModels.randomRows(random, 25, 0);
        try (VectorSchemaRoot in = TestModels.batch(more, arrow); VectorSchemaRoot out = s.score(in)) {
          assertTrue(Outputs.maxAbsError(more, out, 0) < 1e-5, "the exchange in flight is still served");
        }
        s.finish();
        closer.join(10_000);
        assertFalse(closer.isAlive(), "close returned once the exchange ended");
      }
    }
    assertEquals(0, server.nativeBytes());
  }

  @Test
  void benchmarksInTheServersClock() {
    NnvmFlightServer server = start(ServerOptions.builder());
    try (NnvmFlightClient client = client(server, null)) {
      RemoteModel model = client.upload(TestModels.dense(0));
      BenchmarkResult r = client.benchmark(BenchmarkRequest.of(model.hash(), Map.of("N", 64L)).withRuns(2, 7));
      System.out.printf("remote benchmark of dense0 at N=64: median %.4f ms, p90 %.4f ms (%s)%n", r.medianMillis(),
          r.p90Millis(), r.variant());
      assertEquals(7, r.millis().size());
      assertEquals(Map.of("N", 64L), r.dims());
      assertTrue(r.minMillis() > 0 && r.minMillis() <= r.medianMillis() && r.medianMillis() <= r.p90Millis()
          && r.p90Millis() <= r.maxMillis(), r.toString());
      assertEquals(model.info().variant(), r.variant());
      FlightRuntimeException e = assertThrows(FlightRuntimeException.class, () -> model.benchmark(Map.of()));
      assertEquals(FlightStatusCode.INVALID_ARGUMENT, e.status().code());
      assertTrue(e.getMessage().contains("input 'x'") && e.getMessage().contains("[N, 16]"), e.getMessage());
      FlightRuntimeException unknown = assertThrows(FlightRuntimeException.class,
          () -> model.benchmark(Map.of("seq", 4L)));
      assertTrue(unknown.getMessage().contains("'seq' is not a symbol"), unknown.getMessage());
    }
  }
}
