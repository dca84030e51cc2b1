package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Recognizes kernels that are matrix products (MatMul, nnvm.MatMulBias, Gemm
 * without transposes or scaling and with a per-column or no C, 2-D Conv with
 * one group and static sizes, alone or as the master of a fused group with
 * an elementwise epilogue) and says how to run them with the packed GEMM:
 * batches of row-major [M, K] x [K, N] (+ bias) written into the kernel's
 * output, then the epilogue as a loop kernel that reads and writes that
 * output in place.
 *
 * <p>A convolution in NCHW is, per image, weights [M, C*KH*KW] x columns
 * [C*KH*KW, OH*OW] = output [M, OH*OW] with the bias per row: a 1x1
 * convolution with stride 1 and no padding reads the image itself as the
 * columns, any other first copies the image's windows into a columns buffer
 * ({@link WindowKernels#im2col}) in the GEMM's scratch.
 */
public final class MatrixProducts {
  private MatrixProducts() {}

  /**
   * How to run one kernel as GEMM calls: for each batch {@code i},
   * {@code output + i*cStride} [M, N] = {@code a + i*aStride} [M, K] x
   * {@code b + i*bStride} [K, N] (+ bias), all row-major and dense.
   *
   * @param a the left operand
   * @param b the right operand (unused when {@code im2col} builds it)
   * @param bias the bias, [N] per column or [M] per row with {@code rowBias}, or null
   * @param output the buffer the GEMM writes (the kernel's output)
   * @param result the product's own value name (read by the epilogue, stored in {@code output})
   * @param aStride elements between the batches' left operands (0: shared)
   * @param bStride elements between the batches' right operands (0: shared)
   * @param cStride elements between the batches' outputs
   * @param im2col for a convolution that needs it, the copy that builds each batch's right operand
   * @param epilogue a fused node computing the kernel's output from {@code result}, or null
   */
  record Plan(String a, String b, String bias, boolean rowBias, String output, String result, Expr batches, Expr m,
      Expr n, Expr k, Expr aStride, Expr bStride, Expr cStride, Im2col im2col, Node epilogue, StoreEpilogue store,
      boolean transposed) {
    Plan withA(String packedA) {
      return new Plan(packedA, b, bias, rowBias, output, result, batches, m, n, k, aStride, bStride, cStride, im2col,
          epilogue, store, transposed);
    }

    Plan withB(String packedB) {
      return new Plan(a, packedB, bias, rowBias, output, result, batches, m, n, k, aStride, bStride, cStride, im2col,
          epilogue, store, transposed);
    }

    Plan withEpilogue(String output, Node epilogue, StoreEpilogue store) {
      return new Plan(a, b, bias, rowBias, output, result, batches, m, n, k, aStride, bStride, cStride, im2col,
          epilogue, store, transposed);
    }
  }

  /**
   * An epilogue the GEMM can apply in registers as it stores: a residual
   * input shaped like the product (an Add or two-input Sum), then ReLU, each
   * optional. The loop epilogue node stays in the plan for the paths that
   * cannot (implicit convolutions write a tiled intermediate).
   */
  record StoreEpilogue(String residual, boolean relu) {}

  /**
   * The columns copy of a convolution, one block of output rows at a time
   * (so that the columns stay in the core's cache while the GEMM reads them):
   * {@code kernel} reads one image (buffer 0, at {@code image + i*imageStride}
   * for batch {@code i}) and writes the columns of up to
   * {@code rowsPerBlock} output rows (buffer 1, {@code columnElements}
   * floats, rows {@code rowsPerBlock * outCols} long) that the GEMM reads as B.
   */
  record Im2col(Kernel kernel, String image, Expr imageStride, long columnElements, long rowsPerBlock, long outRows,
      long outCols, Implicit implicit) {}

  /**
   * The implicit form of a stride-1 convolution, used when its weights are
   * stored pre-packed: {@code pad} copies the image zero-padded into
   * scratch ({@code ldx}-long rows, {@code paddedElements} floats with
   * slack), the convolution kernel reads B there at {@code offsets[k]} from
   * each output pixel, numbered along the padded rows, into
   * {@code tempElements} floats of scratch, and {@code compact} keeps the
   * columns inside the output rows (no image-to-columns copy, no packing).
   */
  record Implicit(Kernel pad, Kernel compact, long paddedElements, long tempElements, long ldx, long[] offsets) {}

  /** Floats past the padded image a last tile may read: the widest register tile (+ KW, added where used). */
  private static final long IMPLICIT_SLACK = 32;

  /** Target size of a block's columns, in floats: half of a 1 MiB L2 cache. */
  private static final long COLUMN_BLOCK_FLOATS = 1024 * 1024;

  /** The plan for {@code node}, or null when it is not a matrix product this path handles. */
  static Plan plan(Node node, Graph graph) {
    if (node.domain().equals(NnvmOps.DOMAIN) && node.opType().equals(NnvmOps.FUSED)) {
      Graph body = node.attribute("body").asGraph();
      if (body.nodes().isEmpty() || body.outputs().size() != 1) {
        return null;
      }
      Node master = body.nodes().get(0);
      Plan p = product(master, t -> body.typeOf(t).or(() -> graph.typeOf(t)).orElse(null), graph);
      if (p == null) {
        return null;
      }
      String out = body.outputs().get(0).name();
      TensorType resultType = body.typeOf(master.output(0)).orElse(null);
      if (resultType == null || !resultType.equals(body.outputs().get(0).type())) {
        return null;
      }
      return p.withEpilogue(out, epilogue(node, body, master, resultType), storeEpilogue(body, master, resultType));
    }
    return product(node, t -> graph.typeOf(t).orElse(null), graph);
  }

  private static Plan product(Node n, Function<String, TensorType> types, Graph graph) {
    if (n.domain().isEmpty() && n.opType().equals("Conv")) {
      return conv(n, types, graph);
    }
    boolean matmul = n.domain().isEmpty() && n.opType().equals("MatMul");
    boolean biased = n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.MATMUL_BIAS);
    boolean gemm = n.domain().isEmpty() && n.opType().equals("Gemm");
    if (gemm) {
      if (!plainGemm(n)) {
        return null;
      }
      biased = n.hasInput(2);
    } else if (!matmul && !biased) {
      return null;
    }
    TensorType a = types.apply(n.input(0));
    TensorType b = types.apply(n.input(1));
    TensorType out = types.apply(n.output(0));
    if (a == null || b == null || out == null || a.dtype() != DType.FLOAT32 || b.dtype() != DType.FLOAT32
        || !a.shape().hasRank() || !b.shape().hasRank() || a.shape().rank() < 2 || b.shape().rank() < 2) {
      return null;
    }
    List<Dim> ad = a.shape().dims();
    List<Dim> bd = b.shape().dims();
    Dim kDim = ad.get(ad.size() - 1);
    Dim nDim = bd.get(bd.size() - 1);
    if (kDim.isUnknown() || nDim.isUnknown() || !bd.get(bd.size() - 2).equals(kDim)) {
      return null;
    }
    boolean batchedB = bd.size() > 2;
    if (batchedB && !ad.subList(0, ad.size() - 2).equals(bd.subList(0, bd.size() - 2))) {
      return null;
    }
    if (biased) {
      TensorType bias = types.apply(n.input(2));
      if (bias == null || !nDim.isStatic() || !bias.shape().equals(dev.nnvm.runtime.Shape.of(nDim.value()))) {
        return null;
      }
    }
    Expr batches;
    Expr m;
    try {
      List<Expr> lead = new ArrayList<>();
      for (Dim d : ad.subList(0, ad.size() - 1)) {
        lead.add(Exprs.dim(d));
      }
      if (batchedB) {
        batches = Exprs.product(lead.subList(0, lead.size() - 1));
        m = lead.get(lead.size() - 1);
      } else {
        batches = Exprs.i64(1);
        m = Exprs.product(lead);
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    Expr nE = Exprs.dim(nDim);
    Expr kE = Exprs.dim(kDim);
    return new Plan(n.input(0), n.input(1), biased ? n.input(2) : null, false, n.output(0), n.output(0), batches, m,
        nE, kE, Exprs.mul(m, kE), batchedB ? Exprs.mul(kE, nE) : Exprs.i64(0), Exprs.mul(m, nE), null, null, null,
        false);
  }

  /** The weights-blob name of constant {@code b} pre-packed for GEMM kernels with register width {@code nr}. */
  public static String packedName(String b, int nr) {
    return b + "#packed-nr" + nr;
  }

  /** The weights-blob name of constant {@code a} pre-packed for every GEMM (strips of MR rows). */
  public static String packedNameA(String a) {
    return a + "#packed-mr";
  }

  /**
   * The constants the compiler can store packed for the GEMM, as name to
   * their matrix sizes: {@code left}, those only ever read as the shared left
   * operand A of a product (a convolution's weights [M, C*KH*KW], to {M, K};
   * {@link dev.nnvm.compiler.codegen.llvm.GemmGenerator#packA}), and
   * {@code right}, those only ever read as the shared right operand B
   * (weights [K, N] of MatMul, Gemm or nnvm.MatMulBias, to {K, N};
   * {@link dev.nnvm.compiler.codegen.llvm.GemmGenerator#packB}); the GEMM then
   * skips packing them on every call.
   */
  public record Prepackable(Map<String, long[]> left, Map<String, long[]> right,
      Map<String, long[]> rightTransposed) {}

  /** The weights-blob name of constant {@code a} [M, K] stored transposed and packed as B for width {@code nr}. */
  public static String packedNameT(String a, int nr) {
    return a + "#packed-t-nr" + nr;
  }

  /** The pre-packable constants of a graph (each node planned once). */
  public static Prepackable prepackable(Graph graph) {
    Map<String, long[]> left = new LinkedHashMap<>();
    Map<String, long[]> right = new LinkedHashMap<>();
    Set<String> otherLeft = new java.util.HashSet<>();
    Set<String> otherRight = new java.util.HashSet<>();
    graph.outputs().forEach(o -> {
      otherLeft.add(o.name());
      otherRight.add(o.name());
    });
    Map<String, long[]> rightTransposed = new LinkedHashMap<>();
    for (Node n : graph.nodes()) {
      Plan p = plan(n, graph);
      String a = shared(n, graph, p, true);
      String b = shared(n, graph, p, false);
      for (String in : n.inputs()) {
        if (in.equals(a)) {
          (p.transposed() ? rightTransposed : left).put(in, new long[] {Exprs.constValue(p.m()),
              Exprs.constValue(p.k())});
        } else {
          otherLeft.add(in);
        }
        if (in.equals(b)) {
          right.put(in, new long[] {Exprs.constValue(p.k()), Exprs.constValue(p.n())});
        } else {
          otherRight.add(in);
        }
      }
    }
    left.keySet().removeAll(otherLeft);
    rightTransposed.keySet().removeAll(otherLeft);
    // Read both ways (by a transposed and a plain product): stored as it is, packed on every call.
    Set<String> both = new java.util.HashSet<>(left.keySet());
    both.retainAll(rightTransposed.keySet());
    left.keySet().removeAll(both);
    rightTransposed.keySet().removeAll(both);
    right.keySet().removeAll(otherRight);
    return new Prepackable(left, right, rightTransposed);
  }

  /** The constant operand (A when {@code left}, else B) this node's product shares across batches, or null. */
  private static String shared(Node n, Graph graph, Plan p, boolean left) {
    if (p == null) {
      return null;
    }
    String operand = left ? p.a() : p.b();
    Expr stride = left ? p.aStride() : p.bStride();
    Expr rows = left ? p.m() : p.k();
    Expr cols = left ? p.k() : p.n();
    boolean ok = (left || (p.im2col() == null && !p.rowBias()))
        && (isZero(stride) || (left && Long.valueOf(1).equals(Exprs.constValue(p.batches()))))
        && Exprs.constValue(rows) != null && Exprs.constValue(cols) != null
        && graph.constants().containsKey(operand)
        && n.inputs().stream().filter(operand::equals).count() == 1
        && (p.epilogue() == null || !p.epilogue().inputs().contains(operand));
    return ok ? operand : null;
  }

  private static boolean isZero(Expr e) {
    return Long.valueOf(0).equals(Exprs.constValue(e));
  }

  /** A float 2-D convolution with one group and static channel, spatial and kernel sizes (any batch). */
  private static Plan conv(Node n, Function<String, TensorType> types, Graph graph) {
    TensorType x = types.apply(n.input(0));
    TensorType w = types.apply(n.input(1));
    TensorType out = types.apply(n.output(0));
    if (x == null || w == null || out == null || x.dtype() != DType.FLOAT32 || w.dtype() != DType.FLOAT32
        || out.dtype() != DType.FLOAT32 || !x.shape().hasRank() || x.shape().rank() != 4
        || !w.shape().hasRank() || w.shape().rank() != 4 || !out.shape().hasRank() || out.shape().rank() != 4
        || (n.attribute("group") != null && n.attribute("group").asInt() != 1)) {
      return null;
    }
    long[] xs = staticDims(x.shape().dims().subList(1, 4));
    long[] ws = staticDims(w.shape().dims());
    long[] os = staticDims(out.shape().dims().subList(1, 4));
    if (xs == null || ws == null || os == null || ws[1] != xs[0] || ws[0] != os[0]) {
      return null;
    }
    String bias = null;
    if (n.hasInput(2)) {
      TensorType bt = types.apply(n.input(2));
      if (bt == null || bt.dtype() != DType.FLOAT32 || !bt.shape().equals(dev.nnvm.runtime.Shape.of(ws[0]))) {
        return null;
      }
      bias = n.input(2);
    }
    long k = ws[1] * ws[2] * ws[3];
    long pixels = os[1] * os[2];
    Expr batches = Exprs.dim(x.shape().dim(0));
    Expr imageStride = Exprs.i64(xs[0] * xs[1] * xs[2]);
    boolean pointwise = ws[2] == 1 && ws[3] == 1 && os[1] == xs[1] && os[2] == xs[2] && unitStrides(n);
    Im2col im2col = null;
    // Pixels the weights x image form computes: an implicit convolution's run along the padded rows.
    long computed = pixels;
    if (!pointwise && unitDilations(n)) {
      long sw = n.attribute("strides") == null ? 1 : n.attribute("strides").asInts()[1];
      computed = os[1] * (os[2] + (ws[3] - 1) / sw);
    }
    if (!pointwise) {
      TensorType image = new TensorType(DType.FLOAT32, dev.nnvm.runtime.Shape.of(1, xs[0], xs[1], xs[2]));
      BufferRef imageBuf = new BufferRef(n.input(0), DType.FLOAT32, List.of(Exprs.i64(xs[0]), Exprs.i64(xs[1]),
          Exprs.i64(xs[2])));
      BufferRef columns = new BufferRef(n.output(0) + ".columns", DType.FLOAT32, List.of(Exprs.i64(k),
          Exprs.i64(pixels)));  // the block's part: rowsPerBlock * OW of the pixels
      List<TensorType> inTypes = new ArrayList<>();
      for (String in : n.inputs()) {
        inTypes.add(in.isEmpty() ? null : in.equals(n.input(0)) ? image : types.apply(in));
      }
      LowerContext ctx = new LowerContext(n, OpRegistry.standard().require(n), graph.opset(n.domain(), 1), inTypes,
          out, graph.constants()::get, (i, idx) -> new Expr.Load(imageBuf, Exprs.flatIndex(idx.subList(1, 4),
              imageBuf.shape())));
      String name = "im2col_" + (n.name().isEmpty() ? n.output(0) : n.name());
      long rowsPerBlock = Math.max(1, Math.min(os[1], COLUMN_BLOCK_FLOATS / (k * os[2])));
      Implicit implicit = null;
      if (unitDilations(n)) {
        // Pixels along the padded rows: the columns past each output row are computed and dropped. A strided
        // convolution reads phase planes instead (plane (a, b) holds input rows a, a + sh, ... and columns
        // b, b + sw, ...), where every tap is again a unit-stride shift.
        long[] st = n.attribute("strides") == null ? new long[] {1, 1} : n.attribute("strides").asInts();
        long rows = os[1] + (ws[2] - 1) / st[0];
        long ldx = os[2] + (ws[3] - 1) / st[1];
        long plane = rows * ldx;
        long[] offsets = new long[Math.toIntExact(k)];
        for (int c = 0, at = 0; c < xs[0]; c++) {
          for (int kh = 0; kh < ws[2]; kh++) {
            for (int kw = 0; kw < ws[3]; kw++) {
              long phase = (c * st[0] + kh % st[0]) * st[1] + kw % st[1];
              offsets[at++] = phase * plane + (kh / st[0]) * ldx + kw / st[1];
            }
          }
        }
        String base = name.substring("im2col_".length());
        BufferRef padded = new BufferRef(n.output(0) + ".padded", DType.FLOAT32, List.of(Exprs.i64(xs[0]),
            Exprs.i64(st[0]), Exprs.i64(st[1]), Exprs.i64(rows), Exprs.i64(ldx)));
        long pixels2 = os[1] * ldx;
        BufferRef temp = new BufferRef(n.output(0) + ".tiles", DType.FLOAT32, List.of(Exprs.i64(ws[0]),
            Exprs.i64(pixels2)));
        BufferRef result = new BufferRef(n.output(0), DType.FLOAT32, List.of(Exprs.i64(ws[0]), Exprs.i64(os[1]),
            Exprs.i64(os[2])));
        implicit = new Implicit(WindowKernels.padImage(ctx, "pad_" + base, imageBuf, padded, rows, ldx),
            compactRows("compact_" + base, temp, result, ldx),
            xs[0] * st[0] * st[1] * plane + IMPLICIT_SLACK + ws[3], ws[0] * pixels2, ldx, offsets);
      }
      im2col = new Im2col(WindowKernels.im2col(ctx, name, imageBuf, columns, rowsPerBlock), n.input(0), imageStride,
          k * rowsPerBlock * os[2], rowsPerBlock, os[1], os[2], implicit);
    }
    return new Plan(n.input(1), n.input(0), bias, true, n.output(0), n.output(0), batches, Exprs.i64(ws[0]),
        Exprs.i64(pixels), Exprs.i64(k), Exprs.i64(0), pointwise ? imageStride : Exprs.i64(0),
        Exprs.i64(ws[0] * pixels), im2col, null, null, transposedIsTighter(pixels, computed, ws[0]));
  }

  /** Pixels past which a transposed product is not considered (its image re-read per channel tile leaves L2). */
  static final long TRANSPOSED_MAX_PIXELS = 256;


  /**
   * Whether a 1x1 convolution over {@code pixels} output pixels into {@code channels} channels wastes
   * clearly less of its register tiles as a transposed product (pixels in blocks of 6-8 rows, channels
   * in 32-wide columns) than as weights x image (channels in 12-row blocks, pixels in 32-wide columns):
   * ResNet's 7x7 layers fill 49 of 64 columns of the latter, its 14x14 ones 196 of 224.
   */
  public static boolean transposedIsTighter(long pixels, long channels) {
    return transposedIsTighter(pixels, pixels, channels);
  }

  /** As above, where the weights x image form computes {@code columns} pixels (implicit: along padded rows). */
  static boolean transposedIsTighter(long pixels, long columns, long channels) {
    if (pixels > TRANSPOSED_MAX_PIXELS) {
      return false;
    }
    double normal = padded(columns, 32) * (double) padded(channels, 12) / (pixels * (double) channels);
    long rows = Long.MAX_VALUE;
    for (int mr = 6; mr <= 8; mr++) {
      rows = Math.min(rows, padded(pixels, mr));
    }
    double transposed = rows * (double) padded(channels, 32) / (pixels * (double) channels);
    return transposed < 0.97 * normal;
  }

  private static long padded(long n, long block) {
    return (n + block - 1) / block * block;
  }

  static long[] staticDims(List<Dim> dims) {
    long[] v = new long[dims.size()];
    for (int i = 0; i < v.length; i++) {
      if (!dims.get(i).isStatic()) {
        return null;
      }
      v[i] = dims.get(i).value();
    }
    return v;
  }

  /** {@code out[m, oh, ow] = in[m, oh * ldx + ow]}: the output rows out of pixels numbered along padded rows. */
  private static Kernel compactRows(String name, BufferRef in, BufferRef out, long ldx) {
    Expr.Var m = new Expr.Var("cm");
    Expr.Var r = new Expr.Var("cr");
    Expr.Var q = new Expr.Var("cq");
    List<Expr> d = out.shape();
    Expr from = Exprs.add(Exprs.mul(m, in.shape().get(1)), Exprs.add(Exprs.mul(r, Exprs.i64(ldx)), q));
    Stmt body = new Stmt.For(m, d.get(0), new Stmt.For(r, d.get(1), new Stmt.For(q, d.get(2),
        new Stmt.Store(out, Exprs.flatIndex(List.of(m, r, q), d), new Expr.Load(in, from)), Stmt.ForKind.VECTORIZABLE),
        Stmt.ForKind.SERIAL), Stmt.ForKind.PARALLEL);
    return new Kernel(name, List.of(in), List.of(out), List.of(), body);
  }

  private static boolean unitDilations(Node n) {
    return allOnes(n, "dilations");
  }

  private static boolean unitStrides(Node n) {
    return allOnes(n, "strides");
  }

  /** Whether an ints attribute is absent (default 1) or all ones. */
  static boolean allOnes(Node n, String attr) {
    if (n.attribute(attr) == null) {
      return true;
    }
    for (long v : n.attribute(attr).asInts()) {
      if (v != 1) {
        return false;
      }
    }
    return true;
  }


  /** A Gemm that is {@code A @ B (+ C)}: no transposes, alpha and beta 1 (others run as loop kernels). */
  private static boolean plainGemm(Node n) {
    for (String flag : List.of("transA", "transB")) {
      if (n.attribute(flag) != null && n.attribute(flag).asInt() != 0) {
        return false;
      }
    }
    for (String scale : List.of("alpha", "beta")) {
      if (n.attribute(scale) != null && n.attribute(scale).asFloat() != 1f) {
        return false;
      }
    }
    return true;
  }

  /** The group's epilogue when it is [Add residual] [Relu] on the product, else null. */
  static StoreEpilogue storeEpilogue(Graph body, Node master, TensorType resultType) {
    List<Node> rest = body.nodes().subList(1, body.nodes().size());
    String value = master.output(0);
    String residual = null;
    int i = 0;
    Set<String> produced = new LinkedHashSet<>();
    body.nodes().forEach(x -> produced.addAll(x.outputs()));
    if (i < rest.size() && rest.get(i).domain().isEmpty() && rest.get(i).inputs().size() == 2
        && (rest.get(i).opType().equals("Add") || rest.get(i).opType().equals("Sum"))) {
      Node add = rest.get(i);
      String other = add.input(0).equals(value) ? add.input(1) : add.input(1).equals(value) ? add.input(0) : null;
      TensorType t = other == null ? null : body.typeOf(other).orElse(null);
      if (other != null && !produced.contains(other) && !other.equals(value) && resultType.equals(t)) {
        residual = other;
        value = add.output(0);
        i++;
      }
    }
    boolean relu = false;
    if (i < rest.size() && rest.get(i).domain().isEmpty() && rest.get(i).opType().equals("Relu")
        && rest.get(i).input(0).equals(value)) {
      relu = true;
      value = rest.get(i).output(0);
      i++;
    }
    if (i != rest.size() || (residual == null && !relu) || !value.equals(body.outputs().get(0).name())) {
      return null;
    }
    return new StoreEpilogue(residual, relu);
  }

  /** The group minus its master, as a fused node that reads the product's result as an input. */
  static Node epilogue(Node group, Graph body, Node master, TensorType resultType) {
    if (body.nodes().size() == 1) {
      return null;
    }
    Set<String> defined = new LinkedHashSet<>();
    Graph.Builder g = Graph.builder(group.name() + "_epilogue").opsets(body.opsets());
    g.input(master.output(0), resultType);
    defined.add(master.output(0));
    List<Node> rest = body.nodes().subList(1, body.nodes().size());
    Set<String> produced = new LinkedHashSet<>();
    rest.forEach(r -> produced.addAll(r.outputs()));
    List<String> inputs = new ArrayList<>(List.of(master.output(0)));
    for (Node r : rest) {
      for (String in : r.inputs()) {
        if (!in.isEmpty() && !produced.contains(in) && defined.add(in)) {
          TensorType t = body.typeOf(in).orElseThrow();
          g.input(in, t);
          inputs.add(in);
        }
      }
      g.node(r);
    }
    for (ValueInfo o : body.outputs()) {
      g.output(o.name(), o.type());
    }
    body.valueTypes().forEach((k, v) -> {
      if (produced.contains(k)) {
        g.valueType(k, v);
      }
    });
    Map<String, Attribute> attrs = new LinkedHashMap<>();
    attrs.put("body", Attribute.ofGraph(g.build()));
    attrs.put("pattern", Attribute.ofString("BROADCAST"));
    return new Node(group.name() + "_epilogue", NnvmOps.FUSED, NnvmOps.DOMAIN, inputs, group.outputs(), attrs);
  }
}
