package dev.nnvm.spark.job;

import dev.nnvm.scoring.ScoringSpec;
import dev.nnvm.scoring.text.TextTokenizer;
import dev.nnvm.spark.SparkMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Text to embeddings on the connector's pieces: the spec (artifact bytes) and the tokenizer.json are broadcast
 * once, and each partition runs {@link EmbeddingPartitions} (tokenize, sort by length, score, pool). Everything
 * that can fail on bad input (a tokenizer.json that is not one, a model without the token inputs) fails here on the
 * driver, before any task.
 */
final class TextStages {
  /**
   * Texts per tokenizer call and per sort by length, at least: 16 model runs' worth, so that sorting leaves little
   * padding, while a chunk's rows stay a small part of a task's memory.
   */
  static final int CHUNK_ROWS = 512;

  private TextStages() {}

  static Dataset<Row> embed(SparkSession spark, Dataset<Row> input, CompiledArtifact artifact, TextOptions text,
      JobCommand job) {
    byte[] json;
    try {
      json = Files.readAllBytes(text.tokenizer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the tokenizer " + text.tokenizer, e);
    }
    String fingerprint;
    try (TextTokenizer check = TextTokenizer.fromBytes(json, text.maxLength)) {
      fingerprint = check.fingerprint();
    }
    List<String> tokenInputs = List.of(TextTokenizer.INPUT_IDS, TextTokenizer.ATTENTION_MASK,
        TextTokenizer.TOKEN_TYPE_IDS);
    List<String> missing = new ArrayList<>();
    artifact.manifest.inputs().forEach(i -> {
      if (!tokenInputs.contains(i.name())) {
        missing.add(i.name());
      }
    });
    if (!missing.isEmpty()) {
      throw new JobException("embed feeds a BERT-style encoder from its tokenizer (inputs " + tokenInputs
          + "), but the model also takes " + missing + "; score such a model with 'score'");
    }
    ScoringSpec.Builder b = ScoringSpec.builder(artifact.bytes).batchSize(job.batchSize)
        .threads(job.threadsPerTask(spark)).nullPolicy(job.nullPolicy);
    for (Map.Entry<String, Long> d : job.dims.entrySet()) {
      b.dim(d.getKey(), d.getValue());
    }
    ScoringSpec spec = b.build();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ScoringSpec> shippedSpec = jsc.broadcast(spec);
    Broadcast<byte[]> shippedTokenizer = jsc.broadcast(json);
    SparkMetrics metrics = SparkMetrics.register(spark.sparkContext());
    StructType schema = input.schema();
    if (java.util.Arrays.asList(schema.fieldNames()).contains(text.embeddingColumn)) {
      throw new JobException("the input already has a column '" + text.embeddingColumn + "'; name the output with"
          + " --embedding-column");
    }
    EmbeddingPartitions partitions = new EmbeddingPartitions(shippedSpec, shippedTokenizer, fingerprint,
        text.maxLength, schema.fieldIndex(text.textColumn), Math.max(CHUNK_ROWS, 16 * job.batchSize),
        !text.noNormalize,
        spec.outputs().get(0).name(), metrics);
    StructType out = schema.add(text.embeddingColumn, DataTypes.createArrayType(DataTypes.FloatType, false), true);
    return input.mapPartitions((MapPartitionsFunction<Row, Row>) partitions::apply, Encoders.row(out));
  }
}
