package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ops.MathFunctions;
import dev.nnvm.runtime.DType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a lowered kernel in Java, statement by statement: the oracle that
 * checks lowering against the reference evaluator before any native code
 * exists. Floating operations round to the kernel's element type after each
 * step, as the generated code does.
 */
public final class KernelInterpreter {
  private final Kernel kernel;
  private final Map<String, Long> vars = new HashMap<>();
  private final Map<String, Double> floatLocals = new HashMap<>();
  private final Map<String, Long> intLocals = new HashMap<>();
  private final Map<String, Object> storage = new HashMap<>();

  private KernelInterpreter(Kernel kernel) {
    this.kernel = kernel;
  }

  /**
   * Runs {@code kernel} on inputs (in the kernel's input order) with the
   * symbolic dimensions bound, and returns its outputs by name.
   */
  public static Map<String, Tensor> run(Kernel kernel, List<Tensor> inputs, Map<String, Long> symbols) {
    KernelInterpreter k = new KernelInterpreter(kernel);
    k.vars.putAll(symbols);
    if (inputs.size() != kernel.inputs().size()) {
      throw new IllegalArgumentException(kernel.name() + " takes " + kernel.inputs().size() + " inputs, got "
          + inputs.size());
    }
    for (int i = 0; i < inputs.size(); i++) {
      BufferRef b = kernel.inputs().get(i);
      Tensor t = inputs.get(i);
      if (t.dtype() != b.dtype() || !java.util.Arrays.equals(t.shape(), k.shape(b))) {
        throw new IllegalArgumentException(kernel.name() + " input " + b.name() + ": expected " + b.dtype()
            + java.util.Arrays.toString(k.shape(b)) + ", got " + t.type());
      }
      k.storage.put(b.name(), t.data());
    }
    Map<String, long[]> outShapes = new LinkedHashMap<>();
    for (BufferRef b : kernel.outputs()) {
      long[] shape = k.shape(b);
      outShapes.put(b.name(), shape);
      k.storage.put(b.name(), Tensor.newStorage(b.dtype(), Tensor.elementCount(shape)));
    }
    k.exec(kernel.body());
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (BufferRef b : kernel.outputs()) {
      out.put(b.name(), Tensor.of(b.dtype(), outShapes.get(b.name()), k.storage.get(b.name())));
    }
    return out;
  }

  private long[] shape(BufferRef b) {
    long[] s = new long[b.rank()];
    for (int i = 0; i < s.length; i++) {
      s[i] = evalInt(b.shape().get(i));
    }
    return s;
  }

  private void exec(Stmt s) {
    if (s instanceof Stmt.For f) {
      long n = evalInt(f.extent());
      for (long i = 0; i < n; i++) {
        vars.put(f.var().name(), i);
        exec(f.body());
      }
      vars.remove(f.var().name());
    } else if (s instanceof Stmt.Store st) {
      int index = Math.toIntExact(evalInt(st.index()));
      Object data = storage.get(st.buffer().name());
      DType t = st.buffer().dtype();
      if (t.isFloatingPoint()) {
        Tensor.setFromDouble(t, data, index, evalFloat(st.value()));
      } else {
        Tensor.setFromLong(t, data, index, evalInt(st.value()));
      }
    } else if (s instanceof Stmt.Declare d) {
      assign(d.local(), d.init());
    } else if (s instanceof Stmt.Assign a) {
      assign(a.local(), a.value());
    } else if (s instanceof Stmt.Seq seq) {
      for (Stmt x : seq.body()) {
        exec(x);
      }
    }
  }

  private void assign(Expr.Local l, Expr value) {
    if (l.type().isFloatingPoint()) {
      floatLocals.put(l.name(), evalFloat(value));
    } else {
      intLocals.put(l.name(), evalInt(value));
    }
  }

  private static double round(double v, DType t) {
    return t == DType.FLOAT64 ? v : (float) v;
  }

  double evalFloat(Expr e) {
    if (!e.type().isFloatingPoint()) {
      return evalInt(e);
    }
    if (e instanceof Expr.FloatConst c) {
      return round(c.value(), c.type());
    } else if (e instanceof Expr.IntConst c) {
      return c.value();
    } else if (e instanceof Expr.Local l) {
      return floatLocals.get(l.name());
    } else if (e instanceof Expr.Load ld) {
      Object data = storage.get(ld.buffer().name());
      int i = Math.toIntExact(evalInt(ld.index()));
      return data instanceof float[] f ? f[i] : ((double[]) data)[i];
    } else if (e instanceof Expr.Unary u) {
      return round(unary(u.op(), evalFloat(u.x())), u.type());
    } else if (e instanceof Expr.Binary b) {
      return round(binary(b.op(), evalFloat(b.a()), evalFloat(b.b())), b.type());
    } else if (e instanceof Expr.Select s) {
      return evalInt(s.cond()) != 0 ? evalFloat(s.a()) : evalFloat(s.b());
    } else if (e instanceof Expr.Convert c) {
      double v = c.x().type().isFloatingPoint() ? evalFloat(c.x()) : evalInt(c.x());
      Object tmp = Tensor.newStorage(c.type(), 1);
      Tensor.setFromDouble(c.type(), tmp, 0, v);
      return c.type() == DType.FLOAT64 ? ((double[]) tmp)[0] : ((float[]) tmp)[0];
    }
    throw new IllegalStateException("not a floating expression: " + e);
  }

  long evalInt(Expr e) {
    if (e.type().isFloatingPoint()) {
      throw new IllegalStateException("not an integer expression: " + e);
    }
    if (e instanceof Expr.IntConst c) {
      return c.value();
    } else if (e instanceof Expr.Var v) {
      Long x = vars.get(v.name());
      if (x == null) {
        throw new IllegalStateException("unbound variable " + v.name() + " in " + kernel.name());
      }
      return x;
    } else if (e instanceof Expr.Local l) {
      return intLocals.get(l.name());
    } else if (e instanceof Expr.Load ld) {
      Object data = storage.get(ld.buffer().name());
      int i = Math.toIntExact(evalInt(ld.index()));
      return data instanceof boolean[] b ? (b[i] ? 1 : 0) : ((long[]) data)[i];
    } else if (e instanceof Expr.Compare c) {
      return compare(c) ? 1 : 0;
    } else if (e instanceof Expr.Select s) {
      return evalInt(s.cond()) != 0 ? evalInt(s.a()) : evalInt(s.b());
    } else if (e instanceof Expr.Unary u) {
      long x = evalInt(u.x());
      switch (u.op()) {
        case NEG: return Tensor.wrap(u.type(), -x);
        case ABS: return Tensor.wrap(u.type(), Math.abs(x));
        case SIGN: return Long.signum(x);
        case NOT: return x == 0 ? 1 : 0;
        default: throw new IllegalStateException(u.op() + " on integers");
      }
    } else if (e instanceof Expr.Binary b) {
      long x = evalInt(b.a());
      long y = evalInt(b.b());
      long r;
      switch (b.op()) {
        case ADD: r = x + y; break;
        case SUB: r = x - y; break;
        case MUL: r = x * y; break;
        case DIV: r = x / y; break;
        case REM: r = x % y; break;
        case MIN: r = Math.min(x, y); break;
        case MAX: r = Math.max(x, y); break;
        case AND: r = x & y; break;
        case OR: r = x | y; break;
        case XOR: r = x ^ y; break;
        default: r = (long) Math.pow(x, y); break;
      }
      return b.type() == DType.BOOL ? (r != 0 ? 1 : 0) : Tensor.wrap(b.type(), r);
    } else if (e instanceof Expr.Convert c) {
      Object tmp = Tensor.newStorage(c.type(), 1);
      if (c.x().type().isFloatingPoint()) {
        Tensor.setFromDouble(c.type(), tmp, 0, evalFloat(c.x()));
      } else {
        Tensor.setFromLong(c.type(), tmp, 0, evalInt(c.x()));
      }
      return tmp instanceof boolean[] bb ? (bb[0] ? 1 : 0) : ((long[]) tmp)[0];
    }
    throw new IllegalStateException("not an integer expression: " + e);
  }

  private boolean compare(Expr.Compare c) {
    if (c.a().type().isFloatingPoint()) {
      double x = evalFloat(c.a());
      double y = evalFloat(c.b());
      switch (c.op()) {
        case EQ: return x == y;
        case NE: return x != y;
        case LT: return x < y;
        case LE: return x <= y;
        case GT: return x > y;
        default: return x >= y;
      }
    }
    long x = evalInt(c.a());
    long y = evalInt(c.b());
    switch (c.op()) {
      case EQ: return x == y;
      case NE: return x != y;
      case LT: return x < y;
      case LE: return x <= y;
      case GT: return x > y;
      default: return x >= y;
    }
  }

  private static double unary(Expr.UnaryOp op, double x) {
    switch (op) {
      case NEG: return -x;
      case ABS: return Math.abs(x);
      case EXP: return Math.exp(x);
      case LOG: return Math.log(x);
      case SQRT: return Math.sqrt(x);
      case SIN: return Math.sin(x);
      case COS: return Math.cos(x);
      case TAN: return Math.tan(x);
      case TANH: return Math.tanh(x);
      case ASIN: return Math.asin(x);
      case ACOS: return Math.acos(x);
      case ATAN: return Math.atan(x);
      case SINH: return Math.sinh(x);
      case COSH: return Math.cosh(x);
      case ASINH: return dev.nnvm.compiler.ops.MathFunctions.asinh(x);
      case ACOSH: return dev.nnvm.compiler.ops.MathFunctions.acosh(x);
      case ATANH: return dev.nnvm.compiler.ops.MathFunctions.atanh(x);
      case ERF: return MathFunctions.erf(x);
      case FLOOR: return Math.floor(x);
      case CEIL: return Math.ceil(x);
      case ROUND_EVEN: return Math.rint(x);
      case SIGN: return Math.signum(x);
      case IS_NAN: return Double.isNaN(x) ? 1 : 0;
      default: throw new IllegalStateException(op + " on floats");
    }
  }

  private static double binary(Expr.BinaryOp op, double x, double y) {
    switch (op) {
      case ADD: return x + y;
      case SUB: return x - y;
      case MUL: return x * y;
      case DIV: return x / y;
      case REM: return x % y;
      case MIN: return Math.min(x, y);
      case MAX: return Math.max(x, y);
      case POW: return Math.pow(x, y);
      default: throw new IllegalStateException(op + " on floats");
    }
  }

  /** The kernel's loop nest as readable text, for tests and debugging. */
  public static String describe(Kernel k) {
    List<String> lines = new ArrayList<>();
    lines.add("kernel " + k.name() + "(" + k.inputs().stream().map(BufferRef::name).toList() + " -> "
        + k.outputs().stream().map(BufferRef::name).toList() + ") symbols " + k.symbols());
    describe(k.body(), "  ", lines);
    return String.join("\n", lines);
  }

  private static void describe(Stmt s, String indent, List<String> lines) {
    if (s instanceof Stmt.For f) {
      lines.add(indent + "for " + f.var().name() + " < " + ExprText.of(f.extent()) + " (" + f.kind() + ")");
      describe(f.body(), indent + "  ", lines);
    } else if (s instanceof Stmt.Seq seq) {
      seq.body().forEach(x -> describe(x, indent, lines));
    } else if (s instanceof Stmt.Store st) {
      lines.add(indent + st.buffer().name() + "[" + ExprText.of(st.index()) + "] = " + ExprText.of(st.value()));
    } else if (s instanceof Stmt.Declare d) {
      lines.add(indent + d.local().type().shortName() + " " + d.local().name() + " = " + ExprText.of(d.init()));
    } else if (s instanceof Stmt.Assign a) {
      lines.add(indent + a.local().name() + " = " + ExprText.of(a.value()));
    }
  }
}
