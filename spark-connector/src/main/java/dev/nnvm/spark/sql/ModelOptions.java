package dev.nnvm.spark.sql;

import dev.nnvm.arrow.NullPolicy;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.runtime.Shape;
import dev.nnvm.scoring.ScoringSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The options of a model used from SQL, as {@code nnvm_register}'s map or
 * {@link NnvmFunctions#register} take them, all strings:
 *
 * <ul>
 *   <li>{@code shape.<input>}: compile for this input shape, e.g. {@code shape.x -> [N,3,48,192]} (names stay
 *       symbolic; needed when the ONNX file leaves a dimension unnamed);</li>
 *   <li>{@code dim.<symbol>}: fix a symbolic dimension for scoring, e.g. {@code dim.seq -> 128};</li>
 *   <li>{@code batchSize}: rows per native run (default 256);</li>
 *   <li>{@code threads}: threads per task for a native run (default {@code spark.task.cpus});</li>
 *   <li>{@code nullPolicy}: {@code NULL_OUTPUT} (default: a row with a null argument or element gets a null
 *       result) or {@code STRICT} (such a row fails the task, naming row and input);</li>
 *   <li>{@code optLevel}: graph optimization level 0-3 (default 2);</li>
 *   <li>{@code targets}: comma-separated CPU targets to build native variants for (default {@code host}).</li>
 * </ul>
 *
 * Unknown keys or bad values are one error listing every problem.
 */
public final class ModelOptions {
  /** The keys besides the {@code shape.} and {@code dim.} families. */
  public static final List<String> KEYS = List.of("batchSize", "threads", "nullPolicy", "optLevel", "targets");

  private final TreeMap<String, String> values;
  private final CompileOptions compile;

  private ModelOptions(TreeMap<String, String> values, CompileOptions compile) {
    this.values = values;
    this.compile = compile;
  }

  /**
   * Checks and parses {@code options}; {@code defaultThreads} applies when no {@code threads} is given.
   *
   * @throws IllegalArgumentException listing every problem
   */
  public static ModelOptions parse(Map<String, String> options, int defaultThreads) {
    TreeMap<String, String> v = new TreeMap<>(options == null ? Map.of() : options);
    List<String> problems = new ArrayList<>();
    CompileOptions compile = CompileOptions.defaults();
    for (Map.Entry<String, String> e : v.entrySet()) {
      String key = e.getKey();
      String value = e.getValue();
      if (value == null) {
        problems.add("option '" + key + "' has a null value");
        continue;
      }
      try {
        if (key.startsWith("shape.") && key.length() > 6) {
          compile = compile.withInputShape(key.substring(6), Shape.parse(value));
        } else if (key.startsWith("dim.") && key.length() > 4) {
          long size = Long.parseLong(value.trim());
          if (size < 1) {
            problems.add("option '" + key + "': a dimension needs a size of 1 or more, got " + size);
          }
        } else if (key.equals("batchSize") || key.equals("threads")) {
          int n = Integer.parseInt(value.trim());
          if (n < 1) {
            problems.add("option '" + key + "' must be 1 or more, got " + n);
          }
        } else if (key.equals("nullPolicy")) {
          NullPolicy.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } else if (key.equals("optLevel")) {
          compile = compile.withOptLevel(Integer.parseInt(value.trim()));
        } else if (key.equals("targets")) {
          compile = compile.withTargets(Arrays.asList(value.trim().split("\\s*,\\s*")));
        } else {
          problems.add("unknown option '" + key + "' (options: shape.<input>, dim.<symbol>, " + String.join(", ", KEYS)
              + ")");
        }
      } catch (NumberFormatException ex) {
        problems.add("option '" + key + "': '" + value + "' is not a whole number");
      } catch (IllegalArgumentException ex) {
        problems.add("option '" + key + "': " + ex.getMessage());
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("bad model options: " + String.join("; ", problems));
    }
    if (!v.containsKey("threads")) {
      v.put("threads", Integer.toString(Math.max(1, defaultThreads)));
    }
    return new ModelOptions(v, compile);
  }

  /** The options, defaults filled in, sorted by key (part of the key a compiled model is cached by). */
  public Map<String, String> values() {
    return java.util.Collections.unmodifiableMap(values);
  }

  /** How an ONNX file is compiled. */
  public CompileOptions compileOptions() {
    return compile;
  }

  /** A spec for {@code artifact} with these options' scoring settings. */
  public ScoringSpec spec(byte[] artifact) {
    ScoringSpec.Builder b = ScoringSpec.builder(artifact);
    values.forEach((key, value) -> {
      if (key.startsWith("dim.")) {
        b.dim(key.substring(4), Long.parseLong(value.trim()));
      }
    });
    if (values.containsKey("batchSize")) {
      b.batchSize(Integer.parseInt(values.get("batchSize").trim()));
    }
    b.threads(Integer.parseInt(values.get("threads").trim()));
    if (values.containsKey("nullPolicy")) {
      b.nullPolicy(NullPolicy.valueOf(values.get("nullPolicy").trim().toUpperCase(Locale.ROOT)));
    }
    return b.build();
  }
}
