package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.analysis.ShapeValue;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpContext;
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
 * Shape and layout operators that only re-view or create tensors: Reshape
 * ({@link ReshapeOp}), Flatten, Squeeze, Unsqueeze, Shape, Size, Identity, ConstantOfShape,
 * Range, Expand, EyeLike. Registers the other layout families too
 * ({@link LayoutOps}, {@link GatherScatterOps}, {@link ResizeOps}).
 */
final class ShapeOps {
  private ShapeOps() {}

  static void register(OpRegistry r) {
    ReshapeOp.register(r);

    OpDef.builder("Flatten")
        .pattern(FusionPattern.INJECTIVE)
        .attr(AttrSpec.ofInt("axis", 1))
        .infer(ctx -> {
          List<Dim> d = SymbolicShapes.dims(ctx, 0);
          DType t = ctx.inputType(0).dtype();
          if (d == null) {
            return List.of(SymbolicShapes.type(t, SymbolicShapes.unknownDims(2)));
          }
          int axis = flattenAxis(ctx, d.size());
          return List.of(SymbolicShapes.type(t, List.of(SymbolicShapes.product(d.subList(0, axis)),
              SymbolicShapes.product(d.subList(axis, d.size())))));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          int axis = flattenAxis(ctx, x.rank());
          long outer = 1;
          for (int i = 0; i < axis; i++) {
            outer *= x.dim(i);
          }
          return List.of(x.reshape(outer, outer == 0 ? 0 : x.size() / outer));
        })
        .register(r);

    OpDef.builder("Squeeze")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, 2)
        .attr(AttrSpec.of("axes", Attribute.Kind.INTS))
        .infer(ShapeOps::inferSqueeze)
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] axes = SymbolicShapes.emptyAsAbsent(SymbolicShapes.param(ctx, "axes", 1));
          List<Long> out = new ArrayList<>();
          boolean[] drop = squeezed(ctx, x.shape(), axes);
          for (int i = 0; i < x.rank(); i++) {
            if (!drop[i]) {
              out.add(x.dim(i));
            }
          }
          return List.of(x.reshape(out.stream().mapToLong(Long::longValue).toArray()));
        })
        .register(r);

    OpDef.builder("Unsqueeze")
        .pattern(FusionPattern.INJECTIVE)
        .inputs(1, 2)
        .attr(AttrSpec.of("axes", Attribute.Kind.INTS))
        .infer(ctx -> {
          SymbolicShapes.requireTypesIfPresent(ctx, new int[] {1}, DType.INT64);
          SymbolicShapes.IntsParam axes = SymbolicShapes.param(ctx, "axes", 1);
          if (!axes.present()) {
            throw ctx.error("needs axes");
          }
          List<Dim> d = SymbolicShapes.dims(ctx, 0);
          DType t = ctx.inputType(0).dtype();
          if (d == null || !axes.known()) {
            return List.of(TensorType.unknownShape(t));
          }
          return List.of(SymbolicShapes.type(t, unsqueeze(ctx, d, axes.values(), Dim.of(1))));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] axes = SymbolicShapes.param(ctx, "axes", 1);
          if (axes == null) {
            throw ctx.error("needs axes");
          }
          List<Long> d = new ArrayList<>();
          for (long v : x.shape()) {
            d.add(v);
          }
          List<Long> out = unsqueeze(ctx, d, axes, 1L);
          return List.of(x.reshape(out.stream().mapToLong(Long::longValue).toArray()));
        })
        .register(r);

    OpDef.builder("Shape")
        .pattern(FusionPattern.OPAQUE)
        .attr(AttrSpec.ofInt("start", 0))
        .attr(AttrSpec.of("end", Attribute.Kind.INT))
        .infer(ctx -> {
          Shape s = ctx.inputType(0).shape();
          if (!s.hasRank()) {
            return List.of(new TensorType(DType.INT64, Shape.of(Dim.unknown())));
          }
          int[] range = shapeRange(ctx, s.rank());
          return List.of(TensorType.of(DType.INT64, range[1] - range[0]));
        })
        .eval(ctx -> {
          long[] s = ctx.input(0).shape();
          int[] range = shapeRange(ctx, s.length);
          return List.of(Tensor.vector(Arrays.copyOfRange(s, range[0], range[1])));
        })
        .register(r);

    OpDef.builder("Size")
        .pattern(FusionPattern.OPAQUE)
        .infer(ctx -> List.of(TensorType.of(DType.INT64)))
        .eval(ctx -> List.of(Tensor.scalarLong(DType.INT64, ctx.input(0).size())))
        .register(r);

    OpDef.builder("Identity")
        .pattern(FusionPattern.INJECTIVE)
        .infer(TypeRules.SAME_AS_INPUT_0)
        .eval(ctx -> List.of(ctx.input(0)))
        .register(r);

    OpDef.builder("ConstantOfShape")
        .pattern(FusionPattern.OPAQUE)
        .attr(AttrSpec.of("value", Attribute.Kind.TENSOR))
        .infer(ctx -> {
          TypeRules.requireType(ctx, 0, DType.INT64);
          DType t = fillValue(ctx).dtype();
          Optional<Tensor> c = ctx.constant(0);
          if (c.isPresent()) {
            return List.of(TensorType.of(t, c.get().toLongArray()));
          }
          Optional<ShapeValue> symbolic = ctx.shapeValue(0);
          if (symbolic.isPresent() && !symbolic.get().isScalar()) {
            return List.of(SymbolicShapes.type(t, symbolic.get().toDims()));
          }
          int n = SymbolicShapes.staticLength(ctx, 0);
          return List.of(n < 0 ? TensorType.unknownShape(t) : SymbolicShapes.type(t, SymbolicShapes.unknownDims(n)));
        })
        .eval(ctx -> {
          Tensor v = fillValue(ctx);
          long[] shape = ctx.input(0).toLongArray();
          for (long d : shape) {
            if (d < 0) {
              throw ctx.error("shape %s has a negative dimension", Arrays.toString(shape));
            }
          }
          return List.of(IndexMaps.take(v, new int[Tensor.elementCount(shape)], shape));
        })
        .register(r);

    OpDef.builder("Range")
        .pattern(FusionPattern.OPAQUE)
        .inputs(3)
        .infer(ctx -> {
          DType t = TypeRules.requireType(ctx, 0, DType.FLOAT32, DType.FLOAT64, DType.FLOAT16, DType.BFLOAT16,
              DType.INT16, DType.INT32, DType.INT64);
          TypeRules.requireSameType(ctx, 0, 1);
          TypeRules.requireSameType(ctx, 0, 2);
          if (ctx.constant(0).isPresent() && ctx.constant(1).isPresent() && ctx.constant(2).isPresent()) {
            return List.of(TensorType.of(t, rangeLength(ctx, ctx.constant(0).get(), ctx.constant(1).get(),
                ctx.constant(2).get())));
          }
          return List.of(new TensorType(t, Shape.of(Dim.unknown())));
        })
        .eval(ctx -> {
          Tensor start = ctx.input(0);
          DType t = start.dtype();
          long n = rangeLength(ctx, start, ctx.input(1), ctx.input(2));
          Object out = Tensor.newStorage(t, (int) n);
          boolean integral = t.isInteger();
          for (int i = 0; i < n; i++) {
            if (integral) {
              Tensor.setFromLong(t, out, i, start.getLong(0) + i * ctx.input(2).getLong(0));
            } else {
              Tensor.setFromDouble(t, out, i, start.getDouble(0) + i * ctx.input(2).getDouble(0));
            }
          }
          return List.of(Tensor.of(t, new long[] {n}, out));
        })
        .register(r);

    OpDef.builder("Expand")
        .pattern(FusionPattern.BROADCAST)
        .inputs(2)
        .infer(ctx -> {
          TypeRules.requireType(ctx, 1, DType.INT64);
          TensorType x = ctx.inputType(0);
          Optional<Tensor> c = ctx.constant(1);
          if (c.isPresent()) {
            try {
              return List.of(x.withShape(Broadcasting.shape(x.shape(), Shape.of(c.get().toLongArray()))));
            } catch (RuntimeException e) {
              throw ctx.error("%s", e.getMessage());
            }
          }
          Optional<ShapeValue> symbolic = ctx.shapeValue(1);
          if (symbolic.isPresent() && !symbolic.get().isScalar() && x.shape().hasRank()) {
            // Only the elements known to be 1 can be overridden by the input's dimension.
            List<Dim> target = new ArrayList<>();
            for (ShapeValue.Element e : symbolic.get().elements()) {
              target.add(e.isNumber() && e.number() == 1 ? Dim.of(1) : e.toDim());
            }
            try {
              return List.of(x.withShape(Broadcasting.shape(x.shape(), Shape.of(target))));
            } catch (RuntimeException e) {
              throw ctx.error("%s", e.getMessage());
            }
          }
          int n = SymbolicShapes.staticLength(ctx, 1);
          if (n < 0 || !x.shape().hasRank()) {
            return List.of(TensorType.unknownShape(x.dtype()));
          }
          List<Dim> out = SymbolicShapes.unknownDims(Math.max(n, x.shape().rank()));
          return List.of(SymbolicShapes.type(x.dtype(), out));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          long[] shape;
          try {
            shape = Broadcasting.shape(x.shape(), ctx.input(1).toLongArray());
          } catch (RuntimeException e) {
            throw ctx.error("%s", e.getMessage());
          }
          return List.of(IndexMaps.take(x, Broadcasting.indexMap(x.shape(), shape), shape));
        })
        .register(r);

    OpDef.builder("EyeLike")
        .pattern(FusionPattern.OPAQUE)
        .attr(AttrSpec.of("dtype", Attribute.Kind.INT))
        .attr(AttrSpec.ofInt("k", 0))
        .infer(ctx -> {
          TensorType x = ctx.inputType(0);
          if (x.shape().hasRank() && x.shape().rank() != 2) {
            throw ctx.error("input must have rank 2, got %s", x.shape());
          }
          return List.of(new TensorType(eyeType(ctx, x.dtype()),
              x.shape().hasRank() ? x.shape() : Shape.of(Dim.unknown(), Dim.unknown())));
        })
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          if (x.rank() != 2) {
            throw ctx.error("input must have rank 2, got %s", Shape.toString(x.shape()));
          }
          DType t = eyeType(ctx, x.dtype());
          long k = ctx.attrInt("k");
          Object out = Tensor.newStorage(t, x.size());
          for (int i = 0; i < x.dim(0); i++) {
            long j = i + k;
            if (j >= 0 && j < x.dim(1)) {
              Tensor.setFromLong(t, out, (int) (i * x.dim(1) + j), 1);
            }
          }
          return List.of(Tensor.of(t, x.shape(), out));
        })
        .register(r);

    LayoutOps.register(r);
    GatherScatterOps.register(r);
    ResizeOps.register(r);
  }

  private static int flattenAxis(OpContext ctx, int rank) {
    long a = ctx.attrInt("axis");
    long n = a < 0 ? a + rank : a;
    if (n < 0 || n > rank) {
      throw ctx.error("axis %d is out of range for rank %d", a, rank);
    }
    return (int) n;
  }

  private static List<TensorType> inferSqueeze(InferContext ctx) {
    SymbolicShapes.requireTypesIfPresent(ctx, new int[] {1}, DType.INT64);
    SymbolicShapes.IntsParam axes = SymbolicShapes.param(ctx, "axes", 1).emptyAsAbsent();
    List<Dim> d = SymbolicShapes.dims(ctx, 0);
    DType t = ctx.inputType(0).dtype();
    if (d == null || !axes.known()) {
      return List.of(TensorType.unknownShape(t));
    }
    List<Dim> out = new ArrayList<>();
    if (axes.values() == null) {
      for (Dim x : d) {
        if (!x.isStatic()) {
          return List.of(TensorType.unknownShape(t));
        }
        if (x.value() != 1) {
          out.add(x);
        }
      }
      return List.of(SymbolicShapes.type(t, out));
    }
    int[] ax = SymbolicShapes.axes(ctx, axes.values(), d.size(), "axis");
    boolean[] drop = new boolean[d.size()];
    for (int a : ax) {
      if (d.get(a).isStatic() && d.get(a).value() != 1) {
        throw ctx.error("cannot squeeze axis %d of size %d in %s", a, d.get(a).value(), ctx.inputType(0).shape());
      }
      drop[a] = true;
    }
    for (int i = 0; i < d.size(); i++) {
      if (!drop[i]) {
        out.add(d.get(i));
      }
    }
    return List.of(SymbolicShapes.type(t, out));
  }

  private static boolean[] squeezed(EvalContext ctx, long[] shape, long[] axes) {
    boolean[] drop = new boolean[shape.length];
    if (axes == null) {
      for (int i = 0; i < shape.length; i++) {
        drop[i] = shape[i] == 1;
      }
      return drop;
    }
    for (int a : SymbolicShapes.axes(ctx, axes, shape.length, "axis")) {
      if (shape[a] != 1) {
        throw ctx.error("cannot squeeze axis %d of size %d in %s", a, shape[a], Shape.toString(shape));
      }
      drop[a] = true;
    }
    return drop;
  }

  private static <T> List<T> unsqueeze(OpContext ctx, List<T> dims, long[] axes, T one) {
    int rank = dims.size() + axes.length;
    int[] ax = SymbolicShapes.axes(ctx, axes, rank, "axis");
    boolean[] insert = new boolean[rank];
    for (int a : ax) {
      insert[a] = true;
    }
    List<T> out = new ArrayList<>();
    int k = 0;
    for (int i = 0; i < rank; i++) {
      out.add(insert[i] ? one : dims.get(k++));
    }
    return out;
  }

  private static int[] shapeRange(OpContext ctx, int rank) {
    long start = ctx.attrInt("start");
    long end = ctx.hasAttr("end") ? ctx.attrInt("end") : rank;
    start = Math.max(0, Math.min(rank, start < 0 ? start + rank : start));
    end = Math.max(0, Math.min(rank, end < 0 ? end + rank : end));
    return new int[] {(int) start, (int) Math.max(start, end)};
  }

  private static Tensor fillValue(OpContext ctx) {
    if (!ctx.hasAttr("value")) {
      return Tensor.scalarFloat(0f);
    }
    Tensor v = ctx.attrTensor("value");
    if (v.size() != 1) {
      throw ctx.error("value must hold one element, got shape %s", Shape.toString(v.shape()));
    }
    return v;
  }

  private static long rangeLength(OpContext ctx, Tensor start, Tensor limit, Tensor delta) {
    if (start.size() != 1 || limit.size() != 1 || delta.size() != 1) {
      throw ctx.error("start, limit and delta must be scalars");
    }
    double d = delta.getDouble(0);
    if (d == 0) {
      throw ctx.error("delta must not be zero");
    }
    double n = Math.ceil((limit.getDouble(0) - start.getDouble(0)) / d);
    return Math.max(0, (long) n);
  }

  private static DType eyeType(OpContext ctx, DType input) {
    return ctx.hasAttr("dtype") ? DType.fromOnnx((int) ctx.attrInt("dtype")) : input;
  }
}
