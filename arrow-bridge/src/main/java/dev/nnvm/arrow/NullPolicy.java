package dev.nnvm.arrow;

/** What the bridge does with an input row that is null or holds a null element. */
public enum NullPolicy {
  /**
   * The default: the row is left out of the tensors handed to the model (the
   * other rows are compacted, and scored as usual) and every output of that
   * row is null.
   */
  NULL_OUTPUT,
  /** The batch is refused with an error that names the row and the column. */
  STRICT
}
