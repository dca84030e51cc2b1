package dev.nnvm.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.Field;

/** Checks on the dense model's output batches. */
final class Outputs {
  private Outputs() {}

  /** Same columns, rows, nulls and float bits (NaN payloads and signed zeros included). */
  static void assertBitIdentical(VectorSchemaRoot expected, VectorSchemaRoot actual, String what) {
    assertEquals(expected.getSchema().getFields().stream().map(Field::getName).toList(),
        actual.getSchema().getFields().stream().map(Field::getName).toList(), what + ": columns");
    assertEquals(expected.getRowCount(), actual.getRowCount(), what + ": rows");
    for (int c = 0; c < expected.getFieldVectors().size(); c++) {
      FixedSizeListVector e = (FixedSizeListVector) expected.getVector(c);
      FixedSizeListVector a = (FixedSizeListVector) actual.getVector(c);
      Float4Vector el = (Float4Vector) e.getDataVector();
      Float4Vector al = (Float4Vector) a.getDataVector();
      for (int r = 0; r < expected.getRowCount(); r++) {
        assertEquals(e.isNull(r), a.isNull(r), what + ": null at row " + r);
        if (e.isNull(r)) {
          continue;
        }
        for (int i = 0; i < e.getListSize(); i++) {
          int at = r * e.getListSize() + i;
          assertEquals(Float.floatToRawIntBits(el.get(at)), Float.floatToRawIntBits(al.get(at)),
              what + ": column " + c + " row " + r + " element " + i);
        }
      }
    }
    assertTrue(expected.equals(actual), what + ": Arrow's own comparison of the roots");
  }

  /**
   * The largest |output - exact| over both outputs (y = Relu(a), a) of the
   * rows given; null rows must be null.
   */
  static double maxAbsError(float[][] rows, VectorSchemaRoot out, int variant) {
    FixedSizeListVector y = (FixedSizeListVector) out.getVector("y");
    FixedSizeListVector a = (FixedSizeListVector) out.getVector("a");
    double max = 0;
    for (int r = 0; r < rows.length; r++) {
      if (rows[r] == null) {
        assertTrue(y.isNull(r) && a.isNull(r), "row " + r + " has a null input, its outputs must be null");
        continue;
      }
      double[] exact = TestModels.denseExpected(rows[r], variant);
      for (int j = 0; j < TestModels.CLASSES; j++) {
        float gotA = ((Float4Vector) a.getDataVector()).get(r * TestModels.CLASSES + j);
        float gotY = ((Float4Vector) y.getDataVector()).get(r * TestModels.CLASSES + j);
        max = Math.max(max, Math.abs(gotA - exact[j]));
        max = Math.max(max, Math.abs(gotY - Math.max(0, exact[j])));
      }
    }
    return max;
  }
}
