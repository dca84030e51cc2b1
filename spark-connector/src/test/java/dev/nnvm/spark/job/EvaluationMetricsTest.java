package dev.nnvm.spark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The evaluation sums against the definitions computed another way: top-k by sorting the class indices, MSE and
 * cosine from whole-row formulas, and the split into partitions merged in a different order.
 */
class EvaluationMetricsTest {
  private static final long SEED = 20261206L;

  @Test
  void classificationMatchesSortedRanks() {
    System.out.println("EvaluationMetricsTest seed " + SEED);
    Random random = new Random(SEED);
    int rows = 1000;
    int classes = 10;
    int k = 3;
    EvaluationMetrics[] parts = {new EvaluationMetrics(k), new EvaluationMetrics(k), new EvaluationMetrics(k)};
    int top1 = 0;
    int topK = 0;
    for (int r = 0; r < rows; r++) {
      float[] scores = new float[classes];
      for (int c = 0; c < classes; c++) {
        scores[c] = (float) random.nextGaussian();
      }
      int label = random.nextInt(classes);
      parts[r % 3].addClassified(scores, label);
      Integer[] order = IntStream.range(0, classes).boxed().toArray(Integer[]::new);
      Arrays.sort(order, Comparator.comparingDouble((Integer c) -> scores[c]).reversed());
      top1 += order[0] == label ? 1 : 0;
      for (int i = 0; i < k; i++) {
        topK += order[i] == label ? 1 : 0;
      }
    }
    EvaluationMetrics m = parts[2].merge(parts[0]).merge(parts[1]);
    assertEquals(rows, m.classifiedRows());
    assertEquals(top1 / (double) rows, m.accuracy(), 0);
    assertEquals(topK / (double) rows, m.topKAccuracy(), 0);
  }

  @Test
  void comparisonMatchesRowFormulas() {
    Random random = new Random(SEED + 1);
    int rows = 200;
    int dim = 17;
    EvaluationMetrics a = new EvaluationMetrics(1);
    EvaluationMetrics b = new EvaluationMetrics(1);
    double sq = 0;
    double maxAbs = 0;
    double cosSum = 0;
    double cosMin = 2;
    for (int r = 0; r < rows; r++) {
      float[] p = new float[dim];
      float[] q = new float[dim];
      for (int i = 0; i < dim; i++) {
        p[i] = (float) random.nextGaussian();
        q[i] = p[i] + (float) (0.1 * random.nextGaussian());
      }
      (r < 50 ? a : b).addCompared(p, q);
      double normP = 0;
      double normQ = 0;
      double dot = 0;
      for (int i = 0; i < dim; i++) {
        sq += Math.pow((double) p[i] - q[i], 2);
        maxAbs = Math.max(maxAbs, Math.abs((double) p[i] - q[i]));
        normP += (double) p[i] * p[i];
        normQ += (double) q[i] * q[i];
        dot += (double) p[i] * q[i];
      }
      double cos = dot / (Math.sqrt(normP) * Math.sqrt(normQ));
      cosSum += cos;
      cosMin = Math.min(cosMin, cos);
    }
    EvaluationMetrics m = a.merge(b);
    assertEquals(sq / (rows * dim), m.meanSquaredError(), 1e-12);
    assertEquals(maxAbs, m.maxAbsError(), 0);
    assertEquals(cosSum / rows, m.meanCosine(), 1e-12);
    assertEquals(cosMin, m.minCosine(), 1e-12);
  }

  @Test
  void edgeCasesAreDefined() {
    EvaluationMetrics m = new EvaluationMetrics(2);
    assertEquals(Double.NaN, m.accuracy());
    m.addClassified(new float[] {0.1f, 0.9f}, 7);         // out of range: a miss, counted
    m.addCompared(new float[] {0, 0}, new float[] {0, 0});  // two zero vectors agree
    m.addNullRow();
    assertEquals(1, m.labelsOutOfRange());
    assertEquals(0.0, m.accuracy());
    assertEquals(1.0, m.meanCosine());
    assertEquals(1, m.nullRows());
    assertThrows(IllegalArgumentException.class, () -> m.addCompared(new float[2], new float[3]));
    assertThrows(IllegalArgumentException.class, () -> m.merge(new EvaluationMetrics(3)));
  }
}
