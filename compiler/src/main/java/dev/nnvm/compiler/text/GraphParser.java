package dev.nnvm.compiler.text;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.text.Lexer.Kind;
import dev.nnvm.compiler.text.Lexer.Token;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.HalfFloats;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the text form written by {@link GraphPrinter} back into a graph.
 *
 * <p>The parser checks syntax only: a graph that reads an undefined value or
 * defines one twice parses fine (the {@code Verifier} reports such problems),
 * so invalid graphs can be written as text in tests. Errors are
 * {@link TextParseException}s naming the line, the column and what was
 * expected. Text with elided constant data ({@code dense<elided>}) is rejected.
 */
public final class GraphParser {
  private final Lexer lexer;

  private GraphParser(String text) {
    this.lexer = new Lexer(text);
  }

  /** Parses one graph. */
  public static Graph parse(String text) {
    GraphParser p = new GraphParser(text);
    Graph g = p.graph(null);
    if (p.peek().kind != Kind.END) {
      throw p.expected("end of input after the graph");
    }
    return g;
  }

  private Token peek() {
    return lexer.peek(0);
  }

  private Token peek(int ahead) {
    return lexer.peek(ahead);
  }

  private Token take() {
    return lexer.take();
  }

  private TextParseException expected(String what) {
    return error(peek(), "expected " + what + ", found " + peek().show());
  }

  private static TextParseException error(Token at, String problem) {
    return new TextParseException(at.line, at.column, problem);
  }

  private void punct(String p) {
    if (!peek().is(p)) {
      throw expected("'" + p + "'");
    }
    take();
  }

  private boolean acceptPunct(String p) {
    if (peek().is(p)) {
      take();
      return true;
    }
    return false;
  }

  private void keyword(String w) {
    if (!peek().isWord(w)) {
      throw expected("'" + w + "'");
    }
    take();
  }

  private String name(String what) {
    Token t = peek();
    if (t.kind != Kind.WORD && t.kind != Kind.STRING) {
      throw expected(what);
    }
    return take().text;
  }

  private String value() {
    if (peek().kind != Kind.VALUE) {
      throw expected("a value (%name)");
    }
    return take().text;
  }

  private Graph graph(Map<String, Integer> enclosingOpsets) {
    keyword("graph");
    Graph.Builder b = Graph.builder(name("a graph name"));
    punct("(");
    List<ValueInfo> inputs = valueInfos();
    punct("->");
    punct("(");
    List<ValueInfo> outputs = valueInfos();
    b.inputs(inputs).outputs(outputs);
    Map<String, Integer> opsets = new LinkedHashMap<>();
    if (peek().isWord("opset")) {
      take();
      punct("(");
      while (!peek().is(")")) {
        if (!opsets.isEmpty()) {
          punct(",");
        }
        Token at = peek();
        String domain = Node.normalizeDomain(name("an operator domain"));
        punct("=");
        int version = (int) intLiteral("an opset version", Integer.MAX_VALUE);
        if (opsets.put(domain, version) != null) {
          throw error(at, "opset of domain '" + (domain.isEmpty() ? "ai.onnx" : domain) + "' given twice");
        }
      }
      take();
    } else if (enclosingOpsets != null) {
      opsets.putAll(enclosingOpsets);
    }
    b.opsets(opsets);
    punct("{");
    Map<String, TensorType> valueTypes = new LinkedHashMap<>();
    Set<String> constants = new HashSet<>();
    while (!peek().isWord("return")) {
      statement(b, opsets, valueTypes, constants);
    }
    Token ret = take();
    List<String> returned = new ArrayList<>();
    if (peek().kind == Kind.VALUE) {
      returned.add(value());
      while (acceptPunct(",")) {
        returned.add(value());
      }
    }
    List<String> declared = new ArrayList<>();
    outputs.forEach(o -> declared.add(o.name()));
    if (!returned.equals(declared)) {
      throw error(ret, "return lists " + values(returned) + " but the graph declares outputs " + values(declared));
    }
    punct("}");
    return b.valueTypes(valueTypes).build();
  }

  private static String values(List<String> names) {
    List<String> shown = new ArrayList<>();
    names.forEach(n -> shown.add(Syntax.value(n)));
    return "(" + String.join(", ", shown) + ")";
  }

  private List<ValueInfo> valueInfos() {
    List<ValueInfo> out = new ArrayList<>();
    while (!peek().is(")")) {
      if (!out.isEmpty()) {
        punct(",");
      }
      String n = value();
      punct(":");
      out.add(new ValueInfo(n, type()));
    }
    take();
    return out;
  }

  private void statement(Graph.Builder b, Map<String, Integer> opsets, Map<String, TensorType> valueTypes,
      Set<String> constants) {
    Token first = peek();
    if (first.isWord("const") && peek(1).kind == Kind.VALUE) {
      take();
      String n = value();
      punct(":");
      Token typeAt = peek();
      TensorType t = type();
      punct("=");
      Tensor value = dense(t, typeAt);
      if (!constants.add(n)) {
        throw error(first, "constant " + Syntax.value(n) + " defined twice");
      }
      b.constant(n, value);
    } else if (first.isWord("type") && peek(1).kind == Kind.VALUE) {
      take();
      String n = value();
      punct(":");
      putType(valueTypes, n, type(), first);
    } else if (first.kind == Kind.VALUE || first.isWord("_") || first.is("(")) {
      b.node(node(opsets, valueTypes));
    } else {
      throw expected("a statement (const, type, a node, or return)");
    }
  }

  private static void putType(Map<String, TensorType> valueTypes, String n, TensorType t, Token at) {
    if (valueTypes.put(n, t) != null) {
      throw error(at, "type of " + Syntax.value(n) + " given twice");
    }
  }

  private Node node(Map<String, Integer> opsets, Map<String, TensorType> valueTypes) {
    List<String> outputs = new ArrayList<>();
    List<Token> outputTokens = new ArrayList<>();
    if (acceptPunct("(")) {
      punct(")");
    } else {
      do {
        outputTokens.add(peek());
        outputs.add(optionalValue());
      } while (acceptPunct(","));
    }
    punct("=");
    String domain;
    String opType;
    Token opToken = peek();
    if (opToken.kind == Kind.WORD) {
      take();
      int dot = opToken.text.lastIndexOf('.');
      domain = dot < 0 ? "" : opToken.text.substring(0, dot);
      opType = opToken.text.substring(dot + 1);
      if (opType.isEmpty()) {
        throw error(opToken, "operator '" + opToken.text + "' has an empty type");
      }
    } else if (opToken.kind == Kind.STRING) {
      domain = take().text;
      punct("::");
      if (peek().kind != Kind.STRING) {
        throw expected("an operator type string after '::'");
      }
      opType = take().text;
    } else {
      throw expected("an operator (Conv, com.microsoft.Gelu or \"domain\"::\"op\")");
    }
    punct("(");
    List<String> inputs = new ArrayList<>();
    while (!peek().is(")")) {
      if (!inputs.isEmpty()) {
        punct(",");
      }
      inputs.add(optionalValue());
    }
    take();
    String nodeName = "";
    Map<String, Attribute> attrs = new LinkedHashMap<>();
    if (acceptPunct("{")) {
      boolean named = false;
      while (!peek().is("}")) {
        if (named || !attrs.isEmpty()) {
          punct(",");
        }
        Token key = peek();
        if (key.isWord("name")) {
          take();
          punct("=");
          if (named) {
            throw error(key, "node name given twice");
          }
          if (peek().kind != Kind.STRING) {
            throw expected("the node name as a string");
          }
          nodeName = take().text;
          named = true;
          continue;
        }
        String k = name("an attribute name");
        punct("=");
        if (attrs.put(k, attribute(opsets)) != null) {
          throw error(key, "attribute '" + k + "' given twice");
        }
      }
      take();
    }
    if (acceptPunct(":")) {
      List<Token> at = new ArrayList<>();
      List<TensorType> types = new ArrayList<>();
      if (acceptPunct("(")) {
        do {
          at.add(peek());
          types.add(optionalType());
        } while (acceptPunct(","));
        punct(")");
      } else {
        at.add(peek());
        types.add(type());
      }
      if (types.size() != outputs.size()) {
        throw error(at.get(0), "node has " + outputs.size() + " output(s) but " + types.size() + " type(s)");
      }
      for (int i = 0; i < types.size(); i++) {
        if (types.get(i) != null) {
          if (outputs.get(i).isEmpty()) {
            throw error(at.get(i), "an omitted output (_) cannot have a type");
          }
          putType(valueTypes, outputs.get(i), types.get(i), at.get(i));
        }
      }
    }
    return new Node(nodeName, opType, domain, inputs, outputs, attrs);
  }

  private String optionalValue() {
    if (peek().isWord("_")) {
      take();
      return "";
    }
    return value();
  }

  private TensorType optionalType() {
    if (peek().isWord("_")) {
      take();
      return null;
    }
    return type();
  }

  private TensorType type() {
    Token t = peek();
    if (t.kind != Kind.WORD) {
      throw expected("a type such as f32[N, 3]");
    }
    take();
    DType dtype;
    try {
      dtype = DType.parse(t.text);
    } catch (IllegalArgumentException e) {
      throw error(t, "unknown element type '" + t.text + "'");
    }
    if (acceptPunct("?")) {
      return TensorType.unknownShape(dtype);
    }
    punct("[");
    List<Dim> dims = new ArrayList<>();
    while (!peek().is("]")) {
      if (!dims.isEmpty()) {
        punct(",");
      }
      Token d = peek();
      if (d.kind == Kind.INT && !d.text.startsWith("-") && !d.text.startsWith("0x")) {
        dims.add(Dim.of(parseLong(take())));
      } else if (d.kind == Kind.WORD || d.kind == Kind.STRING) {
        dims.add(Dim.symbol(take().text));
      } else if (d.is("?")) {
        take();
        dims.add(Dim.unknown());
      } else {
        throw expected("a dimension (a size, a symbol or ?)");
      }
    }
    take();
    return new TensorType(dtype, Shape.of(dims));
  }

  private long intLiteral(String what, long max) {
    Token t = peek();
    if (t.kind != Kind.INT || t.text.startsWith("0x")) {
      throw expected(what);
    }
    long v = parseLong(take());
    if (v < 0 || v > max) {
      throw error(t, what + " out of range: " + t.text);
    }
    return v;
  }

  private static long parseLong(Token t) {
    try {
      return Long.parseLong(t.text);
    } catch (NumberFormatException e) {
      throw error(t, "integer out of range: " + t.text);
    }
  }

  private Attribute attribute(Map<String, Integer> opsets) {
    Token t = peek();
    if (t.kind == Kind.INT && !t.text.startsWith("0x")) {
      return Attribute.ofInt(parseLong(take()));
    }
    if (t.kind == Kind.STRING) {
      return Attribute.ofString(take().text);
    }
    if (t.kind == Kind.FLOAT || t.isWord("nan") || t.isWord("inf") || t.is("-")) {
      return Attribute.ofFloat(floatLiteral());
    }
    if (t.isWord("dense")) {
      return Attribute.ofTensor(tensor());
    }
    if (t.isWord("graph")) {
      return Attribute.ofGraph(graph(opsets));
    }
    if (t.kind == Kind.WORD && peek(1).is("[") && peek(2).is("]")) {
      take();
      take();
      take();
      switch (t.text) {
        case "ints": return Attribute.ofInts();
        case "floats": return Attribute.ofFloats();
        case "strings": return Attribute.ofStrings(List.of());
        case "tensors": return Attribute.ofTensors(List.of());
        case "graphs": return Attribute.ofGraphs(List.of());
        default: throw error(t, "unknown list kind '" + t.text + "' (ints, floats, strings, tensors or graphs)");
      }
    }
    if (t.is("[")) {
      return list(opsets);
    }
    throw expected("an attribute value");
  }

  private Attribute list(Map<String, Integer> opsets) {
    Token open = take();
    if (peek().is("]")) {
      throw error(open, "an empty list needs its kind: ints[], floats[], strings[], tensors[] or graphs[]");
    }
    List<Attribute> items = new ArrayList<>();
    do {
      items.add(attribute(opsets));
    } while (acceptPunct(","));
    punct("]");
    Attribute.Kind kind = items.get(0).kind();
    for (Attribute a : items) {
      if (a.kind() != kind) {
        throw error(open, "list mixes " + kind + " and " + a.kind() + " items");
      }
    }
    switch (kind) {
      case INT: {
        long[] v = new long[items.size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = items.get(i).asInt();
        }
        return Attribute.ofInts(v);
      }
      case FLOAT: {
        float[] v = new float[items.size()];
        for (int i = 0; i < v.length; i++) {
          v[i] = items.get(i).asFloat();
        }
        return Attribute.ofFloats(v);
      }
      case STRING: {
        List<String> v = new ArrayList<>();
        items.forEach(a -> v.add(a.asString()));
        return Attribute.ofStrings(v);
      }
      case TENSOR: {
        List<Tensor> v = new ArrayList<>();
        items.forEach(a -> v.add(a.asTensor()));
        return Attribute.ofTensors(v);
      }
      case GRAPH: {
        List<Graph> v = new ArrayList<>();
        items.forEach(a -> v.add(a.asGraph()));
        return Attribute.ofGraphs(v);
      }
      default:
        throw error(open, "a list cannot hold " + kind + " items");
    }
  }

  /** A float: a decimal, {@code nan}, {@code nan(0xBITS)}, {@code inf} or {@code -inf}. */
  private float floatLiteral() {
    return literal().toFloat();
  }

  /** {@code dense<[...]> : type} in an attribute. */
  private Tensor tensor() {
    List<Literal> data = denseLiterals();
    punct(":");
    Token typeAt = peek();
    TensorType t = type();
    return build(t, typeAt, data);
  }

  /**
   * {@code dense<[...]>} of a constant whose type came first: elements go
   * straight into the tensor's storage as they are read.
   */
  private Tensor dense(TensorType t, Token typeAt) {
    int count = staticCount(t, typeAt);
    Object storage = Tensor.newStorage(t.dtype(), count);
    openDense();
    int n = 0;
    while (!peek().is("]")) {
      if (n > 0) {
        punct(",");
      }
      Literal l = literal();
      if (n < count) {
        store(t.dtype(), storage, n, l);
      }
      n++;
    }
    take();
    punct(">");
    checkCount(t, typeAt, count, n);
    return Tensor.of(t.dtype(), t.shape().toArray(), storage);
  }

  private void openDense() {
    keyword("dense");
    punct("<");
    if (peek().isWord("elided")) {
      throw error(peek(), "tensor data is elided (text printed for display only); print the graph with "
          + "GraphPrinter.full() to get text that parses");
    }
    punct("[");
  }

  private List<Literal> denseLiterals() {
    openDense();
    List<Literal> data = new ArrayList<>();
    while (!peek().is("]")) {
      if (!data.isEmpty()) {
        punct(",");
      }
      data.add(literal());
    }
    take();
    punct(">");
    return data;
  }

  private Literal literal() {
    Token t = peek();
    if (t.kind == Kind.INT || t.kind == Kind.FLOAT || t.kind == Kind.STRING) {
      take();
      return new Literal(t, false, null);
    }
    if (t.isWord("true") || t.isWord("false") || t.isWord("inf")) {
      take();
      return new Literal(t, false, null);
    }
    if (t.isWord("nan")) {
      take();
      Token bits = null;
      if (acceptPunct("(")) {
        bits = peek();
        if (bits.kind != Kind.INT || !bits.text.startsWith("0x")) {
          throw expected("NaN bits in hex (0x7fc00001)");
        }
        take();
        punct(")");
      }
      return new Literal(t, false, bits);
    }
    if (t.is("-") && peek(1).isWord("inf")) {
      take();
      return new Literal(take(), true, null);
    }
    throw expected("a number, true, false, a string, nan or inf");
  }

  private static Tensor build(TensorType t, Token typeAt, List<Literal> data) {
    int count = staticCount(t, typeAt);
    checkCount(t, typeAt, count, data.size());
    Object storage = Tensor.newStorage(t.dtype(), count);
    for (int i = 0; i < count; i++) {
      store(t.dtype(), storage, i, data.get(i));
    }
    return Tensor.of(t.dtype(), t.shape().toArray(), storage);
  }

  private static int staticCount(TensorType t, Token typeAt) {
    if (!t.shape().isStatic()) {
      throw error(typeAt, "a tensor needs a static shape, got " + GraphPrinter.type(t));
    }
    long count = t.shape().elementCount();
    if (count > Integer.MAX_VALUE - 8) {
      throw error(typeAt, "type " + GraphPrinter.type(t) + " is too large for a heap tensor");
    }
    return (int) count;
  }

  private static void checkCount(TensorType t, Token typeAt, int count, int given) {
    if (count != given) {
      throw error(typeAt, "type " + GraphPrinter.type(t) + " holds " + count + " element(s), the data has " + given);
    }
  }

  private static void store(DType d, Object storage, int i, Literal l) {
    switch (d) {
      case FLOAT32: ((float[]) storage)[i] = l.toFloat(); break;
      case FLOAT16: ((float[]) storage)[i] = l.isNan() ? l.toFloat() : HalfFloats.roundToHalf(l.toFloat()); break;
      case BFLOAT16: ((float[]) storage)[i] = l.isNan() ? l.toFloat() : HalfFloats.roundToBfloat16(l.toFloat()); break;
      case FLOAT64: ((double[]) storage)[i] = l.toDouble(); break;
      case BOOL: ((boolean[]) storage)[i] = l.toBool(); break;
      case STRING: ((String[]) storage)[i] = l.toStringValue(); break;
      default: ((long[]) storage)[i] = l.toInteger(d); break;
    }
  }

  /** One literal of tensor data, converted once the element type is known. */
  private static final class Literal {
    private final Token token;
    private final boolean negative;
    private final Token nanBits;

    Literal(Token token, boolean negative, Token nanBits) {
      this.token = token;
      this.negative = negative;
      this.nanBits = nanBits;
    }

    boolean isNan() {
      return token.isWord("nan");
    }

    float toFloat() {
      if (isNan() && nanBits != null) {
        float f = Float.intBitsToFloat((int) hexBits(8));
        if (!Float.isNaN(f)) {
          throw error(nanBits, "bits " + nanBits.text + " are not a NaN of f32");
        }
        return f;
      }
      return (float) number(false);
    }

    double toDouble() {
      if (isNan() && nanBits != null) {
        double v = Double.longBitsToDouble(hexBits(16));
        if (!Double.isNaN(v)) {
          throw error(nanBits, "bits " + nanBits.text + " are not a NaN of f64");
        }
        return v;
      }
      return number(true);
    }

    private double number(boolean f64) {
      if (isNan()) {
        return Double.NaN;
      }
      if (token.isWord("inf")) {
        return negative ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
      }
      if (token.kind != Kind.INT && token.kind != Kind.FLOAT || token.text.startsWith("0x")) {
        throw error(token, "expected a floating point number, found " + token.show());
      }
      return f64 ? Double.parseDouble(token.text) : Float.parseFloat(token.text);
    }

    private long hexBits(int digits) {
      String hex = nanBits.text.substring(2);
      if (hex.isEmpty() || hex.length() > digits) {
        throw error(nanBits, "NaN bits must be at most " + digits + " hex digits, got " + nanBits.text);
      }
      return Long.parseUnsignedLong(hex, 16);
    }

    boolean toBool() {
      if (token.isWord("true")) {
        return true;
      }
      if (token.isWord("false")) {
        return false;
      }
      throw error(token, "expected true or false, found " + token.show());
    }

    String toStringValue() {
      if (token.kind != Kind.STRING) {
        throw error(token, "expected a string, found " + token.show());
      }
      return token.text;
    }

    long toInteger(DType d) {
      if (token.kind != Kind.INT || token.text.startsWith("0x")) {
        throw error(token, "expected an integer, found " + token.show());
      }
      long v;
      try {
        v = d == DType.UINT64 ? Long.parseUnsignedLong(token.text) : Long.parseLong(token.text);
      } catch (NumberFormatException e) {
        throw error(token, "integer " + token.text + " is out of range for " + d);
      }
      if (d != DType.UINT64 && Tensor.wrap(d, v) != v) {
        throw error(token, "integer " + token.text + " is out of range for " + d);
      }
      return v;
    }
  }
}
