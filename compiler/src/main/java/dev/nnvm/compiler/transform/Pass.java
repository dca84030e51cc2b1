package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Graph;
import java.util.Set;

/**
 * A graph-to-graph transformation. A pass never mutates its input: it returns
 * a new graph, or the same instance when nothing changed.
 *
 * <p>Passes declare the graph properties they need and provide (for example
 * {@code "types"}: every value has an inferred type), so the pass manager can
 * check an ordering before running it.
 */
public interface Pass {
  /** The property "every intermediate value has an inferred type". */
  String TYPES = "types";

  /** Unique name, used to disable the pass and in reports. */
  String name();

  /** The lowest optimization level at which the pass runs (0 runs always). */
  int minLevel();

  default Set<String> requires() {
    return Set.of();
  }

  default Set<String> provides() {
    return Set.of();
  }

  /**
   * Whether the properties provided by earlier passes still hold after this
   * one changed the graph. Passes that rewrite nodes return false unless they
   * keep types up to date.
   */
  default boolean preservesProperties() {
    return false;
  }

  Graph apply(Graph graph, PassContext ctx);
}
