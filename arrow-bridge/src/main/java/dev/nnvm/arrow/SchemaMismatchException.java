package dev.nnvm.arrow;

import java.util.List;

/**
 * A schema (or a mapping) that does not fit the model, with every problem
 * found: missing columns, wrong element types, wrong per-row shapes, unknown
 * names. Thrown before any data is read.
 */
public final class SchemaMismatchException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  public SchemaMismatchException(String what, List<String> problems) {
    super(what + ": " + problems.size() + (problems.size() == 1 ? " problem" : " problems") + "\n  - "
        + String.join("\n  - ", problems));
    this.problems = List.copyOf(problems);
  }

  /** One sentence per problem. */
  public List<String> problems() {
    return problems;
  }
}
