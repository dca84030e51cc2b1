package dev.nnvm.compiler.text;

import dev.nnvm.compiler.ir.ModelException;

/** Graph text that does not parse: the message names the line, the column and what was expected. */
public final class TextParseException extends ModelException {
  private static final long serialVersionUID = 1L;

  private final int line;
  private final int column;

  public TextParseException(int line, int column, String problem) {
    super("line " + line + ", column " + column + ": " + problem);
    this.line = line;
    this.column = column;
  }

  /** The 1-based line of the problem. */
  public int line() {
    return line;
  }

  /** The 1-based column of the problem. */
  public int column() {
    return column;
  }
}
