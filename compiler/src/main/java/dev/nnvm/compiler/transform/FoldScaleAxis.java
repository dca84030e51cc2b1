package dev.nnvm.compiler.transform;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Folds a per-output-channel scale or shift into the weights of the
 * convolution or matrix product before it (NNVM's FoldScaleAxis):
 * <ul>
 *   <li>{@code Mul(Conv(x, W, B), s)} with {@code s} constant per output
 *       channel becomes {@code Conv(x, W * s, B * s)};</li>
 *   <li>{@code Add(Conv(x, W, B), t)} becomes {@code Conv(x, W, B + t)};</li>
 *   <li>{@code Mul(MatMul(x, W), s)} with constant {@code W [K, N]} and
 *       {@code s} per column becomes {@code MatMul(x, W * s)}.</li>
 * </ul>
 * Together with SimplifyInference (BatchNormalization as scale and shift)
 * this removes batch normalization from inference graphs.
 */
public final class FoldScaleAxis extends PatternRewrite {
  public static final FoldScaleAxis INSTANCE = new FoldScaleAxis();

  private FoldScaleAxis() {}

  @Override
  public String name() {
    return "FoldScaleAxis";
  }

  /**
   * Level 2 (NNVM has it at 3): folding batch normalization into the weights
   * is a standard inference rewrite (ONNX Runtime's Conv+BatchNormalization
   * fusion is in its basic level), and it lets the GEMM apply the rest of a
   * convolution group (residual, ReLU) as it stores.
   */
  @Override
  public int minLevel() {
    return 2;
  }

  @Override
  protected Match match(Node op, GraphIndex g, Names names) {
    boolean mul = FuseLayerNorm.is(op, "Mul");
    if (!mul && !FuseLayerNorm.is(op, "Add")) {
      return null;
    }
    for (int side = 0; side < 2; side++) {
      Tensor c = g.constant(op.input(1 - side));
      if (c == null) {
        continue;
      }
      Node conv = g.producer(op.input(side), "Conv").orElse(null);
      if (conv != null) {
        Match m = foldIntoConv(op, conv, c, mul, g, names);
        if (m != null) {
          return m;
        }
      }
      Node mm = g.producer(op.input(side), "MatMul").orElse(null);
      if (mm != null && mul) {
        Match m = foldIntoMatMul(op, mm, c, g, names);
        if (m != null) {
          return m;
        }
      }
    }
    return null;
  }

  private Match foldIntoConv(Node op, Node conv, Tensor c, boolean mul, GraphIndex g, Names names) {
    Tensor w = g.constant(conv.input(1));
    Optional<TensorType> outType = g.type(conv.output(0));
    if (w == null || outType.isEmpty() || !outType.get().shape().hasRank()
        || (conv.hasInput(2) && g.constant(conv.input(2)) == null) || w.dtype() != c.dtype()
        || !w.dtype().isFloatingPoint()) {
      return null;
    }
    int outChannels = (int) w.dim(0);
    double[] perChannel = perAxis(c, outType.get().shape().rank(), 1, outChannels);
    if (perChannel == null || !g.type(op.output(0)).equals(outType)) {
      return null;
    }
    double[] bias = new double[outChannels];
    if (conv.hasInput(2)) {
      Tensor b = g.constant(conv.input(2));
      for (int i = 0; i < outChannels; i++) {
        bias[i] = b.getDouble(i);
      }
    }
    List<String> inputs = new ArrayList<>(List.of(conv.input(0), conv.input(1)));
    Map<String, Tensor> added = new java.util.LinkedHashMap<>();
    if (mul) {
      double[] wv = w.toDoubleArray();
      int per = wv.length / outChannels;
      for (int i = 0; i < wv.length; i++) {
        wv[i] *= perChannel[i / per];
      }
      for (int i = 0; i < outChannels; i++) {
        bias[i] *= perChannel[i];
      }
      String wName = names.fresh(conv.input(1) + "/scaled");
      added.put(wName, Tensor.fromDoubles(w.dtype(), w.shape(), wv));
      inputs.set(1, wName);
    } else {
      for (int i = 0; i < outChannels; i++) {
        bias[i] += perChannel[i];
      }
    }
    if (mul && !conv.hasInput(2)) {
      return new Match(List.of(conv, op), List.of(conv.withInputs(inputs).withOutputs(op.outputs())), added);
    }
    String bName = names.fresh((conv.hasInput(2) ? conv.input(2) : conv.output(0) + "/bias") + "/folded");
    added.put(bName, Tensor.fromDoubles(w.dtype(), new long[] {outChannels}, bias));
    inputs.add(bName);
    return new Match(List.of(conv, op), List.of(conv.withInputs(inputs).withOutputs(op.outputs())), added);
  }

  private Match foldIntoMatMul(Node op, Node mm, Tensor c, GraphIndex g, Names names) {
    Tensor w = g.constant(mm.input(1));
    Optional<TensorType> outType = g.type(mm.output(0));
    if (w == null || w.rank() != 2 || outType.isEmpty() || !outType.get().shape().hasRank()
        || w.dtype() != c.dtype() || !w.dtype().isFloatingPoint() || !g.type(op.output(0)).equals(outType)) {
      return null;
    }
    int rank = outType.get().shape().rank();
    int cols = (int) w.dim(1);
    double[] perColumn = perAxis(c, rank, rank - 1, cols);
    if (perColumn == null) {
      return null;
    }
    double[] wv = w.toDoubleArray();
    for (int i = 0; i < wv.length; i++) {
      wv[i] *= perColumn[i % cols];
    }
    String wName = names.fresh(mm.input(1) + "/scaled");
    Node folded = mm.withInputs(List.of(mm.input(0), wName)).withOutputs(op.outputs());
    return new Match(List.of(mm, op), List.of(folded), Map.of(wName, Tensor.fromDoubles(w.dtype(), w.shape(), wv)));
  }

  /**
   * The per-index values of a constant that varies only along {@code axis} of
   * a result of rank {@code rank} (right-aligned broadcasting), expanded to
   * {@code size} entries; null when it varies along another axis.
   */
  static double[] perAxis(Tensor c, int rank, int axis, int size) {
    if (c.rank() > rank) {
      return null;
    }
    int offset = rank - c.rank();
    for (int i = 0; i < c.rank(); i++) {
      if (i + offset != axis && c.dim(i) != 1) {
        return null;
      }
    }
    int axisInC = axis - offset;
    long along = axisInC >= 0 ? c.dim(axisInC) : 1;
    if (along != 1 && along != size) {
      return null;
    }
    double[] out = new double[size];
    for (int i = 0; i < size; i++) {
      out[i] = c.getDouble(along == 1 ? 0 : i);
    }
    return out;
  }
}
