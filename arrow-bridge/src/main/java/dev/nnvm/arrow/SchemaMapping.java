package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Which columns feed which model inputs, and which columns the outputs
 * become. By default an input reads the column of the same name and an
 * output becomes a column of its own name; {@link Builder#mapInput} and
 * {@link Builder#mapOutput} rename, {@link Builder#layout} picks another
 * {@link InputLayout}, {@link Builder#outputLayout} another
 * {@link OutputLayout}.
 *
 * <p>Problems of the mapping itself are reported by {@link Builder#build()},
 * problems of a schema by {@link #validate(Schema)}: each throws one
 * {@link SchemaMismatchException} that lists every problem, before any data
 * is read. The first dimension of every input and output is the batch
 * dimension.
 */
public final class SchemaMapping {
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;
  private final Map<String, InputLayout> layouts;
  private final Map<String, String> masks;
  private final Map<String, String> outputColumns;
  private final Map<String, OutputLayout> outputLayouts;

  private SchemaMapping(Builder b, Map<String, InputLayout> layouts, Map<String, String> masks,
      Map<String, String> outputColumns, Map<String, OutputLayout> outputLayouts) {
    this.inputs = List.copyOf(b.inputs);
    this.outputs = List.copyOf(b.outputs);
    this.layouts = layouts;
    this.masks = masks;
    this.outputColumns = outputColumns;
    this.outputLayouts = outputLayouts;
  }

  public static Builder builder(List<TensorSpec> inputs, List<TensorSpec> outputs) {
    return new Builder(inputs, outputs);
  }

  public List<TensorSpec> inputs() {
    return inputs;
  }

  public List<TensorSpec> outputs() {
    return outputs;
  }

  /** The layout feeding {@code input}, or null when the input is the attention mask of a padded input. */
  public InputLayout layout(String input) {
    return layouts.get(input);
  }

  /** The padded input whose attention mask {@code input} receives, or null. */
  public String maskOf(String input) {
    return masks.get(input);
  }

  /** The column an output becomes. */
  public String outputColumn(String output) {
    return outputColumns.get(output);
  }

  /** The resolved layout of an output's column (never AUTO). */
  public OutputLayout outputLayout(String output) {
    return outputLayouts.get(output);
  }

  /** The schema of the batches the bridge returns: one column per output, in output order. */
  public Schema outputSchema() {
    List<Field> fields = new ArrayList<>();
    for (TensorSpec o : outputs) {
      fields.add(outputLayouts.get(o.name()).field(outputColumns.get(o.name()), o.dtype(), rowShape(o.shape())));
    }
    return new Schema(fields);
  }

  /** Checks that {@code schema} has every column the inputs need, with fitting types and row shapes. */
  public void validate(Schema schema) {
    Map<String, Field> fields = new HashMap<>();
    for (Field f : schema.getFields()) {
      fields.put(f.getName(), f);
    }
    List<String> problems = new ArrayList<>();
    for (TensorSpec in : inputs) {
      InputLayout layout = layouts.get(in.name());
      if (layout == null) {
        continue;
      }
      Shape row = rowShape(in.shape());
      if (layout instanceof InputLayout.Gather) {
        for (String c : layout.columns()) {
          ColumnType t = column(fields, c, in, problems);
          if (t != null && t.rowShape().rank() != 0) {
            problems.add("input '" + in.name() + "': column '" + c + "' has rows of shape " + t.rowShape()
                + ", a gathered input needs scalar columns");
          }
          checkType(in, c, t, problems);
        }
        continue;
      }
      String c = layout.columns().get(0);
      ColumnType t = column(fields, c, in, problems);
      checkType(in, c, t, problems);
      if (t == null) {
        continue;
      }
      boolean fits = t.rowShape().rank() == row.rank()
          || (t.rowShape().rank() == 0 && row.equals(Shape.of(1)));
      for (int i = 0; fits && i < Math.min(row.rank(), t.rowShape().rank()); i++) {
        Dim want = row.dim(i);
        Dim have = t.rowShape().dim(i);
        fits = !want.isStatic() || !have.isStatic() || want.value() == have.value();
      }
      if (layout instanceof InputLayout.Padded && t.rowShape().rank() == 0) {
        fits = false;
      }
      if (!fits) {
        problems.add("input '" + in.name() + "' " + in.dtype() + in.shape() + ": wrong per-row shape, column '" + c
            + "' has rows of shape " + t.rowShape() + " and the input needs " + row);
      }
    }
    if (!problems.isEmpty()) {
      throw new SchemaMismatchException("the batch does not fit the model's inputs", problems);
    }
  }

  private static ColumnType column(Map<String, Field> fields, String name, TensorSpec in, List<String> problems) {
    Field f = fields.get(name);
    if (f == null) {
      problems.add("input '" + in.name() + "': missing column '" + name + "' (the batch has " + fields.keySet()
          + ")");
      return null;
    }
    for (Field child = f.getChildren().isEmpty() ? null : f.getChildren().get(0); child != null;
        child = child.getChildren().isEmpty() ? null : child.getChildren().get(0)) {
      if (child.getType() instanceof ArrowType.List) {
        problems.add("input '" + in.name() + "': column '" + name + "' has a List inside another list;"
            + " only the outer level of a column may vary in length");
        return null;
      }
    }
    try {
      return ArrowTypes.columnType(f);
    } catch (IllegalArgumentException e) {
      problems.add("input '" + in.name() + "': " + e.getMessage());
      return null;
    }
  }

  private static void checkType(TensorSpec in, String column, ColumnType t, List<String> problems) {
    if (t != null && !ElementCopy.widens(t.dtype(), in.dtype())) {
      problems.add("input '" + in.name() + "' " + in.dtype() + ": wrong element type, column '" + column + "' holds "
          + t.dtype() + ", which does not convert to " + in.dtype() + " without loss");
    }
  }

  static Shape rowShape(Shape shape) {
    return Shape.of(shape.dims().subList(1, shape.rank()));
  }

  /** Collects the mapping; {@link #build()} checks it against the model. */
  public static final class Builder {
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final Map<String, InputLayout> layouts = new LinkedHashMap<>();
    private final Map<String, String> outputColumns = new LinkedHashMap<>();
    private final Map<String, OutputLayout> outputLayouts = new LinkedHashMap<>();

    private Builder(List<TensorSpec> inputs, List<TensorSpec> outputs) {
      this.inputs = List.copyOf(inputs);
      this.outputs = List.copyOf(outputs);
    }

    /** Feeds {@code input} from {@code column} (when the names differ). */
    public Builder mapInput(String column, String input) {
      return layout(input, new InputLayout.Column(column));
    }

    /** Feeds {@code input} as {@code layout} says. */
    public Builder layout(String input, InputLayout layout) {
      layouts.put(Objects.requireNonNull(input, "input"), Objects.requireNonNull(layout, "layout"));
      return this;
    }

    /** Writes {@code output} to a column named {@code column}. */
    public Builder mapOutput(String output, String column) {
      outputColumns.put(Objects.requireNonNull(output, "output"), Objects.requireNonNull(column, "column"));
      return this;
    }

    public Builder outputLayout(String output, OutputLayout layout) {
      outputLayouts.put(Objects.requireNonNull(output, "output"), Objects.requireNonNull(layout, "layout"));
      return this;
    }

    public SchemaMapping build() {
      List<String> problems = new ArrayList<>();
      Map<String, TensorSpec> in = new LinkedHashMap<>();
      Set<String> symbols = new HashSet<>();
      for (TensorSpec s : inputs) {
        in.put(s.name(), s);
        if (!s.shape().hasRank() || s.shape().rank() == 0) {
          problems.add("input '" + s.name() + "' " + s.dtype() + s.shape()
              + ": needs a known rank of 1 or more (the first dimension is the batch)");
          continue;
        }
        for (Dim d : s.shape().dims()) {
          if (d.isSymbolic()) {
            symbols.add(d.symbol());
          }
        }
      }
      for (String name : layouts.keySet()) {
        if (!in.containsKey(name)) {
          problems.add("a layout is given for '" + name + "', which is not a model input (inputs: " + in.keySet() + ")");
        }
      }
      Map<String, String> masks = new LinkedHashMap<>();
      for (Map.Entry<String, InputLayout> e : layouts.entrySet()) {
        if (e.getValue() instanceof InputLayout.Padded && ((InputLayout.Padded) e.getValue()).maskInput() != null) {
          String mask = ((InputLayout.Padded) e.getValue()).maskInput();
          TensorSpec m = in.get(mask);
          if (m == null) {
            problems.add("input '" + e.getKey() + "': mask input '" + mask + "' is not a model input");
          } else if (layouts.containsKey(mask) || masks.containsKey(mask)) {
            problems.add("input '" + mask + "' is the mask of '" + e.getKey() + "' and is also fed otherwise");
          } else if (!m.shape().hasRank() || m.shape().rank() != 2 || m.dtype() == DType.STRING) {
            problems.add("mask input '" + mask + "' " + m.dtype() + m.shape() + ": needs shape [N, seq]");
          } else {
            masks.put(mask, e.getKey());
          }
        }
      }
      Map<String, InputLayout> resolved = new LinkedHashMap<>();
      for (TensorSpec s : inputs) {
        if (masks.containsKey(s.name()) || !s.shape().hasRank() || s.shape().rank() == 0) {
          continue;
        }
        InputLayout l = layouts.getOrDefault(s.name(), new InputLayout.Column(s.name()));
        resolved.put(s.name(), l);
        if (s.dtype() == DType.STRING || s.dtype() == DType.BFLOAT16) {
          problems.add("input '" + s.name() + "': element type " + s.dtype() + " has no Arrow column type");
        }
        if (l instanceof InputLayout.Gather) {
          int k = l.columns().size();
          Shape sh = s.shape();
          if (sh.rank() != 2 || (sh.dim(1).isStatic() && sh.dim(1).value() != k)) {
            problems.add("input '" + s.name() + "' " + s.dtype() + sh + ": gathers " + k
                + " columns, so it needs shape [N, " + k + "]");
          }
        } else if (l instanceof InputLayout.Padded && s.shape().rank() < 2) {
          problems.add("input '" + s.name() + "' " + s.dtype() + s.shape()
              + ": a padded input needs a sequence dimension after the batch");
        }
      }
      Map<String, String> columns = new LinkedHashMap<>();
      Map<String, OutputLayout> outLayouts = new LinkedHashMap<>();
      Set<String> outNames = new LinkedHashSet<>();
      for (TensorSpec o : outputs) {
        outNames.add(o.name());
      }
      for (String name : outputColumns.keySet()) {
        if (!outNames.contains(name)) {
          problems.add("a column is given for '" + name + "', which is not a model output (outputs: " + outNames + ")");
        }
      }
      for (String name : outputLayouts.keySet()) {
        if (!outNames.contains(name)) {
          problems.add("a layout is given for '" + name + "', which is not a model output (outputs: " + outNames + ")");
        }
      }
      Set<String> used = new HashSet<>();
      for (TensorSpec o : outputs) {
        String column = outputColumns.getOrDefault(o.name(), o.name());
        if (!used.add(column)) {
          problems.add("output '" + o.name() + "': column '" + column + "' is also another output's column");
        }
        columns.put(o.name(), column);
        if (!o.shape().hasRank() || o.shape().rank() == 0) {
          problems.add("output '" + o.name() + "' " + o.dtype() + o.shape()
              + ": needs a known rank of 1 or more (the first dimension is the batch)");
          continue;
        }
        if (o.dtype() == DType.STRING || o.dtype() == DType.BFLOAT16) {
          problems.add("output '" + o.name() + "': element type " + o.dtype() + " has no Arrow column type");
        }
        for (Dim d : o.shape().dims()) {
          if (d.isUnknown() || (d.isSymbolic() && !symbols.contains(d.symbol()))) {
            problems.add("output '" + o.name() + "' " + o.dtype() + o.shape() + ": dimension " + d
                + " is not a dimension of any input, so its size is not known when the batch is bound");
          }
        }
        Shape row = rowShape(o.shape());
        OutputLayout layout = outputLayouts.getOrDefault(o.name(), OutputLayout.AUTO).resolve(row);
        String misfit = layout.misfit(row);
        if (misfit != null) {
          problems.add("output '" + o.name() + "' " + o.dtype() + o.shape() + ": " + misfit);
        }
        outLayouts.put(o.name(), layout);
      }
      if (!problems.isEmpty()) {
        throw new SchemaMismatchException("the mapping does not fit the model", problems);
      }
      return new SchemaMapping(this, Map.copyOf(resolved), Map.copyOf(masks), Map.copyOf(columns),
          Map.copyOf(outLayouts));
    }
  }
}
