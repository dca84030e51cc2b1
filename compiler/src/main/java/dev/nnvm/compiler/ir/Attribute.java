package dev.nnvm.compiler.ir;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** A typed, immutable node attribute value. */
public final class Attribute {
  /** Attribute kinds, as in ONNX. */
  public enum Kind { FLOAT, INT, STRING, TENSOR, GRAPH, FLOATS, INTS, STRINGS, TENSORS, GRAPHS }

  private final Kind kind;
  private final Object value;

  private Attribute(Kind kind, Object value) {
    this.kind = kind;
    this.value = Objects.requireNonNull(value, "value");
  }

  public static Attribute ofFloat(float v) {
    return new Attribute(Kind.FLOAT, v);
  }

  public static Attribute ofInt(long v) {
    return new Attribute(Kind.INT, v);
  }

  public static Attribute ofString(String v) {
    return new Attribute(Kind.STRING, v);
  }

  public static Attribute ofTensor(Tensor v) {
    return new Attribute(Kind.TENSOR, v);
  }

  public static Attribute ofGraph(Graph v) {
    return new Attribute(Kind.GRAPH, v);
  }

  public static Attribute ofFloats(float... v) {
    return new Attribute(Kind.FLOATS, v.clone());
  }

  public static Attribute ofInts(long... v) {
    return new Attribute(Kind.INTS, v.clone());
  }

  public static Attribute ofStrings(List<String> v) {
    return new Attribute(Kind.STRINGS, List.copyOf(v));
  }

  public static Attribute ofTensors(List<Tensor> v) {
    return new Attribute(Kind.TENSORS, List.copyOf(v));
  }

  public static Attribute ofGraphs(List<Graph> v) {
    return new Attribute(Kind.GRAPHS, List.copyOf(v));
  }

  public Kind kind() {
    return kind;
  }

  private void expect(Kind k) {
    if (kind != k) {
      throw new IllegalStateException("attribute is " + kind + ", not " + k);
    }
  }

  public float asFloat() {
    if (kind == Kind.INT) {
      return (Long) value;
    }
    expect(Kind.FLOAT);
    return (Float) value;
  }

  public long asInt() {
    expect(Kind.INT);
    return (Long) value;
  }

  public String asString() {
    expect(Kind.STRING);
    return (String) value;
  }

  public Tensor asTensor() {
    expect(Kind.TENSOR);
    return (Tensor) value;
  }

  public Graph asGraph() {
    expect(Kind.GRAPH);
    return (Graph) value;
  }

  public float[] asFloats() {
    expect(Kind.FLOATS);
    return ((float[]) value).clone();
  }

  public long[] asInts() {
    expect(Kind.INTS);
    return ((long[]) value).clone();
  }

  @SuppressWarnings("unchecked")
  public List<String> asStrings() {
    expect(Kind.STRINGS);
    return (List<String>) value;
  }

  @SuppressWarnings("unchecked")
  public List<Tensor> asTensors() {
    expect(Kind.TENSORS);
    return (List<Tensor>) value;
  }

  @SuppressWarnings("unchecked")
  public List<Graph> asGraphs() {
    expect(Kind.GRAPHS);
    return (List<Graph>) value;
  }

  /** The raw value (boxed scalar, primitive array, list, tensor or graph). */
  public Object value() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Attribute)) {
      return false;
    }
    Attribute a = (Attribute) o;
    if (a.kind != kind) {
      return false;
    }
    if (value instanceof float[]) {
      return Arrays.equals((float[]) value, (float[]) a.value);
    }
    if (value instanceof long[]) {
      return Arrays.equals((long[]) value, (long[]) a.value);
    }
    return value.equals(a.value);
  }

  @Override
  public int hashCode() {
    if (value instanceof float[]) {
      return Arrays.hashCode((float[]) value);
    }
    if (value instanceof long[]) {
      return Arrays.hashCode((long[]) value);
    }
    return value.hashCode();
  }

  @Override
  public String toString() {
    if (value instanceof float[]) {
      return Arrays.toString((float[]) value);
    }
    if (value instanceof long[]) {
      return Arrays.toString((long[]) value);
    }
    return String.valueOf(value);
  }
}
