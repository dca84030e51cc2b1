package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Unique: the distinct elements (or slices along {@code axis}) of the input,
 * sorted or in order of first occurrence, with first indices, inverse
 * indices and counts.
 */
final class UniqueOp {
  private UniqueOp() {}

  static void register(OpRegistry r) {
    OpDef.builder("Unique")
        .pattern(FusionPattern.OPAQUE)
        .outputs(1, 4)
        .attr(AttrSpec.ofInt("sorted", 1))
        .attr(AttrSpec.of("axis", Attribute.Kind.INT))
        .infer(ctx -> {
          TensorType x = ctx.inputType(0);
          TensorType y;
          if (!ctx.hasAttr("axis")) {
            y = new TensorType(x.dtype(), Shape.of(Dim.unknown()));
          } else if (!x.shape().hasRank()) {
            y = TensorType.unknownShape(x.dtype());
          } else {
            List<Dim> d = new ArrayList<>(x.shape().dims());
            d.set(ctx.axis(ctx.attrInt("axis"), d.size(), "axis"), Dim.unknown());
            y = SymbolicShapes.type(x.dtype(), d);
          }
          TensorType vec = new TensorType(DType.INT64, Shape.of(Dim.unknown()));
          List<TensorType> out = new ArrayList<>(List.of(y, vec, vec, vec));
          return out.subList(0, ctx.outputCount());
        })
        .eval(UniqueOp::eval)
        .register(r);
  }

  private static List<Tensor> eval(EvalContext ctx) {
    Tensor x = ctx.input(0);
    if (!ctx.hasAttr("axis")) {
      x = x.reshape(x.size());
    }
    long[] in = x.shape();
    int axis = ctx.hasAttr("axis") ? ctx.axis(ctx.attrInt("axis"), in.length, "axis") : 0;
    long outer = 1;
    for (int i = 0; i < axis; i++) {
      outer *= in[i];
    }
    long inner = 1;
    for (int i = axis + 1; i < in.length; i++) {
      inner *= in[i];
    }
    int n = (int) in[axis];
    Tensor src = x;
    long o = outer;
    long inn = inner;
    Comparator<Integer> bySlice = (a, b) -> {
      for (long p = 0; p < o; p++) {
        for (long q = 0; q < inn; q++) {
          int c = compare(src, (int) ((p * n + a) * inn + q), (int) ((p * n + b) * inn + q));
          if (c != 0) {
            return c;
          }
        }
      }
      return 0;
    };
    List<Integer> firsts = new ArrayList<>();
    int[] inverseFirst = new int[n];
    for (int i = 0; i < n; i++) {
      int found = -1;
      for (int j = 0; j < firsts.size(); j++) {
        if (bySlice.compare(firsts.get(j), i) == 0) {
          found = j;
          break;
        }
      }
      if (found < 0) {
        found = firsts.size();
        firsts.add(i);
      }
      inverseFirst[i] = found;
    }
    List<Integer> order = new ArrayList<>();
    for (int j = 0; j < firsts.size(); j++) {
      order.add(j);
    }
    if (ctx.attrInt("sorted") != 0) {
      order.sort((a, b) -> bySlice.compare(firsts.get(a), firsts.get(b)));
    }
    int u = firsts.size();
    int[] rankOf = new int[u];
    for (int k = 0; k < u; k++) {
      rankOf[order.get(k)] = k;
    }
    long[] indices = new long[u];
    long[] counts = new long[u];
    long[] inverse = new long[n];
    for (int k = 0; k < u; k++) {
      indices[k] = firsts.get(order.get(k));
    }
    for (int i = 0; i < n; i++) {
      inverse[i] = rankOf[inverseFirst[i]];
      counts[(int) inverse[i]]++;
    }
    long[] out = in.clone();
    out[axis] = u;
    long[] st = Broadcasting.strides(in);
    Tensor y = IndexMaps.take(x, IndexMaps.build(out, c -> {
      long f = IndexMaps.flat(c, st) - c[axis] * st[axis];
      return (int) (f + indices[(int) c[axis]] * st[axis]);
    }), out);
    List<Tensor> all = List.of(y, Tensor.vector(indices), Tensor.vector(inverse), Tensor.vector(counts));
    return all.subList(0, ctx.outputCount());
  }

  private static int compare(Tensor t, int i, int j) {
    Object d = t.data();
    if (d instanceof String[]) {
      return ((String[]) d)[i].compareTo(((String[]) d)[j]);
    }
    if (d instanceof long[]) {
      return t.dtype() == DType.UINT64 ? Long.compareUnsigned(t.longs()[i], t.longs()[j])
          : Long.compare(t.longs()[i], t.longs()[j]);
    }
    return Double.compare(t.getDouble(i), t.getDouble(j));
  }
}
