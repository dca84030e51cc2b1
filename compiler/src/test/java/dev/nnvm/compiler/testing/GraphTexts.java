package dev.nnvm.compiler.testing;

/** Pieces of graph text for tests. */
public final class GraphTexts {
  private GraphTexts() {}

  /**
   * {@code n} deterministic pseudo-random values in {@code [-scale, scale]} as a {@code dense<...>} list, for
   * constants whose failures must reproduce: {@code scale * sin(0.7 i + 0.3)}.
   */
  public static String dense(int n, double scale) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append((float) (scale * Math.sin(i * 0.7 + 0.3)));
    }
    return sb.append("]").toString();
  }
}
