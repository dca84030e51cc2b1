package dev.nnvm.spark.sql

import scala.collection.mutable

import org.apache.spark.sql.catalyst.expressions.{Alias, Attribute, AttributeReference, AttributeSet, Expression, NamedExpression}
import org.apache.spark.sql.catalyst.expressions.aggregate.AggregateExpression
import org.apache.spark.sql.catalyst.plans.logical.{Aggregate, LogicalPlan, Project, UnaryNode}
import org.apache.spark.sql.catalyst.rules.Rule

/**
 * The logical node that evaluates `nnvm_predict` calls over its child's rows,
 * a batch at a time: its output is the child's columns followed by one
 * column per call (`resultAttrs`).
 */
case class NnvmPredictEval(calls: Seq[NnvmPredict], resultAttrs: Seq[Attribute], child: LogicalPlan)
  extends UnaryNode {

  override def output: Seq[Attribute] = child.output ++ resultAttrs

  override def producedAttributes: AttributeSet = AttributeSet(resultAttrs)

  override protected def withNewChildInternal(newChild: LogicalPlan): NnvmPredictEval = copy(child = newChild)
}

/**
 * Pulls every `nnvm_predict` call out of the operator that holds it (a
 * projection, a filter, an aggregate's arguments...) into an
 * [[NnvmPredictEval]] inserted between that operator and the child whose
 * columns the call reads, and replaces the call by the new node's result
 * column; a final projection keeps the operator's output unchanged.
 *
 * It runs once, after the operator optimizations (it is injected as a
 * "pre-CBO" rule), so pushdown and pruning have shaped the plan already and
 * nothing moves a call back. Calls whose arguments hold other calls are
 * extracted innermost first, each level a node of its own. A call over an
 * aggregate's results (`nnvm_predict('m', avg(x))`) is evaluated above the
 * aggregate. Learned from how Spark evaluates Python UDFs (ExtractPythonUDFs
 * and ArrowEvalPython), written for in-process scoring.
 */
object ExtractNnvmPredict extends Rule[LogicalPlan] {

  override def apply(plan: LogicalPlan): LogicalPlan = plan transformUp {
    case e: NnvmPredictEval => e
    case agg: Aggregate if agg.aggregateExpressions.exists(overAggregate(_, agg)) =>
      extract(pullAboveAggregate(agg))
    case p if hasCall(p) => extract(p)
  }

  private def hasCall(p: LogicalPlan): Boolean =
    p.expressions.exists(_.exists(_.isInstanceOf[NnvmPredict]))

  /** True when a call in `e` reads an aggregate's result (an aggregate function or a grouping key). */
  private def overAggregate(e: Expression, agg: Aggregate): Boolean = e.exists {
    case c: NnvmPredict => c.children.exists(_.exists(x =>
      x.isInstanceOf[AggregateExpression] || agg.groupingExpressions.exists(_.semanticEquals(x))))
    case _ => false
  }

  /** Computes what the calls over aggregates read in the aggregate, and the calls in a projection above it. */
  private def pullAboveAggregate(agg: Aggregate): LogicalPlan = {
    val below = mutable.ArrayBuffer[NamedExpression]()
    val above = agg.aggregateExpressions.map { expr =>
      if (overAggregate(expr, agg)) {
        expr.transformDown {
          case e if e.isInstanceOf[AggregateExpression] || agg.groupingExpressions.exists(_.semanticEquals(e)) =>
            val named = e match {
              case n: NamedExpression => n
              case other => Alias(other, "nnvm_agg")()
            }
            below += named
            named.toAttribute
        }.asInstanceOf[NamedExpression]
      } else {
        below += expr
        expr.toAttribute
      }
    }
    Project(above, agg.copy(aggregateExpressions = below.toSeq))
  }

  /** The calls that can run now: those whose arguments hold no other call. */
  private def evaluable(e: Expression): Seq[NnvmPredict] = e match {
    case c: NnvmPredict if !c.children.exists(_.exists(_.isInstanceOf[NnvmPredict])) => Seq(c)
    case other => other.children.flatMap(evaluable)
  }

  private def extract(plan: LogicalPlan): LogicalPlan = {
    val seen = mutable.LinkedHashMap[Expression, NnvmPredict]()
    plan.expressions.flatMap(evaluable).foreach(c => seen.getOrElseUpdate(c.canonicalized, c))
    if (seen.isEmpty) {
      return plan
    }
    val results = mutable.HashMap[Expression, Attribute]()
    val newChildren = plan.children.map { child =>
      val mine = seen.filter { case (key, c) => !results.contains(key) && c.references.subsetOf(child.outputSet) }
      if (mine.isEmpty) {
        child
      } else {
        val attrs = mine.values.toSeq.zipWithIndex.map { case (c, i) =>
          AttributeReference(s"nnvm_predict_$i", c.dataType, nullable = true)()
        }
        mine.keys.zip(attrs).foreach { case (k, a) => results(k) = a }
        NnvmPredictEval(mine.values.toSeq, attrs, child)
      }
    }
    val stranded = seen.filterNot { case (k, _) => results.contains(k) }.values
    if (stranded.nonEmpty) {
      throw SqlErrors.analysis(s"${NnvmFunctions.PREDICT}: cannot evaluate ${stranded.map(_.sql).mkString(", ")}" +
        s" in ${plan.nodeName}: its arguments must all come from one input of the operator (compute it in a" +
        " subquery first)")
    }
    val rewritten = plan.withNewChildren(newChildren).transformExpressions {
      case c: NnvmPredict if results.contains(c.canonicalized) => results(c.canonicalized)
    }
    val done = if (hasCall(rewritten)) extract(rewritten) else rewritten
    if (done.output != plan.output) Project(plan.output, done) else done
  }
}
