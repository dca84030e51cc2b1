package dev.nnvm.compiler.ir.op;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an operator is: its name and domain, arity, attribute schema, fusion
 * pattern, type/shape inference and reference evaluation. Passes and code
 * generators ask these definitions instead of switching on operator names.
 */
public final class OpDef {
  /** Type and shape inference: the output types from the input types (and constant inputs). */
  @FunctionalInterface
  public interface TypeRule {
    List<TensorType> infer(InferContext ctx);
  }

  /** Reference evaluation: plain Java, obviously correct, not fast. */
  @FunctionalInterface
  public interface Kernel {
    List<Tensor> eval(EvalContext ctx);
  }

  private final String domain;
  private final String name;
  private final FusionPattern pattern;
  private final int minInputs;
  private final int maxInputs;
  private final int minOutputs;
  private final int maxOutputs;
  private final Map<String, AttrSpec> attrs;
  private final TypeRule typeRule;
  private final Kernel kernel;
  private final String doc;
  private final boolean deterministic;

  private OpDef(Builder b) {
    this.domain = b.domain;
    this.name = b.name;
    this.pattern = b.pattern;
    this.minInputs = b.minInputs;
    this.maxInputs = b.maxInputs;
    this.minOutputs = b.minOutputs;
    this.maxOutputs = b.maxOutputs;
    this.attrs = Collections.unmodifiableMap(new LinkedHashMap<>(b.attrs));
    this.typeRule = Objects.requireNonNull(b.typeRule, () -> "type rule of " + b.name);
    this.kernel = Objects.requireNonNull(b.kernel, () -> "kernel of " + b.name);
    this.doc = b.doc;
    this.deterministic = b.deterministic;
  }

  /** Starts a definition in the ONNX domain. */
  public static Builder builder(String name) {
    return new Builder("", name);
  }

  public static Builder builder(String domain, String name) {
    return new Builder(domain, name);
  }

  public String domain() {
    return domain;
  }

  public String name() {
    return name;
  }

  public String qualifiedName() {
    return domain.isEmpty() ? name : domain + "." + name;
  }

  public FusionPattern pattern() {
    return pattern;
  }

  public int minInputs() {
    return minInputs;
  }

  public int maxInputs() {
    return maxInputs;
  }

  public int minOutputs() {
    return minOutputs;
  }

  public int maxOutputs() {
    return maxOutputs;
  }

  public Map<String, AttrSpec> attrs() {
    return attrs;
  }

  public TypeRule typeRule() {
    return typeRule;
  }

  public Kernel kernel() {
    return kernel;
  }

  public String doc() {
    return doc;
  }

  /**
   * False for operators whose result is not a function of their inputs
   * (random generators): they are never folded or merged.
   */
  public boolean isDeterministic() {
    return deterministic;
  }

  @Override
  public String toString() {
    return qualifiedName();
  }

  /** Collects the parts of an operator definition. */
  public static final class Builder {
    private final String domain;
    private final String name;
    private FusionPattern pattern = FusionPattern.OPAQUE;
    private int minInputs = 1;
    private int maxInputs = 1;
    private int minOutputs = 1;
    private int maxOutputs = 1;
    private final Map<String, AttrSpec> attrs = new LinkedHashMap<>();
    private TypeRule typeRule;
    private Kernel kernel;
    private String doc = "";
    private boolean deterministic = true;

    private Builder(String domain, String name) {
      this.domain = Objects.requireNonNull(domain);
      this.name = Objects.requireNonNull(name);
    }

    public Builder pattern(FusionPattern p) {
      this.pattern = p;
      return this;
    }

    /** Number of inputs (counting omitted optional ones up to the last one given). */
    public Builder inputs(int min, int max) {
      this.minInputs = min;
      this.maxInputs = max;
      return this;
    }

    public Builder inputs(int exactly) {
      return inputs(exactly, exactly);
    }

    public Builder outputs(int min, int max) {
      this.minOutputs = min;
      this.maxOutputs = max;
      return this;
    }

    public Builder outputs(int exactly) {
      return outputs(exactly, exactly);
    }

    public Builder attr(AttrSpec spec) {
      attrs.put(spec.name(), spec);
      return this;
    }

    public Builder attrs(List<AttrSpec> specs) {
      for (AttrSpec s : specs) {
        attr(s);
      }
      return this;
    }

    public Builder infer(TypeRule rule) {
      this.typeRule = rule;
      return this;
    }

    public Builder eval(Kernel k) {
      this.kernel = k;
      return this;
    }

    /** Marks a random generator: not folded into constants, not merged by CSE. */
    public Builder nondeterministic() {
      this.deterministic = false;
      return this;
    }

    public Builder doc(String text) {
      this.doc = text;
      return this;
    }

    public OpDef build() {
      return new OpDef(this);
    }

    /** Builds and adds to a registry. */
    public OpDef register(OpRegistry registry) {
      OpDef d = build();
      registry.register(d);
      return d;
    }

    List<AttrSpec> attrList() {
      return new ArrayList<>(attrs.values());
    }
  }
}
