package dev.nnvm.spark.job;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Evaluation sums over scored rows, merged across partitions: classifier accuracy and top-k against integer
 * labels, and mean squared error, maximum absolute error and cosine similarity against reference vectors.
 *
 * <p>Each partition fills its own instance ({@link #addClassified}, {@link #addCompared}) and the driver merges
 * them ({@link #merge}), so evaluating a large data set moves a few numbers per partition, not the rows.
 * Sums are kept in {@code double} so that a mean over millions of rows does not lose the small terms.
 *
 * <p>Ranks: a label's rank is the number of classes with a strictly greater score, so it is counted in the
 * top k when fewer than k classes beat it, and the top-1 hit is "no class beats the label", which is what
 * an arg-max that keeps the first of equal maxima also gives unless the label ties with an earlier class.
 */
public final class EvaluationMetrics implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int topK;
  private long classified;
  private long top1;
  private long topKHits;
  private long labelOutOfRange;
  private long compared;
  private long comparedElements;
  private double squaredErrorSum;
  private double maxAbsError;
  private double cosineSum;
  private double minCosine = Double.POSITIVE_INFINITY;
  private long nullRows;

  /** Empty sums; {@code topK} is the k of the top-k accuracy (at least 1). */
  public EvaluationMetrics(int topK) {
    if (topK < 1) {
      throw new IllegalArgumentException("top-k must be at least 1, got " + topK);
    }
    this.topK = topK;
  }

  /** The k of the top-k accuracy. */
  public int topK() {
    return topK;
  }

  /** One classified row: the model's scores (logits or probabilities) for every class and the true class. */
  public void addClassified(float[] scores, long label) {
    classified++;
    if (label < 0 || label >= scores.length) {
      labelOutOfRange++;
      return;
    }
    float target = scores[(int) label];
    int greater = 0;
    for (float s : scores) {
      if (s > target) {
        greater++;
      }
    }
    if (greater == 0) {
      top1++;
    }
    if (greater < topK) {
      topKHits++;
    }
  }

  /**
   * One row compared with its reference vector (same length): squared error per element, largest absolute
   * error, and the cosine of the angle between the two vectors (1 when both are zero vectors, 0 when one is).
   */
  public void addCompared(float[] predicted, float[] reference) {
    if (predicted.length != reference.length) {
      throw new IllegalArgumentException("prediction has " + predicted.length + " values but its reference has "
          + reference.length);
    }
    compared++;
    comparedElements += predicted.length;
    double dot = 0;
    double pp = 0;
    double rr = 0;
    for (int i = 0; i < predicted.length; i++) {
      double p = predicted[i];
      double r = reference[i];
      double d = p - r;
      squaredErrorSum += d * d;
      maxAbsError = Math.max(maxAbsError, Math.abs(d));
      dot += p * r;
      pp += p * p;
      rr += r * r;
    }
    double cosine;
    if (pp == 0 && rr == 0) {
      cosine = 1;
    } else if (pp == 0 || rr == 0) {
      cosine = 0;
    } else {
      cosine = dot / Math.sqrt(pp * rr);
    }
    cosineSum += cosine;
    minCosine = Math.min(minCosine, cosine);
  }

  /** A row whose prediction, label or reference is null: counted, not evaluated. */
  public void addNullRow() {
    nullRows++;
  }

  /** Adds {@code other}'s sums to these (same k); returns this. */
  public EvaluationMetrics merge(EvaluationMetrics other) {
    if (other.topK != topK) {
      throw new IllegalArgumentException("cannot merge top-" + other.topK + " sums into top-" + topK + " sums");
    }
    classified += other.classified;
    top1 += other.top1;
    topKHits += other.topKHits;
    labelOutOfRange += other.labelOutOfRange;
    compared += other.compared;
    comparedElements += other.comparedElements;
    squaredErrorSum += other.squaredErrorSum;
    maxAbsError = Math.max(maxAbsError, other.maxAbsError);
    cosineSum += other.cosineSum;
    minCosine = Math.min(minCosine, other.minCosine);
    nullRows += other.nullRows;
    return this;
  }

  public long classifiedRows() {
    return classified;
  }

  public long comparedRows() {
    return compared;
  }

  public long nullRows() {
    return nullRows;
  }

  /** Labels outside {@code [0, classes)}: counted as misses. */
  public long labelsOutOfRange() {
    return labelOutOfRange;
  }

  /** Share of classified rows whose label scored highest; NaN without classified rows. */
  public double accuracy() {
    return classified == 0 ? Double.NaN : (double) top1 / classified;
  }

  /** Share of classified rows whose label is among the k highest scores; NaN without classified rows. */
  public double topKAccuracy() {
    return classified == 0 ? Double.NaN : (double) topKHits / classified;
  }

  /** Mean over every compared element of the squared difference; NaN without compared rows. */
  public double meanSquaredError() {
    return comparedElements == 0 ? Double.NaN : squaredErrorSum / comparedElements;
  }

  /** Largest absolute difference of any compared element; NaN without compared rows. */
  public double maxAbsError() {
    return compared == 0 ? Double.NaN : maxAbsError;
  }

  /** Mean cosine similarity of the compared rows; NaN without compared rows. */
  public double meanCosine() {
    return compared == 0 ? Double.NaN : cosineSum / compared;
  }

  /** Smallest cosine similarity of any compared row; NaN without compared rows. */
  public double minCosine() {
    return compared == 0 ? Double.NaN : minCosine;
  }

  /** The metrics that apply (classification, comparison, or both), by name, for the report. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    if (classified > 0) {
      m.put("classifiedRows", classified);
      m.put("accuracy", accuracy());
      m.put("top" + topK + "Accuracy", topKAccuracy());
      if (labelOutOfRange > 0) {
        m.put("labelsOutOfRange", labelOutOfRange);
      }
    }
    if (compared > 0) {
      m.put("comparedRows", compared);
      m.put("meanSquaredError", meanSquaredError());
      m.put("maxAbsError", maxAbsError());
      m.put("meanCosine", meanCosine());
      m.put("minCosine", minCosine());
    }
    if (nullRows > 0) {
      m.put("nullRows", nullRows);
    }
    return m;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    if (classified > 0) {
      sb.append(String.format(Locale.ROOT, "accuracy %.4f, top-%d %.4f over %d rows", accuracy(), topK,
          topKAccuracy(), classified));
      if (labelOutOfRange > 0) {
        sb.append(" (").append(labelOutOfRange).append(" labels out of range)");
      }
    }
    if (compared > 0) {
      sb.append(sb.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT,
          "vs reference: MSE %.3g, max abs %.3g, cosine mean %.6f min %.6f over %d rows", meanSquaredError(),
          maxAbsError(), meanCosine(), minCosine(), compared));
    }
    if (nullRows > 0) {
      sb.append(sb.length() == 0 ? "" : "; ").append(nullRows).append(" null rows skipped");
    }
    return sb.length() == 0 ? "no rows evaluated" : sb.toString();
  }
}
