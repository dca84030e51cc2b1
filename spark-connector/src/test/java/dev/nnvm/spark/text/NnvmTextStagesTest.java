package dev.nnvm.spark.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.scoring.text.Encoded;
import dev.nnvm.scoring.text.TextTokenizer;
import dev.nnvm.scoring.text.TokenizerCache;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The text stages in Spark local[2]: {@link NnvmTokenizer} against the
 * engine-neutral {@link TextTokenizer} (itself checked against the
 * vocabulary in the scoring module) with every padding mode, one tokenizer
 * per JVM however many partitions, save/load alone and inside a Pipeline;
 * {@link NnvmPooling} against double-precision math on random states (seed
 * printed), nested and flat; and the up-front errors of both.
 */
class NnvmTextStagesTest {
  private static SparkSession spark;
  private static byte[] json;

  @BeforeAll
  static void start() throws Exception {
    spark = SparkSession.builder().master("local[2]").appName("NnvmTextStagesTest")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    try (InputStream in = NnvmTextStagesTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      json = in.readAllBytes();
    }
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static final List<String> TEXTS = Arrays.asList("Hello, world.", "Spark embeddings are fun", null,
      "", "Café, naïve, résumé", "The quick brown fox jumps over the lazy dog and keeps on running far away.",
      "東京は日本の首都です。", "Numbers like 123456789 split into word pieces.", "One.", "A b c d e f g h i j k");

  private static Dataset<Row> texts() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < TEXTS.size(); i++) {
      rows.add(RowFactory.create(i, TEXTS.get(i)));
    }
    StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.StringType);
    return spark.createDataFrame(rows, schema).repartition(3);
  }

  private static long[] longs(Row row, String column) {
    List<Long> values = row.getList(row.fieldIndex(column));
    return values.stream().mapToLong(Long::longValue).toArray();
  }

  @Test
  void tokenizesLikeTheEngineNeutralTokenizerInEveryPaddingMode() {
    int maxLength = 12;
    Encoded want;
    try (TextTokenizer reference = TextTokenizer.fromBytes(json, maxLength)) {
      want = reference.encode(TEXTS);
    }
    int buildsBefore = TokenizerCache.shared().buildCount();
    for (String padding : List.of("none", "bucket", "max")) {
      NnvmTokenizer stage = new NnvmTokenizer().setTokenizerJson(json).setMaxLength(maxLength).setPadding(padding)
          .setBucketWidth(4).setBatchSize(3);
      Dataset<Row> out = stage.transform(texts());
      assertEquals(DataTypes.createArrayType(DataTypes.LongType, false),
          out.schema().apply(TextTokenizer.INPUT_IDS).dataType());
      List<Row> rows = out.collectAsList();
      assertEquals(TEXTS.size(), rows.size());
      for (Row row : rows) {
        int id = row.getInt(0);
        if (TEXTS.get(id) == null) {
          for (String c : List.of(TextTokenizer.INPUT_IDS, TextTokenizer.ATTENTION_MASK,
              TextTokenizer.TOKEN_TYPE_IDS)) {
            assertTrue(row.isNullAt(row.fieldIndex(c)), "null text, null " + c);
          }
          continue;
        }
        int len = want.length(id);
        int padded = padding.equals("none") ? len : padding.equals("max") ? maxLength
            : Math.min(maxLength, (len + 3) / 4 * 4);
        String where = padding + ", row " + id;
        assertArrayEquals(Arrays.copyOf(want.inputIds(id), padded), longs(row, TextTokenizer.INPUT_IDS), where);
        assertArrayEquals(Arrays.copyOf(want.attentionMask(id), padded), longs(row, TextTokenizer.ATTENTION_MASK),
            where);
        assertArrayEquals(Arrays.copyOf(want.tokenTypeIds(id), padded), longs(row, TextTokenizer.TOKEN_TYPE_IDS),
            where);
      }
      Row hello = rows.stream().filter(r -> r.getInt(0) == 0).findFirst().orElseThrow();
      assertArrayEquals(new long[] {101, 7592, 1010, 2088, 1012, 102},
          Arrays.copyOf(longs(hello, TextTokenizer.INPUT_IDS), 6), "BERT ids of 'Hello, world.'");
    }
    assertEquals(1, TokenizerCache.shared().buildCount() - buildsBefore,
        "one tokenizer in this JVM for 3 transforms of 3 partitions each");
  }

  @Test
  void savedAloneAndInsideAPipeline(@TempDir Path dir) throws Exception {
    NnvmTokenizer stage = new NnvmTokenizer().setTokenizerJson(json).setMaxLength(9).setInputIdsCol("ids")
        .setPadding("bucket").setBucketWidth(3);
    NnvmPooling pooling = new NnvmPooling().setHiddenCol("h").setNormalize(false);
    String alone = dir.resolve("tokenizer").toString();
    stage.write().overwrite().save(alone);
    assertArrayEquals(json, Files.readAllBytes(dir.resolve("tokenizer").resolve(NnvmTokenizer.TOKENIZER_FILE)),
        "the tokenizer.json is stored beside the metadata");
    NnvmTokenizer loaded = NnvmTokenizer.load(alone);
    assertEquals(stage.uid(), loaded.uid());
    assertEquals(9, (Integer) loaded.getOrDefault(loaded.maxLength()));
    assertEquals("bucket", loaded.getOrDefault(loaded.padding()));
    assertEquals(stage.getFingerprint(), loaded.getFingerprint());

    // A stand-in for the model stage between them: per token the vector [id, 1].
    SQLTransformer encoder = new SQLTransformer().setStatement(
        "SELECT *, transform(ids, x -> array(cast(x AS float), 1.0f)) AS h FROM __THIS__");
    PipelineModel model = new Pipeline().setStages(new PipelineStage[] {stage, encoder, pooling}).fit(texts());
    String saved = dir.resolve("pipeline").toString();
    model.write().overwrite().save(saved);
    PipelineModel back = PipelineModel.load(saved);
    NnvmTokenizer t = (NnvmTokenizer) back.stages()[0];
    NnvmPooling p = (NnvmPooling) back.stages()[2];
    assertEquals(stage.getFingerprint(), t.getFingerprint());
    assertEquals("h", p.getOrDefault(p.hiddenCol()));
    assertEquals(false, p.getOrDefault(p.normalize()));
    List<Row> before = model.transform(texts()).orderBy("id").collectAsList();
    List<Row> after = back.transform(texts()).orderBy("id").collectAsList();
    assertEquals(before.toString(), after.toString(), "the loaded pipeline gives the same rows");
    try (TextTokenizer reference = TextTokenizer.fromBytes(json, 9)) {
      for (Row row : after) {
        int id = row.getInt(0);
        if (TEXTS.get(id) == null) {
          assertTrue(row.isNullAt(row.fieldIndex("embedding")));
          continue;
        }
        long[] ids = reference.encode(List.of(TEXTS.get(id))).inputIds(0);
        List<Float> e = row.getList(row.fieldIndex("embedding"));
        assertEquals(Arrays.stream(ids).average().orElseThrow(), e.get(0), 1e-3 * Math.abs(e.get(0)),
            "row " + id + ": the mean id over the real tokens, padding left out");
        assertEquals(1.0f, e.get(1), "row " + id);
      }
    }
  }

  /** The reference: mask-weighted mean in double, then v / max(||v||, 1e-12). */
  private static double[] pooled(float[][] tokens, long[] mask, boolean normalize) {
    int dim = tokens[0].length;
    double[] out = new double[dim];
    double w = 0;
    for (int t = 0; t < Math.min(mask.length, tokens.length); t++) {
      w += mask[t];
      for (int d = 0; d < dim; d++) {
        out[d] += mask[t] * (double) tokens[t][d];
      }
    }
    double n = 0;
    for (int d = 0; d < dim; d++) {
      out[d] = w == 0 ? 0 : out[d] / w;
      n += out[d] * out[d];
    }
    for (int d = 0; d < dim && normalize; d++) {
      out[d] /= Math.max(Math.sqrt(n), 1e-12);
    }
    return out;
  }

  @Test
  void poolsLikeDoublePrecisionMath() {
    long seed = System.nanoTime();
    System.out.println("NnvmTextStagesTest pooling seed " + seed);
    Random random = new Random(seed);
    int dim = 24;
    int n = 40;
    List<Row> nested = new ArrayList<>();
    List<Row> flat = new ArrayList<>();
    float[][][] states = new float[n][][];
    long[][] masks = new long[n][];
    for (int r = 0; r < n; r++) {
      int seq = 1 + random.nextInt(10);
      states[r] = new float[seq][dim];
      float[] flatRow = new float[seq * dim];
      List<List<Float>> rows = new ArrayList<>();
      for (int t = 0; t < seq; t++) {
        List<Float> v = new ArrayList<>();
        for (int d = 0; d < dim; d++) {
          states[r][t][d] = (float) random.nextGaussian();
          flatRow[t * dim + d] = states[r][t][d];
          v.add(states[r][t][d]);
        }
        rows.add(v);
      }
      int ones = r % 9 == 0 ? 0 : 1 + random.nextInt(seq);
      masks[r] = new long[r % 2 == 0 ? ones : seq + 1];
      Arrays.fill(masks[r], 0, ones, 1);
      List<Long> mask = Arrays.stream(masks[r]).boxed().toList();
      boolean isNull = r == 7;
      nested.add(RowFactory.create(r, isNull ? null : rows, mask));
      List<Float> f = new ArrayList<>();
      for (float x : flatRow) {
        f.add(x);
      }
      flat.add(RowFactory.create(r, isNull ? null : f, mask));
    }
    StructType nestedSchema = new StructType().add("id", DataTypes.IntegerType)
        .add("last_hidden_state", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType)))
        .add("attention_mask", DataTypes.createArrayType(DataTypes.LongType));
    StructType flatSchema = new StructType().add("id", DataTypes.IntegerType)
        .add("last_hidden_state", DataTypes.createArrayType(DataTypes.FloatType))
        .add("attention_mask", DataTypes.createArrayType(DataTypes.LongType));
    for (boolean isFlat : new boolean[] {false, true}) {
      for (boolean normalize : new boolean[] {true, false}) {
        Dataset<Row> in = spark.createDataFrame(isFlat ? flat : nested, isFlat ? flatSchema : nestedSchema)
            .repartition(2);
        NnvmPooling stage = new NnvmPooling().setNormalize(normalize);
        if (isFlat) {
          stage.setHiddenSize(dim);
        }
        Dataset<Row> out = stage.transform(in);
        assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false), out.schema().apply("embedding").dataType());
        double worst = 0;
        for (Row row : out.collectAsList()) {
          int r = row.getInt(0);
          if (r == 7) {
            assertTrue(row.isNullAt(3), "a null state gives a null embedding");
            continue;
          }
          List<Float> got = row.getList(3);
          double[] want = pooled(states[r], masks[r], normalize);
          assertEquals(dim, got.size());
          for (int d = 0; d < dim; d++) {
            worst = Math.max(worst, Math.abs(want[d] - got.get(d)));
          }
        }
        System.out.printf("NnvmPooling (%s, normalize=%s) vs double precision: max abs error %.3g%n",
            isFlat ? "flat" : "nested", normalize, worst);
        assertTrue(worst < 1e-5, "max abs error " + worst);
      }
    }
  }

  @Test
  void badInputIsReportedOnTheDriver() {
    Dataset<Row> in = texts();
    NnvmTokenizer noFile = new NnvmTokenizer();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> noFile.transform(in));
    assertTrue(e.getMessage().contains("no tokenizer.json"), e.getMessage());
    NnvmTokenizer wrong = new NnvmTokenizer().setTokenizerJson(json).setInputCol("id").setInputIdsCol("text")
        .setPadding("sometimes").setMaxLength(0);
    e = assertThrows(IllegalArgumentException.class, () -> wrong.transformSchema(in.schema()));
    assertTrue(e.getMessage().contains("input column 'id' has type int, expected string")
        && e.getMessage().contains("output column 'text' (inputIdsCol) already exists")
        && e.getMessage().contains("padding must be one of [none, bucket, max], got 'sometimes'")
        && e.getMessage().contains("maxLength must be at least 1, got 0"), e.getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new NnvmTokenizer().setInputCol("missing").setTokenizerJson(json).transformSchema(in.schema()))
        .getMessage().contains("missing input column 'missing'"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new NnvmTokenizer().setTokenizerJson("not json".getBytes())).getMessage()
        .contains("is not a Hugging Face tokenizer.json"));

    e = assertThrows(IllegalArgumentException.class, () -> new NnvmPooling().transformSchema(in.schema()));
    assertTrue(e.getMessage().contains("missing token state column 'last_hidden_state'")
        && e.getMessage().contains("missing attention mask column 'attention_mask'"), e.getMessage());
    StructType flat = new StructType()
        .add("last_hidden_state", DataTypes.createArrayType(DataTypes.FloatType))
        .add("attention_mask", DataTypes.createArrayType(DataTypes.StringType));
    e = assertThrows(IllegalArgumentException.class, () -> new NnvmPooling().transformSchema(flat));
    assertTrue(e.getMessage().contains("is a flat array<float>: set hiddenSize")
        && e.getMessage().contains("attention mask column 'attention_mask' has type array<string>"), e.getMessage());
  }
}
