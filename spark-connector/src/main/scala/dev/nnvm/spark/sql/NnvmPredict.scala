package dev.nnvm.spark.sql

import java.util.{ArrayList => JArrayList, LinkedHashMap => JLinkedHashMap, List => JList}

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.catalyst.analysis.TypeCheckResult
import org.apache.spark.sql.catalyst.expressions.{Expression, Literal, Unevaluable}
import org.apache.spark.sql.catalyst.util.MapData
import org.apache.spark.sql.types.{DataType, MapType, StringType}

/**
 * `nnvm_predict('<model>', arg1, arg2, ...)`: the model's result for one row,
 * the arguments feeding its inputs in the model's input order.
 *
 * The model is resolved (compiled, once per driver JVM) when the call is
 * built during analysis, so its result type is known and the arguments are
 * checked against its inputs there: an unknown model, a wrong argument count
 * or a type that does not convert is an analysis error, before any task.
 *
 * The expression is `Unevaluable` on purpose: nothing may evaluate it a row
 * at a time (not even constant folding or `ConvertToLocalRelation`). The
 * rule [[ExtractNnvmPredict]] moves every call into an [[NnvmPredictEval]]
 * node, which [[NnvmPredictExec]] runs a batch of rows at a time.
 */
case class NnvmPredict(model: NnvmSqlModel, children: Seq[Expression])
  extends Expression with Unevaluable {

  override def dataType: DataType = ArrowResultReader.resultType(model.outputs())

  override def nullable: Boolean = true

  override def prettyName: String = NnvmFunctions.PREDICT

  override def checkInputDataTypes(): TypeCheckResult = {
    val problems = new JArrayList[String]()
    plan(problems)
    if (problems.isEmpty) {
      TypeCheckResult.TypeCheckSuccess
    } else {
      TypeCheckResult.TypeCheckFailure(s"${NnvmFunctions.PREDICT}('${model.name}'): " +
        problems.asScala.mkString("; "))
    }
  }

  /** How each argument is written for its model input (the arguments were checked during analysis). */
  def inputColumns: JList[InputColumn] = {
    val problems = new JArrayList[String]()
    val columns = plan(problems)
    if (!problems.isEmpty) {
      throw new IllegalStateException(problems.asScala.mkString("; "))
    }
    columns
  }

  private def plan(problems: JList[String]): JList[InputColumn] = {
    val inputs = model.inputs().asScala
    val columns = new JArrayList[InputColumn]()
    if (inputs.size != children.size) {
      problems.add(s"the model takes ${inputs.size} argument(s) after its name, one per input " +
        inputs.mkString("(", ", ", ")") + s", got ${children.size}")
      return columns
    }
    inputs.zip(children).foreach { case (in, arg) =>
      val c = InputColumn.plan(in, arg.dataType, arg.sql, problems)
      if (c != null) columns.add(c)
    }
    columns
  }

  override def toString: String = s"${NnvmFunctions.PREDICT}(${model.name}, ${children.mkString(", ")})"

  override def sql: String =
    s"${NnvmFunctions.PREDICT}('${model.name}'${children.map(", " + _.sql).mkString})"

  override protected def withNewChildrenInternal(newChildren: IndexedSeq[Expression]): Expression =
    copy(children = newChildren)
}

object NnvmPredict {
  /** The function builder behind `nnvm_predict`: resolves the model named by the first argument. */
  def build(args: Seq[Expression]): Expression = {
    if (args.isEmpty) {
      throw SqlErrors.analysis(s"${NnvmFunctions.PREDICT} needs the model (a registered name or the path of" +
        " an .onnx or .nnvm file) followed by one argument per model input")
    }
    val name = constantString(args.head, NnvmFunctions.PREDICT, "its first argument (the model)")
    NnvmPredict(NnvmFunctions.resolve(name), args.tail)
  }

  private[sql] def constantString(e: Expression, function: String, what: String): String = {
    if (!e.foldable || e.dataType != StringType) {
      throw SqlErrors.analysis(s"$function: $what must be a constant string, got ${e.sql} (${e.dataType.simpleString})")
    }
    val v = e.eval()
    if (v == null) {
      throw SqlErrors.analysis(s"$function: $what must not be null")
    }
    v.toString
  }
}

/**
 * `nnvm_register('<name>', '<path>' [, map('<option>', '<value>', ...)])`:
 * compiles (or reads) a model on the driver while the query is analyzed,
 * registers it under `name` for `nnvm_predict`, and returns one line
 * describing it. Options as [[ModelOptions]] lists them.
 */
object NnvmRegister {
  def build(args: Seq[Expression]): Expression = {
    if (args.size < 2 || args.size > 3) {
      throw SqlErrors.analysis(s"${NnvmFunctions.REGISTER} takes ('name', '/path/model.onnx' [, map(option," +
        s" value, ...)]), got ${args.size} argument(s)")
    }
    val name = NnvmPredict.constantString(args(0), NnvmFunctions.REGISTER, "the model name")
    val path = NnvmPredict.constantString(args(1), NnvmFunctions.REGISTER, "the model path")
    val options = new JLinkedHashMap[String, String]()
    if (args.size == 3) {
      val o = args(2)
      o.dataType match {
        case MapType(StringType, StringType, _) if o.foldable =>
          val m = o.eval().asInstanceOf[MapData]
          if (m != null) {
            val keys = m.keyArray()
            val values = m.valueArray()
            for (i <- 0 until m.numElements()) {
              options.put(keys.getUTF8String(i).toString,
                if (values.isNullAt(i)) null else values.getUTF8String(i).toString)
            }
          }
        case _ =>
          throw SqlErrors.analysis(s"${NnvmFunctions.REGISTER}: the options must be a constant map of strings," +
            s" e.g. map('shape.x', '[N,3,48,192]'), got ${o.sql} (${o.dataType.simpleString})")
      }
    }
    Literal(NnvmFunctions.register(name, path, options).describe())
  }
}
