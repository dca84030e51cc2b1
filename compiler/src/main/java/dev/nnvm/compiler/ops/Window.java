package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.op.OpContext;
import java.util.Arrays;

/**
 * The spatial geometry of a sliding-window operator (Conv, pooling): kernel,
 * strides, dilations, the pads at the start and end of each spatial axis and
 * the output sizes, resolved from the {@code strides}, {@code dilations},
 * {@code pads}, {@code auto_pad} and {@code ceil_mode} attributes.
 *
 * <p>Input sizes may be unknown (-1) during type inference; the matching
 * output sizes are then unknown (-1) too.
 */
public final class Window {
  final long[] kernel;
  final long[] strides;
  final long[] dilations;
  final long[] padBegin;
  final long[] padEnd;
  final long[] out;

  /** The padding before spatial axis {@code axis}. */
  public long padBegin(int axis) {
    return padBegin[axis];
  }

  private Window(long[] kernel, long[] strides, long[] dilations, long[] padBegin, long[] padEnd, long[] out) {
    this.kernel = kernel;
    this.strides = strides;
    this.dilations = dilations;
    this.padBegin = padBegin;
    this.padEnd = padEnd;
    this.out = out;
  }

  /**
   * Resolves the window of a forward operator (Conv, MaxPool, ...) over input
   * spatial sizes {@code in}.
   *
   * @param ceilMode round the output size up instead of down (pooling)
   */
  static Window forward(OpContext ctx, long[] in, long[] kernel, boolean ceilMode) {
    int n = in.length;
    long[] strides = spatialAttr(ctx, "strides", n, 1);
    long[] dilations = spatialAttr(ctx, "dilations", n, 1);
    for (int i = 0; i < n; i++) {
      if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1) {
        throw ctx.error("kernel %s, strides %s and dilations %s must be positive",
            Arrays.toString(kernel), Arrays.toString(strides), Arrays.toString(dilations));
      }
    }
    String autoPad = ctx.attrString("auto_pad");
    long[] pb = new long[n];
    long[] pe = new long[n];
    long[] out = new long[n];
    if (autoPad.equals("NOTSET")) {
      long[] pads = pads(ctx, n);
      System.arraycopy(pads, 0, pb, 0, n);
      System.arraycopy(pads, n, pe, 0, n);
    }
    for (int i = 0; i < n; i++) {
      long eff = (kernel[i] - 1) * dilations[i] + 1;
      if (in[i] < 0) {
        out[i] = -1;
        continue;
      }
      switch (autoPad) {
        case "VALID":
          out[i] = Math.floorDiv(in[i] - eff, strides[i]) + 1;
          break;
        case "SAME_UPPER":
        case "SAME_LOWER": {
          out[i] = ceilDiv(in[i], strides[i]);
          long total = Math.max(0, (out[i] - 1) * strides[i] + eff - in[i]);
          pb[i] = autoPad.equals("SAME_UPPER") ? total / 2 : total - total / 2;
          pe[i] = total - pb[i];
          break;
        }
        default: {
          long span = in[i] + pb[i] + pe[i] - eff;
          out[i] = (ceilMode ? ceilDiv(span, strides[i]) : Math.floorDiv(span, strides[i])) + 1;
          if (ceilMode && (out[i] - 1) * strides[i] >= in[i] + pb[i]) {
            out[i]--;
          }
          break;
        }
      }
      if (out[i] < 1) {
        throw ctx.error("spatial axis %d of size %d with pads %d+%d is smaller than the dilated kernel %d",
            i, in[i], pb[i], pe[i], eff);
      }
    }
    return new Window(kernel.clone(), strides, dilations, pb, pe, out);
  }

  /**
   * Resolves the window of ConvTranspose over input spatial sizes {@code in}:
   * output sizes come from {@code output_shape} when set, else from strides,
   * pads and {@code output_padding}.
   */
  public static Window transposed(OpContext ctx, long[] in, long[] kernel) {
    int n = in.length;
    long[] strides = spatialAttr(ctx, "strides", n, 1);
    long[] dilations = spatialAttr(ctx, "dilations", n, 1);
    long[] outPad = spatialAttr(ctx, "output_padding", n, 0);
    long[] outShape = ctx.attrInts("output_shape");
    if (outShape != null && outShape.length > n) {
      outShape = Arrays.copyOfRange(outShape, outShape.length - n, outShape.length);
    }
    if (outShape != null && outShape.length != n) {
      throw ctx.error("output_shape %s must have %d spatial sizes", Arrays.toString(outShape), n);
    }
    String autoPad = ctx.attrString("auto_pad");
    long[] pads = autoPad.equals("NOTSET") ? pads(ctx, n) : new long[2 * n];
    long[] pb = new long[n];
    long[] pe = new long[n];
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1) {
        throw ctx.error("kernel %s, strides %s and dilations %s must be positive",
            Arrays.toString(kernel), Arrays.toString(strides), Arrays.toString(dilations));
      }
      long eff = (kernel[i] - 1) * dilations[i] + 1;
      if (in[i] < 0) {
        out[i] = outShape != null ? outShape[i] : -1;
        continue;
      }
      long full = (in[i] - 1) * strides[i] + outPad[i] + eff;
      if (outShape != null || autoPad.equals("SAME_UPPER") || autoPad.equals("SAME_LOWER")) {
        long[] padding = transposedPadding(full, in[i], strides[i], outShape != null ? outShape[i] : -1, autoPad);
        pb[i] = padding[0];
        pe[i] = padding[1] - padding[0];
        out[i] = outShape != null ? outShape[i] : full - padding[1];
      } else {
        pb[i] = pads[i];
        pe[i] = pads[i + n];
        out[i] = full - pb[i] - pe[i];
      }
      if (out[i] < 1) {
        throw ctx.error("spatial axis %d: output size %d is not positive", i, out[i]);
      }
    }
    return new Window(kernel.clone(), strides, dilations, pb, pe, out);
  }

  /**
   * The padding of one ConvTranspose axis whose output size is set by
   * {@code output_shape} ({@code outShape}, or -1 when absent) or by a SAME
   * {@code auto_pad}, as {begin, total}. {@code full} is the size without
   * padding: (in - 1) * stride + output_padding + effective kernel. The total
   * never goes negative; with output_shape SAME_UPPER puts the larger half
   * first, with auto_pad alone SAME_LOWER does.
   */
  static long[] transposedPadding(long full, long in, long stride, long outShape, String autoPad) {
    boolean upper = autoPad.equals("SAME_UPPER");
    if (outShape >= 0) {
      long total = Math.max(0, full - outShape);
      return new long[] {upper ? total - total / 2 : total / 2, total};
    }
    long total = Math.max(0, full - in * stride);
    return new long[] {upper ? total / 2 : total - total / 2, total};
  }

  private static long[] pads(OpContext ctx, int n) {
    long[] pads = ctx.attrInts("pads");
    if (pads == null) {
      return new long[2 * n];
    }
    if (pads.length != 2 * n) {
      throw ctx.error("pads %s must have %d values (begin and end of %d spatial axes)", Arrays.toString(pads), 2 * n, n);
    }
    for (long p : pads) {
      if (p < 0) {
        throw ctx.error("pads %s must not be negative", Arrays.toString(pads));
      }
    }
    return pads;
  }

  /** An ints attribute with one value per spatial axis, or all {@code dflt} when not set. */
  static long[] spatialAttr(OpContext ctx, String name, int n, long dflt) {
    long[] v = ctx.attrInts(name);
    if (v == null || v.length == 0) {
      long[] d = new long[n];
      Arrays.fill(d, dflt);
      return d;
    }
    if (v.length != n) {
      throw ctx.error("%s %s must have one value per spatial axis (%d)", name, Arrays.toString(v), n);
    }
    return v.clone();
  }

  /** Pads per-axis values to three axes by prepending {@code fill} (1-D and 2-D run as 3-D). */
  static int[] as3d(long[] v, int fill) {
    int[] r = new int[3];
    int off = 3 - v.length;
    for (int i = 0; i < 3; i++) {
      r[i] = i < off ? fill : Math.toIntExact(v[i - off]);
    }
    return r;
  }

  static long ceilDiv(long a, long b) {
    return -Math.floorDiv(-a, b);
  }

  /**
   * The output positions {@code [lo, hi)} of {@code [0, outSize)} whose input
   * position {@code o * stride + shift} lies inside {@code [0, inSize)}
   * (empty as {@code lo == hi}): the part of a window tap that reads the image
   * rather than its padding.
   */
  public static long[] insideRange(long shift, long stride, long inSize, long outSize) {
    long lo = Math.min(outSize, Math.max(0, ceilDiv(-shift, stride)));
    long hi = Math.max(lo, Math.min(outSize, ceilDiv(inSize - shift, stride)));
    return new long[] {lo, hi};
  }
}
