package dev.nnvm.spark.text;

import java.util.ArrayList;
import java.util.List;

/** Spark's external array values (a Scala {@code Seq} in a UDF, a Java list or array elsewhere) as Java arrays. */
final class SparkArrays {
  private SparkArrays() {}

  static List<Object> list(Object array) {
    if (array instanceof scala.collection.Seq<?> seq) {
      List<Object> out = new ArrayList<>(seq.size());
      scala.collection.Iterator<?> it = seq.iterator();
      while (it.hasNext()) {
        out.add(it.next());
      }
      return out;
    }
    if (array instanceof List<?> l) {
      return new ArrayList<>(l);
    }
    if (array instanceof Object[] a) {
      return new ArrayList<>(List.of(a));
    }
    if (array instanceof float[] f) {
      List<Object> out = new ArrayList<>(f.length);
      for (float x : f) {
        out.add(x);
      }
      return out;
    }
    if (array instanceof long[] l) {
      List<Object> out = new ArrayList<>(l.length);
      for (long x : l) {
        out.add(x);
      }
      return out;
    }
    throw new IllegalArgumentException("not an array value: " + array.getClass().getName());
  }

  static float[] floats(Object array) {
    if (array instanceof float[] f) {
      return f;
    }
    List<Object> values = list(array);
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = number(values.get(i), i).floatValue();
    }
    return out;
  }

  static long[] longs(Object array) {
    if (array instanceof long[] l) {
      return l;
    }
    List<Object> values = list(array);
    long[] out = new long[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = number(values.get(i), i).longValue();
    }
    return out;
  }

  private static Number number(Object value, int index) {
    if (value == null) {
      throw new IllegalArgumentException("element " + index + " of an array is null");
    }
    return (Number) value;
  }
}
