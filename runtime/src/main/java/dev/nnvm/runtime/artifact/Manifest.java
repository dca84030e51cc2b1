package dev.nnvm.runtime.artifact;

import dev.nnvm.runtime.TensorSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * What an artifact holds, as its manifest describes it. {@link ManifestJson}
 * turns it into JSON and back; reading checks that it is consistent (every
 * part it names exists, every constant lies inside the weights, every symbol
 * used is declared).
 *
 * @param formatVersion the artifact format ({@link ArtifactFormat#VERSION})
 * @param compilerVersion the version of the compiler that wrote it
 * @param created when and by what it was written, with the compile options
 * @param model the source model's name and the SHA-256 of its file
 * @param symbols the symbolic dimensions, in the order the runtime passes their values
 * @param inputs the model inputs, in the order of the native entry point
 * @param outputs the model outputs, in the order of the native entry point
 * @param workspace the scratch memory one run needs, per binding of the symbols
 * @param weights the weights blob and its table of constants
 * @param variants native code, best first: the runtime takes the first one the CPU runs
 * @param parts every binary part in file order, with offset, size and SHA-256
 */
public record Manifest(int formatVersion, String compilerVersion, Creation created, Model model,
    List<String> symbols, List<TensorSpec> inputs, List<TensorSpec> outputs, WorkspacePlan workspace,
    WeightsTable weights, List<NativeVariant> variants, List<Part> parts) {

  public Manifest {
    Objects.requireNonNull(compilerVersion, "compilerVersion");
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(model, "model");
    symbols = List.copyOf(symbols);
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    Objects.requireNonNull(workspace, "workspace");
    Objects.requireNonNull(weights, "weights");
    variants = List.copyOf(variants);
    parts = List.copyOf(parts);
  }

  /**
   * When and by what the artifact was written.
   *
   * @param at the creation time (the writer takes it as given, so equal content gives equal bytes)
   * @param by the tool, e.g. {@code nnvmc 0.1.0 (Java 17.0.15)}
   * @param options the compile options, sorted by name
   */
  public record Creation(Instant at, String by, Map<String, String> options) {
    public Creation {
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(by, "by");
      options = Collections.unmodifiableMap(new TreeMap<>(options));
    }
  }

  /** The source model: its name and the SHA-256 of its file (64 lowercase hex digits). */
  public record Model(String name, String sha256) {
    public Model {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(sha256, "sha256");
    }
  }

  /**
   * One binary part.
   *
   * @param name unique part name, e.g. {@code weights}, {@code native/x86-64-v3.so}
   * @param offset from the start of the data section (see {@link ArtifactFormat})
   * @param size in bytes
   * @param sha256 of the part's bytes, 64 lowercase hex digits
   */
  public record Part(String name, long offset, long size, String sha256) {
    public Part {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(sha256, "sha256");
    }
  }

  /** The part with this name, if any. */
  public Optional<Part> part(String name) {
    return parts.stream().filter(p -> p.name().equals(name)).findFirst();
  }

  /** Parts that neither the weights nor a native variant refer to (say PTX, or an execution plan). */
  public List<Part> extraParts() {
    Set<String> used = new HashSet<>();
    used.add(weights.part());
    variants.forEach(v -> used.add(v.library()));
    List<Part> out = new ArrayList<>();
    for (Part p : parts) {
      if (!used.contains(p.name())) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * Names the values of the symbolic dimensions given in {@link #symbols()} order.
   *
   * @throws IllegalArgumentException when the count differs or a value is negative
   */
  public Map<String, Long> bindings(long... values) {
    if (values.length != symbols.size()) {
      throw new IllegalArgumentException(
          "expected " + symbols.size() + " symbol values " + symbols + ", got " + values.length);
    }
    Map<String, Long> out = new LinkedHashMap<>();
    for (int i = 0; i < values.length; i++) {
      if (values[i] < 0) {
        throw new IllegalArgumentException("symbol '" + symbols.get(i) + "' must be >= 0, got " + values[i]);
      }
      out.put(symbols.get(i), values[i]);
    }
    return out;
  }
}
