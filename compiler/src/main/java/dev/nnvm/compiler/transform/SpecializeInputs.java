package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fixes the shapes of graph inputs before optimization: a model exported
 * with free dimensions ({@code [?, 3, ?, ?]}) is compiled for the image size
 * it will see, while dimensions left symbolic (the batch) stay symbolic.
 * Intermediate types are dropped so type inference derives them again.
 */
public final class SpecializeInputs {
  private SpecializeInputs() {}

  /**
   * @param shapes new shapes by input name; each must have the declared rank
   *     and agree with every static declared dimension
   */
  public static Graph apply(Graph g, Map<String, Shape> shapes) {
    if (shapes.isEmpty()) {
      return g;
    }
    Map<String, Shape> left = new LinkedHashMap<>(shapes);
    List<ValueInfo> inputs = new ArrayList<>();
    for (ValueInfo in : g.inputs()) {
      Shape s = left.remove(in.name());
      inputs.add(s == null ? in : new ValueInfo(in.name(), new TensorType(in.type().dtype(), merge(in, s))));
    }
    if (!left.isEmpty()) {
      List<String> names = new ArrayList<>();
      g.inputs().forEach(v -> names.add(v.name()));
      throw new ModelException("no input named " + left.keySet() + "; the model's inputs are " + names);
    }
    return g.toBuilder().inputs(inputs).valueTypes(Map.of()).build();
  }

  private static Shape merge(ValueInfo in, Shape want) {
    Shape have = in.type().shape();
    if (!have.hasRank()) {
      return want;
    }
    if (!want.hasRank() || want.rank() != have.rank()) {
      throw new ModelException("input '" + in.name() + "' has rank " + have.rank() + " " + have + ", cannot give it shape "
          + want);
    }
    for (int i = 0; i < have.rank(); i++) {
      Dim h = have.dim(i);
      Dim w = want.dim(i);
      if (h.isStatic() && !h.equals(w)) {
        throw new ModelException("input '" + in.name() + "' dimension " + i + " is " + h + ", cannot make it " + w);
      }
    }
    return want;
  }
}
