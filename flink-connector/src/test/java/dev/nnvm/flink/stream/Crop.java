package dev.nnvm.flink.stream;

import dev.nnvm.flink.FlinkTestModels;

/** A test record: a crop for the direction classifier (a Flink POJO). */
public class Crop {
  public long id;
  public float[] pixels;
  /** Set instead of pixels on records that carry the wrong element type. */
  public double[] doubles;
  public long createdMillis;

  public Crop() {}

  /** Crop {@code id}; ids in {@code nullIds} have no pixels, in {@code shortIds} 100, in {@code doubleIds} doubles. */
  public static Crop of(long id, long nullId, long shortId, long doubleId) {
    Crop c = new Crop();
    c.id = id;
    c.createdMillis = System.currentTimeMillis();
    if (id == shortId) {
      c.pixels = new float[100];
    } else if (id == doubleId) {
      float[] f = FlinkTestModels.crop(id);
      c.doubles = new double[f.length];
      for (int i = 0; i < f.length; i++) {
        c.doubles[i] = f[i];
      }
    } else if (id != nullId) {
      c.pixels = FlinkTestModels.crop(id);
    }
    return c;
  }

  /** What the model reads: the pixels, or the doubles of a wrong-type record. */
  public Object input() {
    return doubles != null ? doubles : pixels;
  }

  @Override
  public String toString() {
    return "Crop[" + id + "]";
  }
}
