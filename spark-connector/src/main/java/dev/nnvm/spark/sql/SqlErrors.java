package dev.nnvm.spark.sql;

import org.apache.spark.QueryContext;
import org.apache.spark.sql.AnalysisException;
import scala.Option;
import scala.collection.immutable.Map$;

/**
 * Builds the {@link AnalysisException}s that {@code nnvm_predict} and
 * {@code nnvm_register} raise while a query is analyzed, so a bad model name,
 * a model that does not compile or an argument of the wrong type fails the
 * query on the driver, before any task runs, the way Spark's own analysis
 * errors do.
 */
public final class SqlErrors {
  private SqlErrors() {}

  /** An analysis error carrying {@code message} as it is (no Spark error class fits a model problem). */
  public static AnalysisException analysis(String message, Throwable cause) {
    return new AnalysisException(message, Option.empty(), Option.empty(), Option.apply(cause), Option.empty(),
        Map$.MODULE$.empty(), new QueryContext[0]);
  }

  public static AnalysisException analysis(String message) {
    return analysis(message, null);
  }
}
