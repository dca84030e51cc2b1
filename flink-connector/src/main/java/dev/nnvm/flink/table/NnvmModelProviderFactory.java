package dev.nnvm.flink.table;

import dev.nnvm.flink.FlinkTypes;
import dev.nnvm.flink.ModelArtifacts;
import dev.nnvm.flink.RecordColumns;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.scoring.ScoringSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.LogicalType;

/**
 * {@code 'provider' = 'nnvm'}: models for Flink SQL's {@code CREATE MODEL} and
 * {@code ML_PREDICT}, scored by the NNVM runtime. Registered through
 * {@code META-INF/services/org.apache.flink.table.factories.Factory}.
 *
 * <pre>{@code
 * CREATE MODEL cls
 *   INPUT (image ARRAY<FLOAT>)
 *   OUTPUT (probs ARRAY<FLOAT>)
 *   WITH ('provider' = 'nnvm', 'path' = '/models/cls.onnx', 'input-shape.x' = '[N, 3, 48, 192]',
 *         'batch-size' = '32', 'max-latency' = '20 ms');
 * SET 'table.exec.async-ml-predict.max-concurrent-operations' = '64';   -- rows in flight >= batch-size (SQL client)
 * SELECT id, probs FROM ML_PREDICT(TABLE crops, MODEL cls, DESCRIPTOR(image));
 * }</pre>
 *
 * <p>When the statement is planned (on the client), the model file is read or
 * compiled once and the INPUT and OUTPUT columns are checked against the
 * model: INPUT columns feed the model's inputs by name, or by position when
 * no name matches; OUTPUT columns likewise. An input with rows of a static
 * shape takes a flat {@code ARRAY} of that many elements (row-major); an
 * {@code [N]} input a scalar column. Element types must convert losslessly
 * (an {@code ARRAY<INT>} feeds an int64 input; {@code ARRAY<DOUBLE>} into a
 * float input is refused: cast it); outputs must be declared with the model's
 * element type ({@code ARRAY<FLOAT>} for an f32 {@code [N, k]} output,
 * {@code FLOAT} for an f32 {@code [N]} output).
 */
public final class NnvmModelProviderFactory implements ModelProviderFactory {
  public static final String IDENTIFIER = "nnvm";

  @Override
  public String factoryIdentifier() {
    return IDENTIFIER;
  }

  @Override
  public Set<ConfigOption<?>> requiredOptions() {
    return Set.of(NnvmModelOptions.PATH);
  }

  @Override
  public Set<ConfigOption<?>> optionalOptions() {
    return Set.of(NnvmModelOptions.BATCH_SIZE, NnvmModelOptions.MAX_LATENCY, NnvmModelOptions.THREADS,
        NnvmModelOptions.NULL_POLICY);
  }

  @Override
  public ModelProvider createModelProvider(Context context) {
    FactoryUtil.ModelProviderFactoryHelper helper = FactoryUtil.createModelProviderFactoryHelper(this, context);
    helper.validateExcept(NnvmModelOptions.INPUT_SHAPE_PREFIX, NnvmModelOptions.DIM_PREFIX);
    ReadableConfig options = helper.getOptions();
    ResolvedCatalogModel model = context.getCatalogModel();
    String name = context.getObjectIdentifier().getObjectName();
    Map<String, String> shapes = new LinkedHashMap<>();
    Map<String, Long> dims = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    model.getOptions().forEach((k, v) -> {
      if (k.startsWith(NnvmModelOptions.INPUT_SHAPE_PREFIX)) {
        shapes.put(k.substring(NnvmModelOptions.INPUT_SHAPE_PREFIX.length()), v);
      } else if (k.startsWith(NnvmModelOptions.DIM_PREFIX)) {
        try {
          dims.put(k.substring(NnvmModelOptions.DIM_PREFIX.length()), Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
          problems.add("option '" + k + "' must be a whole number, got '" + v + "'");
        }
      }
    });
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("model '" + name + "': " + String.join("; ", problems));
    }
    int batchSize = options.get(NnvmModelOptions.BATCH_SIZE);
    long maxLatency = options.get(NnvmModelOptions.MAX_LATENCY).toMillis();
    if (batchSize < 1 || maxLatency < 0) {
      throw new IllegalArgumentException("model '" + name + "': 'batch-size' must be at least 1 and 'max-latency'"
          + " not negative, got " + batchSize + " and " + maxLatency + " ms");
    }
    byte[] artifact = ModelArtifacts.load(options.get(NnvmModelOptions.PATH), shapes);
    ScoringSpec.Builder b = ScoringSpec.builder(artifact)
        .batchSize(batchSize)
        .threads(options.get(NnvmModelOptions.THREADS))
        .nullPolicy(options.get(NnvmModelOptions.NULL_POLICY));
    dims.forEach(b::dim);
    ResolvedSchema in = model.getResolvedInputSchema();
    ResolvedSchema out = model.getResolvedOutputSchema();
    List<String> modelInputs = names(b.manifest().inputs());
    List<String> modelOutputs = names(b.manifest().outputs());
    List<String> inputFor = match("INPUT", in.getColumnNames(), modelInputs, "inputs", problems);
    List<String> outputFor = match("OUTPUT", out.getColumnNames(), modelOutputs, "outputs", problems);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("model '" + name + "' does not fit " + options.get(NnvmModelOptions.PATH)
          + ": " + String.join("; ", problems));
    }
    for (int i = 0; i < inputFor.size(); i++) {
      b.mapInput(in.getColumnNames().get(i), inputFor.get(i));
    }
    for (int i = 0; i < outputFor.size(); i++) {
      b.mapOutput(outputFor.get(i), out.getColumnNames().get(i));
    }
    ScoringSpec spec = b.build();
    List<LogicalType> inTypes = types(in.getColumnDataTypes());
    List<LogicalType> outTypes = types(out.getColumnDataTypes());
    checkInputs(spec, in.getColumnNames(), inTypes, problems);
    checkOutputs(spec, outputFor, out.getColumnNames(), outTypes, problems);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("model '" + name + "' does not fit " + options.get(NnvmModelOptions.PATH)
          + ": " + String.join("; ", problems));
    }
    return new NnvmModelProvider(new NnvmModelProvider.Plan(spec, name, in.getColumnNames(), inTypes,
        out.getColumnNames(), outTypes, batchSize, maxLatency));
  }

  private static List<String> names(List<TensorSpec> specs) {
    List<String> names = new ArrayList<>();
    for (TensorSpec s : specs) {
      names.add(s.name());
    }
    return names;
  }

  private static List<LogicalType> types(List<DataType> types) {
    List<LogicalType> out = new ArrayList<>();
    for (DataType t : types) {
      out.add(t.getLogicalType());
    }
    return out;
  }

  /** The model tensor each SQL column maps to: by name when every column names one, else by position. */
  private static List<String> match(String clause, List<String> columns, List<String> tensors, String what,
      List<String> problems) {
    if (tensors.containsAll(columns)) {
      return columns;
    }
    if (columns.size() == tensors.size()) {
      return tensors;
    }
    problems.add(clause + " columns " + columns + " neither name the model's " + what + " " + tensors
        + " nor match them by position (" + columns.size() + " columns, " + tensors.size() + " " + what + ")");
    return List.of();
  }

  private static void checkInputs(ScoringSpec spec, List<String> columns, List<LogicalType> types,
      List<String> problems) {
    RecordColumns rc = RecordColumns.of(spec);
    for (int i = 0; i < columns.size(); i++) {
      int at = rc.columns().indexOf(columns.get(i));
      if (at < 0) {
        problems.add("INPUT column '" + columns.get(i) + "' feeds no model input");
        continue;
      }
      String needs = rc.needs(at);
      LogicalType t = types.get(i);
      boolean array = t instanceof ArrayType;
      LogicalType element = array ? ((ArrayType) t).getElementType() : t;
      if (element instanceof ArrayType) {
        problems.add("INPUT column '" + columns.get(i) + "' is " + t.asSummaryString() + "; nested arrays are not"
            + " supported: give the row's elements as one flat array (row-major) for " + needs);
        continue;
      }
      DType dtype;
      try {
        dtype = FlinkTypes.toDType(element);
      } catch (IllegalArgumentException e) {
        problems.add("INPUT column '" + columns.get(i) + "': " + e.getMessage());
        continue;
      }
      String input = spec.inputColumns().get(columns.get(i));
      DType wants = spec.boundInputs().stream().filter(s -> s.name().equals(input)).findFirst().orElseThrow().dtype();
      if (!RecordColumns.widens(dtype, wants)) {
        problems.add("INPUT column '" + columns.get(i) + "' is " + t.asSummaryString() + ", whose " + dtype
            + " elements do not convert losslessly to " + needs + "; cast the column");
      }
      if (array ? !rc.takesArray(at) : !rc.takesScalar(at)) {
        problems.add("INPUT column '" + columns.get(i) + "' is " + t.asSummaryString() + "; " + needs
            + (array ? " takes a scalar column" : " takes an ARRAY column"));
      }
    }
  }

  private static void checkOutputs(ScoringSpec spec, List<String> outputs, List<String> columns,
      List<LogicalType> types, List<String> problems) {
    for (int i = 0; i < columns.size(); i++) {
      String output = outputs.get(i);
      TensorSpec s = spec.boundOutputs().stream().filter(o -> o.name().equals(output)).findFirst().orElseThrow();
      LogicalType t = types.get(i);
      boolean array = t instanceof ArrayType;
      LogicalType element = array ? ((ArrayType) t).getElementType() : t;
      boolean scalarOutput = s.shape().hasRank() && (s.shape().rank() <= 1
          || (s.shape().rank() == 2 && s.shape().dim(1).isStatic() && s.shape().dim(1).value() == 1));
      DType dtype;
      try {
        dtype = FlinkTypes.toDType(element);
      } catch (IllegalArgumentException e) {
        problems.add("OUTPUT column '" + columns.get(i) + "': " + e.getMessage());
        continue;
      }
      String want = FlinkTypes.toDataType(s.dtype()).getLogicalType().asSummaryString();
      if (dtype != s.dtype() || element instanceof ArrayType || (!array && !scalarOutput)) {
        problems.add("OUTPUT column '" + columns.get(i) + "' is " + t.asSummaryString() + "; model output '" + output
            + "' " + s.dtype() + s.shape() + " needs " + (scalarOutput ? want + " or " : "") + "ARRAY<" + want + ">");
      }
    }
  }
}
