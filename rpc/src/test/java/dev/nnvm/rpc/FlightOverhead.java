package dev.nnvm.rpc;

import dev.nnvm.arrow.ArrowTypes;
import dev.nnvm.arrow.ColumnType;
import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringSpec;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * Rows/s of all-MiniLM-L6-v2 through Flight on loopback (server and client
 * in this JVM) against the local {@link BatchScorer} on the same batches, in
 * one run, alternating, best of the rounds. A benchmark, not a test (run it
 * by hand):
 *
 * <pre>
 * mvn -o -q test-compile dependency:build-classpath -pl rpc \
 *   -Dmdep.outputFile=target/test-cp.txt -Dmdep.includeScope=test
 * java --add-opens=java.base/java.nio=ALL-UNNAMED \
 *   -cp rpc/target/test-classes:rpc/target/classes:$(cat rpc/target/test-cp.txt) \
 *   dev.nnvm.rpc.FlightOverhead [batches=4] [threads=1] [rounds=2]
 * </pre>
 */
public final class FlightOverhead {
  private static final int BATCH = 32;
  private static final int SEQ = 128;

  private FlightOverhead() {}

  public static void main(String[] args) throws Exception {
    int batches = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    byte[] onnx;
    try (InputStream in = FlightOverhead.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
      onnx = in.readAllBytes();
    }
    long t0 = System.nanoTime();
    byte[] artifact = ModelCompiler.create().withCache(ArtifactCache.defaultDirectory())
        .compile(onnx, null, "all-MiniLM-L6-v2", CompileOptions.defaults()).bytes();
    System.out.printf(Locale.ROOT, "all-MiniLM-L6-v2 compiled (or read from the cache) in %.1f s%n",
        (System.nanoTime() - t0) / 1e9);
    try (BufferAllocator arrow = new RootAllocator()) {
      List<VectorSchemaRoot> data = new ArrayList<>();
      Random random = new Random(2026);
      for (int b = 0; b < batches; b++) {
        data.add(batch(random, arrow));
      }
      ScoringSpec spec = ScoringSpec.builder(artifact).batchSize(BATCH).threads(threads).build();
      double bestLocal = 0;
      double bestRemote = 0;
      try (ModelCache cache = ModelCache.create("overhead-local");
          BatchScorer local = BatchScorer.open(spec, arrow, cache);
          NnvmFlightServer server = NnvmFlightServer.start(ServerOptions.builder().port(0).threads(threads)
              .maxConcurrentRuns(1).build());
          NnvmFlightClient client = NnvmFlightClient.builder(server.uri()).allocator(arrow).connect()) {
        RemoteModel model = client.upload(artifact);
        try (VectorSchemaRoot warm = local.score(data.get(0))) {
          warm.getRowCount();
        }
        try (RemoteSession s = model.session()) {
          s.scoreAll(data.subList(0, 1).iterator(), out -> { });
          s.finish();
        }
        for (int r = 0; r < rounds; r++) {
          long l0 = System.nanoTime();
          for (VectorSchemaRoot in : data) {
            try (VectorSchemaRoot out = local.score(in)) {
              out.getRowCount();
            }
          }
          double local1 = BATCH * batches / ((System.nanoTime() - l0) / 1e9);
          long r0 = System.nanoTime();
          try (RemoteSession s = model.session()) {
            s.scoreAll(data.iterator(), out -> { }, 2);
            s.finish();
          }
          double remote1 = BATCH * batches / ((System.nanoTime() - r0) / 1e9);
          System.out.printf(Locale.ROOT, "round %d: local %.1f rows/s, Flight %.1f rows/s (%.1f %% overhead)%n", r,
              local1, remote1, 100 * (local1 / remote1 - 1));
          bestLocal = Math.max(bestLocal, local1);
          bestRemote = Math.max(bestRemote, remote1);
        }
      } finally {
        data.forEach(VectorSchemaRoot::close);
      }
      System.out.printf(Locale.ROOT, "all-MiniLM-L6-v2 batch %d seq %d, %d batches, %d thread(s): local BatchScorer"
          + " %.1f rows/s, Flight loopback %.1f rows/s: overhead %.1f %% (best of %d rounds)%n", BATCH, SEQ, batches,
          threads, bestLocal, bestRemote, 100 * (bestLocal / bestRemote - 1), rounds);
    }
  }

  /** input_ids (random ids below 30522), attention_mask (ones), token_type_ids (zeros): i64 [32, 128] each. */
  private static VectorSchemaRoot batch(Random random, BufferAllocator arrow) {
    List<FieldVector> columns = new ArrayList<>();
    for (String name : new String[] {"input_ids", "attention_mask", "token_type_ids"}) {
      Field f = ArrowTypes.field(name, new ColumnType(DType.INT64, Shape.of(SEQ)));
      FixedSizeListVector v = (FixedSizeListVector) f.createVector(arrow);
      v.setInitialCapacity(BATCH);
      v.allocateNew();
      BigIntVector ids = (BigIntVector) v.getDataVector();
      ids.allocateNew(BATCH * SEQ);
      for (int i = 0; i < BATCH * SEQ; i++) {
        long value = name.equals("input_ids") ? (i % SEQ == 0 ? 101 : 1000 + random.nextInt(29000))
            : name.equals("attention_mask") ? 1 : 0;
        ids.set(i, value);
      }
      ids.setValueCount(BATCH * SEQ);
      for (int r = 0; r < BATCH; r++) {
        v.setNotNull(r);
      }
      v.setValueCount(BATCH);
      columns.add(v);
    }
    VectorSchemaRoot root = new VectorSchemaRoot(columns);
    root.setRowCount(BATCH);
    return root;
  }
}
