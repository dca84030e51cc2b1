package dev.nnvm.compiler.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.nnvm.compiler.analysis.Verifier;
import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.text.GraphPrinter;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every pass test checks: the pass leaves its input unchanged, its
 * output passes the verifier, and the reference evaluator gives the same
 * outputs before and after (within fp32 tolerance) on fresh random inputs.
 */
final class PassChecks {
  /** Symbolic dimensions are bound to this size for evaluation. */
  static final long SYMBOL_SIZE = 3;

  private PassChecks() {}

  /** Runs {@code pass} on the parsed text, after type inference, and checks it. */
  static Graph apply(Pass pass, String text) {
    Graph input = GraphParser.parse(text);
    return apply(pass, input);
  }

  static Graph apply(Pass pass, Graph input) {
    PassContext ctx = PassContext.standard();
    Graph typed = InferTypes.INSTANCE.apply(input, ctx);
    String before = GraphPrinter.print(typed);
    Graph out = pass.apply(typed, ctx);
    assertEquals(before, GraphPrinter.print(typed), pass.name() + " changed its input graph");
    Verifier.check(out);
    assertSameOutputs(typed, out, pass.name());
    return out;
  }

  /** Asserts the pass produced exactly this text. */
  static Graph assertRewrites(Pass pass, String input, String expected) {
    Graph out = apply(pass, input);
    assertEquals(expected, GraphPrinter.print(out), pass.name() + " output");
    return out;
  }

  /** Evaluates both graphs on the same random inputs and compares every output. */
  static void assertSameOutputs(Graph before, Graph after, String what) {
    RandomTensors random = new RandomTensors();
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    for (ValueInfo in : before.inputs()) {
      List<Long> dims = new ArrayList<>();
      for (Dim d : in.type().shape().dims()) {
        dims.add(d.isStatic() ? d.value() : SYMBOL_SIZE);
      }
      feeds.put(in.name(), random.of(in.type().dtype(), dims.stream().mapToLong(Long::longValue).toArray()));
    }
    Map<String, Tensor> want = ReferenceEvaluator.standard().run(before, feeds);
    Map<String, Tensor> got = ReferenceEvaluator.standard().run(after, feeds);
    StringBuilder report = new StringBuilder(what + " (seed " + random.seed() + ")");
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      report.append("; ").append(Comparison.assertClose(what + " " + e.getKey(), e.getValue(), got.get(e.getKey()),
          1e-5, 1e-5));
    }
    System.out.println(report);
  }
}
