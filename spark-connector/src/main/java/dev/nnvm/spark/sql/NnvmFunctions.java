package dev.nnvm.spark.sql;

import dev.nnvm.compiler.compile.ModelFiles;
import dev.nnvm.scoring.ScoringSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java face of the SQL functions {@code nnvm_predict} and
 * {@code nnvm_register} (which {@link NnvmSparkExtensions} adds to a session),
 * and the driver-side registry of models they use.
 *
 * <p>A model is named in {@code nnvm_predict('<model>', ...)} either by a name
 * registered earlier ({@link #register}, or {@code SELECT nnvm_register(...)})
 * or by the path of an {@code .onnx} file (compiled with default options) or of
 * a compiled {@code .nnvm} artifact. A registered name wins over a path. The
 * registry is per driver JVM, shared by its sessions; compiled models are kept
 * per (path, file size, modification time, options), so a query naming a
 * model the driver already compiled does not compile it again, and the
 * compiler's artifact cache on disk spares a new driver the work too.
 *
 * <p>Everything here runs on the driver, when a query is analyzed: errors (an
 * unknown model, a file that is not a model, bad options) are
 * {@link AnalysisException}s raised before any task runs.
 */
public final class NnvmFunctions {
  private static final Logger LOG = LoggerFactory.getLogger(NnvmFunctions.class);

  /** The SQL name of the batched prediction function. */
  public static final String PREDICT = "nnvm_predict";
  /** The SQL name of the registration function. */
  public static final String REGISTER = "nnvm_register";

  private static final Map<String, NnvmSqlModel> REGISTERED = new ConcurrentHashMap<>();
  private static final Map<String, NnvmSqlModel> COMPILED = new ConcurrentHashMap<>();

  private NnvmFunctions() {}

  /**
   * Compiles (or reads) the model at {@code path} with {@code options} (see
   * {@link ModelOptions}) and registers it as {@code name}, replacing a model
   * registered under that name before.
   *
   * @throws AnalysisException when the file is missing, is not a model, or the options are bad
   */
  public static NnvmSqlModel register(String name, String path, Map<String, String> options) throws AnalysisException {
    if (name == null || name.isBlank()) {
      throw SqlErrors.analysis(REGISTER + ": the model name must not be empty");
    }
    if (path == null || !Files.isRegularFile(Paths.get(path))) {
      throw SqlErrors.analysis(REGISTER + "('" + name + "'): no model file at '" + path
          + "' (give the path of an .onnx file or a compiled .nnvm artifact)");
    }
    NnvmSqlModel compiled = load(path, options == null ? Map.of() : options, REGISTER + "('" + name + "')");
    NnvmSqlModel model = new NnvmSqlModel(name, compiled.source(), compiled.options(), compiled.spec(),
        compiled.compileMillis(), compiled.cached());
    NnvmSqlModel before = REGISTERED.put(name, model);
    LOG.info("registered {}{}", model.describe(), before == null ? "" : " (replacing " + before.describe() + ")");
    return model;
  }

  /** Registers {@code path} as {@code name} with default options. */
  public static NnvmSqlModel register(String name, String path) throws AnalysisException {
    return register(name, path, Map.of());
  }

  /**
   * Registers an already built spec (for example the one a {@code NnvmModel}
   * transformer compiled) as {@code name}.
   */
  public static NnvmSqlModel register(String name, ScoringSpec spec) throws AnalysisException {
    Objects.requireNonNull(spec, "spec");
    if (name == null || name.isBlank()) {
      throw SqlErrors.analysis(REGISTER + ": the model name must not be empty");
    }
    NnvmSqlModel model = new NnvmSqlModel(name, "spec:" + spec.modelName(), Map.of(), spec, 0, true);
    REGISTERED.put(name, model);
    LOG.info("registered {}", model.describe());
    return model;
  }

  /** Forgets a registered model; true when there was one. */
  public static boolean unregister(String name) {
    return REGISTERED.remove(name) != null;
  }

  /** The registered models by name. */
  public static Map<String, NnvmSqlModel> registered() {
    return Collections.unmodifiableMap(new TreeMap<>(REGISTERED));
  }

  /**
   * The model {@code model} names: a registered name, else the path of an
   * {@code .onnx} or {@code .nnvm} file (compiled once per driver JVM).
   *
   * @throws AnalysisException naming the registered models when neither fits
   */
  public static NnvmSqlModel resolve(String model) throws AnalysisException {
    if (model == null || model.isBlank()) {
      throw SqlErrors.analysis(PREDICT + ": the model name must not be empty");
    }
    NnvmSqlModel registered = REGISTERED.get(model);
    if (registered != null) {
      return registered;
    }
    Path p = Paths.get(model);
    if (!Files.isRegularFile(p)) {
      throw SqlErrors.analysis(PREDICT + ": unknown model '" + model + "': it is not a registered name (registered: "
          + new ArrayList<>(new TreeMap<>(REGISTERED).keySet()) + ") nor the path of an .onnx or .nnvm file;"
          + " register one with SELECT " + REGISTER + "('name', '/path/model.onnx')");
    }
    return load(model, Map.of(), PREDICT + "('" + model + "')");
  }

  /**
   * {@code nnvm_predict(model, args...)} as a DataFrame column: the arguments feed the model's inputs in order.
   * The session needs {@code spark.sql.extensions=dev.nnvm.spark.sql.NnvmSparkExtensions}.
   */
  public static Column predict(String model, Column... args) {
    Column[] all = new Column[args.length + 1];
    all[0] = functions.lit(model);
    System.arraycopy(args, 0, all, 1, args.length);
    return functions.call_function(PREDICT, all);
  }

  /** {@link #predict(String, Column...)} with columns named after the model's inputs, in input order. */
  public static Column predict(String model) throws AnalysisException {
    List<Column> cols = new ArrayList<>();
    resolve(model).inputs().forEach(in -> cols.add(functions.col(quote(in.name()))));
    return predict(model, cols.toArray(new Column[0]));
  }

  /** A column name quoted for {@code functions.col} (model names may hold dots or slashes). */
  static String quote(String name) {
    return "`" + name.replace("`", "``") + "`";
  }

  /** Compiles or reads a model file, once per (file, size, mtime, options) in this JVM. */
  static NnvmSqlModel load(String path, Map<String, String> options, String what) throws AnalysisException {
    ModelOptions parsed;
    try {
      parsed = ModelOptions.parse(options, defaultThreads());
    } catch (IllegalArgumentException e) {
      throw SqlErrors.analysis(what + ": " + e.getMessage(), e);
    }
    Path file = Paths.get(path).toAbsolutePath().normalize();
    String key;
    try {
      key = file + "|" + Files.size(file) + "|" + Files.getLastModifiedTime(file).toMillis() + "|" + parsed.values();
    } catch (IOException e) {
      throw SqlErrors.analysis(what + ": cannot read '" + file + "': " + e.getMessage(), e);
    }
    NnvmSqlModel hit = COMPILED.get(key);
    if (hit != null) {
      return hit;
    }
    long t0 = System.nanoTime();
    byte[] artifact;
    boolean cached;
    try {
      ModelFiles.Loaded loaded = ModelFiles.load(file.toString(), parsed.compileOptions());
      artifact = loaded.artifact();
      cached = loaded.cacheHit() || file.getFileName().toString().endsWith(".nnvm");
    } catch (IllegalArgumentException e) {
      throw SqlErrors.analysis(what + ": " + e.getMessage(), e);
    }
    ScoringSpec spec;
    try {
      spec = parsed.spec(artifact);
    } catch (IllegalArgumentException e) {
      throw SqlErrors.analysis(what + ": " + e.getMessage(), e);
    }
    NnvmSqlModel model = new NnvmSqlModel(path, file.toString(), parsed.values(), spec,
        (System.nanoTime() - t0) / 1_000_000, cached);
    COMPILED.put(key, model);
    return model;
  }

  private static int defaultThreads() {
    try {
      return SparkSession.active().sparkContext().getConf().getInt("spark.task.cpus", 1);
    } catch (RuntimeException e) {
      return 1;
    }
  }
}
