package dev.nnvm.compiler.conformance;

/** The outcome of one conformance case: which operator it exercises, how it ended, why, and how long it took. */
record CaseResult(String name, String op, Outcome outcome, String detail, long millis) {
  /**
   * PASSED: all outputs match. FAILED: a wrong output or an error. UNSUPPORTED:
   * the importer or evaluator refused the model with an
   * {@link dev.nnvm.compiler.ir.UnsupportedModelException} (unknown operator,
   * attribute value, element type).
   */
  enum Outcome { PASSED, FAILED, UNSUPPORTED }
}
