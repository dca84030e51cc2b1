package dev.nnvm.flink.text;

/** A test record: a sentence with an id (a Flink POJO). */
public class Sentence {
  public long id;
  public String text;

  public Sentence() {}

  public Sentence(long id, String text) {
    this.id = id;
    this.text = text;
  }
}
