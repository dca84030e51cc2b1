package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.List;

/** Type rules shared by many operators. */
public final class TypeRules {
  private TypeRules() {}

  /** Output 0 has the type of input 0. */
  public static final OpDef.TypeRule SAME_AS_INPUT_0 = ctx -> List.of(ctx.inputType(0));

  /** Output 0 has input 0's element type and the broadcast shape of all inputs. */
  public static final OpDef.TypeRule BROADCAST = ctx -> List.of(broadcast(ctx, ctx.inputType(0).dtype()));

  /** Output 0 is bool with the broadcast shape of all inputs (comparisons, logic). */
  public static final OpDef.TypeRule BROADCAST_BOOL = ctx -> List.of(broadcast(ctx, DType.BOOL));

  /** The broadcast of every given input's shape, with the element type given. */
  public static TensorType broadcast(InferContext ctx, DType dtype) {
    List<Shape> shapes = new ArrayList<>();
    for (int i = 0; i < ctx.inputCount(); i++) {
      if (ctx.hasInput(i)) {
        shapes.add(ctx.inputType(i).shape());
      }
    }
    try {
      return new TensorType(dtype, Broadcasting.shape(shapes.toArray(new Shape[0])));
    } catch (RuntimeException e) {
      throw ctx.error("%s", e.getMessage());
    }
  }

  /** Fails naming the node unless input {@code i} has one of the allowed element types. */
  public static DType requireType(InferContext ctx, int i, DType... allowed) {
    DType t = ctx.inputType(i).dtype();
    for (DType a : allowed) {
      if (a == t) {
        return t;
      }
    }
    throw ctx.error("input %d has element type %s; supported: %s", i, t, java.util.Arrays.toString(allowed));
  }

  /** Fails naming the node unless inputs {@code i} and {@code j} have the same element type. */
  public static void requireSameType(InferContext ctx, int i, int j) {
    DType a = ctx.inputType(i).dtype();
    DType b = ctx.inputType(j).dtype();
    if (a != b) {
      throw ctx.error("inputs %d and %d must have the same element type, got %s and %s", i, j, a, b);
    }
  }
}
