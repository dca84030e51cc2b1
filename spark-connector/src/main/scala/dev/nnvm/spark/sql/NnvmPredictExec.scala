package dev.nnvm.spark.sql

import scala.jdk.CollectionConverters._

import org.apache.arrow.memory.{BufferAllocator, RootAllocator}
import org.apache.spark.TaskContext
import org.apache.spark.broadcast.Broadcast
import org.apache.spark.rdd.RDD
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{Attribute, AttributeSet, Expression, GenericInternalRow, JoinedRow, UnsafeProjection}
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan
import org.apache.spark.sql.execution.{SparkPlan, SparkStrategy, UnaryExecNode}
import org.apache.spark.sql.execution.metric.{SQLMetric, SQLMetrics}

import dev.nnvm.scoring.{BatchScorer, ScoringSpec}

/**
 * Runs the `nnvm_predict` calls of an [[NnvmPredictEval]] over its child's
 * rows, a batch at a time: it takes up to `batchSize` rows (the largest of the
 * calls' models), evaluates each call's arguments over them with one
 * generated projection, writes them into an Arrow batch ([[ArrowRowWriter]]),
 * scores the batch with the scoring module's `BatchScorer` (one native run
 * per `batchSize` rows of that model) and appends the results to the rows.
 *
 * The artifact is broadcast once per query and loaded once per executor JVM
 * (`ModelCache`); each task opens its own scorer (its own workspace).
 * The SQL metrics count native runs, rows, native time, Arrow writing time
 * and model loads, so the Spark UI shows that rows went through in batches.
 */
case class NnvmPredictExec(calls: Seq[NnvmPredict], resultAttrs: Seq[Attribute], child: SparkPlan)
  extends UnaryExecNode {

  override def output: Seq[Attribute] = child.output ++ resultAttrs

  override def producedAttributes: AttributeSet = AttributeSet(resultAttrs)

  override lazy val metrics: Map[String, SQLMetric] = Map(
    "numOutputRows" -> SQLMetrics.createMetric(sparkContext, "number of output rows"),
    "nnvmBatches" -> SQLMetrics.createMetric(sparkContext, "nnvm native runs"),
    "nnvmRows" -> SQLMetrics.createMetric(sparkContext, "nnvm rows scored"),
    "nnvmNativeTime" -> SQLMetrics.createNanoTimingMetric(sparkContext, "nnvm time in native code"),
    "nnvmWriteTime" -> SQLMetrics.createNanoTimingMetric(sparkContext, "nnvm time writing Arrow batches"),
    "nnvmModelLoads" -> SQLMetrics.createMetric(sparkContext, "nnvm model loads"))

  override protected def withNewChildInternal(newChild: SparkPlan): NnvmPredictExec = copy(child = newChild)

  override def simpleString(maxFields: Int): String =
    s"NnvmPredictExec [${calls.map(c => s"${c.model.name} (batch ${c.model.spec.batchSize})").mkString(", ")}]" +
      s" -> ${resultAttrs.mkString(", ")}"

  protected override def doExecute(): RDD[InternalRow] = {
    val specs: Seq[Broadcast[ScoringSpec]] = calls.map(c => sparkContext.broadcast(c.model.spec))
    val columns = calls.map(_.inputColumns)
    val structs = calls.map(_.model.outputs().size > 1)
    val args: Seq[Seq[Expression]] = calls.map(_.children)
    val batchRows = calls.map(_.model.spec.batchSize).max
    val childOutput = child.output
    val allOutput = output
    val m = metrics
    child.execute().mapPartitions({ rows =>
      new PredictIterator(rows, specs.map(_.value), columns.map(c => new ArrowRowWriter(c)), structs, args,
        childOutput, allOutput, batchRows, m)
    }, preservesPartitioning = true)
  }
}

/** One task's loop: buffer a batch of rows, score it call by call, emit the joined rows. */
private class PredictIterator(
    rows: Iterator[InternalRow],
    specs: Seq[ScoringSpec],
    writers: Seq[ArrowRowWriter],
    structs: Seq[Boolean],
    args: Seq[Seq[Expression]],
    childOutput: Seq[Attribute],
    allOutput: Seq[Attribute],
    batchRows: Int,
    metrics: Map[String, SQLMetric]) extends Iterator[InternalRow] {

  private val context = TaskContext.get()
  private val allocator: BufferAllocator = NnvmPredictExec.allocator.newChildAllocator(
    s"nnvm_predict task ${if (context == null) -1 else context.taskAttemptId()}", 0, Long.MaxValue)
  private var scorers: Seq[BatchScorer] = Nil
  private var closed = false
  private val projections = args.map(a => UnsafeProjection.create(a, childOutput))
  private val resultProjection = UnsafeProjection.create(allOutput, allOutput)
  private val buffer = new Array[InternalRow](batchRows)
  private var out: Array[InternalRow] = Array.empty
  private var pos = 0
  private var rowsSeen = 0L

  try {
    scorers = specs.map(s => BatchScorer.open(s, allocator))
  } catch {
    case e: Throwable =>
      close()
      throw e
  }
  if (context != null) {
    context.addTaskCompletionListener[Unit](_ => close())
  }

  override def hasNext: Boolean = {
    if (pos < out.length) {
      true
    } else if (closed) {
      false
    } else {
      fill()
      pos < out.length
    }
  }

  override def next(): InternalRow = {
    if (!hasNext) throw new NoSuchElementException("no more rows")
    val r = out(pos)
    pos += 1
    r
  }

  private def fill(): Unit = {
    var n = 0
    while (n < batchRows && rows.hasNext) {
      buffer(n) = rows.next().copy()
      n += 1
    }
    if (n == 0) {
      close()
      out = Array.empty
      pos = 0
      return
    }
    val results = Array.ofDim[Array[AnyRef]](specs.size)
    for (i <- specs.indices) {
      val t0 = System.nanoTime()
      val argRows = new Array[InternalRow](n)
      for (r <- 0 until n) {
        argRows(r) = projections(i)(buffer(r)).copy()
      }
      val batch = writers(i).write(argRows, n, rowsSeen, allocator)
      metrics("nnvmWriteTime") += System.nanoTime() - t0
      val scorer = scorers(i)
      val before = scorer.metrics().snapshot()
      try {
        val scored = scorer.score(batch)
        try {
          results(i) = ArrowResultReader.read(scored, n, structs(i))
        } finally {
          scored.close()
        }
      } finally {
        batch.close()
      }
      val after = scorer.metrics()
      metrics("nnvmBatches") += after.batches() - before.batches()
      metrics("nnvmRows") += after.rows() - before.rows()
      metrics("nnvmNativeTime") += after.nativeNanos() - before.nativeNanos()
    }
    val joined = new JoinedRow()
    val extra = new GenericInternalRow(specs.size)
    out = new Array[InternalRow](n)
    for (r <- 0 until n) {
      for (i <- specs.indices) {
        extra.update(i, results(i)(r))
      }
      out(r) = resultProjection(joined(buffer(r), extra)).copy()
      buffer(r) = null
    }
    pos = 0
    rowsSeen += n
    metrics("numOutputRows") += n
  }

  private def close(): Unit = {
    if (!closed) {
      closed = true
      var failure: Throwable = null
      scorers.foreach { s =>
        metrics("nnvmModelLoads") += s.metrics().modelLoads()
        try s.close() catch { case e: Throwable => if (failure == null) failure = e else failure.addSuppressed(e) }
      }
      try allocator.close() catch {
        case e: Throwable => if (failure == null) failure = e else failure.addSuppressed(e)
      }
      if (failure != null) throw failure
    }
  }
}

object NnvmPredictExec {
  /** The Arrow root of this JVM's `nnvm_predict` tasks; each task takes a child and closes it at its end. */
  private[sql] lazy val allocator: BufferAllocator = new RootAllocator(Long.MaxValue)
}

/** Plans an [[NnvmPredictEval]] as an [[NnvmPredictExec]]. */
object NnvmPredictStrategy extends SparkStrategy {
  override def apply(plan: LogicalPlan): Seq[SparkPlan] = plan match {
    case NnvmPredictEval(calls, resultAttrs, child) => NnvmPredictExec(calls, resultAttrs, planLater(child)) :: Nil
    case _ => Nil
  }
}
