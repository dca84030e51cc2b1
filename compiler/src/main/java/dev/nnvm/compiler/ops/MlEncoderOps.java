package dev.nnvm.compiler.ops;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The categorical encoders of the {@code ai.onnx.ml} domain, as reference kernels: {@code LabelEncoder}
 * (opset 1: {@code classes_strings}; opset 2: keys and values as int64, float or string lists, with defaults),
 * {@code CategoryMapper} (strings to int64 and back) and {@code OneHotEncoder} (a float one-hot vector per value,
 * an unknown value an error unless {@code zeros} is 1). They give ONNX Runtime's results (the tests compare).
 */
final class MlEncoderOps {
  private static final String ML = TreeEnsembleOps.ML;

  private MlEncoderOps() {}

  static void register(OpRegistry r) {
    OpDef.builder(ML, "LabelEncoder")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.of("classes_strings", Attribute.Kind.STRINGS))
        .attr(AttrSpec.of("keys_strings", Attribute.Kind.STRINGS))
        .attr(AttrSpec.of("keys_int64s", Attribute.Kind.INTS))
        .attr(AttrSpec.of("keys_floats", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("values_strings", Attribute.Kind.STRINGS))
        .attr(AttrSpec.of("values_int64s", Attribute.Kind.INTS))
        .attr(AttrSpec.of("values_floats", Attribute.Kind.FLOATS))
        .attr(AttrSpec.ofString("default_string", "_Unused"))
        .attr(AttrSpec.ofInt("default_int64", -1))
        .attr(AttrSpec.ofFloat("default_float", -0f))
        .attr(AttrSpec.of("keys_tensor", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("values_tensor", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("default_tensor", Attribute.Kind.TENSOR))
        .infer(ctx -> List.of(new TensorType(LabelMap.of(ctx, ctx.inputType(0).dtype()).to,
            ctx.inputType(0).shape())))
        .eval(ctx -> {
          Tensor x = ctx.input(0);
          return List.of(LabelMap.of(ctx, x.dtype()).apply(x));
        })
        .register(r);
    OpDef.builder(ML, "CategoryMapper")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.of("cats_int64s", Attribute.Kind.INTS))
        .attr(AttrSpec.of("cats_strings", Attribute.Kind.STRINGS))
        .attr(AttrSpec.ofInt("default_int64", -1))
        .attr(AttrSpec.ofString("default_string", "_Unused"))
        .infer(ctx -> List.of(new TensorType(
            ctx.inputType(0).dtype() == DType.STRING ? DType.INT64 : DType.STRING, ctx.inputType(0).shape())))
        .eval(ctx -> {
          long[] ints = MlAttributes.ints(ctx, "cats_int64s");
          List<String> strings = MlAttributes.strings(ctx, "cats_strings");
          if (ints.length != strings.size()) {
            throw ctx.error("cats_int64s has %d values, cats_strings %d: they pair up", ints.length, strings.size());
          }
          Tensor x = ctx.input(0);
          if (x.dtype() == DType.STRING) {
            Map<String, Long> m = new HashMap<>();
            for (int i = 0; i < ints.length; i++) {
              m.put(strings.get(i), ints[i]);
            }
            long dflt = ctx.attrInt("default_int64");
            String[] in = x.strings();
            long[] out = new long[in.length];
            for (int i = 0; i < in.length; i++) {
              out[i] = m.getOrDefault(in[i], dflt);
            }
            return List.of(Tensor.ofLongs(DType.INT64, x.shape(), out));
          }
          Map<Long, String> m = new HashMap<>();
          for (int i = 0; i < ints.length; i++) {
            m.put(ints[i], strings.get(i));
          }
          String dflt = ctx.attrString("default_string");
          long[] in = x.toLongArray();
          String[] out = new String[in.length];
          for (int i = 0; i < in.length; i++) {
            out[i] = m.getOrDefault(in[i], dflt);
          }
          return List.of(Tensor.ofStrings(x.shape(), out));
        })
        .register(r);
    OpDef.builder(ML, "OneHotEncoder")
        .pattern(FusionPattern.OPAQUE)
        .inputs(1)
        .outputs(1)
        .attr(AttrSpec.of("cats_int64s", Attribute.Kind.INTS))
        .attr(AttrSpec.of("cats_strings", Attribute.Kind.STRINGS))
        .attr(AttrSpec.ofInt("zeros", 1))
        .infer(MlEncoderOps::inferOneHot)
        .eval(MlEncoderOps::oneHot)
        .register(r);
  }

  /** A LabelEncoder's mapping: from the input's element type to the output's, with the default for misses. */
  private static final class LabelMap {
    final DType to;
    final Map<Object, Object> map = new HashMap<>();
    final Object missing;

    private LabelMap(DType to, Object missing) {
      this.to = to;
      this.missing = missing;
    }

    static LabelMap of(OpContext ctx, DType from) {
      List<String> classes = MlAttributes.strings(ctx, "classes_strings");
      if (!classes.isEmpty()) {
        // Opset 1: strings to their index in classes_strings, or int64 indexes to the strings.
        if (from == DType.STRING) {
          LabelMap m = new LabelMap(DType.INT64, ctx.attrInt("default_int64"));
          for (int i = 0; i < classes.size(); i++) {
            m.map.putIfAbsent(classes.get(i), (long) i);
          }
          return m;
        }
        LabelMap m = new LabelMap(DType.STRING, ctx.attrString("default_string"));
        for (int i = 0; i < classes.size(); i++) {
          m.map.put((long) i, classes.get(i));
        }
        return m;
      }
      List<Object> keys = new ArrayList<>();
      if (ctx.hasAttr("keys_tensor")) {
        keys.addAll(elements(ctx.attrTensor("keys_tensor")));
      }
      MlAttributes.strings(ctx, "keys_strings").forEach(keys::add);
      for (long k : MlAttributes.ints(ctx, "keys_int64s")) {
        keys.add(k);
      }
      for (float k : MlAttributes.floats(ctx, "keys_floats")) {
        keys.add((double) k);
      }
      List<Object> values = new ArrayList<>();
      DType to;
      Object missing;
      if (ctx.hasAttr("values_tensor")) {
        Tensor v = ctx.attrTensor("values_tensor");
        values.addAll(elements(v));
        to = v.dtype();
        missing = to == DType.STRING ? "_Unused" : to.isFloatingPoint() ? (Object) (-0.0) : (Object) (-1L);
      } else if (ctx.hasAttr("values_strings")) {
        MlAttributes.strings(ctx, "values_strings").forEach(values::add);
        to = DType.STRING;
        missing = ctx.attrString("default_string");
      } else if (ctx.hasAttr("values_int64s")) {
        for (long v : MlAttributes.ints(ctx, "values_int64s")) {
          values.add(v);
        }
        to = DType.INT64;
        missing = ctx.attrInt("default_int64");
      } else if (ctx.hasAttr("values_floats")) {
        for (float v : MlAttributes.floats(ctx, "values_floats")) {
          values.add((double) v);
        }
        to = DType.FLOAT32;
        missing = (double) ctx.attrFloat("default_float");
      } else {
        throw ctx.error("give classes_strings (opset 1) or keys and values (opset 2: *_strings, *_int64s,"
            + " *_floats; opset 4: also *_tensor)");
      }
      if (ctx.hasAttr("default_tensor")) {
        List<Object> d = elements(ctx.attrTensor("default_tensor"));
        if (d.size() != 1) {
          throw ctx.error("default_tensor must hold one value, got %d", d.size());
        }
        missing = d.get(0);
      } else if (ctx.hasAttr("values_tensor")) {
        missing = to == DType.STRING ? ctx.attrString("default_string")
            : to.isFloatingPoint() ? (Object) (double) ctx.attrFloat("default_float")
            : (Object) ctx.attrInt("default_int64");
      }
      if (keys.size() != values.size()) {
        throw ctx.error("%d keys and %d values: they pair up", keys.size(), values.size());
      }
      LabelMap m = new LabelMap(to, missing);
      for (int i = 0; i < keys.size(); i++) {
        m.map.putIfAbsent(keys.get(i), values.get(i));
      }
      return m;
    }

    /** A tensor's elements as map keys and values: String, Long (integers) or Double (floating point). */
    private static List<Object> elements(Tensor t) {
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < t.size(); i++) {
        out.add(t.dtype() == DType.STRING ? t.strings()[i]
            : t.dtype().isFloatingPoint() ? (Object) t.getDouble(i) : (Object) t.getLong(i));
      }
      return out;
    }

    Tensor apply(Tensor x) {
      int n = x.size();
      Object[] out = new Object[n];
      for (int i = 0; i < n; i++) {
        Object key = x.dtype() == DType.STRING ? x.strings()[i]
            : x.dtype().isFloatingPoint() ? (Object) x.getDouble(i) : (Object) x.getLong(i);
        out[i] = map.getOrDefault(key, missing);
      }
      if (to == DType.STRING) {
        String[] s = new String[n];
        for (int i = 0; i < n; i++) {
          s[i] = (String) out[i];
        }
        return Tensor.ofStrings(x.shape(), s);
      }
      double[] d = new double[n];
      long[] l = new long[n];
      for (int i = 0; i < n; i++) {
        Number v = (Number) out[i];
        d[i] = v.doubleValue();
        l[i] = v.longValue();
      }
      return to.isFloatingPoint() ? Tensor.fromDoubles(to, x.shape(), d) : Tensor.ofLongs(to, x.shape(), l);
    }
  }

  private static List<TensorType> inferOneHot(InferContext ctx) {
    int cats = Math.max(MlAttributes.ints(ctx, "cats_int64s").length, MlAttributes.strings(ctx, "cats_strings").size());
    Shape x = ctx.inputType(0).shape();
    if (!x.hasRank()) {
      return List.of(TensorType.unknownShape(DType.FLOAT32));
    }
    List<Dim> dims = new ArrayList<>(x.dims());
    dims.add(Dim.of(cats));
    return List.of(new TensorType(DType.FLOAT32, Shape.of(dims)));
  }

  private static List<Tensor> oneHot(EvalContext ctx) {
    long[] ints = MlAttributes.ints(ctx, "cats_int64s");
    List<String> strings = MlAttributes.strings(ctx, "cats_strings");
    if ((ints.length == 0) == strings.isEmpty()) {
      throw ctx.error("give the categories as cats_int64s or as cats_strings (exactly one)");
    }
    Tensor x = ctx.input(0);
    boolean zeros = ctx.attrInt("zeros") != 0;
    int cats = Math.max(ints.length, strings.size());
    Map<Object, Integer> index = new HashMap<>();
    for (int i = 0; i < cats; i++) {
      index.putIfAbsent(ints.length > 0 ? (Object) ints[i] : strings.get(i), i);
    }
    int n = x.size();
    float[] out = new float[n * cats];
    for (int i = 0; i < n; i++) {
      Object key = x.dtype() == DType.STRING ? x.strings()[i] : (Object) x.getLong(i);
      Integer at = index.get(key);
      if (at == null) {
        if (!zeros) {
          throw ctx.error("value %s (element %d) is not one of the categories, and zeros is 0", key, i);
        }
        continue;
      }
      out[i * cats + at] = 1f;
    }
    long[] shape = java.util.Arrays.copyOf(x.shape(), x.rank() + 1);
    shape[x.rank()] = cats;
    return List.of(Tensor.of(DType.FLOAT32, shape, out));
  }
}
