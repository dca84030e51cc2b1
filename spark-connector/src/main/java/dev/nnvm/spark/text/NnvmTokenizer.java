package dev.nnvm.spark.text;

import dev.nnvm.scoring.text.Encoded;
import dev.nnvm.scoring.text.TextTokenizer;
import dev.nnvm.scoring.text.TokenizerCache;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Option;

/**
 * A Spark ML stage that tokenizes a text column with a Hugging Face
 * {@code tokenizer.json} (through {@link TextTokenizer}, DJL's binding of the
 * Rust tokenizers library) into the three columns a BERT-style encoder takes:
 * {@code input_ids}, {@code attention_mask}, {@code token_type_ids}, each
 * {@code array<bigint>}. A null text gives null in all three.
 *
 * <pre>{@code
 * NnvmTokenizer tokenizer = new NnvmTokenizer()
 *     .setTokenizerJson(Files.readAllBytes(Path.of("tokenizer.json")))
 *     .setInputCol("text").setMaxLength(128);
 * Dataset<Row> tokens = tokenizer.transform(sentences);
 * }</pre>
 *
 * <p>The tokenizer.json bytes travel to the executors as a broadcast; each
 * executor JVM builds one tokenizer per file and maximum length
 * ({@link TokenizerCache#shared()}) and every task there reuses it. Rows are
 * tokenized a partition batch at a time ({@code batchSize} texts per native
 * call).
 *
 * <p>Padding ({@code padding}): {@code none} (default) keeps each row at its
 * own length, for a model stage that pads each batch to its longest row;
 * {@code bucket} pads each row with zeros up to a multiple of
 * {@code bucketWidth} (at most {@code maxLength}), so rows of similar length
 * share one length; {@code max} pads every row to {@code maxLength}.
 *
 * <p>Saved with {@link #write()} (the tokenizer.json is stored beside the
 * metadata, as {@code tokenizer.json}) and loaded with {@link #load(String)},
 * alone or inside a saved {@code Pipeline}.
 */
public final class NnvmTokenizer extends Transformer implements MLWritable {
  private static final long serialVersionUID = 1L;
  /** The file stored beside the stage's metadata. */
  public static final String TOKENIZER_FILE = "tokenizer.json";
  private static final List<String> PADDINGS = List.of("none", "bucket", "max");

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> inputIdsCol;
  private final Param<String> attentionMaskCol;
  private final Param<String> tokenTypeIdsCol;
  private final IntParam maxLength;
  private final Param<String> padding;
  private final IntParam bucketWidth;
  private final IntParam batchSize;
  private byte[] tokenizerJson;
  private String fingerprint;
  private transient Broadcast<byte[]> broadcast;
  private transient SparkContext broadcastContext;

  public NnvmTokenizer() {
    this(Identifiable$.MODULE$.randomUID("nnvmTokenizer"));
  }

  public NnvmTokenizer(String uid) {
    this.uid = uid;
    inputCol = new Param<>(this, "inputCol", "the text column (string)");
    inputIdsCol = new Param<>(this, "inputIdsCol", "the token ids column written (array<bigint>)");
    attentionMaskCol = new Param<>(this, "attentionMaskCol", "the attention mask column written (array<bigint>)");
    tokenTypeIdsCol = new Param<>(this, "tokenTypeIdsCol", "the token type ids column written (array<bigint>)");
    maxLength = new IntParam(this, "maxLength", "the most tokens a row keeps, special tokens included (>= 1)");
    padding = new Param<>(this, "padding", "none (each row its own length), bucket (up to a multiple of"
        + " bucketWidth) or max (every row maxLength long)");
    bucketWidth = new IntParam(this, "bucketWidth", "with padding=bucket, rows are padded to a multiple of this");
    batchSize = new IntParam(this, "batchSize", "texts tokenized per native call");
    setDefault(inputCol, "text");
    setDefault(inputIdsCol, TextTokenizer.INPUT_IDS);
    setDefault(attentionMaskCol, TextTokenizer.ATTENTION_MASK);
    setDefault(tokenTypeIdsCol, TextTokenizer.TOKEN_TYPE_IDS);
    setDefault(maxLength, 128);
    setDefault(padding, "none");
    setDefault(bucketWidth, 16);
    setDefault(batchSize, 256);
  }

  @Override
  public String uid() {
    return uid;
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> inputIdsCol() {
    return inputIdsCol;
  }

  public Param<String> attentionMaskCol() {
    return attentionMaskCol;
  }

  public Param<String> tokenTypeIdsCol() {
    return tokenTypeIdsCol;
  }

  public IntParam maxLength() {
    return maxLength;
  }

  public Param<String> padding() {
    return padding;
  }

  public IntParam bucketWidth() {
    return bucketWidth;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public NnvmTokenizer setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public NnvmTokenizer setInputIdsCol(String value) {
    set(inputIdsCol, value);
    return this;
  }

  public NnvmTokenizer setAttentionMaskCol(String value) {
    set(attentionMaskCol, value);
    return this;
  }

  public NnvmTokenizer setTokenTypeIdsCol(String value) {
    set(tokenTypeIdsCol, value);
    return this;
  }

  public NnvmTokenizer setMaxLength(int value) {
    set(maxLength, value);
    return this;
  }

  public NnvmTokenizer setPadding(String value) {
    set(padding, value);
    return this;
  }

  public NnvmTokenizer setBucketWidth(int value) {
    set(bucketWidth, value);
    return this;
  }

  public NnvmTokenizer setBatchSize(int value) {
    set(batchSize, value);
    return this;
  }

  /**
   * The tokenizer.json to use. It is checked here, on the driver (a file that is not a tokenizer.json fails now,
   * not in a task).
   */
  public NnvmTokenizer setTokenizerJson(byte[] json) {
    Objects.requireNonNull(json, "json");
    try (TextTokenizer check = TextTokenizer.fromBytes(json, 1)) {
      this.fingerprint = check.fingerprint();
    }
    this.tokenizerJson = json.clone();
    this.broadcast = null;
    return this;
  }

  /** Reads the tokenizer.json from a local file; see {@link #setTokenizerJson}. */
  public NnvmTokenizer setTokenizerFile(String path) {
    try {
      return setTokenizerJson(Files.readAllBytes(Path.of(path)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the tokenizer.json " + path, e);
    }
  }

  /** The tokenizer.json's bytes (a copy), or null when none was set. */
  public byte[] getTokenizerJson() {
    return tokenizerJson == null ? null : tokenizerJson.clone();
  }

  /** SHA-256 (hex) of the tokenizer.json, or null when none was set. */
  public String getFingerprint() {
    return fingerprint;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    List<String> problems = new ArrayList<>();
    String in = getOrDefault(inputCol);
    if (!Arrays.asList(schema.fieldNames()).contains(in)) {
      problems.add("missing input column '" + in + "' (the input has " + Arrays.toString(schema.fieldNames()) + ")");
    } else if (!schema.apply(in).dataType().equals(DataTypes.StringType)) {
      problems.add("input column '" + in + "' has type " + schema.apply(in).dataType().simpleString()
          + ", expected string");
    }
    for (Param<String> out : List.of(inputIdsCol, attentionMaskCol, tokenTypeIdsCol)) {
      if (Arrays.asList(schema.fieldNames()).contains(getOrDefault(out))) {
        problems.add("output column '" + getOrDefault(out) + "' (" + out.name() + ") already exists");
      }
    }
    if ((int) getOrDefault(maxLength) < 1) {
      problems.add("maxLength must be at least 1, got " + getOrDefault(maxLength));
    }
    if (!PADDINGS.contains(getOrDefault(padding))) {
      problems.add("padding must be one of " + PADDINGS + ", got '" + getOrDefault(padding) + "'");
    }
    if ((int) getOrDefault(bucketWidth) < 1) {
      problems.add("bucketWidth must be at least 1, got " + getOrDefault(bucketWidth));
    }
    if ((int) getOrDefault(batchSize) < 1) {
      problems.add("batchSize must be at least 1, got " + getOrDefault(batchSize));
    }
    if (tokenizerJson == null) {
      problems.add("no tokenizer.json: call setTokenizerJson or setTokenizerFile");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("NnvmTokenizer " + uid + ": " + String.join("; ", problems));
    }
    DataType ids = DataTypes.createArrayType(DataTypes.LongType, false);
    StructType out = schema;
    for (Param<String> c : List.of(inputIdsCol, attentionMaskCol, tokenTypeIdsCol)) {
      out = out.add(new StructField(getOrDefault(c), ids, true, org.apache.spark.sql.types.Metadata.empty()));
    }
    return out;
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType outSchema = transformSchema(dataset.schema());
    Broadcast<byte[]> shipped = broadcast(dataset.sparkSession().sparkContext());
    Tokenize fn = new Tokenize(shipped, fingerprint, (Integer) getOrDefault(maxLength), getOrDefault(padding),
        (Integer) getOrDefault(bucketWidth), (Integer) getOrDefault(batchSize),
        dataset.schema().fieldIndex(getOrDefault(inputCol)));
    return dataset.toDF().mapPartitions(fn, Encoders.row(outSchema));
  }

  private synchronized Broadcast<byte[]> broadcast(SparkContext sc) {
    // One broadcast per Spark context, reused by later transforms (a tokenizer.json is about 1 MB).
    if (broadcast == null || broadcastContext != sc || sc.isStopped()) {
      broadcast = JavaSparkContext.fromSparkContext(sc).broadcast(tokenizerJson);
      broadcastContext = sc;
    }
    return broadcast;
  }

  @Override
  public NnvmTokenizer copy(ParamMap extra) {
    NnvmTokenizer copy = defaultCopy(extra);
    copy.tokenizerJson = tokenizerJson;
    copy.fingerprint = fingerprint;
    return copy;
  }

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  /** A reader of saved tokenizer stages. */
  public static MLReader<NnvmTokenizer> read() {
    return new Reader();
  }

  /** Loads a stage saved with {@link #write()}. */
  public static NnvmTokenizer load(String path) {
    return read().load(path);
  }

  /** Tokenizes a partition in batches: the executor side (serialized with the task). */
  private static final class Tokenize implements MapPartitionsFunction<Row, Row>, Serializable {
    private static final long serialVersionUID = 1L;
    private final Broadcast<byte[]> json;
    private final String fingerprint;
    private final int maxLength;
    private final String padding;
    private final int bucketWidth;
    private final int batchSize;
    private final int textIndex;

    Tokenize(Broadcast<byte[]> json, String fingerprint, int maxLength, String padding, int bucketWidth,
        int batchSize, int textIndex) {
      this.json = json;
      this.fingerprint = fingerprint;
      this.maxLength = maxLength;
      this.padding = padding;
      this.bucketWidth = bucketWidth;
      this.batchSize = batchSize;
      this.textIndex = textIndex;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      TextTokenizer tokenizer = TokenizerCache.shared().get(fingerprint, maxLength, json::value);
      return new Iterator<>() {
        private final List<Row> batch = new ArrayList<>(batchSize);
        private Encoded encoded;
        private int next;

        @Override
        public boolean hasNext() {
          return next < batch.size() || rows.hasNext();
        }

        @Override
        public Row next() {
          if (next == batch.size()) {
            fill();
          }
          Row in = batch.get(next);
          int r = next++;
          int width = in.length();
          Object[] values = new Object[width + 3];
          for (int i = 0; i < width; i++) {
            values[i] = in.get(i);
          }
          if (!encoded.isNull(r)) {
            int len = paddedLength(encoded.length(r));
            values[width] = Arrays.copyOf(encoded.inputIds(r), len);
            values[width + 1] = Arrays.copyOf(encoded.attentionMask(r), len);
            values[width + 2] = Arrays.copyOf(encoded.tokenTypeIds(r), len);
          }
          return RowFactory.create(values);
        }

        private void fill() {
          if (!rows.hasNext()) {
            throw new NoSuchElementException();
          }
          batch.clear();
          next = 0;
          List<String> texts = new ArrayList<>(batchSize);
          while (batch.size() < batchSize && rows.hasNext()) {
            Row row = rows.next();
            batch.add(row);
            texts.add(row.isNullAt(textIndex) ? null : row.getString(textIndex));
          }
          encoded = tokenizer.encode(texts);
        }
      };
    }

    private int paddedLength(int length) {
      switch (padding) {
        case "max":
          return maxLength;
        case "bucket":
          return Math.min(maxLength, (length + bucketWidth - 1) / bucketWidth * bucketWidth);
        default:
          return length;
      }
    }
  }

  /** Metadata (the params, as Spark's default writer stores them) plus the tokenizer.json beside it. */
  private static final class Writer extends MLWriter {
    private final NnvmTokenizer stage;

    Writer(NnvmTokenizer stage) {
      this.stage = stage;
    }

    @Override
    public void saveImpl(String path) {
      if (stage.tokenizerJson == null) {
        throw new IllegalStateException("NnvmTokenizer " + stage.uid + " has no tokenizer.json to save");
      }
      DefaultParamsWriter$.MODULE$.saveMetadata(stage, path, sparkSession());
      org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(path, TOKENIZER_FILE);
      try {
        FileSystem fs = file.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
        try (OutputStream out = fs.create(file, true)) {
          out.write(stage.tokenizerJson);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + file, e);
      }
    }
  }

  private static final class Reader extends MLReader<NnvmTokenizer> {
    @Override
    public NnvmTokenizer load(String path) {
      DefaultParamsReader.Metadata metadata = DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(),
          NnvmTokenizer.class.getName());
      NnvmTokenizer stage = new NnvmTokenizer(metadata.uid());
      metadata.getAndSetParams(stage, Option.empty());
      org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(path, TOKENIZER_FILE);
      try {
        FileSystem fs = file.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
        try (InputStream in = fs.open(file)) {
          stage.setTokenizerJson(in.readAllBytes());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file + " (saved with the NnvmTokenizer stage)", e);
      }
      return stage;
    }
  }
}
