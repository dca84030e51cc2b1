package dev.nnvm.compiler.ir.op;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;

/**
 * What a type rule or kernel sees of the node it works on: its attributes
 * (with schema defaults filled in), the opset version, and error helpers that
 * name the node.
 */
public abstract class OpContext {
  private final Node node;
  private final OpDef def;
  private final int opset;

  protected OpContext(Node node, OpDef def, int opset) {
    this.node = node;
    this.def = def;
    this.opset = opset;
  }

  public Node node() {
    return node;
  }

  public OpDef def() {
    return def;
  }

  /** The opset version of the node's domain that the model imports. */
  public int opset() {
    return opset;
  }

  /** Number of input slots written on the node (omitted optional ones in the middle count). */
  public int inputCount() {
    return node.inputs().size();
  }

  public boolean hasInput(int i) {
    return node.hasInput(i);
  }

  public int outputCount() {
    return node.outputs().size();
  }

  /** True when the node sets the attribute itself (not a default). */
  public boolean hasAttr(String name) {
    return node.attribute(name) != null;
  }

  /** The attribute as set, else its schema default, else null. */
  public Attribute attr(String name) {
    Attribute a = node.attribute(name);
    if (a != null) {
      return a;
    }
    AttrSpec spec = def.attrs().get(name);
    if (spec == null) {
      throw new IllegalStateException(def.qualifiedName() + " declares no attribute '" + name + "'");
    }
    return spec.defaultValue();
  }

  private Attribute need(String name) {
    Attribute a = attr(name);
    if (a == null) {
      throw error("missing required attribute '%s'", name);
    }
    return a;
  }

  public long attrInt(String name) {
    return need(name).asInt();
  }

  public float attrFloat(String name) {
    return need(name).asFloat();
  }

  public String attrString(String name) {
    return need(name).asString();
  }

  /** An ints attribute, or null when neither set nor defaulted. */
  public long[] attrInts(String name) {
    Attribute a = attr(name);
    return a == null ? null : a.asInts();
  }

  /** A floats attribute, or null when neither set nor defaulted. */
  public float[] attrFloats(String name) {
    Attribute a = attr(name);
    return a == null ? null : a.asFloats();
  }

  public Tensor attrTensor(String name) {
    return need(name).asTensor();
  }

  public Graph attrGraph(String name) {
    return need(name).asGraph();
  }

  /** An exception whose message starts with the node: {@code Conv 'conv1': ...}. */
  public ModelException error(String format, Object... args) {
    return new ModelException(node.describe() + ": " + String.format(format, args));
  }

  /** Normalizes a possibly negative axis against a rank, or fails naming the attribute. */
  public int axis(long axis, int rank, String what) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= Math.max(rank, 1) && !(rank == 0 && a == 0)) {
      throw error("%s %d is out of range for rank %d", what, axis, rank);
    }
    return (int) a;
  }
}
