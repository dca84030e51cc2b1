package dev.nnvm.spark.sql;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.spark.SparkTypes;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;

/**
 * How one argument of {@code nnvm_predict} feeds one model input: the Spark
 * type it arrives in, the element type and row shape the model wants, and
 * so the Arrow column it is written into.
 *
 * <ul>
 *   <li>a scalar column feeds an input of shape {@code [N]} or {@code [N, 1]};</li>
 *   <li>an array column (nested to any depth) feeds an input whose rows are static,
 *       {@code [N, 3, 48, 192]} say: either arrays nested as deep as the row's rank, each level
 *       of the row's size, or one flat array of all the row's elements (row-major);</li>
 *   <li>an array column feeds an input of shape {@code [N, seq]} whose {@code seq} is
 *       not bound: rows may differ in length between batches, not within one.</li>
 * </ul>
 *
 * <p>Element types widen without loss ({@code int} into {@code i64} or {@code f64},
 * {@code float} into {@code f64}); a narrowing conversion is refused when the
 * query is analyzed, with the cast that would fix it.
 */
final class InputColumn implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The model input. */
  final String input;
  /** The model's element type. */
  final DType target;
  /** The element type of the Spark values. */
  final DType source;
  /** The input's row dimensions (after the batch); -1 for one that varies (only a rank-1 row). */
  final long[] rowDims;
  /** How deep the Spark arrays nest (0 for a scalar). */
  final int depth;
  /** The argument as SQL text, for messages. */
  final String argument;

  private InputColumn(String input, DType target, DType source, long[] rowDims, int depth, String argument) {
    this.input = input;
    this.target = target;
    this.source = source;
    this.rowDims = rowDims;
    this.depth = depth;
    this.argument = argument;
  }

  /** Elements of one row when the row is static, else -1. */
  long rowElements() {
    long n = 1;
    for (long d : rowDims) {
      if (d < 0) {
        return -1;
      }
      n *= d;
    }
    return n;
  }

  boolean isScalar() {
    return depth == 0;
  }

  /** True when rows are variable-length lists ({@code [N, seq]} with {@code seq} unbound). */
  boolean isVariable() {
    return rowElements() < 0;
  }

  /**
   * The column feeding {@code in} from an argument of type {@code type}, or
   * null after adding to {@code problems} why it cannot.
   */
  static InputColumn plan(TensorSpec in, DataType type, String argument, List<String> problems) {
    String what = "argument " + argument + " (" + type.simpleString() + ") for input '" + in.name() + "' "
        + in.dtype() + in.shape();
    int depth = 0;
    DataType t = type;
    while (t instanceof ArrayType) {
      depth++;
      t = ((ArrayType) t).elementType();
    }
    DType source;
    try {
      source = SparkTypes.toDType(t);
    } catch (IllegalArgumentException e) {
      problems.add(what + ": " + e.getMessage());
      return null;
    }
    if (!widens(source, in.dtype())) {
      problems.add(what + ": " + source + " elements do not convert to " + in.dtype() + " without loss; cast the"
          + " argument, e.g. CAST(" + argument + " AS " + castTarget(depth, in.dtype()) + ")");
      return null;
    }
    if (!in.shape().hasRank() || in.shape().rank() == 0) {
      problems.add(what + ": the input needs a known rank of 1 or more (the first dimension is the rows)");
      return null;
    }
    List<Dim> row = in.shape().dims().subList(1, in.shape().rank());
    long[] dims = new long[row.size()];
    for (int i = 0; i < dims.length; i++) {
      Dim d = row.get(i);
      dims[i] = d.isStatic() ? d.value() : -1;
    }
    boolean variable = Arrays.stream(dims).anyMatch(d -> d < 0);
    if (variable && dims.length > 1) {
      problems.add(what + ": only a row of rank 1 may vary in length; bind the other dimensions with the"
          + " option dim.<symbol> (nnvm_register(..., map('dim.seq', '128')))");
      return null;
    }
    boolean scalarRow = dims.length == 0 || (dims.length == 1 && dims[0] == 1);
    if (depth == 0 && !scalarRow) {
      problems.add(what + ": a scalar column feeds only an input of shape [N] or [N, 1]; pass an array column");
      return null;
    }
    if (depth > 0 && dims.length == 0) {
      problems.add(what + ": the input takes one number per row, the argument is an array");
      return null;
    }
    if (depth > 1 && depth != dims.length) {
      problems.add(what + ": arrays nested " + depth + " deep do not fit rows of rank " + dims.length
          + "; pass arrays nested " + dims.length + " deep, or one flat array of each row's elements");
      return null;
    }
    return new InputColumn(in.name(), in.dtype(), source, dims, depth, argument);
  }

  /** Lossless conversions between the element types Spark has and a model's. */
  static boolean widens(DType from, DType to) {
    if (from == to) {
      return true;
    }
    if (from == DType.BOOL || to == DType.BOOL) {
      return false;
    }
    boolean fromInt = from.isInteger();
    switch (to) {
      case INT16: return from == DType.INT8;
      case INT32: return from == DType.INT8 || from == DType.INT16;
      case INT64: return from == DType.INT8 || from == DType.INT16 || from == DType.INT32;
      case FLOAT32: return from == DType.INT8 || from == DType.INT16;
      case FLOAT64: return fromInt && from != DType.INT64 || from == DType.FLOAT32;
      default: return false;
    }
  }

  private static String castTarget(int depth, DType dtype) {
    String base;
    try {
      base = SparkTypes.toDataType(dtype).sql();
    } catch (IllegalArgumentException e) {
      base = dtype.toString();
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < depth; i++) {
      sb.append("ARRAY<");
    }
    sb.append(base);
    for (int i = 0; i < depth; i++) {
      sb.append('>');
    }
    return sb.toString();
  }
}
