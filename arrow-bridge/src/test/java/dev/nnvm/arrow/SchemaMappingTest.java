package dev.nnvm.arrow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import java.util.List;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;

/** Every problem of a mapping or a schema is found up front and listed in one error. */
class SchemaMappingTest extends AllocatorTest {
  private static final List<TensorSpec> INPUTS = List.of(spec("input_ids", DType.INT64, "[batch, seq]"),
      spec("attention_mask", DType.INT64, "[batch, seq]"), spec("pixels", DType.FLOAT32, "[batch, 3, 4]"),
      spec("age", DType.FLOAT32, "[batch]"));
  private static final List<TensorSpec> OUTPUTS = List.of(spec("last_hidden_state", DType.FLOAT32,
      "[batch, seq, 384]"), spec("pooled", DType.FLOAT32, "[batch, 384]"));

  @Test
  void everySchemaProblemIsListedBeforeAnyDataIsRead() {
    SchemaMapping m = SchemaMapping.builder(INPUTS, OUTPUTS)
        .layout("input_ids", new InputLayout.Padded("tokens", 0, "attention_mask"))
        .mapInput("image", "pixels").build();
    Schema schema = new Schema(List.of(
        Field.nullable("tokens", ArrowType.Utf8.INSTANCE),
        ArrowTypes.field("image", new ColumnType(DType.FLOAT32, Shape.of(4, 3))),
        Field.nullable("age", new ArrowType.Int(64, true))));
    SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> m.validate(schema));
    assertEquals(List.of(
        "input 'input_ids': column 'tokens': Arrow type Utf8 has no tensor element type; supported are Int(8/16/32/64,"
            + " signed or unsigned), FloatingPoint(HALF/SINGLE/DOUBLE), Bool, and FixedSizeList, List or"
            + " arrow.fixed_shape_tensor of those",
        "input 'pixels' f32[batch, 3, 4]: wrong per-row shape, column 'image' has rows of shape [4, 3] and the input"
            + " needs [3, 4]",
        "input 'age' f32: wrong element type, column 'age' holds i64, which does not convert to f32 without loss"),
        e.problems());
    assertTrue(e.getMessage().startsWith("the batch does not fit the model's inputs: 3 problems\n  - input"),
        e.getMessage());

    Schema missing = new Schema(List.of(Field.nullable("age", new ArrowType.Int(16, true))));
    e = assertThrows(SchemaMismatchException.class, () -> m.validate(missing));
    assertEquals(List.of("input 'input_ids': missing column 'tokens' (the batch has [age])",
        "input 'pixels': missing column 'image' (the batch has [age])"), e.problems());

    m.validate(new Schema(List.of(
        new Field("tokens", FieldType.nullable(ArrowType.List.INSTANCE),
            List.of(Field.nullable("$data$", new ArrowType.Int(32, true)))),
        FixedShapeTensorType.field("image", ArrowTypes.toArrowType(DType.FLOAT32), 3, 4),
        Field.nullable("age", new ArrowType.Int(16, true)))));
  }

  @Test
  void theBridgeValidatesBeforeBinding() {
    SchemaMapping m = SchemaMapping.builder(List.of(spec("x", DType.FLOAT32, "[N, 4]")),
        List.of(spec("y", DType.FLOAT32, "[N]"))).build();
    try (ArrowBridge bridge = ArrowBridge.open(m, NullPolicy.NULL_OUTPUT, allocator, "t");
         VectorSchemaRoot batch = Columns.root(Columns.fixed(allocator, "x", DType.FLOAT32, 2, 5))) {
      SchemaMismatchException e = assertThrows(SchemaMismatchException.class, () -> bridge.bind(batch));
      assertEquals(List.of("input 'x' f32[N, 4]: wrong per-row shape, column 'x' has rows of shape [5] and the"
          + " input needs [4]"), e.problems());
      assertEquals(0, bridge.allocator().getAllocatedMemory());
    }
  }

  @Test
  void everyMappingProblemIsListedAtBuildTime() {
    SchemaMismatchException e = assertThrows(SchemaMismatchException.class,
        () -> SchemaMapping.builder(INPUTS, OUTPUTS)
            .mapInput("t", "token_ids")
            .layout("input_ids", new InputLayout.Padded("tokens", 0, "mask"))
            .layout("pixels", new InputLayout.Gather(List.of("a", "b")))
            .mapOutput("pooled", "last_hidden_state")
            .mapOutput("logits", "scores")
            .outputLayout("pooled", OutputLayout.SCALAR)
            .build());
    assertEquals(List.of(
        "a layout is given for 'token_ids', which is not a model input (inputs: [input_ids, attention_mask, pixels,"
            + " age])",
        "input 'input_ids': mask input 'mask' is not a model input",
        "input 'pixels' f32[batch, 3, 4]: gathers 2 columns, so it needs shape [N, 2]",
        "a column is given for 'logits', which is not a model output (outputs: [last_hidden_state, pooled])",
        "output 'pooled': column 'last_hidden_state' is also another output's column",
        "output 'pooled' f32[batch, 384]: SCALAR needs rows of shape [] or [1]"), e.problems());

    e = assertThrows(SchemaMismatchException.class, () -> SchemaMapping.builder(INPUTS.subList(2, 4),
        List.of(spec("h", DType.FLOAT32, "[batch, seq, 2]"), spec("b", DType.BFLOAT16, "[batch]"),
            spec("t", DType.FLOAT32, "[batch, 3, 4]"))).outputLayout("t", OutputLayout.LIST).build());
    assertEquals(List.of("output 'h' f32[batch, seq, 2]: dimension seq is not a dimension of any input, so its size"
        + " is not known when the batch is bound", "output 'b': element type bf16 has no Arrow column type"),
        e.problems());
  }

  @Test
  void outputColumnsFollowTheirLayouts() {
    SchemaMapping m = SchemaMapping.builder(INPUTS, List.of(spec("last_hidden_state", DType.FLOAT32,
        "[batch, seq, 384]"), spec("pooled", DType.FLOAT32, "[batch, 384]"), spec("label", DType.INT64, "[batch]"),
        spec("map", DType.UINT8, "[batch, 2, 3]")))
        .layout("input_ids", new InputLayout.Padded("tokens", 0, "attention_mask"))
        .mapOutput("pooled", "embedding").outputLayout("map", OutputLayout.TENSOR).build();
    assertEquals("Schema<last_hidden_state: List<$data$: FixedSizeList(384)<$data$: FloatingPoint(SINGLE)>>,"
        + " embedding: FixedSizeList(384)<$data$: FloatingPoint(SINGLE)>, label: Int(64, true),"
        + " map: ExtensionType(arrow.fixed_shape_tensor, {\"shape\":[2,3]}, FixedSizeList(6))<$data$: Int(8, false)>>",
        m.outputSchema().toString());
    assertEquals("input_ids", m.maskOf("attention_mask"), "the mask input is fed by the padded input");
    assertNull(m.layout("attention_mask"));
    assertEquals(new InputLayout.Column("pixels"), m.layout("pixels"));
  }
}
