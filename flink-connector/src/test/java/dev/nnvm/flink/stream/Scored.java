package dev.nnvm.flink.stream;

import dev.nnvm.flink.Prediction;

/** A test result: the crop id, the classifier's probabilities (or the error), the micro-batch size. */
public class Scored {
  public long id;
  public float[] probs;
  public String error;
  public int batchSize;
  public long createdMillis;
  public long scoredMillis;

  public Scored() {}

  public static Scored of(Crop c, Prediction p, String output) {
    Scored s = new Scored();
    s.id = c.id;
    s.probs = p.floats(output);
    s.error = p.error();
    s.batchSize = p.batchSize();
    s.createdMillis = c.createdMillis;
    s.scoredMillis = System.currentTimeMillis();
    return s;
  }
}
