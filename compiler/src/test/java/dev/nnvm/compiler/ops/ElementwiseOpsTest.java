package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.op.FusionPattern;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The family as a whole: what is registered, with which fusion pattern; schema validation. */
class ElementwiseOpsTest {
  private static final List<String> UNARY = List.of(
      "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh",
      "Asinh", "Acosh", "Atanh", "Erf", "Floor", "Ceil", "Round", "Sign", "IsNaN", "IsInf", "Not", "BitwiseNot",
      "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Softplus", "Softsign",
      "Tanh", "Gelu", "Mish", "ThresholdedRelu", "Shrink", "Cast", "CastLike", "Clip");

  private static final List<String> BROADCASTING = List.of(
      "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "BitShift", "BitwiseAnd", "BitwiseOr",
      "BitwiseXor", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "Where", "PRelu");

  @Test
  void everyOperatorIsRegisteredWithItsFusionPattern() {
    OpRegistry r = new OpRegistry();
    ElementwiseOps.register(r);
    for (String op : UNARY) {
      assertEquals(FusionPattern.ELEMWISE, r.find("", op).orElseThrow(() -> new AssertionError(op)).pattern(), op);
    }
    for (String op : BROADCASTING) {
      assertEquals(FusionPattern.BROADCAST, r.find("", op).orElseThrow(() -> new AssertionError(op)).pattern(), op);
    }
    assertEquals(UNARY.size() + BROADCASTING.size(), r.size());
  }

  @Test
  void variadicOperatorsTakeAnyNumberOfInputs() {
    OpRegistry r = new OpRegistry();
    ElementwiseOps.register(r);
    for (String op : List.of("Max", "Min", "Sum", "Mean")) {
      OpDef d = r.find("", op).orElseThrow();
      assertEquals(1, d.minInputs());
      assertEquals(Integer.MAX_VALUE, d.maxInputs());
    }
    OpTester.op("Sum").input("a", DType.FLOAT32, 2).input("b", DType.FLOAT32, 2).input("c", DType.FLOAT32, 1)
        .input("d", DType.FLOAT32, 2, 1).input("e", DType.FLOAT32).check();
  }

  @Test
  void schemaValidationNamesTheNode() {
    OpRegistry r = OpRegistry.standard();
    ModelException arity = assertThrows(ModelException.class,
        () -> r.validate(new Node("add1", "Add", "", List.of("a"), List.of("y"), Map.of())));
    assertTrue(arity.getMessage().contains("add1"), arity.getMessage());
    ModelException missing = assertThrows(ModelException.class,
        () -> r.validate(new Node("cast1", "Cast", "", List.of("a"), List.of("y"), Map.of())));
    assertTrue(missing.getMessage().contains("cast1") && missing.getMessage().contains("to"), missing.getMessage());
    r.validate(new Node("celu1", "Celu", "", List.of("a"), List.of("y"), Map.of("alpha", Attribute.ofFloat(2f))));
  }

  @Test
  void addBroadcasts() {
    OpTester.op("Add").input("a", DType.FLOAT32, 2, 3, 4).input("b", DType.FLOAT32, 3, 1).check();
    OpTester.op("Add").input("a", DType.INT64, 5).input("b", DType.INT64).check();
  }
}
