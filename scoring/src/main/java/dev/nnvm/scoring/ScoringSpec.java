package dev.nnvm.scoring;

import dev.nnvm.arrow.InputLayout;
import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.arrow.OutputLayout;
import dev.nnvm.arrow.SchemaMapping;
import dev.nnvm.arrow.SchemaMismatchException;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a worker needs to score with one compiled model: the artifact's
 * bytes, which columns feed which inputs (and how), which columns the outputs
 * become, the null policy, threads per task, rows per native run and the
 * symbolic dimensions fixed to a size. Built and checked on the driver (or
 * Flink client), then shipped to the workers: it is {@link Serializable} and
 * immutable. In Spark ship it in a broadcast variable, not in a task closure,
 * so the artifact travels once per executor, not once per task.
 *
 * <pre>{@code
 * ScoringSpec spec = ScoringSpec.builder(artifactBytes)
 *     .mapInput("image", "x")           // column image feeds model input x
 *     .mapOutput("y", "probabilities")  // output y becomes column probabilities
 *     .batchSize(128).threads(1)
 *     .build();                         // checks everything against the manifest, one error listing all problems
 * }</pre>
 *
 * <p>A dimension bound with {@link Builder#dim} is static for scoring: a
 * column must then have rows of that size (checked up front), and a padded
 * input is padded to it instead of to the batch's longest row.
 */
public final class ScoringSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  private final byte[] artifact;
  private final String artifactId;
  private final String modelName;
  private final List<SpecForm> inputs;
  private final List<SpecForm> outputs;
  private final LinkedHashMap<String, LayoutForm> layouts;
  private final LinkedHashMap<String, String> outputColumns;
  private final LinkedHashMap<String, OutputLayout> outputLayouts;
  private final NullPolicy nullPolicy;
  private final int threads;
  private final int batchSize;
  private final LinkedHashMap<String, Long> dims;
  /** Rebuilt on first use after deserialization: SchemaMapping and TensorSpec are not serializable. */
  private transient SchemaMapping mapping;

  private ScoringSpec(Builder b, SchemaMapping mapping) {
    this.artifact = b.artifact;
    this.artifactId = b.parsed.id();
    this.modelName = b.parsed.manifest().model().name();
    this.inputs = SpecForm.of(b.parsed.manifest().inputs());
    this.outputs = SpecForm.of(b.parsed.manifest().outputs());
    this.layouts = new LinkedHashMap<>(b.layouts);
    this.outputColumns = new LinkedHashMap<>(b.outputColumns);
    this.outputLayouts = new LinkedHashMap<>(b.outputLayouts);
    this.nullPolicy = b.nullPolicy;
    this.threads = b.threads;
    this.batchSize = b.batchSize;
    this.dims = new LinkedHashMap<>(b.dims);
    this.mapping = mapping;
  }

  /**
   * Starts a spec for a compiled model's bytes (a {@code .nnvm} artifact). The
   * bytes are read and verified here (magic, version, manifest and part
   * hashes), so a corrupt artifact fails on the driver, before any task.
   *
   * @throws IllegalArgumentException when the bytes are not a readable, intact artifact
   */
  public static Builder builder(byte[] artifact) {
    Objects.requireNonNull(artifact, "artifact");
    ModelArtifact parsed;
    try {
      parsed = ArtifactReader.read(artifact);
    } catch (ArtifactException e) {
      throw new IllegalArgumentException("not a valid NNVM artifact (" + artifact.length + " bytes): "
          + e.getMessage(), e);
    }
    return new Builder(artifact, parsed);
  }

  /** The artifact's bytes (shared, not copied: do not modify). */
  public byte[] artifact() {
    return artifact;
  }

  /** The artifact's id: the SHA-256 (hex) of its manifest, which covers every part. */
  public String artifactId() {
    return artifactId;
  }

  /** The model's name from the manifest. */
  public String modelName() {
    return modelName;
  }

  /** Column name to model input name, for every column that feeds an input (padding masks have no column). */
  public Map<String, String> inputColumns() {
    Map<String, String> m = new LinkedHashMap<>();
    SchemaMapping sm = schemaMapping();
    for (TensorSpec in : sm.inputs()) {
      InputLayout l = sm.layout(in.name());
      if (l != null) {
        for (String c : l.columns()) {
          m.put(c, in.name());
        }
      }
    }
    return Collections.unmodifiableMap(m);
  }

  /** The distinct columns the model reads, in input order. */
  public List<String> columns() {
    return List.copyOf(new LinkedHashSet<>(inputColumns().keySet()));
  }

  /** Model output name to the column it becomes. */
  public Map<String, String> outputColumns() {
    Map<String, String> m = new LinkedHashMap<>();
    SchemaMapping sm = schemaMapping();
    for (TensorSpec o : sm.outputs()) {
      m.put(o.name(), sm.outputColumn(o.name()));
    }
    return Collections.unmodifiableMap(m);
  }

  public NullPolicy nullPolicy() {
    return nullPolicy;
  }

  /** Threads per task for the native run (the runtime's pool), at least 1. */
  public int threads() {
    return threads;
  }

  /** Rows per native run, at least 1. */
  public int batchSize() {
    return batchSize;
  }

  /** Symbolic dimensions fixed to a size for scoring, e.g. {@code seq -> 128}. */
  public Map<String, Long> dims() {
    return Collections.unmodifiableMap(dims);
  }

  /** The model inputs as the manifest declares them (before {@link #dims()} are applied). */
  public List<TensorSpec> inputs() {
    return SpecForm.specs(inputs, Map.of());
  }

  /** The model outputs as the manifest declares them. */
  public List<TensorSpec> outputs() {
    return SpecForm.specs(outputs, Map.of());
  }

  /** The model inputs with {@link #dims()} bound: the shapes a batch must fit. */
  public List<TensorSpec> boundInputs() {
    return schemaMapping().inputs();
  }

  /** The model outputs with {@link #dims()} bound. */
  public List<TensorSpec> boundOutputs() {
    return schemaMapping().outputs();
  }

  /** The layout feeding {@code input} (null for the mask of a padded input). */
  public InputLayout inputLayout(String input) {
    return schemaMapping().layout(input);
  }

  /** The bridge mapping this spec describes (inputs and outputs with {@link #dims()} bound). */
  public SchemaMapping schemaMapping() {
    SchemaMapping m = mapping;
    if (m == null) {
      m = buildMapping(inputs, outputs, dims, layouts, outputColumns, outputLayouts, new ArrayList<>());
      mapping = m;
    }
    return m;
  }

  /** A builder holding this spec's settings, to derive a variant (say another batch size). */
  public Builder toBuilder() {
    Builder b = builder(artifact);
    b.layouts.putAll(layouts);
    b.outputColumns.putAll(outputColumns);
    b.outputLayouts.putAll(outputLayouts);
    b.nullPolicy = nullPolicy;
    b.threads = threads;
    b.batchSize = batchSize;
    b.dims.putAll(dims);
    return b;
  }

  @Override
  public String toString() {
    return "ScoringSpec[model '" + modelName + "', artifact " + artifactId.substring(0, 12) + ", " + artifact.length
        + " bytes, batch " + batchSize + ", threads " + threads + ", nulls " + nullPolicy
        + (dims.isEmpty() ? "" : ", dims " + dims) + "]";
  }

  private static SchemaMapping buildMapping(List<SpecForm> inputs, List<SpecForm> outputs, Map<String, Long> dims,
      Map<String, LayoutForm> layouts, Map<String, String> outputColumns, Map<String, OutputLayout> outputLayouts,
      List<String> problems) {
    SchemaMapping.Builder b = SchemaMapping.builder(SpecForm.specs(inputs, dims), SpecForm.specs(outputs, dims));
    layouts.forEach((input, l) -> b.layout(input, l.layout()));
    outputColumns.forEach(b::mapOutput);
    outputLayouts.forEach(b::outputLayout);
    SchemaMapping m;
    try {
      m = b.build();
    } catch (SchemaMismatchException e) {
      List<String> all = new ArrayList<>(problems);
      all.addAll(e.problems());
      throw new SchemaMismatchException("the scoring spec does not fit the model", all);
    }
    if (!problems.isEmpty()) {
      throw new SchemaMismatchException("the scoring spec does not fit the model", problems);
    }
    return m;
  }

  /** Collects the settings; {@link #build()} checks them against the model. */
  public static final class Builder {
    private final byte[] artifact;
    private final ModelArtifact parsed;
    private final LinkedHashMap<String, LayoutForm> layouts = new LinkedHashMap<>();
    private final LinkedHashMap<String, String> outputColumns = new LinkedHashMap<>();
    private final LinkedHashMap<String, OutputLayout> outputLayouts = new LinkedHashMap<>();
    private final LinkedHashMap<String, Long> dims = new LinkedHashMap<>();
    private NullPolicy nullPolicy = NullPolicy.NULL_OUTPUT;
    private int threads = 1;
    private int batchSize = 256;

    private Builder(byte[] artifact, ModelArtifact parsed) {
      this.artifact = artifact;
      this.parsed = parsed;
    }

    /** The manifest of the artifact being described (its inputs, outputs and symbols). */
    public Manifest manifest() {
      return parsed.manifest();
    }

    /** Feeds model input {@code input} from {@code column} (by default an input reads the column of its name). */
    public Builder mapInput(String column, String input) {
      return inputLayout(input, new InputLayout.Column(column));
    }

    /** Feeds {@code input} as {@code layout} says (gathered scalar columns, padded sequences). */
    public Builder inputLayout(String input, InputLayout layout) {
      layouts.put(Objects.requireNonNull(input, "input"), LayoutForm.of(layout));
      return this;
    }

    /** Writes model output {@code output} into a column named {@code column}. */
    public Builder mapOutput(String output, String column) {
      outputColumns.put(Objects.requireNonNull(output, "output"), Objects.requireNonNull(column, "column"));
      return this;
    }

    public Builder outputLayout(String output, OutputLayout layout) {
      outputLayouts.put(Objects.requireNonNull(output, "output"), Objects.requireNonNull(layout, "layout"));
      return this;
    }

    public Builder nullPolicy(NullPolicy policy) {
      this.nullPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Threads per task for the native run; values below 1 are refused by {@link #build()}. */
    public Builder threads(int threads) {
      this.threads = threads;
      return this;
    }

    /** Rows per native run; values below 1 are refused by {@link #build()}. */
    public Builder batchSize(int rows) {
      this.batchSize = rows;
      return this;
    }

    /** Fixes the symbolic dimension {@code symbol} to {@code size} for scoring. */
    public Builder dim(String symbol, long size) {
      dims.put(Objects.requireNonNull(symbol, "symbol"), size);
      return this;
    }

    /**
     * Checks everything against the manifest and builds the spec.
     *
     * @throws SchemaMismatchException (an {@link IllegalArgumentException}) listing every problem: unknown
     *     inputs, outputs or symbols, clashing columns, bad sizes
     */
    public ScoringSpec build() {
      List<String> problems = new ArrayList<>();
      if (threads < 1) {
        problems.add("threads must be at least 1, got " + threads);
      }
      if (batchSize < 1) {
        problems.add("batchSize must be at least 1, got " + batchSize);
      }
      Set<String> symbols = new LinkedHashSet<>(parsed.manifest().symbols());
      for (TensorSpec s : parsed.manifest().inputs()) {
        if (s.shape().hasRank()) {
          for (Dim d : s.shape().dims()) {
            if (d.isSymbolic()) {
              symbols.add(d.symbol());
            }
          }
        }
      }
      dims.forEach((symbol, size) -> {
        if (!symbols.contains(symbol)) {
          problems.add("dimension '" + symbol + "' is not a symbol of the model (its symbols: " + symbols + ")");
        } else if (size < 1) {
          problems.add("dimension '" + symbol + "' must be bound to 1 or more, got " + size);
        }
      });
      SchemaMapping m = buildMapping(SpecForm.of(parsed.manifest().inputs()), SpecForm.of(parsed.manifest().outputs()),
          dims, layouts, outputColumns, outputLayouts, problems);
      return new ScoringSpec(this, m);
    }
  }

  /** A TensorSpec in serializable form: dimensions as "#size", "$symbol" or "?". */
  private record SpecForm(String name, DType dtype, String[] dims) implements Serializable {
    static List<SpecForm> of(List<TensorSpec> specs) {
      List<SpecForm> out = new ArrayList<>();
      for (TensorSpec s : specs) {
        String[] d = null;
        if (s.shape().hasRank()) {
          d = new String[s.shape().rank()];
          for (int i = 0; i < d.length; i++) {
            Dim dim = s.shape().dim(i);
            d[i] = dim.isStatic() ? "#" + dim.value() : dim.isSymbolic() ? "$" + dim.symbol() : "?";
          }
        }
        out.add(new SpecForm(s.name(), s.dtype(), d));
      }
      return List.copyOf(out);
    }

    static List<TensorSpec> specs(List<SpecForm> forms, Map<String, Long> dims) {
      List<TensorSpec> out = new ArrayList<>();
      for (SpecForm f : forms) {
        Shape shape = Shape.unknownRank();
        if (f.dims != null) {
          List<Dim> d = new ArrayList<>();
          for (String s : f.dims) {
            d.add(s.startsWith("#") ? Dim.of(Long.parseLong(s.substring(1)))
                : s.startsWith("$") ? Dim.symbol(s.substring(1)) : Dim.unknown());
          }
          shape = Shape.of(d).bind(dims);
        }
        out.add(new TensorSpec(f.name, f.dtype, shape));
      }
      return List.copyOf(out);
    }
  }

  /** An InputLayout in serializable form (the bridge's records are not serializable). */
  private record LayoutForm(String kind, List<String> columns, double padValue, String maskInput)
      implements Serializable {
    static LayoutForm of(InputLayout l) {
      Objects.requireNonNull(l, "layout");
      if (l instanceof InputLayout.Padded p) {
        return new LayoutForm("padded", List.of(p.column()), p.padValue(), p.maskInput());
      }
      if (l instanceof InputLayout.Gather g) {
        return new LayoutForm("gather", new ArrayList<>(g.columns()), 0, null);
      }
      return new LayoutForm("column", List.of(((InputLayout.Column) l).column()), 0, null);
    }

    InputLayout layout() {
      switch (kind) {
        case "padded": return new InputLayout.Padded(columns.get(0), padValue, maskInput);
        case "gather": return new InputLayout.Gather(columns);
        default: return new InputLayout.Column(columns.get(0));
      }
    }
  }
}
