package dev.nnvm.spark

import java.nio.file.Files

import scala.util.Random

import org.apache.spark.sql.{AnalysisException, SparkSession}
import org.apache.spark.sql.execution.SparkPlan
import org.apache.spark.sql.execution.adaptive.AdaptiveSparkPlanExec
import org.apache.spark.sql.functions.col
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

import dev.nnvm.compiler.frontend.onnx.OnnxExporter
import dev.nnvm.compiler.text.GraphParser
import dev.nnvm.spark.implicits._
import dev.nnvm.spark.sql.{NnvmFunctions, NnvmPredictExec, NnvmSparkExtensions}

/**
 * The Scala API (`df.nnvmPredict`) over small compiled graphs, checked
 * against the same arithmetic done in Scala, and through `nnvm_predict` in
 * SQL text nested in a query.
 */
class NnvmImplicitsSuite extends AnyFunSuite with BeforeAndAfterAll {
  private val seed = 20261206L
  private var spark: SparkSession = _
  private val dir = Files.createTempDirectory("nnvm-implicits")

  // y = x * w + b per element (w, b constants), and s = the mean of the squares: two outputs
  private val affine =
    """graph affine(%features: f32[N, 6]) -> (%y: f32[N, 6], %s: f32[N]) opset(ai.onnx=17) {
      |  const %w: f32[6] = dense<[0.5, -1.0, 2.0, 0.25, -0.75, 1.5]>
      |  const %b: f32[6] = dense<[1.0, 0.0, -1.0, 0.5, 0.0, 2.0]>
      |  %m = Mul(%features, %w)
      |  %y = Add(%m, %b)
      |  %q = Mul(%features, %features)
      |  %s = ReduceMean(%q) {axes = [1], keepdims = 0}
      |  return %y, %s
      |}
      |""".stripMargin
  private val w = Array(0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f)
  private val b = Array(1.0f, 0.0f, -1.0f, 0.5f, 0.0f, 2.0f)
  private lazy val data: Seq[(Long, Array[Float])] = {
    val r = new Random(seed)
    (0 until 300).map(i => (i.toLong, Array.fill(6)(r.nextFloat() * 4 - 2)))
  }

  override def beforeAll(): Unit = {
    spark = SparkSession.builder().master("local[2]").appName("NnvmImplicitsSuite")
      .config("spark.sql.extensions", classOf[NnvmSparkExtensions].getName)
      .config("spark.ui.enabled", "false")
      .getOrCreate()
    val onnx = dir.resolve("affine.onnx")
    OnnxExporter.write(GraphParser.parse(affine), onnx)
    NnvmFunctions.register("affine", onnx.toString, java.util.Map.of("batchSize", "50"))
    println(s"NnvmImplicitsSuite seed $seed")
  }

  override def afterAll(): Unit = {
    NnvmFunctions.unregister("affine")
    if (spark != null) spark.stop()
  }

  private def frame(column: String) = {
    val s = spark
    import s.implicits._
    data.toDF("id", column)
  }

  private def check(rows: Array[org.apache.spark.sql.Row]): Unit = {
    assert(rows.length == data.size)
    var maxAbs = 0.0
    rows.foreach { row =>
      val id = row.getAs[Long]("id").toInt
      val x = data(id)._2
      val y = row.getAs[scala.collection.Seq[Float]]("y")
      for (j <- 0 until 6) {
        val want = x(j).toDouble * w(j) + b(j)
        maxAbs = math.max(maxAbs, math.abs(y(j) - want))
        assert(math.abs(y(j) - want) <= 1e-6 + 1e-6 * math.abs(want), s"row $id y[$j]: ${y(j)} vs $want")
      }
      val s = x.map(v => v.toDouble * v).sum / 6
      maxAbs = math.max(maxAbs, math.abs(row.getAs[Float]("s") - s))
      assert(math.abs(row.getAs[Float]("s") - s) <= 1e-5 * math.max(1, s), s"row $id s")
    }
    println(f"affine graph via the Scala API: ${rows.length} rows, max abs err $maxAbs%.3g")
  }

  private def find(plan: SparkPlan): Option[SparkPlan] = plan match {
    case a: AdaptiveSparkPlanExec => find(a.executedPlan)
    case e: NnvmPredictExec => Some(e)
    case other => other.children.flatMap(find).headOption
  }

  test("df.nnvmPredict(name) feeds the columns named after the inputs and appends one column per output") {
    val out = frame("features").nnvmPredict("affine")
    assert(out.columns.toSeq == Seq("id", "features", "y", "s"))
    check(out.collect())
    val exec = find(out.queryExecution.executedPlan)
    assert(exec.isDefined, out.queryExecution.executedPlan.toString)
    val runs = exec.get.metrics("nnvmBatches").value
    assert(runs == 6, s"300 rows in 2 partitions of 150, batch 50: 3 native runs each, got $runs")
  }

  test("df.nnvmPredict(name, columns) maps other column names, and a path works as the model") {
    check(frame("pixels").nnvmPredict("affine", "pixels").collect())
    val path = dir.resolve("affine.onnx").toString
    check(frame("pixels").nnvmPredictColumns(path, col("pixels")).collect())
  }

  test("nnvm_predict nests in SQL text over a view made by the Scala API") {
    frame("features").createOrReplaceTempView("v")
    val rows = spark.sql(
      "SELECT id, r.y AS y, r.s AS s FROM (SELECT id, nnvm_predict('affine', features) AS r FROM v) ORDER BY id")
      .collect()
    check(rows)
    assert(rows.map(_.getLong(0)).toSeq == (0L until 300L))
  }

  test("a missing input column fails before any job runs") {
    val e = intercept[AnalysisException](frame("other").nnvmPredict("affine"))
    assert(e.getMessage.contains("features"), e.getMessage)
  }
}
