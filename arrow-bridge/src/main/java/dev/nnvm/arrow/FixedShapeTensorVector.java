package dev.nnvm.arrow;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.ExtensionTypeVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

/** A column of {@link FixedShapeTensorType}: a {@code FixedSizeListVector} whose field carries the shape. */
public final class FixedShapeTensorVector extends ExtensionTypeVector<FixedSizeListVector> {
  private final FieldType fieldType;

  public FixedShapeTensorVector(String name, FieldType fieldType, BufferAllocator allocator,
      FixedSizeListVector storage) {
    super(name, allocator, storage);
    if (!(fieldType.getType() instanceof FixedShapeTensorType)) {
      throw new IllegalArgumentException("column '" + name + "': field type " + fieldType.getType()
          + " is not " + FixedShapeTensorType.NAME);
    }
    this.fieldType = fieldType;
  }

  public FixedShapeTensorType tensorType() {
    return (FixedShapeTensorType) fieldType.getType();
  }

  @Override
  public Field getField() {
    return new Field(getName(), fieldType, getUnderlyingVector().getField().getChildren());
  }

  /** The row's elements, flattened row-major, or null for a null row. */
  @Override
  public Object getObject(int index) {
    return getUnderlyingVector().getObject(index);
  }

  @Override
  public int hashCode(int index) {
    return getUnderlyingVector().hashCode(index);
  }

  @Override
  public int hashCode(int index, org.apache.arrow.memory.util.hash.ArrowBufHasher hasher) {
    return getUnderlyingVector().hashCode(index, hasher);
  }
}
