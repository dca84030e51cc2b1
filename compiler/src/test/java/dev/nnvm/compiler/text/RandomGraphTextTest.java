package dev.nnvm.compiler.text;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.HalfFloats;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Round-trips randomly generated graphs: random bit patterns of every element type, names and attributes. */
class RandomGraphTextTest {
  private static final String NAME_CHARS = "aZ_0.9/:- \"\\%é\n";

  @Test
  void randomGraphsRoundTrip() {
    long seed = Long.getLong("nnvm.seed", System.nanoTime());
    System.out.println("random graph text: seed " + seed);
    Random r = new Random(seed);
    for (int i = 0; i < 200; i++) {
      GraphTextTest.roundTrip(graph(r, 0));
    }
  }

  private static Graph graph(Random r, int depth) {
    Graph.Builder b = Graph.builder(name(r));
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      b.input(name(r), type(r));
      b.output(name(r), type(r));
      b.constant(name(r), tensor(r));
      b.valueType(name(r), type(r));
    }
    if (r.nextBoolean()) {
      b.opset("", 7 + r.nextInt(17));
    }
    if (r.nextBoolean()) {
      b.opset(name(r), r.nextInt(5));
    }
    int nodes = r.nextInt(5);
    for (int i = 0; i < nodes; i++) {
      List<String> ins = new ArrayList<>();
      List<String> outs = new ArrayList<>();
      for (int k = r.nextInt(4); k > 0; k--) {
        ins.add(r.nextInt(4) == 0 ? "" : name(r));
      }
      for (int k = r.nextInt(3); k > 0; k--) {
        outs.add(r.nextInt(5) == 0 ? "" : name(r));
      }
      Map<String, Attribute> attrs = new LinkedHashMap<>();
      for (int k = r.nextInt(4); k > 0; k--) {
        attrs.put(name(r), attribute(r, depth));
      }
      String domain = r.nextBoolean() ? "" : r.nextBoolean() ? "com.microsoft" : name(r);
      String op = r.nextBoolean() ? "Conv" : name(r);
      b.node(new Node(r.nextBoolean() ? "" : name(r), op.isEmpty() ? "X" : op, domain, ins, outs, attrs));
      for (String o : outs) {
        if (!o.isEmpty() && r.nextBoolean()) {
          b.valueType(o, type(r));
        }
      }
    }
    return b.build();
  }

  private static Attribute attribute(Random r, int depth) {
    switch (r.nextInt(depth < 2 ? 10 : 8)) {
      case 0: return Attribute.ofFloat(Float.intBitsToFloat(r.nextInt()));
      case 1: return Attribute.ofInt(r.nextLong());
      case 2: return Attribute.ofString(name(r));
      case 3: return Attribute.ofTensor(tensor(r));
      case 4: {
        float[] v = new float[r.nextInt(3)];
        for (int i = 0; i < v.length; i++) {
          v[i] = Float.intBitsToFloat(r.nextInt());
        }
        return Attribute.ofFloats(v);
      }
      case 5: return Attribute.ofInts(r.longs(r.nextInt(3)).toArray());
      case 6: return Attribute.ofStrings(List.of(name(r), name(r)).subList(0, r.nextInt(3)));
      case 7: return Attribute.ofTensors(List.of(tensor(r), tensor(r)).subList(0, r.nextInt(3)));
      case 8: return Attribute.ofGraph(graph(r, depth + 1));
      default: return Attribute.ofGraphs(List.of(graph(r, depth + 1), graph(r, depth + 1)).subList(0, r.nextInt(3)));
    }
  }

  private static String name(Random r) {
    StringBuilder sb = new StringBuilder();
    for (int i = r.nextInt(5); i > 0; i--) {
      sb.append(NAME_CHARS.charAt(r.nextInt(NAME_CHARS.length())));
    }
    return sb.toString();
  }

  private static TensorType type(Random r) {
    DType t = DType.values()[r.nextInt(DType.values().length)];
    if (r.nextInt(5) == 0) {
      return TensorType.unknownShape(t);
    }
    List<Dim> dims = new ArrayList<>();
    for (int i = r.nextInt(4); i > 0; i--) {
      int k = r.nextInt(3);
      String s = name(r);
      dims.add(k == 0 ? Dim.of(r.nextInt(100)) : k == 1 && !s.isEmpty() ? Dim.symbol(s) : Dim.unknown());
    }
    return new TensorType(t, Shape.of(dims));
  }

  private static Tensor tensor(Random r) {
    DType t = DType.values()[r.nextInt(DType.values().length)];
    long[] shape = new long[r.nextInt(3)];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = r.nextInt(4);
    }
    int n = Tensor.elementCount(shape);
    Object data = Tensor.newStorage(t, n);
    for (int i = 0; i < n; i++) {
      switch (t) {
        case FLOAT32: ((float[]) data)[i] = Float.intBitsToFloat(r.nextInt()); break;
        case FLOAT16: ((float[]) data)[i] = HalfFloats.halfToFloat((short) r.nextInt()); break;
        case BFLOAT16: ((float[]) data)[i] = HalfFloats.bfloat16ToFloat((short) r.nextInt()); break;
        case FLOAT64: ((double[]) data)[i] = Double.longBitsToDouble(r.nextLong()); break;
        case BOOL: ((boolean[]) data)[i] = r.nextBoolean(); break;
        case STRING: ((String[]) data)[i] = name(r); break;
        default: ((long[]) data)[i] = Tensor.wrap(t, r.nextLong()); break;
      }
    }
    return Tensor.of(t, shape, data);
  }
}
