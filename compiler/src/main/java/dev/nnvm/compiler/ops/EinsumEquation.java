package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * A parsed Einsum equation ({@code "bij,bjk->bik"}, {@code "...ii->...i"},
 * {@code "ij,jk"}) and its reference evaluation.
 *
 * <p>How it works: every letter and every dimension covered by an ellipsis
 * becomes a numbered label. Ellipsis dimensions are right-aligned across the
 * inputs and broadcast like numpy (labels 0..E-1); letters follow. Each input
 * gets a stride per label (a label repeated in one term adds its strides: a
 * diagonal; a size-1 dimension gets stride 0: broadcasting). Evaluation walks
 * every combination of label values, output labels outermost, and adds the
 * product of the inputs' elements to the output element. Without "->" the
 * output is the ellipsis dimensions followed by the letters used once, in
 * alphabetical order.
 */
final class EinsumEquation {
  private static final char ELLIPSIS = '*';

  private final List<String> inputTerms;
  private final String outputTerm;

  private EinsumEquation(List<String> inputTerms, String outputTerm) {
    this.inputTerms = inputTerms;
    this.outputTerm = outputTerm;
  }

  /** Parses an equation for the given number of inputs; IllegalArgumentException says what is wrong. */
  static EinsumEquation parse(String equation, int inputs) {
    String eq = equation.replace(" ", "");
    int arrow = eq.indexOf("->");
    String lhs = arrow < 0 ? eq : eq.substring(0, arrow);
    String rhs = arrow < 0 ? null : term(eq.substring(arrow + 2), equation);
    List<String> terms = new ArrayList<>();
    for (String t : lhs.split(",", -1)) {
      terms.add(term(t, equation));
    }
    if (terms.size() != inputs) {
      throw new IllegalArgumentException("equation '" + equation + "' has " + terms.size() + " input terms, node has "
          + inputs + " inputs");
    }
    if (rhs != null) {
      for (int i = 0; i < rhs.length(); i++) {
        char c = rhs.charAt(i);
        if (rhs.indexOf(c) != i) {
          throw new IllegalArgumentException("output label '" + c + "' repeats in equation '" + equation + "'");
        }
        if (c != ELLIPSIS && !lhs.contains(String.valueOf(c))) {
          throw new IllegalArgumentException("output label '" + c + "' is not in any input of '" + equation + "'");
        }
      }
    }
    return new EinsumEquation(terms, rhs);
  }

  private static String term(String t, String equation) {
    String s = t.replace("...", String.valueOf(ELLIPSIS));
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean letter = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
      if (!letter && c != ELLIPSIS) {
        throw new IllegalArgumentException("bad character '" + c + "' in equation '" + equation + "'");
      }
    }
    if (s.indexOf(ELLIPSIS) != s.lastIndexOf(ELLIPSIS)) {
      throw new IllegalArgumentException("more than one ellipsis in a term of '" + equation + "'");
    }
    return s;
  }

  /** Labels of each axis of each input, and of the output, for inputs of the given ranks. */
  private final class Labels {
    final int ellipsisRank;
    final int[][] inputs;
    final int[] output;
    final int count;

    Labels(int[] ranks) {
      int e = 0;
      for (int i = 0; i < ranks.length; i++) {
        String t = inputTerms.get(i);
        int letters = t.length() - (t.indexOf(ELLIPSIS) >= 0 ? 1 : 0);
        if (t.indexOf(ELLIPSIS) >= 0) {
          if (ranks[i] < letters) {
            throw new IllegalArgumentException("input " + i + " has rank " + ranks[i] + ", term '" + t
                + "' needs at least " + letters);
          }
          e = Math.max(e, ranks[i] - letters);
        } else if (ranks[i] != letters) {
          throw new IllegalArgumentException("input " + i + " has rank " + ranks[i] + ", term '" + t + "' has "
              + letters + " labels");
        }
      }
      this.ellipsisRank = e;
      this.inputs = new int[ranks.length][];
      for (int i = 0; i < ranks.length; i++) {
        inputs[i] = axes(inputTerms.get(i), ranks[i]);
      }
      String out = outputTerm != null ? outputTerm : implicitOutput();
      this.output = axes(out, -1);
      this.count = e + 52;
    }

    private String implicitOutput() {
      StringBuilder all = new StringBuilder();
      inputTerms.forEach(all::append);
      TreeSet<Character> once = new TreeSet<>();
      for (int i = 0; i < all.length(); i++) {
        char c = all.charAt(i);
        if (c != ELLIPSIS && all.indexOf(String.valueOf(c)) == all.lastIndexOf(String.valueOf(c))) {
          once.add(c);
        }
      }
      StringBuilder out = new StringBuilder();
      if (all.indexOf(String.valueOf(ELLIPSIS)) >= 0) {
        out.append(ELLIPSIS);
      }
      once.forEach(out::append);
      return out.toString();
    }

    /** Label ids of a term's axes; an ellipsis covers {@code rank - letters} dims (all E for the output). */
    private int[] axes(String term, int rank) {
      int letters = term.length() - (term.indexOf(ELLIPSIS) >= 0 ? 1 : 0);
      int covered = term.indexOf(ELLIPSIS) < 0 ? 0 : rank < 0 ? ellipsisRank : rank - letters;
      int[] ids = new int[letters + covered];
      int k = 0;
      for (int i = 0; i < term.length(); i++) {
        char c = term.charAt(i);
        if (c == ELLIPSIS) {
          for (int j = 0; j < covered; j++) {
            ids[k++] = ellipsisRank - covered + j;
          }
        } else {
          ids[k++] = ellipsisRank + (c >= 'a' ? c - 'a' : 26 + c - 'A');
        }
      }
      return ids;
    }
  }

  /** The output shape for (possibly symbolic) input shapes; unknown rank when an input's rank is unknown. */
  Shape outputShape(List<Shape> shapes) {
    int[] ranks = new int[shapes.size()];
    for (int i = 0; i < ranks.length; i++) {
      if (!shapes.get(i).hasRank()) {
        return Shape.unknownRank();
      }
      ranks[i] = shapes.get(i).rank();
    }
    Labels l = new Labels(ranks);
    Dim[] size = new Dim[l.count];
    for (int i = 0; i < ranks.length; i++) {
      for (int a = 0; a < ranks[i]; a++) {
        size[l.inputs[i][a]] = merge(size[l.inputs[i][a]], shapes.get(i).dim(a), l.inputs[i][a]);
      }
    }
    Dim[] out = new Dim[l.output.length];
    for (int j = 0; j < out.length; j++) {
      out[j] = size[l.output[j]] == null ? Dim.of(1) : size[l.output[j]];
    }
    return Shape.of(out);
  }

  private static Dim merge(Dim have, Dim d, int label) {
    if (have == null || have.isStatic() && have.value() == 1) {
      return d;
    }
    if (d.isStatic() && d.value() == 1 || d.equals(have)) {
      return have;
    }
    if (have.isStatic() && d.isStatic()) {
      throw new IllegalArgumentException("label " + label + " has sizes " + have + " and " + d);
    }
    return have.isStatic() ? have : d;
  }

  /** Evaluates the equation; all inputs have one element type, which the output keeps. */
  Tensor evaluate(List<Tensor> in) {
    int[] ranks = new int[in.size()];
    for (int i = 0; i < ranks.length; i++) {
      ranks[i] = in.get(i).rank();
    }
    Labels l = new Labels(ranks);
    long[] size = new long[l.count];
    Arrays.fill(size, -1);
    long[][] stride = new long[in.size()][l.count];
    for (int i = 0; i < in.size(); i++) {
      long[] shape = in.get(i).shape();
      long[] st = Broadcasting.strides(shape);
      for (int a = 0; a < shape.length; a++) {
        int id = l.inputs[i][a];
        if (size[id] < 0 || size[id] == 1) {
          size[id] = shape[a];
        } else if (shape[a] != 1 && shape[a] != size[id]) {
          throw new IllegalArgumentException("input " + i + " axis " + a + " has size " + shape[a] + ", expected "
              + size[id]);
        }
        if (shape[a] != 1) {
          stride[i][id] += st[a];
        }
      }
    }
    boolean[] isOut = new boolean[l.count];
    long[] outShape = new long[l.output.length];
    for (int j = 0; j < outShape.length; j++) {
      isOut[l.output[j]] = true;
      outShape[j] = Math.max(size[l.output[j]], 1);
    }
    long[] outStride = new long[l.count];
    long[] os = Broadcasting.strides(outShape);
    for (int j = 0; j < outShape.length; j++) {
      outStride[l.output[j]] = os[j];
    }
    int[] order = new int[l.count];
    int used = 0;
    for (int id : l.output) {
      order[used++] = id;
    }
    for (int id = 0; id < l.count; id++) {
      if (size[id] >= 0 && !isOut[id]) {
        order[used++] = id;
      }
    }
    order = Arrays.copyOf(order, used);
    DType t = in.get(0).dtype();
    boolean integral = t.isInteger();
    int outSize = Tensor.elementCount(outShape);
    double[] accD = new double[outSize];
    long[] accL = new long[outSize];
    long total = 1;
    for (int id : order) {
      total *= Math.max(size[id], 0);
      if (size[id] == 0) {
        total = 0;
      }
    }
    long[] idx = new long[l.count];
    for (long step = 0; step < total; step++) {
      int o = 0;
      for (int id : order) {
        o += (int) (idx[id] * outStride[id]);
      }
      double pD = 1;
      long pL = 1;
      for (int i = 0; i < in.size(); i++) {
        long at = 0;
        for (int id : order) {
          at += idx[id] * stride[i][id];
        }
        if (integral) {
          pL *= in.get(i).getLong((int) at);
        } else {
          pD *= in.get(i).getDouble((int) at);
        }
      }
      accD[o] += pD;
      accL[o] += pL;
      for (int k = order.length - 1; k >= 0; k--) {
        int id = order[k];
        if (++idx[id] < size[id]) {
          break;
        }
        idx[id] = 0;
      }
    }
    Object out = Tensor.newStorage(t, outSize);
    for (int k = 0; k < outSize; k++) {
      if (integral) {
        Tensor.setFromLong(t, out, k, accL[k]);
      } else {
        Tensor.setFromDouble(t, out, k, accD[k]);
      }
    }
    return Tensor.of(t, outShape, out);
  }
}
