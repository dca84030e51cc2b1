package dev.nnvm.arrow;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.complex.BaseRepeatedValueVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Maps Arrow column types to tensor element types and back.
 *
 * <p>Supported: {@code Int} of 8/16/32/64 bits, signed or not;
 * {@code FloatingPoint} HALF/SINGLE/DOUBLE; {@code Bool}; and
 * {@code FixedSizeList} of those (nested lists give higher-rank rows, e.g.
 * {@code FixedSizeList<3>(FixedSizeList<4>(Float))} is {@code f32[3, 4]} per
 * row), {@code List} of those (a dimension of unknown size, {@code [?]}) and
 * the {@link FixedShapeTensorType} extension (its shape).
 * Everything else is refused with an error that names the column.
 * bfloat16 and string tensors have no Arrow column type here.
 */
public final class ArrowTypes {
  private static final String CHILD = BaseRepeatedValueVector.DATA_VECTOR_NAME;

  private ArrowTypes() {}

  /** The element type of a primitive Arrow type. */
  public static DType toDType(ArrowType type) {
    if (type instanceof ArrowType.Int) {
      ArrowType.Int i = (ArrowType.Int) type;
      switch (i.getBitWidth()) {
        case 8: return i.getIsSigned() ? DType.INT8 : DType.UINT8;
        case 16: return i.getIsSigned() ? DType.INT16 : DType.UINT16;
        case 32: return i.getIsSigned() ? DType.INT32 : DType.UINT32;
        case 64: return i.getIsSigned() ? DType.INT64 : DType.UINT64;
        default: throw unsupported(type);
      }
    }
    if (type instanceof ArrowType.FloatingPoint) {
      switch (((ArrowType.FloatingPoint) type).getPrecision()) {
        case HALF: return DType.FLOAT16;
        case SINGLE: return DType.FLOAT32;
        case DOUBLE: return DType.FLOAT64;
        default: throw unsupported(type);
      }
    }
    if (type instanceof ArrowType.Bool) {
      return DType.BOOL;
    }
    throw unsupported(type);
  }

  /** The primitive Arrow type holding elements of {@code dtype}. */
  public static ArrowType toArrowType(DType dtype) {
    switch (dtype) {
      case INT8: return new ArrowType.Int(8, true);
      case UINT8: return new ArrowType.Int(8, false);
      case INT16: return new ArrowType.Int(16, true);
      case UINT16: return new ArrowType.Int(16, false);
      case INT32: return new ArrowType.Int(32, true);
      case UINT32: return new ArrowType.Int(32, false);
      case INT64: return new ArrowType.Int(64, true);
      case UINT64: return new ArrowType.Int(64, false);
      case FLOAT16: return new ArrowType.FloatingPoint(FloatingPointPrecision.HALF);
      case FLOAT32: return new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
      case FLOAT64: return new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
      case BOOL: return ArrowType.Bool.INSTANCE;
      default:
        throw new IllegalArgumentException("element type " + dtype + " has no Arrow column type;"
            + " supported are integers, f16, f32, f64 and bool");
    }
  }

  /** What a row of {@code field} holds; errors name the field. */
  public static ColumnType columnType(Field field) {
    List<Dim> rowDims = new ArrayList<>();
    Field f = field;
    while (true) {
      ArrowType t = f.getType();
      if (t instanceof FixedShapeTensorType) {
        for (long d : ((FixedShapeTensorType) t).shape()) {
          rowDims.add(Dim.of(d));
        }
      } else if (t instanceof ArrowType.FixedSizeList) {
        rowDims.add(Dim.of(((ArrowType.FixedSizeList) t).getListSize()));
      } else if (t instanceof ArrowType.List) {
        rowDims.add(Dim.unknown());
      } else {
        break;
      }
      f = f.getChildren().get(0);
    }
    try {
      return new ColumnType(toDType(f.getType()), Shape.of(rowDims));
    } catch (IllegalArgumentException e) {
      String where = f == field ? "" : " (the element type of its lists)";
      throw new IllegalArgumentException("column '" + field.getName() + "': " + e.getMessage() + where, e);
    }
  }

  /** The column type of every field of a schema, by name, in schema order. */
  public static Map<String, ColumnType> columnTypes(Schema schema) {
    Map<String, ColumnType> out = new LinkedHashMap<>();
    for (Field f : schema.getFields()) {
      out.put(f.getName(), columnType(f));
    }
    return out;
  }

  /**
   * A nullable field holding rows of {@code type}; a static row shape becomes
   * nested {@code FixedSizeList}s whose children carry Arrow's own child name
   * (so the field equals the one of a vector Arrow creates from it).
   */
  public static Field field(String name, ColumnType type) {
    Shape row = type.rowShape();
    if (!row.isStatic()) {
      throw new IllegalArgumentException("column '" + name + "': row shape " + row
          + " is not static; Arrow fixed-size lists need every size");
    }
    Field f = new Field(CHILD, FieldType.nullable(toArrowType(type.dtype())), null);
    for (int i = row.rank() - 1; i >= 0; i--) {
      long size = row.dim(i).value();
      ArrowType list = new ArrowType.FixedSizeList(Math.toIntExact(size));
      f = new Field(i == 0 ? name : CHILD, FieldType.nullable(list), List.of(f));
    }
    return row.rank() == 0 ? new Field(name, f.getFieldType(), null) : f;
  }

  private static IllegalArgumentException unsupported(ArrowType type) {
    return new IllegalArgumentException("Arrow type " + type + " has no tensor element type; supported are"
        + " Int(8/16/32/64, signed or unsigned), FloatingPoint(HALF/SINGLE/DOUBLE), Bool, and FixedSizeList, List"
        + " or " + FixedShapeTensorType.NAME + " of those");
  }
}
