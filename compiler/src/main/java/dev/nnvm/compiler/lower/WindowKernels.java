package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.lower.Expr.BinaryOp;
import dev.nnvm.compiler.lower.Expr.CompareOp;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.compiler.ops.PoolOps;
import dev.nnvm.compiler.ops.Window;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Sliding-window operators (Conv, nnvm.ConvNCHWc, ConvTranspose, MaxPool, AveragePool) as
 * accumulations: one output element is a scalar accumulator run over the
 * window (and, for convolutions, the input channels of the element's group),
 * then a final value. Gemm products that the packed GEMM does not take
 * (transposed operands, alpha or beta other than 1) are accumulations over K
 * the same way. The kernel lowering wraps it in loops over the output
 * and evaluates the fused epilogue (bias, activation, residual) on the value
 * at the same index, so a fused convolution group is one loop nest.
 *
 * <p>Padding: a window position outside the input is read at the clamped
 * (in-bounds) position and its value selected away, so the generated code
 * never reads outside a buffer.
 */
final class WindowKernels {
  /** The statements that accumulate one output element, and its value afterwards. */
  record Accumulation(Stmt body, Expr value) {}

  private WindowKernels() {}

  /** Whether {@code n} is lowered as an accumulation here. */
  static boolean handles(Node n) {
    if (n.domain().equals(NnvmOps.DOMAIN)) {
      return n.opType().equals("ConvNCHWc");
    }
    return n.domain().isEmpty()
        && List.of("Conv", "ConvTranspose", "MaxPool", "AveragePool", "Gemm", "ArgMax", "ArgMin")
            .contains(n.opType());
  }

  /** The accumulation of output element {@code out} (a multi-index into output 0) of a node it handles. */
  static Accumulation accumulate(LowerContext ctx, List<Expr> out) {
    Node n = ctx.node();
    switch (n.opType()) {
      case "Conv":
        return conv(ctx, out, plainConv(ctx));
      case "ConvNCHWc":
        return conv(ctx, out, blockedConv(ctx, out));
      case "ConvTranspose":
        return convTranspose(ctx, out);
      case "Gemm":
        return gemm(ctx, out);
      case "ArgMax":
        return argExtreme(ctx, out, true);
      case "ArgMin":
        return argExtreme(ctx, out, false);
      case "MaxPool":
        if (n.outputs().size() > 1 && !n.output(1).isEmpty()) {
          throw new UnsupportedModelException(n.describe() + ": MaxPool's Indices output cannot be compiled");
        }
        return pool(ctx, out, true);
      default:
        return pool(ctx, out, false);
    }
  }

  /**
   * How a convolution reads its operands in plain coordinates: the input at
   * [n, channel, spatial...], the weights at [m, c, kernel...]; its output
   * channel from the output index, and its spatial output positions.
   */
  private record Operands(Function<List<Expr>, Expr> x, Function<List<Expr>, Expr> w, List<Expr> inSpatial,
      long[] kernel, long inPerGroup, long outChannels, Expr n, Expr m, List<Expr> outSpatial) {}

  private static Operands plainConv(LowerContext ctx) {
    TensorType w = ctx.inputType(1);
    List<Expr> xDims = LowerContext.dims(ctx.inputType(0));
    long[] kernel = new long[w.shape().rank() - 2];
    for (int i = 0; i < kernel.length; i++) {
      kernel[i] = staticDim(ctx, w.shape().dim(i + 2));
    }
    return new Operands(idx -> ctx.input(0, idx), idx -> ctx.input(1, idx), xDims.subList(2, xDims.size()), kernel,
        staticDim(ctx, w.shape().dim(1)), staticDim(ctx, w.shape().dim(0)), null, null, null);
  }

  /** NCHW{b}c data and weights packed as [O/b, I/bi, KH, KW, bi, b] (see ops BlockedLayoutOps). */
  private static Operands blockedConv(LowerContext ctx, List<Expr> out) {
    Expr b = Exprs.i64(ctx.attrInt("block"));
    Expr bi = Exprs.i64(ctx.attrInt("weight_block_in"));
    TensorType w = ctx.inputType(1);
    List<Expr> xDims = LowerContext.dims(ctx.inputType(0));
    long[] kernel = {staticDim(ctx, w.shape().dim(2)), staticDim(ctx, w.shape().dim(3))};
    Function<List<Expr>, Expr> x = idx -> ctx.input(0, List.of(idx.get(0), Exprs.div(idx.get(1), b), idx.get(2),
        idx.get(3), Exprs.rem(idx.get(1), b)));
    Function<List<Expr>, Expr> wAt = idx -> ctx.input(1, List.of(Exprs.div(idx.get(0), b), Exprs.div(idx.get(1), bi),
        idx.get(2), idx.get(3), Exprs.rem(idx.get(1), bi), Exprs.rem(idx.get(0), b)));
    long inPerGroup = staticDim(ctx, w.shape().dim(1)) * ctx.attrInt("weight_block_in");
    long outChannels = staticDim(ctx, w.shape().dim(0)) * ctx.attrInt("block");
    Expr m = Exprs.add(Exprs.mul(out.get(1), b), out.get(4));
    return new Operands(x, wAt, xDims.subList(2, 4), kernel, inPerGroup, outChannels, out.get(0), m,
        out.subList(2, 4));
  }

  /**
   * ArgMax / ArgMin along {@code axis}: one pass keeping the best value and
   * its index; ties keep the first index, or the last with
   * {@code select_last_index}.
   */
  private static Accumulation argExtreme(LowerContext ctx, List<Expr> out, boolean max) {
    TensorType xt = ctx.inputType(0);
    int rank = xt.shape().rank();
    int axis = (int) ctx.attrInt("axis");
    axis = axis < 0 ? axis + rank : axis;
    boolean keep = ctx.attrInt("keepdims") != 0;
    boolean last = ctx.attrInt("select_last_index") != 0;
    Expr.Var k = new Expr.Var("ak");
    List<Expr> idx = new ArrayList<>(out);
    if (keep) {
      idx.set(axis, k);
    } else {
      idx.add(axis, k);
    }
    Expr x = ctx.input(0, idx);
    Expr.Local best = new Expr.Local("best", xt.dtype());
    Expr.Local at = new Expr.Local("best_at", DType.INT64);
    CompareOp better = max ? (last ? CompareOp.GE : CompareOp.GT) : (last ? CompareOp.LE : CompareOp.LT);
    Expr wins = Exprs.compare(better, x, best);
    // The index first: it compares against the best value before this element.
    Stmt step = new Stmt.Seq(List.of(new Stmt.Assign(at, Exprs.select(wins, k, at)),
        new Stmt.Assign(best, Exprs.select(wins, x, best))));
    List<Expr> first = new ArrayList<>(idx);
    first.set(axis, Exprs.i64(0));
    Stmt loop = new Stmt.For(k, LowerContext.dims(xt).get(axis), step, Stmt.ForKind.SERIAL);
    return new Accumulation(new Stmt.Seq(List.of(new Stmt.Declare(best, ctx.input(0, first)),
        new Stmt.Declare(at, Exprs.i64(0)), loop)), at);
  }

  private static Accumulation conv(LowerContext ctx, List<Expr> out, Operands ops) {
    Sum sum = convSum(ctx, out, ops);
    Expr.Local acc = new Expr.Local("acc", sum.init().type());
    Stmt step = new Stmt.Assign(acc, Exprs.value(BinaryOp.ADD, acc, sum.term()));
    return new Accumulation(new Stmt.Seq(List.of(new Stmt.Declare(acc, sum.init()), sum.loops().apply(step))), acc);
  }

  /**
   * A sum spelled out: its start value, the term each step adds, and the
   * loops around a step.
   */
  record Sum(Expr init, Expr term, Function<Stmt, Stmt> loops) {}

  /**
   * For nnvm.ConvNCHWc, the sum of output element {@code out} (whose last
   * index is the channel lane): a kernel may run it for all lanes of a pixel
   * at once, accumulating in the output, so the lane loop is the innermost,
   * contiguous in the output and the packed weights, and vectorizes.
   */
  static Optional<Sum> laneSum(LowerContext ctx, List<Expr> out) {
    Node n = ctx.node();
    if (!n.domain().equals(NnvmOps.DOMAIN) || !n.opType().equals("ConvNCHWc")) {
      return Optional.empty();
    }
    return Optional.of(convSum(ctx, out, blockedConv(ctx, out)));
  }

  /**
   * A 2-D ConvTranspose whose kernel equals its stride, without padding,
   * dilation or groups (the upsampling of segmentation decoders): output
   * pixel (i*sh + a, j*sw + b) is bias + sum over input channels c of
   * W[c, m, a, b] * X[n, c, i, j], one tap each. Lowered as tiles: for an
   * output row, a loop over input columns j (contiguous in X) writes the sw
   * pixels of each tile, so it vectorizes.
   */
  record UpsamplingTiles(long sh, long sw, long channelsIn, long inH, long inW, LowerContext ctx) {
    Expr x(Expr n, Expr c, Expr i, Expr j) {
      return ctx.input(0, List.of(n, c, i, j));
    }

    Expr w(Expr c, Expr m, Expr a, long b) {
      return ctx.input(1, List.of(c, m, a, Exprs.i64(b)));
    }

    Expr bias(Expr m, DType dt) {
      return ctx.node().hasInput(2) ? Exprs.as(ctx.input(2, List.of(m)), dt) : Exprs.constant(0, dt);
    }
  }

  /**
   * A 2-D depthwise convolution (one input and one output channel per
   * group) or a 2-D MaxPool ({@code max}) with static sizes, lowered by
   * output rows: the row starts at the bias (the lowest value), each tap
   * (kh, kw), unrolled, adds weight x input (takes the input when it is
   * greater: a NaN never wins, as in ONNX Runtime) over the output columns
   * whose input column is inside the image (one static range per tap,
   * contiguous for stride 1, so it vectorizes; the other columns read
   * padding, which adds nothing), and an input row outside the image adds
   * nothing either.
   */
  record WindowRows(long[] strides, long[] dilations, long[] padBegin, long[] in, long[] kernel, long[] out,
      LowerContext ctx, boolean max) {
    Expr x(Expr n, Expr c, Expr ih, Expr iw) {
      return ctx.input(0, List.of(n, c, ih, iw));
    }

    /** What an output row starts at before its taps. */
    Expr init(Expr c, DType dt) {
      if (max) {
        return Exprs.constant(PoolOps.lowest(dt), dt);
      }
      return ctx.node().hasInput(2) ? Exprs.as(ctx.input(2, List.of(c)), dt) : Exprs.constant(0, dt);
    }

    /**
     * {@code acc} with tap (kh, kw)'s input {@code x} taken in when {@code inside}: a select, not a multiply
     * by 0, so an inf or NaN in the padding's place stays out.
     */
    Expr combine(Expr acc, Expr inside, Expr x, Expr c, long kh, long kw, DType dt) {
      if (max) {
        Expr v = Exprs.as(x, dt);
        return Exprs.select(Exprs.value(Expr.BinaryOp.AND, inside, Exprs.compare(CompareOp.GT, v, acc)), v, acc);
      }
      Expr w = ctx.input(1, List.of(c, Exprs.i64(0), Exprs.i64(kh), Exprs.i64(kw)));
      return Exprs.value(Expr.BinaryOp.ADD, acc, Exprs.select(inside, Exprs.value(Expr.BinaryOp.MUL, Exprs.as(x, dt),
          Exprs.as(w, dt)), Exprs.constant(0, dt)));
    }

    /** Output columns [lo, hi) whose tap kw reads inside the image. */
    long[] columns(long kw) {
      return Window.insideRange(kw * dilations[1] - padBegin[1], strides[1], in[1], out[1]);
    }
  }

  /**
   * Taps of the largest MaxPool lowered by rows: the taps are unrolled, so a global-sized window (a
   * PyTorch test pools 60 x 80) keeps the window loops.
   */
  static final long MAX_POOL_ROW_TAPS = 64;

  /** The rows of a depthwise Conv or a MaxPool that qualifies (see {@link WindowRows}), else empty. */
  static Optional<WindowRows> windowRows(LowerContext ctx) {
    Node n = ctx.node();
    boolean max = n.domain().isEmpty() && n.opType().equals("MaxPool");
    if (!n.domain().isEmpty() || ctx.inputType(0).shape().rank() != 4
        || !(max || n.opType().equals("Conv") && ctx.hasAttr("group"))) {
      return Optional.empty();
    }
    List<Dim> x = ctx.inputType(0).shape().dims();
    List<Dim> y = ctx.outputType().shape().dims();
    long[] kernel;
    if (max) {
      if (n.outputs().size() > 1 && !n.output(1).isEmpty() || ctx.hasAttr("storage_order")
          && ctx.attrInt("storage_order") != 0 || !ctx.hasAttr("kernel_shape") || ctx.attrInts("kernel_shape").length != 2) {
        return Optional.empty();
      }
      kernel = ctx.attrInts("kernel_shape");
      if (kernel[0] * kernel[1] > MAX_POOL_ROW_TAPS) {
        return Optional.empty();
      }
    } else {
      List<Dim> w = ctx.inputType(1).shape().dims();
      for (Dim d : List.of(x.get(1), w.get(0), w.get(1), w.get(2), w.get(3))) {
        if (!d.isStatic()) {
          return Optional.empty();
        }
      }
      long channels = x.get(1).value();
      if (ctx.attrInt("group") != channels || w.get(0).value() != channels || w.get(1).value() != 1) {
        return Optional.empty();
      }
      kernel = new long[] {w.get(2).value(), w.get(3).value()};
    }
    for (Dim d : List.of(x.get(1), x.get(2), x.get(3), y.get(2), y.get(3))) {
      if (!d.isStatic()) {
        return Optional.empty();
      }
    }
    long[] in = {x.get(2).value(), x.get(3).value()};
    long[] out = {y.get(2).value(), y.get(3).value()};
    long[] strides = Geometry.spatial(ctx, "strides", 2);
    long[] dilations = Geometry.spatial(ctx, "dilations", 2);
    List<Expr> inDims = List.of(Exprs.i64(in[0]), Exprs.i64(in[1]));
    long[] padBegin = Geometry.pads(ctx, inDims, kernel, strides, dilations, out)[0];
    return Optional.of(new WindowRows(strides, dilations, padBegin, in, kernel, out, ctx, max));
  }

  /** The tiles of a ConvTranspose that qualifies (see {@link UpsamplingTiles}), else empty. */
  static Optional<UpsamplingTiles> upsamplingTiles(LowerContext ctx) {
    Node n = ctx.node();
    if (!n.domain().isEmpty() || !n.opType().equals("ConvTranspose") || ctx.inputType(0).shape().rank() != 4
        || (ctx.hasAttr("group") && ctx.attrInt("group") != 1)) {
      return Optional.empty();
    }
    List<Dim> x = ctx.inputType(0).shape().dims();
    List<Dim> w = ctx.inputType(1).shape().dims();
    List<Dim> y = ctx.outputType().shape().dims();
    for (Dim d : List.of(x.get(1), x.get(2), x.get(3), w.get(2), w.get(3), y.get(2), y.get(3))) {
      if (!d.isStatic()) {
        return Optional.empty();
      }
    }
    long[] strides = Geometry.spatial(ctx, "strides", 2);
    long[] dilations = Geometry.spatial(ctx, "dilations", 2);
    long[] in = {x.get(2).value(), x.get(3).value()};
    long[] kernel = {w.get(2).value(), w.get(3).value()};
    Window window = Window.transposed(ctx, in, kernel);
    for (int i = 0; i < 2; i++) {
      if (kernel[i] != strides[i] || dilations[i] != 1 || window.padBegin(i) != 0
          || y.get(2 + i).value() != in[i] * strides[i]) {
        return Optional.empty();
      }
    }
    return Optional.of(new UpsamplingTiles(strides[0], strides[1], x.get(1).value(), in[0], in[1], ctx));
  }

  private static Sum convSum(LowerContext ctx, List<Expr> out, Operands ops) {
    Expr n = ops.n() == null ? out.get(0) : ops.n();
    Expr m = ops.m() == null ? out.get(1) : ops.m();
    List<Expr> outSpatial = ops.outSpatial() == null ? out.subList(2, out.size()) : ops.outSpatial();
    long group = ctx.hasAttr("group") ? ctx.attrInt("group") : 1;
    if (ops.outChannels() % group != 0) {
      throw new UnsupportedModelException(ctx.node().describe() + ": " + ops.outChannels()
          + " output channels are not divisible into " + group + " groups");
    }
    Geometry g = Geometry.of(ctx, ops.inSpatial(), ops.kernel(), outSpatial,
        spatialSizes(ctx.outputType(), 2, outSpatial.size()));
    DType dt = ctx.outputType().dtype();
    Expr.Var c = new Expr.Var("wc");
    Expr channel = group == 1 ? c : Exprs.add(Exprs.mul(Exprs.div(m, Exprs.i64(ops.outChannels() / group)),
        Exprs.i64(ops.inPerGroup())), c);
    List<Expr> xIdx = new ArrayList<>(List.of(n, channel));
    xIdx.addAll(g.clamped);
    List<Expr> wIdx = new ArrayList<>(List.of(m, c));
    wIdx.addAll(g.kernelVars);
    Expr x = Exprs.select(g.inside, Exprs.as(ops.x().apply(xIdx), dt), Exprs.constant(0, dt));
    Expr term = Exprs.value(BinaryOp.MUL, x, Exprs.as(ops.w().apply(wIdx), dt));
    Expr init = ctx.node().hasInput(2) ? Exprs.as(ctx.input(2, List.of(m)), dt) : Exprs.constant(0, dt);
    // Channels innermost: the window position's bounds checks and clamped indices are invariant in the
    // channel loop, so they are computed once per tap instead of once per multiply-add.
    return new Sum(init, term, step -> g.windowLoops(new Stmt.For(c, Exprs.i64(ops.inPerGroup()), step,
        Stmt.ForKind.SERIAL)));
  }

  /** Symbol of the im2col kernel: the first output row of the block it copies. */
  static final String IM2COL_FIRST_ROW = "im2col_oh0";
  /** Symbol of the im2col kernel: how many output rows the block has (at most its rows per block). */
  static final String IM2COL_ROWS = "im2col_rows";

  /**
   * The image-to-columns copy of a block of output rows of one image of a
   * 2-D convolution, so that the convolution becomes the product weights
   * [M, C*KH*KW] x columns [C*KH*KW, rows*OW]: row {@code (c*KH + kh)*KW + kw}
   * holds, at column {@code r*OW + ow}, the input under tap (kh, kw) of
   * output pixel (oh0 + r, ow), or 0 in the padding. Rows of the columns
   * buffer are {@code rowsPerBlock * OW} long; the block's first output row
   * and row count are the symbols {@link #IM2COL_FIRST_ROW} and
   * {@link #IM2COL_ROWS}. {@code ctx.input(0, [0, c, h, w])} reads the image;
   * sizes must be static.
   *
   * <p>The taps are unrolled, so for each the output columns that read inside
   * the image form one static range: that range is a plain (for stride 1,
   * contiguous) copy that vectorizes, the columns left and right of it are
   * zeros, and an input row outside the image selects zeros uniformly.
   */
  static Kernel im2col(LowerContext ctx, String name, BufferRef image, BufferRef columns, long rowsPerBlock) {
    Conv2d g = Conv2d.of(ctx);
    DType dt = ctx.outputType().dtype();
    Expr.Var c = new Expr.Var("ic");
    Expr.Var r = new Expr.Var("ir");
    Expr.Var ow = new Expr.Var("ow");
    Expr rowLength = Exprs.i64(rowsPerBlock * g.out()[1]);
    Expr oh = Exprs.add(new Expr.Var(IM2COL_FIRST_ROW), r);
    List<Stmt> taps = new ArrayList<>();
    for (long kh = 0; kh < g.kernel()[0]; kh++) {
      Expr ih = Exprs.add(Exprs.mul(oh, Exprs.i64(g.strides()[0])), Exprs.i64(kh * g.dilations()[0] - g.padBegin()[0]));
      SourceRow src = SourceRow.of(ih, g.in()[0]);
      Expr rowInside = src.inside();
      Expr ihClamped = src.clamped();
      for (long kw = 0; kw < g.kernel()[1]; kw++) {
        long shift = kw * g.dilations()[1] - g.padBegin()[1];
        // Output columns whose input column ow*stride + shift lies in [0, W).
        long[] inside = Window.insideRange(shift, g.strides()[1], g.in()[1], g.out()[1]);
        long lo = inside[0];
        long hi = inside[1];
        Expr row = Exprs.i64(kw + g.kernel()[1] * kh);
        Expr rowBase = Exprs.add(Exprs.mul(Exprs.add(Exprs.mul(c, Exprs.i64(g.kernel()[0] * g.kernel()[1])), row),
            rowLength), Exprs.mul(r, Exprs.i64(g.out()[1])));
        taps.add(zerosCopyZeros(columns, rowBase, ow, lo, hi, g.out()[1], col -> ctx.input(0, List.of(Exprs.i64(0), c,
            ihClamped, Exprs.add(Exprs.mul(col, Exprs.i64(g.strides()[1])), Exprs.i64(shift)))), rowInside, dt));
      }
    }
    Stmt rows = new Stmt.For(r, new Expr.Var(IM2COL_ROWS), new Stmt.Seq(taps), Stmt.ForKind.SERIAL);
    Stmt body = new Stmt.For(c, Exprs.i64(g.channels()), rows, Stmt.ForKind.PARALLEL);
    return new Kernel(name, List.of(image), List.of(columns), List.of(IM2COL_FIRST_ROW, IM2COL_ROWS), body);
  }

  /**
   * The zero-padded copy of one image for an implicit convolution (no
   * dilation), split into sh x sw phase planes: plane (a, b), row r, column q
   * holds the input at (r*sh + a - top, q*sw + b - left), 0 outside (one
   * plane, the plain padded image, for stride 1); {@code rows} rows a plane,
   * each {@code ldx} long. Each row is a static zero range, one copy (strided
   * by sw) and zeros.
   */
  static Kernel padImage(LowerContext ctx, String name, BufferRef image, BufferRef padded, long rows, long ldx) {
    Conv2d g = Conv2d.of(ctx);
    long[] in = g.in();
    long[] pads = g.padBegin();
    long[] st = g.strides();
    DType dt = ctx.outputType().dtype();
    Expr.Var c = new Expr.Var("pc");
    Expr.Var r = new Expr.Var("pr");
    Expr.Var q = new Expr.Var("pq");
    List<Stmt> planes = new ArrayList<>();
    for (long a = 0; a < st[0]; a++) {
      for (long b = 0; b < st[1]; b++) {
        // Plane (a, b), row r, column q: the input at (r*sh + a - top, q*sw + b - left).
        SourceRow src = SourceRow.of(Exprs.add(Exprs.mul(r, Exprs.i64(st[0])), Exprs.i64(a - pads[0])), in[0]);
        long shift = b - pads[1];
        long[] inside = Window.insideRange(shift, st[1], in[1], ldx);
        long lo = inside[0];
        long hi = inside[1];
        Expr planeIndex = Exprs.add(Exprs.mul(c, Exprs.i64(st[0] * st[1])), Exprs.i64(a * st[1] + b));
        Expr rowBase = Exprs.mul(Exprs.add(Exprs.mul(planeIndex, Exprs.i64(rows)), r), Exprs.i64(ldx));
        Stmt row = zerosCopyZeros(padded, rowBase, q, lo, hi, ldx, col -> ctx.input(0, List.of(Exprs.i64(0), c,
            src.clamped(), Exprs.add(Exprs.mul(col, Exprs.i64(st[1])), Exprs.i64(shift)))), src.inside(), dt);
        planes.add(new Stmt.For(r, Exprs.i64(rows), row, Stmt.ForKind.SERIAL));
      }
    }
    Stmt body = new Stmt.For(c, Exprs.i64(g.channels()), new Stmt.Seq(planes), Stmt.ForKind.PARALLEL);
    return new Kernel(name, List.of(image), List.of(padded), List.of(), body);
  }


  /**
   * An input row (or column) index of a window: whether it is inside the
   * image of {@code size}, and the index clamped into it (what a load may
   * use; the value is selected away outside).
   */
  record SourceRow(Expr inside, Expr clamped) {
    static SourceRow of(Expr index, long size) {
      return new SourceRow(Exprs.value(BinaryOp.AND, Exprs.compare(CompareOp.GE, index, Exprs.i64(0)),
          Exprs.compare(CompareOp.LT, index, Exprs.i64(size))),
          Exprs.value(BinaryOp.MAX, Exprs.i64(0), Exprs.value(BinaryOp.MIN, index, Exprs.i64(size - 1))));
    }
  }

  /** The static geometry of a 2-D convolution: channels, input, kernel and output sizes, strides, dilations, pads. */
  private record Conv2d(long channels, long[] in, long[] kernel, long[] out, long[] strides, long[] dilations,
      long[] padBegin) {
    static Conv2d of(LowerContext ctx) {
      TensorType x = ctx.inputType(0);
      TensorType w = ctx.inputType(1);
      long[] in = {staticDim(ctx, x.shape().dim(2)), staticDim(ctx, x.shape().dim(3))};
      long[] kernel = {staticDim(ctx, w.shape().dim(2)), staticDim(ctx, w.shape().dim(3))};
      long[] out = spatialSizes(ctx.outputType(), 2, 2);
      long[] strides = Geometry.spatial(ctx, "strides", 2);
      long[] dilations = Geometry.spatial(ctx, "dilations", 2);
      long[] pads = Geometry.pads(ctx, LowerContext.dims(x).subList(2, 4), kernel, strides, dilations, out)[0];
      return new Conv2d(staticDim(ctx, x.shape().dim(1)), in, kernel, out, strides, dilations, pads);
    }
  }

  /**
   * One row of a copy with zero padding, as three static vectorizable
   * ranges: columns [0, lo) zeros, [lo, hi) {@code value(column)} where the
   * source row is inside (else zeros), [hi, end) zeros; stored at
   * {@code rowBase + column}.
   */
  static Stmt zerosCopyZeros(BufferRef dst, Expr rowBase, Expr.Var q, long lo, long hi, long end,
      Function<Expr, Expr> value, Expr rowInside, DType dt) {
    Expr zero = Exprs.constant(0, dt);
    List<Stmt> parts = new ArrayList<>();
    long[][] ranges = {{0, lo}, {lo, hi}, {hi, end}};
    for (int i = 0; i < ranges.length; i++) {
      long from = ranges[i][0];
      if (ranges[i][1] <= from) {
        continue;
      }
      Expr col = Exprs.add(q, Exprs.i64(from));
      Expr v = i == 1 ? Exprs.select(rowInside, value.apply(col), zero) : zero;
      parts.add(new Stmt.For(q, Exprs.i64(ranges[i][1] - from), new Stmt.Store(dst, Exprs.add(rowBase, col), v),
          Stmt.ForKind.VECTORIZABLE));
    }
    return new Stmt.Seq(parts);
  }

  private static Accumulation pool(LowerContext ctx, List<Expr> out, boolean max) {
    if (ctx.hasAttr("storage_order") && ctx.attrInt("storage_order") != 0) {
      throw new UnsupportedModelException(ctx.node().describe() + ": column-major storage_order cannot be compiled");
    }
    TensorType xt = ctx.inputType(0);
    List<Expr> xDims = LowerContext.dims(xt);
    long[] kernel = ctx.attrInts("kernel_shape");
    List<Expr> outSpatial = out.subList(2, out.size());
    Geometry g = Geometry.of(ctx, xDims.subList(2, xDims.size()), kernel, outSpatial,
        spatialSizes(ctx.outputType(), 2, outSpatial.size()));
    DType dt = xt.dtype();
    List<Expr> xIdx = new ArrayList<>(out.subList(0, 2));
    xIdx.addAll(g.clamped);
    Expr x = ctx.input(0, xIdx);
    Expr.Local acc = new Expr.Local("acc", dt);
    if (max) {
      // As ONNX Runtime: from the type's lowest finite value, and a NaN never wins (x > acc is false).
      Expr wins = Exprs.value(BinaryOp.AND, g.inside, Exprs.compare(CompareOp.GT, x, acc));
      Stmt step = new Stmt.Assign(acc, Exprs.select(wins, x, acc));
      return new Accumulation(new Stmt.Seq(List.of(new Stmt.Declare(acc, Exprs.constant(PoolOps.lowest(dt), dt)),
          g.windowLoops(step))), acc);
    }
    boolean includePad = ctx.hasAttr("count_include_pad") && ctx.attrInt("count_include_pad") != 0;
    Expr.Local count = new Expr.Local("count", dt);
    Expr counted = includePad ? g.insidePadded : g.inside;
    Stmt step = new Stmt.Seq(List.of(
        new Stmt.Assign(acc, Exprs.value(BinaryOp.ADD, acc, Exprs.select(g.inside, x, Exprs.constant(0, dt)))),
        new Stmt.Assign(count, Exprs.value(BinaryOp.ADD, count, Exprs.select(counted, Exprs.constant(1, dt),
            Exprs.constant(0, dt))))));
    return new Accumulation(new Stmt.Seq(List.of(new Stmt.Declare(acc, Exprs.constant(0, dt)),
        new Stmt.Declare(count, Exprs.constant(0, dt)), g.windowLoops(step))),
        Exprs.value(BinaryOp.DIV, acc, count));
  }

  /**
   * ConvTranspose as a gather: output position o takes input position
   * i = (o + padBegin - k * dilation) / stride for every kernel tap k where
   * that division is exact and i is inside the input; weights are
   * [C, M / group, kernel...].
   */
  private static Accumulation convTranspose(LowerContext ctx, List<Expr> out) {
    TensorType xt = ctx.inputType(0);
    TensorType w = ctx.inputType(1);
    int s = xt.shape().rank() - 2;
    List<Expr> xDims = LowerContext.dims(xt);
    long group = ctx.attrInt("group");
    long inPerGroup = staticDim(ctx, xt.shape().dim(1)) / group;
    long outPerGroup = staticDim(ctx, w.shape().dim(1));
    long[] strides = Geometry.spatial(ctx, "strides", s);
    long[] dilations = Geometry.spatial(ctx, "dilations", s);
    long[] inSizes = new long[s];
    long[] kernelSizes = new long[s];
    for (int i = 0; i < s; i++) {
      inSizes[i] = staticDim(ctx, xt.shape().dim(i + 2));
      kernelSizes[i] = staticDim(ctx, w.shape().dim(i + 2));
    }
    // The same window the type rule and the reference evaluator resolve (auto_pad, output_shape, pads).
    Window window = Window.transposed(ctx, inSizes, kernelSizes);
    DType dt = ctx.outputType().dtype();
    Expr m = out.get(1);
    Expr.Var c = new Expr.Var("wc");
    Expr channel = Exprs.add(Exprs.mul(Exprs.div(m, Exprs.i64(outPerGroup)), Exprs.i64(inPerGroup)), c);
    List<Expr> xIdx = new ArrayList<>(List.of(out.get(0), channel));
    List<Expr> wIdx = new ArrayList<>(List.of(channel, Exprs.rem(m, Exprs.i64(outPerGroup))));
    List<Expr.Var> kVars = new ArrayList<>();
    Expr valid = null;
    for (int i = 0; i < s; i++) {
      long k = staticDim(ctx, w.shape().dim(i + 2));
      long padBegin = window.padBegin(i);
      if (k == strides[i] && dilations[i] == 1) {
        // Kernel as wide as the stride (upsampling decoders): exactly one tap, (o + pad) mod s, reads
        // input position (o + pad) / s, so no tap loop and no divisibility test.
        Expr at = Exprs.add(out.get(i + 2), Exprs.i64(padBegin));
        Expr pos = Exprs.div(at, Exprs.i64(k));
        kVars.add(null);
        wIdx.add(Exprs.value(BinaryOp.MAX, Exprs.i64(0), Exprs.rem(at, Exprs.i64(k))));  // in bounds when at < 0
        Expr ok = Exprs.value(BinaryOp.AND, Exprs.compare(CompareOp.GE, at, Exprs.i64(0)),
            Exprs.compare(CompareOp.LT, pos, xDims.get(i + 2)));
        valid = valid == null ? ok : Exprs.value(BinaryOp.AND, valid, ok);
        xIdx.add(Exprs.value(BinaryOp.MAX, Exprs.i64(0), Exprs.value(BinaryOp.MIN, pos,
            Exprs.sub(xDims.get(i + 2), Exprs.i64(1)))));
        continue;
      }
      Expr.Var kv = new Expr.Var("wk" + i);
      kVars.add(kv);
      wIdx.add(kv);
      Expr num = Exprs.sub(Exprs.add(out.get(i + 2), Exprs.i64(padBegin)), Exprs.mul(kv, Exprs.i64(dilations[i])));
      Expr pos = Exprs.div(num, Exprs.i64(strides[i]));
      Expr ok = Exprs.value(BinaryOp.AND, Exprs.value(BinaryOp.AND, Exprs.compare(CompareOp.GE, num, Exprs.i64(0)),
          Exprs.compare(CompareOp.EQ, Exprs.rem(num, Exprs.i64(strides[i])), Exprs.i64(0))),
          Exprs.compare(CompareOp.LT, pos, xDims.get(i + 2)));
      valid = valid == null ? ok : Exprs.value(BinaryOp.AND, valid, ok);
      xIdx.add(Exprs.value(BinaryOp.MAX, Exprs.i64(0), Exprs.value(BinaryOp.MIN, pos,
          Exprs.sub(xDims.get(i + 2), Exprs.i64(1)))));
    }
    Expr.Local acc = new Expr.Local("acc", dt);
    Expr x = Exprs.select(valid, Exprs.as(ctx.input(0, xIdx), dt), Exprs.constant(0, dt));
    Stmt step = new Stmt.Assign(acc, Exprs.value(BinaryOp.ADD, acc, Exprs.value(BinaryOp.MUL, x,
        Exprs.as(ctx.input(1, wIdx), dt))));
    Stmt loops = new Stmt.For(c, Exprs.i64(inPerGroup), step, Stmt.ForKind.SERIAL);
    for (int i = s - 1; i >= 0; i--) {
      if (kVars.get(i) != null) {
        loops = new Stmt.For(kVars.get(i), Exprs.i64(staticDim(ctx, w.shape().dim(i + 2))), loops,
            Stmt.ForKind.SERIAL);
      }
    }
    Expr init = ctx.node().hasInput(2) ? Exprs.as(ctx.input(2, List.of(m)), dt) : Exprs.constant(0, dt);
    return new Accumulation(new Stmt.Seq(List.of(new Stmt.Declare(acc, init), loops)), acc);
  }

  /** {@code alpha * sum_k A'[m, k] * B'[k, n] + beta * C[m, n]}, A' and B' transposed as asked, C broadcast. */
  private static Accumulation gemm(LowerContext ctx, List<Expr> out) {
    DType dt = ctx.outputType().dtype();
    boolean ta = ctx.attrInt("transA") != 0;
    boolean tb = ctx.attrInt("transB") != 0;
    Expr.Var k = new Expr.Var("wk");
    Expr m = out.get(0);
    Expr n = out.get(1);
    Expr kSize = Exprs.dim(ctx.inputType(0).shape().dim(ta ? 0 : 1));
    Expr a = ctx.input(0, ta ? List.of(k, m) : List.of(m, k));
    Expr b = ctx.input(1, tb ? List.of(n, k) : List.of(k, n));
    Expr.Local acc = new Expr.Local("acc", dt);
    Stmt loop = new Stmt.For(k, kSize, new Stmt.Assign(acc, Exprs.value(BinaryOp.ADD, acc,
        Exprs.value(BinaryOp.MUL, a, b))), Stmt.ForKind.SERIAL);
    Expr value = Exprs.value(BinaryOp.MUL, acc, Exprs.constant(ctx.attrFloat("alpha"), dt));
    if (ctx.node().hasInput(2)) {
      value = Exprs.value(BinaryOp.ADD, value, Exprs.value(BinaryOp.MUL, ctx.broadcastInput(2, out),
          Exprs.constant(ctx.attrFloat("beta"), dt)));
    }
    return new Accumulation(new Stmt.Seq(List.of(new Stmt.Declare(acc, Exprs.constant(0, dt)), loop)), value);
  }

  /** Static sizes of {@code count} axes of a type from {@code first}, or -1 where symbolic. */
  private static long[] spatialSizes(TensorType t, int first, int count) {
    long[] s = new long[count];
    for (int i = 0; i < count; i++) {
      Dim d = t.shape().dim(first + i);
      s[i] = d.isStatic() ? d.value() : -1;
    }
    return s;
  }

  private static long staticDim(LowerContext ctx, Dim d) {
    if (!d.isStatic()) {
      throw new UnsupportedModelException(ctx.node().describe() + ": weights need static shapes, got " + d);
    }
    return d.value();
  }

  /**
   * The window of one output position: kernel loop variables, the input
   * positions they read (clamped into the input), whether each is inside the
   * input, and whether it is inside the padded input.
   */
  private static final class Geometry {
    final List<Expr.Var> kernelVars = new ArrayList<>();
    final List<Expr> kernelExtents = new ArrayList<>();
    final List<Expr> clamped = new ArrayList<>();
    Expr inside;
    Expr insidePadded;

    static Geometry of(LowerContext ctx, List<Expr> in, long[] kernel, List<Expr> outSpatial, long[] outSizes) {
      int s = in.size();
      if (kernel == null || kernel.length != s) {
        throw new UnsupportedModelException(ctx.node().describe() + ": kernel of " + (kernel == null ? 0
            : kernel.length) + " axes for " + s + " spatial axes");
      }
      long[] strides = spatial(ctx, "strides", s);
      long[] dilations = spatial(ctx, "dilations", s);
      long[][] pads = pads(ctx, in, kernel, strides, dilations, outSizes);
      Geometry g = new Geometry();
      for (int i = 0; i < s; i++) {
        Expr.Var k = new Expr.Var("wk" + i);
        g.kernelVars.add(k);
        g.kernelExtents.add(Exprs.i64(kernel[i]));
        Expr pos = Exprs.add(Exprs.sub(Exprs.mul(outSpatial.get(i), Exprs.i64(strides[i])), Exprs.i64(pads[0][i])),
            Exprs.mul(k, Exprs.i64(dilations[i])));
        Expr last = Exprs.sub(in.get(i), Exprs.i64(1));
        g.clamped.add(Exprs.value(BinaryOp.MAX, Exprs.i64(0), Exprs.value(BinaryOp.MIN, pos, last)));
        g.inside = and(g.inside, and(Exprs.compare(CompareOp.GE, pos, Exprs.i64(0)),
            Exprs.compare(CompareOp.LT, pos, in.get(i))));
        g.insidePadded = and(g.insidePadded, and(Exprs.compare(CompareOp.GE, pos, Exprs.i64(-pads[0][i])),
            Exprs.compare(CompareOp.LT, pos, Exprs.add(in.get(i), Exprs.i64(pads[1][i])))));
      }
      return g;
    }

    Stmt windowLoops(Stmt body) {
      Stmt s = body;
      for (int i = kernelVars.size() - 1; i >= 0; i--) {
        s = new Stmt.For(kernelVars.get(i), kernelExtents.get(i), s, Stmt.ForKind.SERIAL);
      }
      return s;
    }

    private static Expr and(Expr a, Expr b) {
      return a == null ? b : Exprs.value(BinaryOp.AND, a, b);
    }

    static long[] spatial(LowerContext ctx, String attr, int s) {
      long[] v = ctx.hasAttr(attr) ? ctx.attrInts(attr) : null;
      if (v == null) {
        v = new long[s];
        Arrays.fill(v, 1);
      }
      if (v.length != s) {
        throw new UnsupportedModelException(ctx.node().describe() + ": " + attr + " has " + v.length
            + " entries for " + s + " spatial axes");
      }
      return v;
    }

    /** Pads at the begin and end of each axis, from {@code pads} or {@code auto_pad}. */
    static long[][] pads(LowerContext ctx, List<Expr> in, long[] kernel, long[] strides, long[] dilations,
        long[] out) {
      int s = in.size();
      long[][] p = new long[2][s];
      String auto = ctx.hasAttr("auto_pad") ? ctx.attrString("auto_pad") : "NOTSET";
      if (auto.equals("NOTSET")) {
        long[] pads = ctx.hasAttr("pads") ? ctx.attrInts("pads") : null;
        for (int i = 0; pads != null && i < s; i++) {
          p[0][i] = pads[i];
          p[1][i] = pads[i + s];
        }
        return p;
      }
      if (auto.equals("VALID")) {
        return p;
      }
      for (int i = 0; i < s; i++) {
        Long size = Exprs.constValue(in.get(i));
        if (size == null || out[i] < 0) {
          throw new UnsupportedModelException(ctx.node().describe() + ": auto_pad " + auto
              + " over a symbolic spatial size cannot be compiled");
        }
        long total = Math.max(0, (out[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size);
        p[0][i] = auto.equals("SAME_LOWER") ? total - total / 2 : total / 2;
        p[1][i] = total - p[0][i];
      }
      return p;
    }
  }
}
