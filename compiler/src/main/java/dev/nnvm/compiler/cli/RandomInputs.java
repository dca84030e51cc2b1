package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Makes random values for the model inputs the user did not give.
 *
 * <p>Sizes of symbolic dimensions come from {@code --dim} bindings and from
 * the inputs that were given (an input file of shape [2, 7] for
 * {@code [batch, seq]} binds batch=2, seq=7); a binding that contradicts a
 * given input is an error, and so is a symbolic dimension nobody sized.
 * Floating inputs are uniform in [-1, 1), integer inputs uniform in the
 * inclusive {@code --int-range} (checked against the type's range), bool
 * inputs fair coin flips. The same seed gives the same values.
 */
final class RandomInputs {
  private final Map<String, Long> dims;
  private final IntRange intRange;
  private final long seed;

  RandomInputs(Map<String, Long> dims, IntRange intRange, long seed) {
    this.dims = Map.copyOf(dims);
    this.intRange = intRange;
    this.seed = seed;
  }

  /** Random tensors for every non-constant input of {@code graph} missing from {@code given}. */
  Map<String, Tensor> complete(Graph graph, Map<String, Tensor> given) {
    checkBindingsAreUsed(graph);
    Map<String, Long> sizes = sizesFromGivenInputs(graph, given);
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (ValueInfo in : graph.inputs()) {
      if (given.containsKey(in.name()) || graph.constants().containsKey(in.name())) {
        continue;
      }
      long[] shape = concreteShape(in, sizes);
      out.put(in.name(), random(in, shape, random));
    }
    return out;
  }

  private void checkBindingsAreUsed(Graph graph) {
    Set<String> symbols = new LinkedHashSet<>();
    for (ValueInfo in : graph.inputs()) {
      Shape s = in.type().shape();
      if (s.hasRank()) {
        for (Dim d : s.dims()) {
          if (d.isSymbolic()) {
            symbols.add(d.symbol());
          }
        }
      }
    }
    for (String name : dims.keySet()) {
      if (!symbols.contains(name)) {
        throw new CliException("--dim " + name + ": no model input has a dimension named '" + name
            + "'; the symbolic dimensions are " + symbols);
      }
    }
  }

  private Map<String, Long> sizesFromGivenInputs(Graph graph, Map<String, Tensor> given) {
    Map<String, Long> sizes = new HashMap<>(dims);
    Map<String, String> source = new HashMap<>();
    dims.keySet().forEach(k -> source.put(k, "--dim " + k + "=" + dims.get(k)));
    for (ValueInfo in : graph.inputs()) {
      Tensor t = given.get(in.name());
      Shape s = in.type().shape();
      if (t == null || !s.hasRank() || s.rank() != t.rank()) {
        continue;
      }
      for (int i = 0; i < s.rank(); i++) {
        Dim d = s.dim(i);
        if (!d.isSymbolic()) {
          continue;
        }
        Long prev = sizes.putIfAbsent(d.symbol(), t.dim(i));
        if (prev == null) {
          source.put(d.symbol(), "input '" + in.name() + "'");
        } else if (prev != t.dim(i)) {
          throw new CliException("input '" + in.name() + "' has " + d.symbol() + " = " + t.dim(i) + " (dimension " + i
              + "), but " + source.get(d.symbol()) + " set " + d.symbol() + " = " + prev);
        }
      }
    }
    return sizes;
  }

  private static long[] concreteShape(ValueInfo in, Map<String, Long> sizes) {
    Shape s = in.type().shape();
    if (!s.hasRank()) {
      throw new CliException("input '" + in.name() + "' has an unknown rank, so no random value can be made for it;"
          + " pass it with --input " + in.name() + "=FILE.pb");
    }
    long[] shape = new long[s.rank()];
    List<String> unbound = new ArrayList<>();
    for (int i = 0; i < shape.length; i++) {
      Dim d = s.dim(i);
      if (d.isStatic()) {
        shape[i] = d.value();
      } else if (d.isSymbolic() && sizes.containsKey(d.symbol())) {
        shape[i] = sizes.get(d.symbol());
      } else if (d.isSymbolic()) {
        unbound.add(d.symbol());
      } else {
        throw new CliException("input '" + in.name() + "' " + s + ": dimension " + i
            + " has neither a size nor a name; pass the input with --input " + in.name() + "=FILE.pb");
      }
    }
    if (!unbound.isEmpty()) {
      StringBuilder hint = new StringBuilder();
      for (String u : unbound) {
        hint.append(" --dim ").append(u).append("=N");
      }
      throw new CliException("input '" + in.name() + "' " + s + ": symbolic dimension"
          + (unbound.size() > 1 ? "s " : " ") + String.join(", ", unbound) + " need" + (unbound.size() > 1 ? "" : "s")
          + " a size; add" + hint);
    }
    return shape;
  }

  private Tensor random(ValueInfo in, long[] shape, SplittableRandom random) {
    DType d = in.type().dtype();
    int n;
    try {
      n = Tensor.elementCount(shape);
    } catch (ArithmeticException e) {
      throw new CliException("input '" + in.name() + "' of shape " + Shape.toString(shape) + " is too large");
    }
    Object storage = Tensor.newStorage(d, n);
    if (d.isFloatingPoint()) {
      for (int i = 0; i < n; i++) {
        Tensor.setFromDouble(d, storage, i, random.nextDouble(-1.0, 1.0));
      }
    } else if (d.isInteger()) {
      checkRangeFits(in.name(), d);
      for (int i = 0; i < n; i++) {
        ((long[]) storage)[i] = intRange.lo() + random.nextLong(intRange.hi() - intRange.lo() + 1);
      }
    } else if (d == DType.BOOL) {
      for (int i = 0; i < n; i++) {
        ((boolean[]) storage)[i] = random.nextBoolean();
      }
    } else {
      throw new CliException("input '" + in.name() + "' has element type " + d
          + ", which --random-inputs cannot make up; pass it with --input " + in.name() + "=FILE.pb");
    }
    return Tensor.of(d, shape, storage);
  }

  private void checkRangeFits(String input, DType d) {
    boolean fits = Tensor.wrap(d, intRange.lo()) == intRange.lo() && Tensor.wrap(d, intRange.hi()) == intRange.hi()
        && (d.isSigned() || intRange.lo() >= 0)
        && intRange.hi() - intRange.lo() >= 0 && intRange.hi() - intRange.lo() < Long.MAX_VALUE;
    if (!fits) {
      throw new CliException("--int-range " + intRange + " does not fit input '" + input + "' of type " + d);
    }
  }
}
