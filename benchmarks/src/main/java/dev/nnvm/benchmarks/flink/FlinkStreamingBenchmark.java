package dev.nnvm.benchmarks.flink;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.nnvm.benchmarks.Samples;
import dev.nnvm.compiler.compile.ArtifactCache;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.flink.RecordColumns;
import dev.nnvm.flink.TensorModel;
import dev.nnvm.flink.ValueExtractor;
import dev.nnvm.flink.stream.NnvmInference;
import dev.nnvm.runtime.Shape;
import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ScoringSpec;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource.NumberSequenceSplit;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiter;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The DataStream inference operator on a local MiniCluster (parallelism 1,
 * the PP-OCR direction classifier, one native thread) against (a) the raw
 * runtime on the same batches ({@link BatchScorer} on prebuilt Arrow
 * batches, no Flink) and (b) the pattern users write today: a
 * {@link RichMapFunction} calling ONNX Runtime record by record.
 *
 * <p>Each configuration is first run saturated (the source emits as fast as
 * the pipeline takes records) to find its saturation rate, then at fixed
 * fractions of it with an open-loop source: record {@code i} is due at
 * {@code start + i / rate} and its latency counts from that due time, so a
 * pipeline that falls behind is charged for the queue it builds (no
 * coordinated omission). Latency ends when the result reaches the operator
 * after the scorer (same JVM, {@code System.nanoTime}).
 */
@Command(name = "flink-streaming", mixinStandardHelpOptions = true,
    description = "Flink DataStream operator vs the raw runtime vs a per-record ONNX Runtime RichMapFunction.")
public final class FlinkStreamingBenchmark implements Callable<Integer> {
  private static final String CLS = "/models/ch_ppocr_mobile_v2.0_cls_infer.onnx";
  private static final int ELEMENTS = 3 * 48 * 192;
  private static final int POOL = 64;
  private static final long SEED = 20261206L;

  @Option(names = "--batch-sizes", split = ",", defaultValue = "8,32", description = "operator batch sizes")
  int[] batchSizes;

  @Option(names = "--max-latencies-ms", split = ",", defaultValue = "5,20", description = "operator max latencies")
  int[] maxLatencies;

  @Option(names = "--rates", split = ",", defaultValue = "25,50,90", description = "percent of saturation")
  int[] ratePercents;

  @Option(names = "--seconds", defaultValue = "2.5", description = "seconds of input per measured run")
  double seconds;

  @Option(names = "--repeats", defaultValue = "3",
      description = "saturated runs per configuration; the median is the figure, all are printed")
  private int repeats;

  @Option(names = "--in-flight", defaultValue = "2", description = "unordered mode's batches in flight (0: skip)")
  int inFlight;

  @Option(names = "--object-reuse", description = "enable Flink's object reuse: chained operators hand records over"
      + " without copying them (the copy of a 110 KB crop between source and operator is measurable here)")
  boolean objectReuse;

  // Filled by the job (same JVM as the MiniCluster), read after it ends.
  static long[] done;
  static long[] due;
  static int[] batchOf;
  static float[][] firstProbs;
  static final AtomicLong START = new AtomicLong();
  static float[][] crops;

  public static void main(String[] args) {
    System.exit(new CommandLine(new FlinkStreamingBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    Locale.setDefault(Locale.ROOT);
    byte[] onnx;
    try (InputStream in = FlinkStreamingBenchmark.class.getResourceAsStream(CLS)) {
      onnx = in.readAllBytes();
    }
    byte[] artifact = ModelCompiler.create().withCache(ArtifactCache.defaultDirectory())
        .compile(onnx, null, "ch_ppocr_mobile_v2.0_cls_infer",
            CompileOptions.defaults().withInputShape("x", Shape.parse("[N, 3, 48, 192]"))).bytes();
    ScoringSpec spec = ScoringSpec.builder(artifact).threads(1).build();
    crops = new float[POOL][ELEMENTS];
    SplittableRandom r = new SplittableRandom(SEED);
    for (float[] c : crops) {
      for (int i = 0; i < c.length; i++) {
        c[i] = (float) (r.nextDouble() * 2 - 1);
      }
    }
    System.out.printf("PP-OCR direction classifier [N, 3, 48, 192], %d distinct random crops (seed %d), 1 native"
        + " thread, parallelism 1, %d CPUs seen by the JVM, %.1f s of input per run%n", POOL, SEED,
        Runtime.getRuntime().availableProcessors(), seconds);

    // (a) The raw runtime on prebuilt Arrow batches.
    Map<Integer, double[]> raw = new java.util.HashMap<>();
    System.out.println("\nraw runtime (BatchScorer on prebuilt Arrow batches, no Flink)");
    System.out.println("batch | ms per batch p50 / p99 | records/s");
    for (int b : batchSizes) {
      double[] m = raw(spec, b);
      raw.put(b, m);
      System.out.printf("%5d | %6.2f / %6.2f | %8.0f%n", b, m[0], m[1], m[2]);
    }

    // Warm-up: JIT and the per-JVM model load, not measured.
    run(spec, Mode.ORDERED, batchSizes[batchSizes.length - 1], 20, 0, (int) (300 * seconds / 2.5));
    run(spec, Mode.ORT, 1, 0, 0, (int) (100 * seconds / 2.5));

    System.out.println("\nFlink MiniCluster, parallelism 1 (latency: due time to result, ms)");
    System.out.println("pipeline | batch | max lat ms | offered /s | achieved /s | mean batch | p50 ms | p99 ms"
        + " | goal");
    double checkedMaxAbs = -1;
    for (int b : batchSizes) {
      int maxLat = maxLatencies[maxLatencies.length - 1];
      Result sat = saturated(spec, Mode.ORDERED, b, maxLat);
      if (checkedMaxAbs < 0) {
        checkedMaxAbs = checkAgainstOrt(onnx);
      }
      double rawRate = raw.get(b)[2];
      print("ordered", b, maxLat, sat, String.format("%.2f of raw (goal >= 0.9)", sat.rate / rawRate));
      if (inFlight > 0) {
        Result u = saturated(spec, Mode.UNORDERED, b, maxLat);
        print("unordered(" + inFlight + ")", b, maxLat, u, String.format("%.2f of raw", u.rate / rawRate));
      }
      for (int lat : maxLatencies) {
        for (int pct : ratePercents) {
          double rate = sat.rate * pct / 100;
          Result res = run(spec, Mode.ORDERED, b, lat, rate, 0);
          String goal = pct == 50 ? String.format("p99 %.1f vs 2 x batch compute %.1f: %s", res.p99,
              2 * raw.get(b)[0], res.p99 <= 2 * raw.get(b)[0] ? "met" : "MISSED") : "";
          print("ordered", b, lat, res, goal);
        }
      }
      if (inFlight > 0) {
        int lat = maxLatencies[maxLatencies.length - 1];
        Result u = run(spec, Mode.UNORDERED, b, lat, sat.rate * 0.5, 0);
        print("unordered(" + inFlight + ")", b, lat, u, "");
      }
    }
    // (b) ONNX Runtime record by record in a RichMapFunction, same data, same sitting.
    Result ortSat = run(spec, Mode.ORT, 1, 0, 0, 0);
    print("ORT map", 1, 0, ortSat, "saturated");
    for (int pct : ratePercents) {
      Result res = run(spec, Mode.ORT, 1, 0, ortSat.rate * pct / 100, 0);
      print("ORT map", 1, 0, res, pct + " % of its saturation");
    }
    System.out.printf("%nfirst run's outputs vs ONNX Runtime on the same %d crops: max abs error %.3g%n", POOL,
        checkedMaxAbs);
    return 0;
  }

  /** The median of {@code repeats} saturated runs (by records/s); every run's rate is printed. */
  private Result saturated(ScoringSpec spec, Mode mode, int batch, int maxLatencyMs) throws Exception {
    List<Result> runs = new ArrayList<>();
    for (int i = 0; i < Math.max(1, repeats); i++) {
      runs.add(run(spec, mode, batch, maxLatencyMs, 0, 0));
    }
    runs.sort(java.util.Comparator.comparingDouble(Result::rate));
    System.out.printf("  (%s batch %d saturated, %d runs: %s records/s)%n", mode, batch, runs.size(),
        runs.stream().map(r -> String.format("%.0f", r.rate)).collect(java.util.stream.Collectors.joining(", ")));
    return runs.get(runs.size() / 2);
  }

  private static void print(String pipeline, int b, int lat, Result r, String goal) {
    System.out.printf("%-12s | %5d | %10d | %10s | %11.0f | %10.1f | %6.1f | %6.1f | %s%n", pipeline, b, lat,
        r.offered == 0 ? "saturated" : String.format("%.0f", r.offered), r.rate, r.meanBatch, r.p50, r.p99, goal);
  }

  /** ms per batch p50, p99 and records/s of BatchScorer alone on a prebuilt batch of {@code b} crops. */
  private double[] raw(ScoringSpec spec, int b) {
    try (BufferAllocator allocator = new RootAllocator();
        BatchScorer scorer = BatchScorer.open(spec, allocator)) {
      List<Object[]> rows = new ArrayList<>();
      for (int i = 0; i < b; i++) {
        rows.add(new Object[] {crops[i % POOL]});
      }
      try (VectorSchemaRoot batch = RecordColumns.of(spec).write(rows, allocator)) {
        long warm = System.nanoTime() + 300_000_000L;
        while (System.nanoTime() < warm) {
          scorer.score(batch).close();
        }
        List<Double> ms = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds / 2 * 1e9);
        long t0 = System.nanoTime();
        while (System.nanoTime() < end || ms.size() < 10) {
          long s = System.nanoTime();
          scorer.score(batch).close();
          ms.add((System.nanoTime() - s) / 1e6);
        }
        double total = (System.nanoTime() - t0) / 1e9;
        Samples samples = Samples.of(ms.stream().mapToDouble(Double::doubleValue).toArray());
        return new double[] {samples.median(), samples.percentile(99), ms.size() * (double) b / total};
      }
    }
  }

  enum Mode { ORDERED, UNORDERED, ORT }

  record Result(double offered, double rate, double p50, double p99, double meanBatch) {}

  /** One job: {@code n} records (0: {@code seconds} worth at the rate), at {@code rate}/s (0: saturated). */
  private Result run(ScoringSpec spec, Mode mode, int batch, int maxLatencyMs, double rate, int n) throws Exception {
    if (n == 0) {
      // Saturated runs: about `seconds` at a first guess of the rate, at least 200 records.
      n = (int) Math.max(200, (rate > 0 ? rate : mode == Mode.ORT ? 250 : 500) * seconds);
    }
    done = new long[n];
    due = new long[n];
    batchOf = new int[n];
    firstProbs = new float[POOL][];
    START.set(0);
    Configuration conf = new Configuration();
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
    if (objectReuse) {
      env.getConfig().enableObjectReuse();
    }
    long interval = rate > 0 ? (long) (1e9 / rate) : 0;
    DataGeneratorSource<Img> source = new DataGeneratorSource<>(new Gen(interval), n,
        interval > 0 ? new Schedule(interval) : RateLimiterStrategy.noOp(), TypeInformation.of(Img.class));
    DataStream<Img> in = env.fromSource(source, WatermarkStrategy.noWatermarks(), "crops");
    DataStream<Out> out;
    if (mode == Mode.ORT) {
      out = in.map(new OrtPerRecord()).returns(Out.class);
    } else {
      String output = spec.outputs().get(0).name();
      NnvmInference<Img> inference = NnvmInference.of(TensorModel.<Img>of(spec,
          Map.of("x", (ValueExtractor<Img>) img -> img.pixels)))
          .batchSize(batch).maxLatency(Duration.ofMillis(maxLatencyMs));
      if (mode == Mode.UNORDERED) {
        inference.unordered(inFlight);
      }
      out = inference.apply(in, (img, p) -> Out.of(img, p.floats(output), p.batchSize()),
          TypeInformation.of(Out.class));
    }
    out.map(new Record()).returns(Long.class).sinkTo(new DiscardingSink<>());
    env.execute("bench");
    Samples lat = Samples.of(java.util.stream.IntStream.range(0, n).mapToDouble(i -> (done[i] - due[i]) / 1e6)
        .toArray());
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    double batchSum = 0;
    for (int i = 0; i < n; i++) {
      first = Math.min(first, due[i]);
      last = Math.max(last, done[i]);
      batchSum += batchOf[i];
    }
    return new Result(rate, (n - 1) / ((last - first) / 1e9), lat.median(), lat.percentile(99), batchSum / n);
  }

  /** ONNX Runtime's probabilities for the pool, compared with what the first measured run emitted. */
  private static double checkAgainstOrt(byte[] onnx) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    double maxAbs = 0;
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(1);
      try (OrtSession session = env.createSession(onnx, o)) {
        for (int i = 0; i < POOL; i++) {
          if (firstProbs[i] == null) {
            continue;
          }
          try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(crops[i]), new long[] {1, 3, 48, 192});
              OrtSession.Result res = session.run(Map.of("x", x))) {
            float[] want = ((float[][]) res.get(0).getValue())[0];
            for (int j = 0; j < want.length; j++) {
              maxAbs = Math.max(maxAbs, Math.abs(want[j] - firstProbs[i][j]));
            }
          }
        }
      }
    }
    return maxAbs;
  }

  /** A record: its id, when it was due (open loop) or emitted (saturated), and its pixels. */
  public static class Img {
    public long id;
    public long dueNanos;
    public float[] pixels;

    public Img() {}
  }

  /** A result: the id, the due time, the probabilities, the micro-batch it was scored in. */
  public static class Out {
    public long id;
    public long dueNanos;
    public float[] probs;
    public int batch;

    public Out() {}

    static Out of(Img img, float[] probs, int batch) {
      Out o = new Out();
      o.id = img.id;
      o.dueNanos = img.dueNanos;
      o.probs = probs;
      o.batch = batch;
      return o;
    }
  }

  /** Makes record {@code id}: due at START + id x interval (open loop), or now when saturated. */
  static final class Gen implements org.apache.flink.connector.datagen.source.GeneratorFunction<Long, Img> {
    private static final long serialVersionUID = 1L;
    private final long interval;

    Gen(long interval) {
      this.interval = interval;
    }

    @Override
    public Img map(Long id) {
      Img img = new Img();
      img.id = id;
      START.compareAndSet(0, System.nanoTime());
      img.dueNanos = interval > 0 ? START.get() + id * interval : System.nanoTime();
      img.pixels = crops[(int) (id % POOL)];
      return img;
    }
  }

  /** Open loop: permit i is granted at START + i x interval (at once when late), on a timer thread. */
  static final class Schedule implements RateLimiterStrategy<NumberSequenceSplit> {
    private static final long serialVersionUID = 1L;
    private final long interval;

    Schedule(long interval) {
      this.interval = interval;
    }

    @Override
    public RateLimiter<NumberSequenceSplit> createRateLimiter(int parallelism) {
      return new RateLimiter<>() {
        private long permits;

        @Override
        public CompletionStage<Void> acquire(int requestSize) {
          START.compareAndSet(0, System.nanoTime());
          long at = START.get() + permits * interval;
          permits += requestSize;
          long wait = at - System.nanoTime();
          return wait <= 0 ? CompletableFuture.completedFuture(null)
              : CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS));
        }
      };
    }
  }

  /** Notes when each result arrived (after the scorer, chained: same thread, same JVM). */
  static final class Record extends RichMapFunction<Out, Long> {
    @Override
    public Long map(Out o) {
      int i = (int) o.id;
      done[i] = System.nanoTime();
      due[i] = o.dueNanos;
      batchOf[i] = o.batch;
      if (i < POOL) {
        firstProbs[i] = o.probs;
      }
      return o.id;
    }
  }

  /** What users write today: one ONNX Runtime session per subtask, one run per record. */
  static final class OrtPerRecord extends RichMapFunction<Img, Out> {
    private transient OrtEnvironment env;
    private transient OrtSession session;

    @Override
    public void open(OpenContext context) throws Exception {
      env = OrtEnvironment.getEnvironment();
      try (InputStream in = FlinkStreamingBenchmark.class.getResourceAsStream(CLS);
          OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
        o.setIntraOpNumThreads(1);
        session = env.createSession(in.readAllBytes(), o);
      }
    }

    @Override
    public Out map(Img img) throws Exception {
      try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(img.pixels), new long[] {1, 3, 48, 192});
          OrtSession.Result res = session.run(Map.of("x", x))) {
        return Out.of(img, ((float[][]) res.get(0).getValue())[0], 1);
      }
    }

    @Override
    public void close() throws Exception {
      if (session != null) {
        session.close();
      }
    }
  }
}
