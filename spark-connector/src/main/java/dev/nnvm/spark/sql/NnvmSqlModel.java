package dev.nnvm.spark.sql;

import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.scoring.ScoringSpec;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A compiled model as the SQL functions see it: the name it was registered
 * under (or its path), where it came from, its options and the
 * {@link ScoringSpec} executors score with. Immutable; built on the driver by
 * {@link NnvmFunctions}.
 */
public final class NnvmSqlModel implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String name;
  private final String source;
  private final Map<String, String> options;
  private final ScoringSpec spec;
  private final long compileMillis;
  private final boolean cached;

  NnvmSqlModel(String name, String source, Map<String, String> options, ScoringSpec spec, long compileMillis,
      boolean cached) {
    this.name = Objects.requireNonNull(name, "name");
    this.source = Objects.requireNonNull(source, "source");
    this.options = Map.copyOf(options);
    this.spec = Objects.requireNonNull(spec, "spec");
    this.compileMillis = compileMillis;
    this.cached = cached;
  }

  /** The registered name, or the path when the model was named by its file. */
  public String name() {
    return name;
  }

  /** The file the model came from ({@code .onnx} or {@code .nnvm}). */
  public String source() {
    return source;
  }

  /** The options, defaults filled in. */
  public Map<String, String> options() {
    return options;
  }

  public ScoringSpec spec() {
    return spec;
  }

  /** The artifact's id (its manifest hash). */
  public String artifactId() {
    return spec.artifactId();
  }

  /** Milliseconds the driver spent compiling (or reading) the model. */
  public long compileMillis() {
    return compileMillis;
  }

  /** True when the artifact came from the compiler's on-disk cache (or was a {@code .nnvm} file). */
  public boolean cached() {
    return cached;
  }

  /** The inputs, bound dimensions applied: the arguments of {@code nnvm_predict}, in this order. */
  public List<TensorSpec> inputs() {
    return spec.boundInputs();
  }

  public List<TensorSpec> outputs() {
    return spec.boundOutputs();
  }

  /** One line: name, signature, artifact id and compile time. */
  public String describe() {
    return "model '" + name + "' (" + inputs().stream().map(TensorSpec::toString).collect(Collectors.joining(", "))
        + ") -> (" + outputs().stream().map(TensorSpec::toString).collect(Collectors.joining(", ")) + "), artifact "
        + artifactId().substring(0, Math.min(12, artifactId().length())) + ", "
        + (cached ? "from cache in " : "compiled in ") + compileMillis + " ms";
  }

  @Override
  public String toString() {
    return describe();
  }
}
