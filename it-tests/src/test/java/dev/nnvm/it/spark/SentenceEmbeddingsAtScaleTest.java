package dev.nnvm.it.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.spark.NnvmModel;
import dev.nnvm.spark.SparkArrow;
import dev.nnvm.spark.text.NnvmPooling;
import dev.nnvm.spark.text.NnvmTokenizer;
import java.io.ByteArrayInputStream;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text to sentence embeddings in Spark local[2] on the connector's three
 * stages: {@link NnvmTokenizer} (all-MiniLM-L6-v2's tokenizer.json) ->
 * {@link NnvmModel} (all-MiniLM-L6-v2, fp32, compiled on the driver) ->
 * {@link NnvmPooling} (masked mean, L2 normalization), over a few thousand
 * English-like sentences made on the executors from a fixed word list and a
 * per-row seed; one row in 61 has a null text.
 *
 * <p>The oracle for ~50 sampled rows is independent of the connector: the
 * test tokenizes the regenerated sentences with DJL's tokenizer directly
 * (its ids must equal the Spark columns), runs ONNX Runtime on those ids and
 * pools in double precision. Reported: max abs error of the embeddings and
 * the minimum cosine similarity (must exceed 0.9999). Every row is checked
 * for the null policy (null text: null embedding; otherwise a unit vector of
 * 384 values).
 *
 * <p>Rows are padded to {@value #MAX_LENGTH} tokens (the tokenizer's {@code max} padding):
 * {@link NnvmModel} feeds an {@code [N, seq]} input from array columns of one
 * length per batch, so unpadded rows of different lengths cannot share a batch.
 */
class SentenceEmbeddingsAtScaleTest {
  private static final int ROWS = Integer.getInteger("nnvm.it.sentences", 3000);
  private static final int PARTITIONS = 4;
  private static final int MAX_LENGTH = 24;
  private static final int HIDDEN = 384;
  private static final int NULL_EVERY = 61;
  private static final long SEED = SparkIt.seed(20261209L);

  private static final String[] SUBJECTS = {"the committee", "a young engineer", "my neighbour", "the old river",
      "every student", "our small team", "the new council", "a quiet village", "the market", "her brother",
      "the museum", "this company", "the weather", "a famous writer", "the northern railway", "the children"};
  private static final String[] VERBS = {"discussed", "built", "painted", "visited", "ignored", "measured",
      "celebrated", "questioned", "repaired", "described", "opened", "sold", "followed", "changed", "found"};
  private static final String[] OBJECTS = {"the bridge", "a long report", "the garden", "several old maps",
      "the budget", "a strange letter", "the harbour", "two bicycles", "the final chapter", "a red kite",
      "the proposal", "its annual results", "the mountain path", "a wooden boat", "the evening news"};
  private static final String[] TAILS = {"", "", " yesterday", " in the morning", " after the storm",
      " without any help", " for the first time", " near the station", " last winter", " with great care",
      " before dinner", " in 1987", " despite the rain", " at 7 o'clock"};
  private static final String[] OPENERS = {"", "", "", "However, ", "In London, ", "Surprisingly, ",
      "According to Maria, ", "On Tuesday, ", "Meanwhile, "};
  private static final String[] ENDS = {".", ".", ".", "!", "?"};

  private static SparkSession spark;
  private static byte[] tokenizerJson;
  @TempDir
  static Path dir;

  @BeforeAll
  static void start() throws Exception {
    // The same offline settings the connector gives DJL (no telemetry, no download), in case this test's
    // tokenizer is the first DJL class of the JVM.
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("RUST_FLAVOR", "cpu");
    spark = SparkSession.builder().master("local[2]").appName("SentenceEmbeddingsAtScaleTest")
        .config("spark.ui.enabled", "false").getOrCreate();
    tokenizerJson = Files.readAllBytes(SparkIt.resourceFile("/all-minilm-l6-v2-tokenizer.json", dir));
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** Row {@code id}'s sentence (null for one row in 61), a function of (seed, id) only. */
  static String sentence(long seed, long id) {
    if (id % NULL_EVERY == 5) {
      return null;
    }
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
    StringBuilder s = new StringBuilder();
    s.append(OPENERS[r.nextInt(OPENERS.length)]).append(SUBJECTS[r.nextInt(SUBJECTS.length)]).append(' ')
        .append(VERBS[r.nextInt(VERBS.length)]).append(' ').append(OBJECTS[r.nextInt(OBJECTS.length)])
        .append(TAILS[r.nextInt(TAILS.length)]);
    if (r.nextInt(4) == 0) {
      s.append(" and ").append(VERBS[r.nextInt(VERBS.length)]).append(' ').append(OBJECTS[r.nextInt(OBJECTS.length)]);
    }
    s.append(ENDS[r.nextInt(ENDS.length)]);
    s.setCharAt(0, Character.toUpperCase(s.charAt(0)));
    return s.toString();
  }

  private static Dataset<Row> sentences(long seed, int rows, int partitions) {
    StructType schema = new StructType().add("id", DataTypes.LongType, false).add("text", DataTypes.StringType, true);
    JavaRDD<Row> rdd = spark.range(0, rows, 1, partitions).toJavaRDD()
        .map(id -> RowFactory.create(id, sentence(seed, id)));
    return spark.createDataFrame(rdd, schema);
  }

  @Test
  @Timeout(600)
  void sentenceEmbeddingsMatchOnnxRuntimeOnASample() throws Exception {
    Path onnx = SparkIt.resourceFile("/all-minilm-l6-v2.onnx", dir);
    System.out.printf("SentenceEmbeddingsAtScaleTest: %d sentences, %d partitions, max length %d, seed %d%n", ROWS,
        PARTITIONS, MAX_LENGTH, SEED);
    for (long id = 0; id < 4; id++) {
      System.out.println("  e.g. row " + id + ": " + sentence(SEED, id));
    }
    NnvmTokenizer tokenizer = new NnvmTokenizer().setTokenizerJson(tokenizerJson).setInputCol("text")
        .setMaxLength(MAX_LENGTH).setPadding("max");
    NnvmModel encoder = new NnvmModel().setModelPath(onnx.toString()).setBatchSize(64);
    long t0 = System.nanoTime();
    encoder.spec(); // compile (or the artifact cache's hit) on the driver, timed apart from scoring
    long compileMs = (System.nanoTime() - t0) / 1_000_000;
    NnvmPooling pooling = new NnvmPooling();
    ModelCache.shared().evictIdle();
    int loadsBefore = ModelCache.shared().loadCount();

    long t1 = System.nanoTime();
    Dataset<Row> embedded = pooling.transform(encoder.transform(tokenizer.transform(sentences(SEED, ROWS, PARTITIONS))))
        .select("id", "text", "input_ids", "attention_mask", "embedding");
    List<Row> rows = embedded.collectAsList();
    double seconds = (System.nanoTime() - t1) / 1e9;
    ScoringMetrics m = encoder.lastMetrics().value();
    System.out.printf("all-MiniLM-L6-v2: %d sentences in %.1f s = %.0f sentences/s on local[2] (compile or cache hit"
        + " %d ms); metrics %s%n", ROWS, seconds, ROWS / seconds, compileMs, encoder.lastMetrics().asMap());

    // Every row, with the null policy: a null text gives null token columns and a null embedding.
    assertEquals(ROWS, rows.size());
    Map<Long, Row> byId = new HashMap<>();
    int nulls = 0;
    double maxNormError = 0;
    for (Row r : rows) {
      long id = r.getLong(0);
      assertTrue(byId.put(id, r) == null, "row " + id + " twice");
      if (id % NULL_EVERY == 5) {
        assertTrue(r.isNullAt(1) && r.isNullAt(2) && r.isNullAt(3) && r.isNullAt(4), "row " + id + " has a null text");
        nulls++;
        continue;
      }
      assertEquals(sentence(SEED, id), r.getString(1));
      assertTrue(!r.isNullAt(4), "row " + id + ": null embedding for a text");
      float[] e = SparkIt.floats(r, "embedding");
      assertEquals(HIDDEN, e.length, "row " + id);
      double norm = 0;
      for (float v : e) {
        norm += (double) v * v;
      }
      maxNormError = Math.max(maxNormError, Math.abs(Math.sqrt(norm) - 1));
    }
    assertEquals(ROWS, byId.size());
    assertTrue(maxNormError < 1e-5, "embeddings are unit vectors within " + maxNormError);
    long expectNulls = (ROWS - 5 + NULL_EVERY - 1) / NULL_EVERY;
    assertEquals(expectNulls, nulls);
    assertEquals(ROWS, m.rows(), "rows through the scorer, null rows included");
    assertEquals(1, m.modelLoads(), "one load in this JVM for " + PARTITIONS + " partitions");
    assertEquals(1, ModelCache.shared().loadCount() - loadsBefore);
    assertEquals(0, SparkArrow.rootAllocator().getAllocatedMemory(), "every task freed its Arrow memory");

    // ~50 sampled rows: tokenized here by DJL directly, ONNX Runtime on those ids, pooled in double precision.
    List<Long> sample = new ArrayList<>();
    for (long id = 3; id < ROWS && sample.size() < 50; id += Math.max(1, ROWS / 50)) {
      if (id % NULL_EVERY != 5) {
        sample.add(id);
      }
    }
    int n = sample.size();
    long[] ids = new long[n * MAX_LENGTH];
    long[] mask = new long[n * MAX_LENGTH];
    long[] types = new long[n * MAX_LENGTH];
    Map<String, String> options = new LinkedHashMap<>();
    options.put("addSpecialTokens", "true");
    options.put("truncation", "true");
    options.put("padding", "false");
    options.put("maxLength", Integer.toString(MAX_LENGTH));
    options.put("modelMaxLength", Integer.toString(MAX_LENGTH));
    int longest = 0;
    try (HuggingFaceTokenizer djl = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), options)) {
      for (int i = 0; i < n; i++) {
        Encoding enc = djl.encode(sentence(SEED, sample.get(i)));
        long[] tokenIds = enc.getIds();
        longest = Math.max(longest, tokenIds.length);
        System.arraycopy(tokenIds, 0, ids, i * MAX_LENGTH, tokenIds.length);
        System.arraycopy(enc.getAttentionMask(), 0, mask, i * MAX_LENGTH, tokenIds.length);
        System.arraycopy(enc.getTypeIds(), 0, types, i * MAX_LENGTH, tokenIds.length);
        Row r = byId.get(sample.get(i));
        assertArrayEquals(java.util.Arrays.copyOfRange(ids, i * MAX_LENGTH, (i + 1) * MAX_LENGTH),
            SparkIt.longs(r, "input_ids"), "token ids of row " + sample.get(i));
        assertArrayEquals(java.util.Arrays.copyOfRange(mask, i * MAX_LENGTH, (i + 1) * MAX_LENGTH),
            SparkIt.longs(r, "attention_mask"), "attention mask of row " + sample.get(i));
      }
    }
    long[] shape = {n, MAX_LENGTH};
    long t2 = System.nanoTime();
    float[] hidden = SparkIt.ort(onnx, Map.of(
        "input_ids", env -> OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape),
        "attention_mask", env -> OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape),
        "token_type_ids", env -> OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape)));
    long ortMs = (System.nanoTime() - t2) / 1_000_000;
    assertEquals(n * MAX_LENGTH * HIDDEN, hidden.length);
    double maxAbs = 0;
    double minCos = 1;
    for (int i = 0; i < n; i++) {
      double[] want = new double[HIDDEN];
      double weight = 0;
      for (int t = 0; t < MAX_LENGTH; t++) {
        long w = mask[i * MAX_LENGTH + t];
        weight += w;
        for (int h = 0; h < HIDDEN; h++) {
          want[h] += w * (double) hidden[(i * MAX_LENGTH + t) * HIDDEN + h];
        }
      }
      double norm = 0;
      for (int h = 0; h < HIDDEN; h++) {
        want[h] /= weight;
        norm += want[h] * want[h];
      }
      norm = Math.sqrt(norm);
      float[] got = SparkIt.floats(byId.get(sample.get(i)), "embedding");
      double dot = 0;
      double gotNorm = 0;
      for (int h = 0; h < HIDDEN; h++) {
        want[h] /= norm;
        maxAbs = Math.max(maxAbs, Math.abs(got[h] - want[h]));
        dot += got[h] * want[h];
        gotNorm += (double) got[h] * got[h];
      }
      double cos = dot / Math.sqrt(gotNorm);
      minCos = Math.min(minCos, cos);
      assertTrue(cos > 0.9999, "row " + sample.get(i) + " '" + sentence(SEED, sample.get(i)) + "': cosine " + cos);
    }
    System.out.printf("all-MiniLM-L6-v2 embeddings vs ONNX Runtime + double-precision pooling on %d sampled"
        + " sentences (up to %d tokens): max abs err %.3g, min cosine similarity %.8f (ONNX Runtime %d ms);"
        + " norms within %.2g of 1 over all rows%n", n, longest, maxAbs, minCos, ortMs, maxNormError);
    assertTrue(maxAbs < 1e-3, "max abs error " + maxAbs);
    assertNotNull(byId.get(0L));
  }
}
