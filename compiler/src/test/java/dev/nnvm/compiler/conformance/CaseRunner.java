package dev.nnvm.compiler.conformance;

import dev.nnvm.compiler.conformance.CaseResult.Outcome;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one conformance case through the importer and an {@link CaseEngine}
 * (the reference evaluator, or the compiler and the native runtime) and
 * compares every output of every data set with the expected tensors.
 *
 * <p>Each case runs on a daemon worker thread under a time limit, so one
 * runaway kernel (an endless Loop, a huge allocation) fails its case instead
 * of hanging the whole suite; the stuck worker is abandoned and a fresh one
 * takes the next case.
 */
final class CaseRunner implements AutoCloseable {
  static final double RTOL = 1e-3;
  static final double ATOL = 1e-5;
  private static final int MAX_DETAIL = 400;

  private final long timeoutMillis;
  private final CaseEngine engine;
  private ExecutorService worker = newWorker();

  CaseRunner(long timeoutMillis, CaseEngine engine) {
    this.timeoutMillis = timeoutMillis;
    this.engine = engine;
  }

  CaseResult run(Path caseDir, String op) {
    String name = caseDir.getFileName().toString();
    long start = System.nanoTime();
    Future<Verdict> f = worker.submit(() -> evaluate(caseDir, engine));
    Verdict outcome;
    try {
      outcome = f.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      worker.shutdownNow();
      worker = newWorker();
      outcome = new Verdict(Outcome.FAILED, "timed out after " + timeoutMillis + " ms");
    } catch (ExecutionException e) {
      outcome = new Verdict(Outcome.FAILED, "crashed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome = new Verdict(Outcome.FAILED, "interrupted");
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    return new CaseResult(name, op, outcome.outcome(), shorten(outcome.detail()), millis);
  }

  private record Verdict(Outcome outcome, String detail) {}

  /** Errors are outcomes here, never exceptions. */
  private static Verdict evaluate(Path caseDir, CaseEngine engine) {
    String name = caseDir.getFileName().toString();
    Graph g;
    try {
      g = OnnxImporter.load(caseDir.resolve("model.onnx"));
    } catch (UnsupportedModelException e) {
      return new Verdict(Outcome.UNSUPPORTED, e.getMessage());
    } catch (RuntimeException e) {
      return new Verdict(Outcome.FAILED, "import: " + e);
    }
    try (CaseEngine.Prepared prepared = engine.prepare(g)) {
      for (Path ds : ConformanceSuite.dataSets(caseDir)) {
        Map<String, Tensor> actual = prepared.run(feeds(g, ds));
        List<Path> outs = ConformanceSuite.numbered(ds, "output");
        List<ValueInfo> gout = g.outputs();
        if (outs.size() > gout.size()) {
          return new Verdict(Outcome.FAILED, ds.getFileName() + " has " + outs.size()
              + " expected outputs, the imported graph " + gout.size());
        }
        for (int i = 0; i < outs.size(); i++) {
          String out = gout.get(i).name();
          if (actual.get(out) == null) {
            return new Verdict(Outcome.FAILED, "output '" + out + "' was not produced");
          }
          Comparison.assertClose(name + "." + out, OnnxTensors.read(outs.get(i)), actual.get(out), RTOL, ATOL);
        }
      }
      return new Verdict(Outcome.PASSED, "");
    } catch (UnsupportedModelException e) {
      return new Verdict(Outcome.UNSUPPORTED, e.getMessage());
    } catch (AssertionError | RuntimeException | IOException e) {
      return new Verdict(Outcome.FAILED, e.getClass().getSimpleName() + ": " + e.getMessage());
    } catch (StackOverflowError | OutOfMemoryError e) {
      return new Verdict(Outcome.FAILED, e.toString());
    }
  }

  /** Input tensors by graph input name: the name stored in the .pb file when it names an input, else by position. */
  private static Map<String, Tensor> feeds(Graph g, Path dataSet) throws IOException {
    List<Path> ins = ConformanceSuite.numbered(dataSet, "input");
    Map<String, Tensor> feeds = new LinkedHashMap<>();
    List<ValueInfo> gin = g.inputs();
    for (int i = 0; i < ins.size(); i++) {
      String inName = OnnxTensors.readName(ins.get(i));
      if (inName.isEmpty() || g.input(inName).isEmpty()) {
        if (i >= gin.size()) {
          throw new IOException(dataSet.getFileName() + " has " + ins.size() + " inputs, the imported graph "
              + gin.size());
        }
        inName = gin.get(i).name();
      }
      feeds.put(inName, OnnxTensors.read(ins.get(i)));
    }
    return feeds;
  }

  private static String shorten(String s) {
    String one = String.valueOf(s).replace('\n', ' ');
    return one.length() > MAX_DETAIL ? one.substring(0, MAX_DETAIL) + "..." : one;
  }

  private static ExecutorService newWorker() {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "conformance-case");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
