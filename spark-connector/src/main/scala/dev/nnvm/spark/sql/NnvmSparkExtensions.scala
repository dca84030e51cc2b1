package dev.nnvm.spark.sql

import org.apache.spark.sql.SparkSessionExtensions
import org.apache.spark.sql.catalyst.FunctionIdentifier
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo

/**
 * The Spark SQL extension of the connector:
 * `spark.sql.extensions=dev.nnvm.spark.sql.NnvmSparkExtensions` adds
 *
 *  - `nnvm_predict('<model>', arg, ...)`: a model's result for each row, evaluated a batch at a time
 *    ([[NnvmPredict]], [[ExtractNnvmPredict]], [[NnvmPredictExec]]);
 *  - `nnvm_register('<name>', '<path>' [, map(option, value, ...)])`: compiles a model on the driver and
 *    registers it for `nnvm_predict` ([[NnvmRegister]]).
 *
 * Both are plain SQL functions, so SQL text, `selectExpr`, `expr`, `functions.call_function` and PySpark or
 * Spark Connect clients call them with no Python UDF and no Python dependency.
 */
class NnvmSparkExtensions extends (SparkSessionExtensions => Unit) {
  override def apply(extensions: SparkSessionExtensions): Unit = {
    extensions.injectFunction((
      FunctionIdentifier(NnvmFunctions.PREDICT),
      new ExpressionInfo(classOf[NnvmPredict].getName, null, NnvmFunctions.PREDICT,
        "_FUNC_(model, arg1, arg2, ...) - The result of the model (a name registered with nnvm_register, or the" +
          " path of an .onnx or .nnvm file) for the arguments, which feed its inputs in order; scored a batch" +
          " of rows at a time by compiled native code.",
        ""),
      (args: Seq[org.apache.spark.sql.catalyst.expressions.Expression]) => NnvmPredict.build(args)))
    extensions.injectFunction((
      FunctionIdentifier(NnvmFunctions.REGISTER),
      new ExpressionInfo(classOf[NnvmRegister.type].getName, null, NnvmFunctions.REGISTER,
        "_FUNC_(name, path[, options]) - Compiles the model at path (.onnx, or a compiled .nnvm) on the driver" +
          " with the options map (shape.<input>, dim.<symbol>, batchSize, threads, nullPolicy, optLevel," +
          " targets) and registers it as name for nnvm_predict; returns a line describing it.",
        ""),
      (args: Seq[org.apache.spark.sql.catalyst.expressions.Expression]) => NnvmRegister.build(args)))
    extensions.injectPreCBORule(_ => ExtractNnvmPredict)
    extensions.injectPlannerStrategy(_ => NnvmPredictStrategy)
  }
}
