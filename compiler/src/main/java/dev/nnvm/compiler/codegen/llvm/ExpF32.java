package dev.nnvm.compiler.codegen.llvm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * {@code exp} for f32 as inline LLVM IR text, on a scalar or a vector, so
 * that generated loops need no libm call and vectorize: the argument is
 * clamped to the finite range of the result, split as {@code x = n ln2 + r}
 * with {@code |r| <= ln2 / 2} (ln2 in two parts), a degree-6 polynomial
 * approximates {@code e^r} (Cephes' coefficients, about 1 ulp), and
 * {@code 2^n} is built in the exponent bits. NaN stays NaN.
 */
public final class ExpF32 {
  private static final double[] POLY = {1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
      5.0000001201e-1};

  private final Supplier<String> fresh;
  private final List<String> lines;
  private final int lanes;
  private final String type;
  private final String intType;

  private ExpF32(Supplier<String> fresh, List<String> lines, int lanes) {
    this.fresh = fresh;
    this.lines = lines;
    this.lanes = lanes;
    this.type = lanes == 1 ? "float" : "<" + lanes + " x float>";
    this.intType = lanes == 1 ? "i32" : "<" + lanes + " x i32>";
  }

  /**
   * Appends to {@code lines} the instructions computing {@code exp(x)} on
   * {@code lanes} floats (1: a scalar {@code float}), with temporaries named
   * by {@code fresh}; returns the result's name. The intrinsics used are
   * those of {@link #declarations(int)}.
   */
  public static String emit(Supplier<String> fresh, List<String> lines, int lanes, String x) {
    return new ExpF32(fresh, lines, lanes).exp(x);
  }

  /** The {@code declare} lines of the intrinsics {@link #emit} calls for {@code lanes}. */
  public static List<String> declarations(int lanes) {
    String ty = lanes == 1 ? "float" : "<" + lanes + " x float>";
    List<String> out = new ArrayList<>();
    for (String f : new String[] {"minnum", "maxnum"}) {
      out.add("declare " + ty + " " + intrinsic(f, lanes) + "(" + ty + ", " + ty + ")");
    }
    out.add("declare " + ty + " " + intrinsic("rint", lanes) + "(" + ty + ")");
    return out;
  }

  /** An f32 constant in LLVM's hexadecimal (double) notation. */
  public static String literal(double v) {
    return String.format(Locale.ROOT, "0x%016X", Double.doubleToRawLongBits((float) v));
  }

  private static String intrinsic(String name, int lanes) {
    return "@llvm." + name + (lanes == 1 ? ".f32" : ".v" + lanes + "f32");
  }

  private String exp(String x) {
    String hi = call("minnum", x, splat(88.3762626647949));
    String c = call("maxnum", hi, splat(-87.3365447504));
    String scaled = op("fmul", c, splat(1.44269504088896341));
    String n = assign("call " + type + " " + intrinsic("rint", lanes) + "(" + type + " " + scaled + ")");
    String r1 = op("fsub", c, op("fmul", n, splat(0.693359375)));
    String r = op("fsub", r1, op("fmul", n, splat(-2.12194440e-4)));
    String p = splat(1.9875691500e-4);
    for (double coef : POLY) {
      p = op("fadd", op("fmul", p, r), splat(coef));
    }
    String r2 = op("fmul", r, r);
    String y = op("fadd", op("fadd", op("fmul", p, r2), r), splat(1.0));
    String ni = assign("fptosi " + type + " " + n + " to " + intType);
    String biased = assign("add " + intType + " " + ni + ", " + splatInt(127));
    String bits = assign("shl " + intType + " " + biased + ", " + splatInt(23));
    String pow2 = assign("bitcast " + intType + " " + bits + " to " + type);
    String result = op("fmul", y, pow2);
    // NaN stays NaN (the clamps above would turn it into a number).
    String nan = assign("fcmp uno " + type + " " + x + ", " + x);
    return assign("select " + (lanes == 1 ? "i1" : "<" + lanes + " x i1>") + " " + nan + ", " + type + " " + x
        + ", " + type + " " + result);
  }

  private String assign(String rhs) {
    String v = fresh.get();
    lines.add(v + " = " + rhs);
    return v;
  }

  private String op(String instr, String a, String b) {
    return assign(instr + " " + type + " " + a + ", " + b);
  }

  private String call(String name, String a, String b) {
    return assign("call " + type + " " + intrinsic(name, lanes) + "(" + type + " " + a + ", " + type + " " + b + ")");
  }

  private String splat(double v) {
    return lanes == 1 ? literal(v) : vector("float " + literal(v));
  }

  private String splatInt(int v) {
    return lanes == 1 ? Integer.toString(v) : vector("i32 " + v);
  }

  private String vector(String element) {
    StringBuilder s = new StringBuilder("<");
    for (int i = 0; i < lanes; i++) {
      s.append(i == 0 ? "" : ", ").append(element);
    }
    return s.append('>').toString();
  }
}
