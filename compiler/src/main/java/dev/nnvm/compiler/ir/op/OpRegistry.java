package dev.nnvm.compiler.ir.op;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ops.StandardOps;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The operators the compiler knows, by domain and name. */
public final class OpRegistry {
  private static final OpRegistry STANDARD = createStandard();

  private final Map<String, OpDef> ops = new TreeMap<>();

  /** An empty registry (tests, custom operator sets). */
  public OpRegistry() {}

  /** The registry of every built-in operator. Shared and read-only after start-up. */
  public static OpRegistry standard() {
    return STANDARD;
  }

  private static OpRegistry createStandard() {
    OpRegistry r = new OpRegistry();
    StandardOps.registerAll(r);
    return r;
  }

  private static String key(String domain, String name) {
    return Node.normalizeDomain(domain) + "::" + name;
  }

  public synchronized void register(OpDef def) {
    String k = key(def.domain(), def.name());
    if (ops.containsKey(k)) {
      throw new IllegalStateException("operator " + def.qualifiedName() + " registered twice");
    }
    ops.put(k, def);
  }

  public Optional<OpDef> find(String domain, String name) {
    return Optional.ofNullable(ops.get(key(domain, name)));
  }

  /** The definition of a node's operator, or an error naming the node and the operator. */
  public OpDef require(Node node) {
    OpDef d = ops.get(key(node.domain(), node.opType()));
    if (d == null) {
      throw new UnsupportedModelException(
          node.describe() + ": operator " + node.qualifiedOp() + " is not supported (" + ops.size()
              + " operators are; see OpRegistry.standard().all())");
    }
    return d;
  }

  public Collection<OpDef> all() {
    return Collections.unmodifiableCollection(ops.values());
  }

  public int size() {
    return ops.size();
  }

  /**
   * Checks a node against its operator's schema: arity, attribute names,
   * kinds, required attributes and allowed values. Errors name the node.
   */
  public OpDef validate(Node node) {
    OpDef d = require(node);
    int in = node.inputs().size();
    while (in > 0 && node.inputs().get(in - 1).isEmpty()) {
      in--;
    }
    if (in < d.minInputs() || in > d.maxInputs()) {
      throw new ModelException(node.describe() + ": expected " + range(d.minInputs(), d.maxInputs())
          + " inputs, got " + in);
    }
    int out = node.outputs().size();
    if (out < d.minOutputs() || out > d.maxOutputs()) {
      throw new ModelException(node.describe() + ": expected " + range(d.minOutputs(), d.maxOutputs())
          + " outputs, got " + out);
    }
    for (Map.Entry<String, Attribute> e : node.attributes().entrySet()) {
      AttrSpec spec = d.attrs().get(e.getKey());
      if (spec == null) {
        throw new UnsupportedModelException(node.describe() + ": attribute '" + e.getKey()
            + "' is not supported (supported: " + d.attrs().keySet() + ")");
      }
      Attribute a = e.getValue();
      boolean kindOk = a.kind() == spec.kind()
          || (spec.kind() == Attribute.Kind.FLOAT && a.kind() == Attribute.Kind.INT);
      if (!kindOk) {
        throw new ModelException(node.describe() + ": attribute '" + e.getKey() + "' must be "
            + spec.kind() + ", got " + a.kind());
      }
      String violation = spec.violation(a);
      if (violation != null) {
        throw new UnsupportedModelException(node.describe() + ": attribute '" + e.getKey() + "' = " + a
            + " is not supported (allowed: " + violation + ")");
      }
    }
    List<String> missing = new ArrayList<>();
    for (AttrSpec spec : d.attrs().values()) {
      if (spec.isRequired() && node.attribute(spec.name()) == null) {
        missing.add(spec.name());
      }
    }
    if (!missing.isEmpty()) {
      throw new ModelException(node.describe() + ": missing required attribute(s) " + missing);
    }
    return d;
  }

  private static String range(int min, int max) {
    if (min == max) {
      return Integer.toString(min);
    }
    return max == Integer.MAX_VALUE ? "at least " + min : min + " to " + max;
  }
}
