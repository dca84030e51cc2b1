package dev.nnvm.spark

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.Transformer
import org.apache.spark.sql.{Column, DataFrame}
import org.apache.spark.sql.functions.{call_function, col, lit}
import org.apache.spark.sql.types.StructType

import dev.nnvm.spark.sql.NnvmFunctions

/**
 * The Scala API: `import dev.nnvm.spark.implicits._` and then
 *
 * {{{
 * df.nnvmPredict("classifier")                 // a registered name, or an .onnx / .nnvm path
 * df.nnvmPredict("classifier", "pixels")       // columns feeding the inputs, in input order
 * df.nnvmPredict(nnvmModel)                    // an NnvmModel (or any Transformer)
 * }}}
 *
 * A name or path goes through the `nnvm_predict` SQL function (so the session needs
 * `spark.sql.extensions=dev.nnvm.spark.sql.NnvmSparkExtensions`): scored a batch at a time, one column
 * appended per model output, named after the output. Without input columns, the columns named after the
 * model's inputs feed them.
 */
object implicits {

  implicit class NnvmDataFrameOps(private val df: DataFrame) extends AnyVal {

    /** Appends the outputs of `model` (a registered name or a model path) fed by the columns named after its inputs. */
    def nnvmPredict(model: String): DataFrame =
      nnvmPredict(model, NnvmFunctions.resolve(model).inputs().asScala.map(_.name).toSeq: _*)

    /** Appends the outputs of `model`, fed in input order by `inputColumns`. */
    def nnvmPredict(model: String, inputColumns: String*): DataFrame =
      nnvmPredictColumns(model, inputColumns.map(c => col(quote(c))): _*)

    /** Appends the outputs of `model`, fed in input order by `inputs` (any column expressions). */
    def nnvmPredictColumns(model: String, inputs: Column*): DataFrame = {
      val call = call_function(NnvmFunctions.PREDICT, lit(model) +: inputs: _*)
      val outputs = NnvmFunctions.resolve(model).outputs().asScala.map(_.name)
      if (outputs.size == 1) {
        df.withColumn(outputs.head, call)
      } else {
        val tmp = "__nnvm_predict_" + System.identityHashCode(call)
        val withResult = df.withColumn(tmp, call)
        val kept = df.columns.map(c => col(quote(c))).toSeq
        val fields = withResult.schema(tmp).dataType.asInstanceOf[StructType].fieldNames
          .map(f => col(quote(tmp)).getField(f).as(f)).toSeq
        withResult.select(kept ++ fields: _*)
      }
    }

    /** Scores with a Transformer (e.g. `dev.nnvm.spark.NnvmModel`): `model.transform(df)`. */
    def nnvmPredict(model: Transformer): DataFrame = model.transform(df)
  }

  private def quote(name: String): String = "`" + name.replace("`", "``") + "`"
}
