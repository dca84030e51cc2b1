package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

/** Builds test columns whose element {@code i} (flat over the leaf) is {@link TestData#value}. */
final class Columns {
  private Columns() {}

  /** A column of {@code rows} rows of shape {@code rowShape} (scalar when empty), every row set. */
  static FieldVector fixed(BufferAllocator allocator, String name, DType dtype, int rows, long... rowShape) {
    return filled(ArrowTypes.field(name, new ColumnType(dtype, Shape.of(rowShape))).createVector(allocator), rows,
        dtype);
  }

  /** An {@code arrow.fixed_shape_tensor} column. */
  static FieldVector tensor(BufferAllocator allocator, String name, DType dtype, int rows, long... shape) {
    FixedShapeTensorType.register();
    return filled(FixedShapeTensorType.field(name, ArrowTypes.toArrowType(dtype), shape).createVector(allocator),
        rows, dtype);
  }

  private static FieldVector filled(FieldVector v, int rows, DType dtype) {
    v.setInitialCapacity(rows);
    v.allocateNew();
    int count = rows;
    FieldVector level = v instanceof FixedShapeTensorVector ? ((FixedShapeTensorVector) v).getUnderlyingVector() : v;
    while (level instanceof FixedSizeListVector) {
      FixedSizeListVector fsl = (FixedSizeListVector) level;
      for (int j = 0; j < count; j++) {
        fsl.setNotNull(j);
      }
      count *= fsl.getListSize();
      level = fsl.getDataVector();
    }
    for (int j = 0; j < count; j++) {
      TestData.set(level, j, TestData.value(dtype, j));
    }
    level.setValueCount(count);
    v.setValueCount(rows);
    return v;
  }

  /** A {@code List<dtype>} column with rows of the given lengths (a negative length makes a null row). */
  static ListVector list(BufferAllocator allocator, String name, DType dtype, int... lengths) {
    ListVector v = new ListVector(name, allocator, FieldType.nullable(ArrowType.List.INSTANCE), null);
    v.initializeChildrenFromFields(List.of(Field.nullable("$data$", ArrowTypes.toArrowType(dtype))));
    v.allocateNew();
    FieldVector leaf = v.getDataVector();
    int at = 0;
    for (int r = 0; r < lengths.length; r++) {
      if (lengths[r] < 0) {
        v.setNull(r);
        continue;
      }
      v.startNewValue(r);
      for (int k = 0; k < lengths[r]; k++) {
        TestData.set(leaf, at, TestData.value(dtype, at));
        at++;
      }
      v.endValue(r, lengths[r]);
    }
    leaf.setValueCount(at);
    v.setValueCount(lengths.length);
    return v;
  }

  static VectorSchemaRoot root(FieldVector... vectors) {
    VectorSchemaRoot root = new VectorSchemaRoot(List.of(vectors));
    root.setRowCount(vectors[0].getValueCount());
    return root;
  }
}
