package dev.nnvm.spark;

import dev.nnvm.scoring.BatchScorer;
import dev.nnvm.scoring.ModelCache;
import dev.nnvm.scoring.ScoringMetrics;
import dev.nnvm.scoring.ScoringSpec;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.BoundReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The executor side of batch scoring, one partition at a time: rows are
 * written into a reused Arrow batch of {@link ScoringSpec#batchSize()} rows
 * ({@link SparkArrow.RowWriter}), each full batch is scored by a
 * {@link BatchScorer} over the JVM's {@link ModelCache} (the model is loaded
 * once per executor JVM, whatever the number of tasks), and the outputs come
 * back as rows: the input columns kept (all, some or none) followed by one
 * value per model output. Rows stay in input order.
 *
 * <p>Serializable and small: it ships in the task closure while the spec,
 * with the artifact's bytes, stays in its broadcast variable. The scorer and
 * the Arrow memory of a task are freed when its rows run out or, at the
 * latest, when the task ends (a task completion listener), and the task's
 * counters are then added to the {@link SparkMetrics} accumulators.
 */
public final class PartitionScorer implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(PartitionScorer.class);

  private final Broadcast<ScoringSpec> spec;
  private final StructType input;
  /** The input columns result rows carry, in input order; all of them: null. */
  private final int[] kept;
  private final SparkMetrics metrics;
  private final StructType resultSchema;

  /**
   * @param spec the broadcast spec
   * @param input the schema of the rows {@link #apply} receives
   * @param keepInputColumns true: result rows are the input row plus the outputs; false: the outputs alone
   * @param metrics accumulators to add each task's counters to, or null
   */
  public PartitionScorer(Broadcast<ScoringSpec> spec, StructType input, boolean keepInputColumns,
      SparkMetrics metrics) {
    this(spec, input, keepInputColumns ? null : new int[0], metrics);
  }

  /**
   * @param spec the broadcast spec
   * @param input the schema of the rows {@link #apply} receives
   * @param keptColumns the indexes of the input columns result rows carry before the outputs, in input order
   *     (null: every column, without projecting the row)
   * @param metrics accumulators to add each task's counters to, or null
   */
  public PartitionScorer(Broadcast<ScoringSpec> spec, StructType input, int[] keptColumns, SparkMetrics metrics) {
    this.spec = Objects.requireNonNull(spec, "spec");
    this.input = Objects.requireNonNull(input, "input");
    this.kept = keptColumns == null ? null : keptColumns.clone();
    this.metrics = metrics;
    StructType outputs = SparkArrow.plan(spec.value(), input).outputSchema();
    List<StructField> fields = new ArrayList<>();
    if (kept == null) {
      fields.addAll(List.of(input.fields()));
    } else {
      for (int i : kept) {
        fields.add(input.fields()[i]);
      }
    }
    fields.addAll(List.of(outputs.fields()));
    this.resultSchema = new StructType(fields.toArray(new StructField[0]));
  }

  /** The schema of the rows {@link #apply} returns. */
  public StructType resultSchema() {
    return resultSchema;
  }

  /** Scores a partition (Scala iterators, for {@code RDD.mapPartitions}). */
  public scala.collection.Iterator<InternalRow> apply(scala.collection.Iterator<InternalRow> rows) {
    return CollectionConverters.asScala(apply(CollectionConverters.asJava(rows)));
  }

  /** Scores a partition; lazily, a batch at a time. */
  public Iterator<InternalRow> apply(Iterator<InternalRow> rows) {
    return new Scoring(rows);
  }

  /** The per-task state: opened on the first row, closed at the end of the rows or of the task. */
  private final class Scoring implements Iterator<InternalRow> {
    private final Iterator<InternalRow> in;
    private final List<InternalRow> keptRows = new ArrayList<>();
    private final List<InternalRow> ready = new ArrayList<>();
    private int next;
    private long rowsRead;
    private BufferAllocator allocator;
    private SparkArrow plan;
    private SparkArrow.RowWriter writer;
    private BatchScorer scorer;
    /** Projects a row onto the kept columns (when some, not all, are kept). */
    private UnsafeProjection keep;
    private boolean closed;

    Scoring(Iterator<InternalRow> in) {
      this.in = in;
      TaskContext task = TaskContext.get();
      if (task != null) {
        task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) ctx -> close());
      }
    }

    private void open() {
      ScoringSpec s = spec.value();
      TaskContext task = TaskContext.get();
      String name = task == null ? "nnvm-scoring" : "nnvm-task-" + task.taskAttemptId();
      allocator = SparkArrow.rootAllocator().newChildAllocator(name, 0, Long.MAX_VALUE);
      try {
        plan = SparkArrow.plan(s, input);
        writer = plan.newWriter(allocator, s.batchSize());
        scorer = BatchScorer.open(s, allocator);
        if (kept != null && kept.length > 0) {
          List<Expression> columns = new ArrayList<>();
          for (int i : kept) {
            StructField f = input.fields()[i];
            columns.add(new BoundReference(i, f.dataType(), f.nullable()));
          }
          keep = UnsafeProjection.create(CollectionConverters.asScala(columns).toSeq());
        }
      } catch (RuntimeException | Error e) {
        close();
        throw e;
      }
    }

    @Override
    public boolean hasNext() {
      if (next < ready.size()) {
        return true;
      }
      if (closed || !in.hasNext()) {
        close();
        return false;
      }
      fill();
      return next < ready.size();
    }

    @Override
    public InternalRow next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return ready.get(next++);
    }

    /** Reads up to a batch of rows, scores them and queues the result rows. */
    private void fill() {
      if (scorer == null) {
        open();
      }
      ready.clear();
      keptRows.clear();
      next = 0;
      writer.reset(rowsRead);
      while (!writer.isFull() && in.hasNext()) {
        InternalRow row = in.next();
        try {
          writer.write(row);
        } catch (IllegalArgumentException e) {
          // Row numbers count within the partition: say which one, so the row can be found.
          org.apache.spark.TaskContext task = org.apache.spark.TaskContext.get();
          throw new IllegalArgumentException((task == null ? "" : "partition " + task.partitionId() + ", ")
              + e.getMessage(), e);
        }
        if (kept == null) {
          keptRows.add(row.copy()); // Spark reuses the row object between calls
        } else if (keep != null) {
          keptRows.add(keep.apply(row).copy()); // the kept columns only: an image column is not copied
        }
        rowsRead++;
      }
      VectorSchemaRoot batch = writer.finish();
      int outputs = plan.outputSchema().size();
      try (VectorSchemaRoot out = scorer.score(batch)) {
        for (int r = 0; r < batch.getRowCount(); r++) {
          Object[] values = new Object[outputs];
          plan.readOutputs(out, r, values, 0);
          InternalRow result = new GenericInternalRow(values);
          ready.add(kept == null || keep != null ? new JoinedRow(keptRows.get(r), result) : result);
        }
      }
    }

    private void close() {
      if (closed) {
        return;
      }
      closed = true;
      ScoringMetrics m = new ScoringMetrics();
      Exception failure = null;
      if (scorer != null) {
        m.add(scorer.metrics());
      }
      if (writer != null) {
        m.addBytesCopied(writer.bytesWritten());
      }
      for (AutoCloseable c : new AutoCloseable[] {writer, scorer, allocator}) {
        try {
          if (c != null) {
            c.close();
          }
        } catch (Exception e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (metrics != null && (m.rows() > 0 || m.modelLoads() > 0)) {
        metrics.add(m);
      }
      if (failure != null) {
        LOG.warn("freeing the scoring state of a task failed", failure);
      }
    }
  }
}
