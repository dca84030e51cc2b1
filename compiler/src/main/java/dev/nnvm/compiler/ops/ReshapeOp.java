package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.analysis.ShapeValue;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Reshape: 0 copies the input dimension at the same index (unless
 * allowzero), -1 is inferred from the element count. With a constant shape
 * the type rule gives the exact output shape, keeping symbolic dimensions
 * that are copied and inferring -1 where the remaining dimensions allow.
 */
final class ReshapeOp {
  private ReshapeOp() {}

  static void register(OpRegistry r) {
    OpDef.builder("Reshape")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(2)
        .attr(AttrSpec.ofInt("allowzero", 0))
        .infer(ReshapeOp::infer)
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          return List.of(x.reshape(reshapeTarget(ctx, x.shape(), ctx.input(1).toLongArray())));
        })
        .register(r);
  }

  private static List<TensorType> infer(InferContext ctx) {
    TypeRules.requireType(ctx, 1, DType.INT64);
    TensorType x = ctx.inputType(0);
    Optional<Tensor> c = ctx.constant(1);
    Optional<ShapeValue> symbolic = ctx.shapeValue(1);
    if (c.isEmpty() && symbolic.isPresent() && !symbolic.get().isScalar()) {
      return List.of(SymbolicShapes.type(x.dtype(), symbolicTarget(ctx, symbolic.get())));
    }
    if (c.isEmpty()) {
      int n = SymbolicShapes.staticLength(ctx, 1);
      return List.of(n < 0 ? TensorType.unknownShape(x.dtype()) : SymbolicShapes.type(x.dtype(), SymbolicShapes.unknownDims(n)));
    }
    long[] spec = c.get().toLongArray();
    boolean allowZero = ctx.attrInt("allowzero") != 0;
    List<Dim> in = SymbolicShapes.dims(ctx, 0);
    List<Dim> out = new ArrayList<>();
    boolean[] copied = new boolean[in == null ? 0 : in.size()];
    int inferAt = -1;
    for (int i = 0; i < spec.length; i++) {
      long s = spec[i];
      if (s == 0 && !allowZero) {
        if (in != null && i >= in.size()) {
          throw ctx.error("shape %s copies dimension %d of an input of rank %d", Arrays.toString(spec), i, in.size());
        }
        out.add(in == null ? Dim.unknown() : in.get(i));
        if (in != null) {
          copied[i] = true;
        }
      } else if (s == -1) {
        if (inferAt >= 0) {
          throw ctx.error("shape %s has more than one -1", Arrays.toString(spec));
        }
        inferAt = i;
        out.add(Dim.unknown());
      } else if (s < 0) {
        throw ctx.error("shape %s has invalid dimension %d", Arrays.toString(spec), s);
      } else {
        out.add(Dim.of(s));
      }
    }
    if (inferAt >= 0 && in != null) {
      out.set(inferAt, inferredDim(ctx, in, copied, out, inferAt, spec));
    }
    if (in != null && inferAt < 0) {
      List<Dim> restIn = new ArrayList<>();
      List<Dim> restOut = new ArrayList<>();
      for (int i = 0; i < in.size(); i++) {
        if (!copied[i]) {
          restIn.add(in.get(i));
        }
      }
      for (int i = 0; i < out.size(); i++) {
        if (i >= copied.length || !copied[i]) {
          restOut.add(out.get(i));
        }
      }
      Dim pin = SymbolicShapes.product(restIn);
      Dim pout = SymbolicShapes.product(restOut);
      if (pin.isStatic() && pout.isStatic() && pin.value() != pout.value()) {
        throw ctx.error("cannot reshape %s to %s: element counts differ", x.shape(), Arrays.toString(spec));
      }
    }
    return List.of(SymbolicShapes.type(x.dtype(), out));
  }

  /**
   * The output of a Reshape whose shape is computed at run time but known
   * element by element: numbers are sizes (0 copies the input's dimension,
   * -1 stays unknown), symbols are symbolic dimensions.
   */
  private static List<Dim> symbolicTarget(InferContext ctx, ShapeValue v) {
    boolean allowZero = ctx.attrInt("allowzero") != 0;
    List<Dim> in = SymbolicShapes.dims(ctx, 0);
    List<Dim> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      ShapeValue.Element e = v.get(i);
      if (e.isNumber() && e.number() == 0 && !allowZero) {
        out.add(in != null && i < in.size() ? in.get(i) : Dim.unknown());
      } else {
        out.add(e.toDim());
      }
    }
    return out;
  }

  /**
   * The -1 dimension of a Reshape: input dims not copied by a 0 must divide
   * by the other output dims; symbolic dims that appear on both sides cancel.
   */
  private static Dim inferredDim(InferContext ctx, List<Dim> in, boolean[] copied, List<Dim> out, int at, long[] spec) {
    List<Dim> rest = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      if (!copied[i]) {
        rest.add(in.get(i));
      }
    }
    long divisor = 1;
    for (int i = 0; i < out.size(); i++) {
      if (i == at || spec[i] == 0 && i < copied.length && copied[i]) {
        continue;
      }
      divisor *= out.get(i).value();
    }
    long known = 1;
    Dim symbol = null;
    for (Dim d : rest) {
      if (d.isStatic()) {
        known *= d.value();
      } else if (symbol == null && d.isSymbolic()) {
        symbol = d;
      } else {
        return Dim.unknown();
      }
    }
    if (symbol == null) {
      if (divisor == 0 || known % divisor != 0) {
        throw ctx.error("cannot reshape %d elements to %s", known, Arrays.toString(spec));
      }
      return Dim.of(known / divisor);
    }
    return known == divisor ? symbol : Dim.unknown();
  }

  private static long[] reshapeTarget(EvalContext ctx, long[] in, long[] spec) {
    boolean allowZero = ctx.attrInt("allowzero") != 0;
    long[] out = new long[spec.length];
    int inferAt = -1;
    long known = 1;
    for (int i = 0; i < spec.length; i++) {
      long s = spec[i];
      if (s == 0 && !allowZero) {
        if (i >= in.length) {
          throw ctx.error("shape %s copies dimension %d of an input of rank %d", Arrays.toString(spec), i, in.length);
        }
        out[i] = in[i];
      } else if (s == -1) {
        if (inferAt >= 0) {
          throw ctx.error("shape %s has more than one -1", Arrays.toString(spec));
        }
        inferAt = i;
        continue;
      } else if (s < 0) {
        throw ctx.error("shape %s has invalid dimension %d", Arrays.toString(spec), s);
      } else {
        out[i] = s;
      }
      known *= out[i];
    }
    long total = Tensor.elementCount(in);
    if (inferAt >= 0) {
      if (known == 0 || total % known != 0) {
        throw ctx.error("cannot reshape %s to %s", Shape.toString(in), Arrays.toString(spec));
      }
      out[inferAt] = total / known;
    } else if (known != total) {
      throw ctx.error("cannot reshape %s (%d elements) to %s", Shape.toString(in), total, Arrays.toString(spec));
    }
    return out;
  }
}
