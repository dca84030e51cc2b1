package dev.nnvm.rpc;

import dev.nnvm.arrow.ArrowTypes;
import dev.nnvm.arrow.ColumnType;
import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.List;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.Schema;

/** The small models the rpc tests serve (compiled for this CPU only), their exact math, and batches for them. */
final class TestModels {
  static final int FEATURES = 16;
  static final int CLASSES = 8;

  private static final byte[][] DENSE = new byte[2][];

  private TestModels() {}

  /** Weight i: a fixed pattern the tests recompute in double precision; {@code variant} changes every weight. */
  static float weight(int i, double scale, int variant) {
    return (float) (scale * Math.cos(i * 0.37 + 0.1 + variant));
  }

  /**
   * {@code a = x W + b}, {@code y = Relu(a)}: x f32[N, 16], outputs y and a
   * f32[N, 8]. Variants 0 and 1 differ in their weights (two distinct artifacts).
   */
  static synchronized byte[] dense(int variant) {
    if (DENSE[variant] == null) {
      String model = "graph dense" + variant + "(%x: f32[N, 16]) -> (%y: f32[N, 8], %a: f32[N, 8])"
          + " opset(ai.onnx=17) {\n"
          + "  const %w: f32[16, 8] = dense<" + values(FEATURES * CLASSES, 0.3, variant) + ">\n"
          + "  const %b: f32[8] = dense<" + values(CLASSES, 0.1, variant) + ">\n"
          + "  %m = MatMul(%x, %w)\n  %a = Add(%m, %b)\n  %y = Relu(%a)\n  return %y, %a\n}\n";
      long t0 = System.nanoTime();
      DENSE[variant] = ModelCompiler.create()
          .compile(GraphParser.parse(model), CompileOptions.defaults().withTargets(List.of("host"))).bytes();
      System.out.printf("dense%d compiled in %.0f ms (%d bytes)%n", variant, (System.nanoTime() - t0) / 1e6,
          DENSE[variant].length);
    }
    return DENSE[variant];
  }

  /** Output {@code a} of the dense model for one row, in double precision (y is its Relu). */
  static double[] denseExpected(float[] x, int variant) {
    double[] a = new double[CLASSES];
    for (int j = 0; j < CLASSES; j++) {
      double s = weight(j, 0.1, variant);
      for (int k = 0; k < FEATURES; k++) {
        s += (double) x[k] * weight(k * CLASSES + j, 0.3, variant);
      }
      a[j] = s;
    }
    return a;
  }

  private static String values(int n, double scale, int variant) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < n; i++) {
      sb.append(i == 0 ? "" : ", ").append(weight(i, scale, variant));
    }
    return sb.append(']').toString();
  }

  /** Rows of 16 values in [-1, 1); every {@code nullEvery}-th row is null (none when 0). */
  static float[][] randomRows(Random random, int n, int nullEvery) {
    float[][] rows = new float[n][];
    for (int r = 0; r < n; r++) {
      if (nullEvery > 0 && r % nullEvery == nullEvery - 1) {
        continue;
      }
      rows[r] = new float[FEATURES];
      for (int i = 0; i < FEATURES; i++) {
        rows[r][i] = random.nextFloat() * 2 - 1;
      }
    }
    return rows;
  }

  /** A batch with column {@code x}: FixedSizeList<f32>[16], null where {@code rows[r]} is null. */
  static VectorSchemaRoot batch(float[][] rows, BufferAllocator allocator) {
    Schema schema = new Schema(List.of(ArrowTypes.field("x", new ColumnType(DType.FLOAT32, Shape.of(FEATURES)))));
    VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
    FixedSizeListVector x = (FixedSizeListVector) root.getVector("x");
    x.setInitialCapacity(rows.length);
    x.allocateNew();
    Float4Vector leaf = (Float4Vector) x.getDataVector();
    leaf.allocateNew(rows.length * FEATURES);
    for (int r = 0; r < rows.length; r++) {
      if (rows[r] == null) {
        x.setNull(r);
        for (int i = 0; i < FEATURES; i++) {
          leaf.set(r * FEATURES + i, 0f);
        }
      } else {
        x.setNotNull(r);
        for (int i = 0; i < FEATURES; i++) {
          leaf.set(r * FEATURES + i, rows[r][i]);
        }
      }
    }
    leaf.setValueCount(rows.length * FEATURES);
    x.setValueCount(rows.length);
    root.setRowCount(rows.length);
    return root;
  }
}
