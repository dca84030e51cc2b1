package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.runtime.DType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Recognizes convolutions on the blocked layout NCHW{b}c ({@code nnvm.ConvNCHWc} from AlterOpLayout,
 * one group, unit dilations, float, static sizes; alone or the master of a fused group) and says how
 * to run them with the register-blocked direct convolution
 * ({@link dev.nnvm.compiler.codegen.llvm.BlockedConvGenerator}): per batch item, the image is copied
 * zero-padded into scratch when the convolution pads, then the kernel reads it in place, tap by tap.
 */
public final class BlockedConvolutions {
  private BlockedConvolutions() {}

  /**
   * One blocked convolution.
   *
   * @param x the blocked input [N, C/b, H, W, b]
   * @param weights the packed weights constant [O/b, C/b, KH, KW, b, b] (see ops BlockedLayoutOps)
   * @param bias the bias [O], or null
   * @param output the buffer the kernel writes (the group's output)
   * @param result the convolution's own value (read by a loop epilogue, stored in {@code output})
   * @param in {C, H, W}; {@code out} {O, OH, OW}; {@code kernel} {KH, KW}; {@code strides} {SH, SW};
   *     {@code pads} {top, left, bottom, right}
   * @param epilogue a fused node computing the output from {@code result}, or null
   * @param store the residual Add and ReLU applied as the kernel stores, or null
   */
  public record Plan(String x, String weights, String bias, String output, String result, Expr batches, int block,
      long[] in, long[] out, long[] kernel, long[] strides, long[] pads, Node epilogue,
      MatrixProducts.StoreEpilogue store) {
    Plan withEpilogue(String output, Node epilogue, MatrixProducts.StoreEpilogue store) {
      return new Plan(x, weights, bias, output, result, batches, block, in, out, kernel, strides, pads, epilogue,
          store);
    }

    /** Whether the image is copied zero-padded before the kernel reads it. */
    public boolean padded() {
      return pads[0] + pads[1] + pads[2] + pads[3] > 0;
    }

    public long paddedRows() {
      return in[1] + pads[0] + pads[2];
    }

    public long paddedCols() {
      return in[2] + pads[1] + pads[3];
    }

    /** Floats of the padded copy of one image. */
    public long paddedElements() {
      return in[0] * paddedRows() * paddedCols();
    }

    /** Taps: input channel blocks x KH x KW. */
    public long taps() {
      return in[0] / block * kernel[0] * kernel[1];
    }

    /**
     * Whether the output runs as one row of OH * OW pixels: a 1x1 convolution with unit strides and no
     * padding reads consecutive pixels consecutively, so rows narrower than a register block (7x7) join.
     */
    public boolean flat(int rows) {
      return kernel[0] == 1 && kernel[1] == 1 && strides[0] == 1 && strides[1] == 1 && !padded() && out[2] < rows;
    }

    /** {OH, OW} as the kernel walks them. */
    public long[] walk(int rows) {
      return flat(rows) ? new long[] {1, out[1] * out[2]} : new long[] {out[1], out[2]};
    }

    /** Floats between the windows of consecutive output rows and pixels of the (padded) image. */
    public long[] steps(int rows) {
      return flat(rows) ? new long[] {0, block} : new long[] {strides[0] * paddedCols() * block, strides[1] * block};
    }

    /** Per tap (input block, kernel row, kernel column): floats from a window's origin. */
    public long[] offsets() {
      long[] o = new long[Math.toIntExact(taps())];
      int at = 0;
      for (long cb = 0; cb < in[0] / block; cb++) {
        for (long y = 0; y < kernel[0]; y++) {
          for (long x = 0; x < kernel[1]; x++) {
            o[at++] = ((cb * paddedRows() + y) * paddedCols() + x) * block;
          }
        }
      }
      return o;
    }

    /** Floats between batch items of the input and of the output. */
    public long imageStride() {
      return in[0] * in[1] * in[2];
    }

    public long outputStride() {
      return out[0] * out[1] * out[2];
    }
  }

  /** The weights-blob name of blocked convolution weights packed in strips of {@code nr} output channels. */
  public static String packedName(String weights, int nr) {
    return weights + "#packed-nchwc-nr" + nr;
  }

  /** The plan for {@code node}, or null when it is not a blocked convolution this path handles. */
  public static Plan plan(Node node, Graph graph) {
    if (node.domain().equals(NnvmOps.DOMAIN) && node.opType().equals(NnvmOps.FUSED)) {
      Graph body = node.attribute("body").asGraph();
      if (body.nodes().isEmpty() || body.outputs().size() != 1) {
        return null;
      }
      Node master = body.nodes().get(0);
      Plan p = conv(master, t -> body.typeOf(t).or(() -> graph.typeOf(t)).orElse(null));
      TensorType resultType = p == null ? null : body.typeOf(master.output(0)).orElse(null);
      if (resultType == null || !resultType.equals(body.outputs().get(0).type())) {
        return null;
      }
      return p.withEpilogue(body.outputs().get(0).name(), MatrixProducts.epilogue(node, body, master, resultType),
          MatrixProducts.storeEpilogue(body, master, resultType));
    }
    return conv(node, t -> graph.typeOf(t).orElse(null));
  }

  private static Plan conv(Node n, java.util.function.Function<String, TensorType> types) {
    if (!n.domain().equals(NnvmOps.DOMAIN) || !n.opType().equals("ConvNCHWc")) {
      return null;
    }
    int block = (int) n.attribute("block").asInt();
    if (n.attribute("weight_block_in").asInt() != block
        || n.attribute("group") != null && n.attribute("group").asInt() != 1 || !MatrixProducts.allOnes(n, "dilations")) {
      return null;
    }
    TensorType x = types.apply(n.input(0));
    TensorType w = types.apply(n.input(1));
    TensorType y = types.apply(n.output(0));
    if (x == null || w == null || y == null || x.dtype() != DType.FLOAT32 || w.dtype() != DType.FLOAT32
        || y.dtype() != DType.FLOAT32 || !x.shape().hasRank() || x.shape().rank() != 5 || !y.shape().hasRank()
        || y.shape().rank() != 5 || !w.shape().hasRank() || w.shape().rank() != 6) {
      return null;
    }
    long[] xs = MatrixProducts.staticDims(x.shape().dims().subList(1, 5));
    long[] ys = MatrixProducts.staticDims(y.shape().dims().subList(1, 5));
    long[] ws = MatrixProducts.staticDims(w.shape().dims());
    if (xs == null || ys == null || ws == null || xs[3] != block || ys[3] != block || ws[4] != block
        || ws[5] != block || ws[1] != xs[0] || ws[0] != ys[0]) {
      return null;
    }
    String bias = null;
    if (n.hasInput(2)) {
      TensorType bt = types.apply(n.input(2));
      if (bt == null || bt.dtype() != DType.FLOAT32 || !bt.shape().equals(dev.nnvm.runtime.Shape.of(ys[0] * block))) {
        return null;
      }
      bias = n.input(2);
    }
    long[] strides = n.attribute("strides") == null ? new long[] {1, 1} : n.attribute("strides").asInts();
    long[] pads = n.attribute("pads") == null ? new long[4] : n.attribute("pads").asInts();
    if (strides.length != 2 || pads.length != 4) {
      return null;
    }
    return new Plan(n.input(0), n.input(1), bias, n.output(0), n.output(0), Exprs.dim(x.shape().dim(0)), block,
        new long[] {xs[0] * block, xs[1], xs[2]}, new long[] {ys[0] * block, ys[1], ys[2]},
        new long[] {ws[2], ws[3]}, strides, pads, null, null);
  }

  /**
   * The constants only blocked convolutions read, as their packed weights for strips of {@code nr} output
   * channels: name in the weights blob to the packed tensor (the plain ones are then not stored).
   */
  public static Map<String, Tensor> prepack(Graph graph, Map<String, Tensor> constants, int nr) {
    Map<String, Integer> reads = new LinkedHashMap<>();
    for (Node n : graph.nodes()) {
      for (String in : n.inputs()) {
        reads.merge(in, 1, Integer::sum);
      }
    }
    graph.outputs().forEach(o -> reads.merge(o.name(), 2, Integer::sum));
    Map<String, Tensor> packed = new LinkedHashMap<>();
    for (Node n : graph.nodes()) {
      Plan p = plan(n, graph);
      Tensor w = p == null ? null : constants.get(p.weights());
      if (w == null || reads.get(p.weights()) != 1 || nr != 2 * p.block()
          || p.epilogue() != null && p.epilogue().inputs().contains(p.weights())) {
        continue;
      }
      float[] plain = unpack(w.floats(), p);
      float[] strips = dev.nnvm.compiler.codegen.llvm.BlockedConvGenerator.packWeights(plain,
          Math.toIntExact(p.out()[0]), Math.toIntExact(p.in()[0]), Math.toIntExact(p.kernel()[0]),
          Math.toIntExact(p.kernel()[1]), p.block(), nr);
      packed.put(p.weights(), Tensor.ofFloats(new long[] {strips.length}, strips));
    }
    return packed;
  }

  /** [O/b, I/b, KH, KW, b, b] -> [O, I, KH, KW]. */
  private static float[] unpack(float[] w6, Plan p) {
    int b = p.block();
    int o = Math.toIntExact(p.out()[0]);
    int i = Math.toIntExact(p.in()[0]);
    int kh = Math.toIntExact(p.kernel()[0]);
    int kw = Math.toIntExact(p.kernel()[1]);
    float[] plain = new float[o * i * kh * kw];
    for (int oc = 0; oc < o; oc++) {
      for (int ic = 0; ic < i; ic++) {
        for (int y = 0; y < kh; y++) {
          for (int x = 0; x < kw; x++) {
            int from = (((((oc / b) * (i / b) + ic / b) * kh + y) * kw + x) * b + ic % b) * b + oc % b;
            plain[((oc * i + ic) * kh + y) * kw + x] = w6[from];
          }
        }
      }
    }
    return plain;
  }

  /**
   * The copy of one blocked image [C/b, H, W, b] into [C/b, Hp, Wp, b] with zeros around it (rows of
   * {@code Wp * b} floats: zeros, the row's pixels, zeros).
   */
  public static Kernel padKernel(String name, Plan p) {
    long b = p.block();
    long blocks = p.in()[0] / b;
    long h = p.in()[1];
    long w = p.in()[2];
    long hp = p.paddedRows();
    long rowFloats = p.paddedCols() * b;
    BufferRef image = new BufferRef(p.x(), DType.FLOAT32, List.of(Exprs.i64(p.imageStride())));
    BufferRef padded = new BufferRef(p.x() + ".padded", DType.FLOAT32, List.of(Exprs.i64(p.paddedElements())));
    Expr.Var c = new Expr.Var("bc");
    Expr.Var r = new Expr.Var("br");
    Expr.Var q = new Expr.Var("bq");
    WindowKernels.SourceRow src = WindowKernels.SourceRow.of(Exprs.add(r, Exprs.i64(-p.pads()[0])), h);
    Expr rowBase = Exprs.mul(Exprs.add(Exprs.mul(c, Exprs.i64(hp)), r), Exprs.i64(rowFloats));
    long lo = p.pads()[1] * b;
    Expr srcRow = Exprs.mul(Exprs.add(Exprs.mul(c, Exprs.i64(h)), src.clamped()), Exprs.i64(w * b));
    Stmt row = WindowKernels.zerosCopyZeros(padded, rowBase, q, lo, lo + w * b, rowFloats,
        col -> new Expr.Load(image, Exprs.add(srcRow, Exprs.add(col, Exprs.i64(-lo)))), src.inside(), DType.FLOAT32);
    Stmt body = new Stmt.For(c, Exprs.i64(blocks), new Stmt.For(r, Exprs.i64(hp), row, Stmt.ForKind.SERIAL),
        Stmt.ForKind.PARALLEL);
    return new Kernel(name, List.of(image), List.of(padded), List.of(), body);
  }
}
