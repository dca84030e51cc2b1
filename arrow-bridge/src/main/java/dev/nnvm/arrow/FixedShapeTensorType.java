package dev.nnvm.arrow;

import java.util.Arrays;
import java.util.Objects;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.complex.BaseRepeatedValueVector;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.ExtensionTypeRegistry;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;

/**
 * Arrow's canonical extension type {@code arrow.fixed_shape_tensor}: every
 * row is a dense row-major tensor of one fixed shape, stored as a
 * {@code FixedSizeList<T>} of the shape's element count. The shape travels
 * with the data as the extension metadata {@code {"shape":[2,3]}} (with
 * optional {@code "dim_names"}), so a reader on the other side of IPC or the
 * C Data interface sees {@code f32[2, 3]} rows and not a flat list.
 *
 * <p>A {@code "permutation"} other than the identity describes a physical
 * layout that differs from the logical one; it is refused, since the bridge
 * hands the buffer to the runtime as it lies. The element type is the one of
 * the storage list's child field.
 */
public final class FixedShapeTensorType extends ArrowType.ExtensionType {
  /** The canonical extension name. */
  public static final String NAME = "arrow.fixed_shape_tensor";

  private final long[] shape;
  private final java.util.List<String> dimNames;

  /** A tensor type of {@code shape}; {@code dimNames} is empty or names every dimension. */
  public FixedShapeTensorType(long[] shape, java.util.List<String> dimNames) {
    this.shape = shape.clone();
    this.dimNames = java.util.List.copyOf(dimNames);
    if (!this.dimNames.isEmpty() && this.dimNames.size() != shape.length) {
      throw new IllegalArgumentException("fixed_shape_tensor: " + dimNames.size() + " dim_names for a rank-"
          + shape.length + " shape " + Arrays.toString(shape));
    }
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("fixed_shape_tensor: negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("fixed_shape_tensor: shape " + Arrays.toString(shape)
          + " has more elements than a FixedSizeList holds");
    }
  }

  /**
   * Makes sure Arrow knows the type by name, so that IPC readers and the C
   * Data importer rebuild it from the field metadata. Safe to call often.
   */
  public static void register() {
    if (ExtensionTypeRegistry.lookup(NAME) == null) {
      ExtensionTypeRegistry.register(new FixedShapeTensorType(new long[] {1}, java.util.List.of()));
    }
  }

  /** A nullable field of this type named {@code name} whose elements are {@code elementType}. */
  public static Field field(String name, ArrowType elementType, long... shape) {
    FixedShapeTensorType type = new FixedShapeTensorType(shape, java.util.List.of());
    return new Field(name, FieldType.nullable(type),
        java.util.List.of(Field.nullable(BaseRepeatedValueVector.DATA_VECTOR_NAME, elementType)));
  }

  public long[] shape() {
    return shape.clone();
  }

  public java.util.List<String> dimNames() {
    return dimNames;
  }

  /** The element count of one row: the product of the shape. */
  public int listSize() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return (int) n;
  }

  @Override
  public ArrowType storageType() {
    return new ArrowType.FixedSizeList(listSize());
  }

  @Override
  public String extensionName() {
    return NAME;
  }

  @Override
  public boolean extensionEquals(ArrowType.ExtensionType other) {
    return other instanceof FixedShapeTensorType && Arrays.equals(shape, ((FixedShapeTensorType) other).shape)
        && dimNames.equals(((FixedShapeTensorType) other).dimNames);
  }

  @Override
  public String serialize() {
    StringBuilder sb = new StringBuilder("{\"shape\":[");
    for (int i = 0; i < shape.length; i++) {
      sb.append(i > 0 ? "," : "").append(shape[i]);
    }
    sb.append(']');
    if (!dimNames.isEmpty()) {
      sb.append(",\"dim_names\":[");
      for (int i = 0; i < dimNames.size(); i++) {
        sb.append(i > 0 ? "," : "").append('"').append(dimNames.get(i).replace("\\", "\\\\").replace("\"", "\\\""))
            .append('"');
      }
      sb.append(']');
    }
    return sb.append('}').toString();
  }

  @Override
  public ArrowType deserialize(ArrowType storageType, String metadata) {
    if (!(storageType instanceof ArrowType.FixedSizeList)) {
      throw new IllegalArgumentException(NAME + " needs FixedSizeList storage, got " + storageType);
    }
    FixedShapeTensorType t = parse(metadata);
    int size = ((ArrowType.FixedSizeList) storageType).getListSize();
    if (t.listSize() != size) {
      throw new IllegalArgumentException(NAME + " shape " + Arrays.toString(t.shape) + " has " + t.listSize()
          + " elements but its storage is FixedSizeList(" + size + ")");
    }
    return t;
  }

  @Override
  public FieldVector getNewVector(String name, FieldType fieldType, BufferAllocator allocator) {
    FixedSizeListVector storage = new FixedSizeListVector(name, allocator,
        new FieldType(fieldType.isNullable(), storageType(), null), null);
    return new FixedShapeTensorVector(name, fieldType, allocator, storage);
  }

  @Override
  public String toString() {
    return "ExtensionType(" + NAME + ", " + serialize() + ", " + storageType() + ")";
  }

  /** Reads the metadata JSON: {@code shape} (required), {@code dim_names}, {@code permutation}. */
  static FixedShapeTensorType parse(String json) {
    Json in = new Json(Objects.requireNonNull(json, "metadata"));
    long[] shape = null;
    java.util.List<String> names = java.util.List.of();
    in.expect('{');
    if (!in.peek('}')) {
      do {
        String key = in.string();
        in.expect(':');
        switch (key) {
          case "shape":
            shape = in.numbers();
            break;
          case "dim_names":
            names = in.strings();
            break;
          case "permutation":
            long[] perm = in.numbers();
            for (int i = 0; i < perm.length; i++) {
              if (perm[i] != i) {
                throw new IllegalArgumentException(NAME + " permutation " + Arrays.toString(perm)
                    + " is not supported; only the identity (row-major, as stored) is");
              }
            }
            break;
          default:
            throw in.error("unknown key '" + key + "'");
        }
      } while (in.next(','));
    }
    in.expect('}');
    in.end();
    if (shape == null) {
      throw in.error("no \"shape\"");
    }
    return new FixedShapeTensorType(shape, names);
  }

  /** Just enough JSON for the three keys of this type's metadata. */
  private static final class Json {
    private final String text;
    private int pos;

    Json(String text) {
      this.text = text;
    }

    private void skipSpace() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }

    boolean peek(char c) {
      skipSpace();
      return pos < text.length() && text.charAt(pos) == c;
    }

    boolean next(char c) {
      if (peek(c)) {
        pos++;
        return true;
      }
      return false;
    }

    void expect(char c) {
      if (!next(c)) {
        throw error("expected '" + c + "'");
      }
    }

    void end() {
      skipSpace();
      if (pos != text.length()) {
        throw error("unexpected text after the object");
      }
    }

    String string() {
      expect('"');
      StringBuilder sb = new StringBuilder();
      while (pos < text.length() && text.charAt(pos) != '"') {
        char c = text.charAt(pos++);
        if (c == '\\' && pos < text.length()) {
          c = text.charAt(pos++);
        }
        sb.append(c);
      }
      expect('"');
      return sb.toString();
    }

    long[] numbers() {
      java.util.List<Long> out = new java.util.ArrayList<>();
      expect('[');
      if (!peek(']')) {
        do {
          skipSpace();
          int start = pos;
          while (pos < text.length() && (Character.isDigit(text.charAt(pos)) || text.charAt(pos) == '-')) {
            pos++;
          }
          try {
            out.add(Long.parseLong(text.substring(start, pos)));
          } catch (NumberFormatException e) {
            throw error("expected an integer");
          }
        } while (next(','));
      }
      expect(']');
      return out.stream().mapToLong(Long::longValue).toArray();
    }

    java.util.List<String> strings() {
      java.util.List<String> out = new java.util.ArrayList<>();
      expect('[');
      if (!peek(']')) {
        do {
          out.add(string());
        } while (next(','));
      }
      expect(']');
      return out;
    }

    IllegalArgumentException error(String what) {
      return new IllegalArgumentException(NAME + " metadata '" + text + "': " + what + " at offset " + pos);
    }
  }
}
