package dev.nnvm.compiler.ir.op;

import dev.nnvm.compiler.ir.Attribute;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The schema of one operator attribute: name, kind, default value (null when
 * the attribute is required or has no default), and an optional check of its
 * value with a description of what is allowed.
 */
public final class AttrSpec {
  private final String name;
  private final Attribute.Kind kind;
  private final Attribute defaultValue;
  private final boolean required;
  private final Predicate<Attribute> check;
  private final String allowed;

  private AttrSpec(String name, Attribute.Kind kind, Attribute defaultValue, boolean required,
      Predicate<Attribute> check, String allowed) {
    this.name = Objects.requireNonNull(name);
    this.kind = Objects.requireNonNull(kind);
    this.defaultValue = defaultValue;
    this.required = required;
    this.check = check;
    this.allowed = allowed;
  }

  public static AttrSpec of(String name, Attribute.Kind kind) {
    return new AttrSpec(name, kind, null, false, null, null);
  }

  public static AttrSpec required(String name, Attribute.Kind kind) {
    return new AttrSpec(name, kind, null, true, null, null);
  }

  public static AttrSpec ofInt(String name, long dflt) {
    return new AttrSpec(name, Attribute.Kind.INT, Attribute.ofInt(dflt), false, null, null);
  }

  public static AttrSpec ofFloat(String name, float dflt) {
    return new AttrSpec(name, Attribute.Kind.FLOAT, Attribute.ofFloat(dflt), false, null, null);
  }

  public static AttrSpec ofString(String name, String dflt) {
    return new AttrSpec(name, Attribute.Kind.STRING, Attribute.ofString(dflt), false, null, null);
  }

  public static AttrSpec ofInts(String name, long... dflt) {
    return new AttrSpec(name, Attribute.Kind.INTS, Attribute.ofInts(dflt), false, null, null);
  }

  public static AttrSpec ofFloats(String name, float... dflt) {
    return new AttrSpec(name, Attribute.Kind.FLOATS, Attribute.ofFloats(dflt), false, null, null);
  }

  /** Restricts a string attribute to a set of values. */
  public AttrSpec oneOf(String... values) {
    List<String> vs = Arrays.asList(values);
    return new AttrSpec(name, kind, defaultValue, required, a -> vs.contains(a.asString()), "one of " + vs);
  }

  /** Restricts an integer attribute to a set of values. */
  public AttrSpec oneOf(long... values) {
    return new AttrSpec(name, kind, defaultValue, required,
        a -> Arrays.stream(values).anyMatch(v -> v == a.asInt()), "one of " + Arrays.toString(values));
  }

  /** Adds a check on the value; {@code allowed} says in words what passes. */
  public AttrSpec check(Predicate<Attribute> predicate, String allowedDescription) {
    return new AttrSpec(name, kind, defaultValue, required, predicate, allowedDescription);
  }

  public String name() {
    return name;
  }

  public Attribute.Kind kind() {
    return kind;
  }

  /** The default value, or null when there is none. */
  public Attribute defaultValue() {
    return defaultValue;
  }

  public boolean isRequired() {
    return required;
  }

  /** Null when the value is acceptable, else what is allowed. */
  String violation(Attribute value) {
    if (check == null || check.test(value)) {
      return null;
    }
    return allowed;
  }
}
