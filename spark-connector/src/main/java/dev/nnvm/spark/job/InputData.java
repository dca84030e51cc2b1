package dev.nnvm.spark.job;

import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Reads the job's input with Spark's own readers: Parquet, CSV (with a header row), JSON lines, plain text
 * (one row per line, column {@code text}; {@code .gz} is read transparently) and tab-separated text without
 * quoting (columns {@code _c0}, {@code _c1}, ...: corpus files such as Europarl's {@code title<TAB>date<TAB>body}
 * lines contain quotes that are text, not CSV quoting).
 */
public final class InputData {
  /** The input formats, {@link #AUTO} choosing by the file name. */
  public enum Format { AUTO, PARQUET, CSV, JSON, TEXT, TSV }

  /** The column plain-text input is read into. */
  public static final String TEXT_COLUMN = "text";

  private InputData() {}

  /** The format of {@code path} from its name: {@code .parquet}, {@code .csv}, {@code .json}/{@code .jsonl},
   *  {@code .tsv}, otherwise text; a directory without an extension is taken to be Parquet (Spark's output). */
  public static Format detect(String path) {
    String name = path.toLowerCase(Locale.ROOT);
    if (name.endsWith(".gz")) {
      name = name.substring(0, name.length() - 3);
    }
    if (name.endsWith("/")) {
      name = name.substring(0, name.length() - 1);
    }
    if (name.endsWith(".parquet")) {
      return Format.PARQUET;
    }
    if (name.endsWith(".csv")) {
      return Format.CSV;
    }
    if (name.endsWith(".json") || name.endsWith(".jsonl")) {
      return Format.JSON;
    }
    if (name.endsWith(".tsv")) {
      return Format.TSV;
    }
    if (new java.io.File(path).isDirectory()) {
      return Format.PARQUET;
    }
    return Format.TEXT;
  }

  /** Reads {@code path} in {@code format} ({@link Format#AUTO}: by name, see {@link #detect}). */
  public static Dataset<Row> read(SparkSession spark, String path, Format format) {
    Format f = format == Format.AUTO ? detect(path) : format;
    DataFrameReader reader = spark.read();
    switch (f) {
      case PARQUET:
        return reader.parquet(path);
      case CSV:
        return reader.option("header", "true").option("inferSchema", "true").csv(path);
      case JSON:
        return reader.json(path);
      case TSV:
        // No quote character: quotes in corpus text are text.
        return reader.option("sep", "\t").option("quote", "\u0000").option("header", "false").csv(path);
      case TEXT:
        return reader.text(path).withColumnRenamed("value", TEXT_COLUMN);
      default:
        throw new IllegalArgumentException("unknown input format " + f + "; use one of "
            + Arrays.toString(Format.values()));
    }
  }
}
