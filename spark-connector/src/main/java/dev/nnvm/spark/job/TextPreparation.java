package dev.nnvm.spark.job;

import java.util.Arrays;
import org.apache.spark.api.java.function.FilterFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/** The text column checked, then (on request) English documents kept and split into complete sentences. */
final class TextPreparation {
  private TextPreparation() {}

  static Dataset<Row> prepare(Dataset<Row> input, TextOptions text) {
    String column = text.textColumn;
    if (!Arrays.asList(input.columns()).contains(column)) {
      throw new JobException("the input has no text column '" + column + "' (columns: "
          + Arrays.toString(input.columns()) + "); name it with --text-column");
    }
    if (!input.schema().apply(column).dataType().equals(DataTypes.StringType)) {
      throw new JobException("text column '" + column + "' is " + input.schema().apply(column).dataType()
          .simpleString() + ", not a string");
    }
    Dataset<Row> out = input;
    if (text.englishOnly) {
      int at = input.schema().fieldIndex(column);
      out = out.filter((FilterFunction<Row>) r -> Sentences.looksEnglish(r.isNullAt(at) ? null : r.getString(at)));
    }
    if (text.splitSentences) {
      int minWords = text.minWords;
      int maxChars = text.maxChars;
      UserDefinedFunction split = functions.udf(
          (UDF1<String, String[]>) t -> Sentences.split(t, minWords, maxChars).toArray(new String[0]),
          DataTypes.createArrayType(DataTypes.StringType, false));
      out = out.withColumn(column, functions.explode(split.apply(functions.col(column))));
    }
    return out;
  }
}
