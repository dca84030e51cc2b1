package dev.nnvm.flink.text;

/** A test result: a sentence id and its embedding (or the error). */
public class Embedded {
  public long id;
  public float[] embedding;
  public String error;
  public int batchSize;

  public Embedded() {}
}
