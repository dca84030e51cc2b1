package dev.nnvm.compiler.lower;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Lowers one kernel of an optimized graph (a plain node or an
 * {@code nnvm.Fused} group) into a loop nest.
 *
 * <p>How it works. Every group output gets a loop nest over its shape that
 * stores the output's expression at the loop indices; the expression comes
 * from the operators' {@link ComputeRule}s, and a rule asking for an input
 * produced inside the group inlines that producer at the asked index (as
 * TVM's compute_inline), so nothing in the group is materialized. A group
 * with a reduction (pattern REDUCE) loops over the reduction's output, runs
 * an accumulator over the reduced axes with the inlined producers inside,
 * and then evaluates the elementwise consumers of the reduction on the
 * accumulated value. A group whose master is a sliding-window operator
 * (convolution, pooling: {@link WindowKernels}) is lowered the same way, with
 * the window's accumulation in place of the reduction's.
 */
public final class KernelLowering {
  private final OpRegistry registry;
  private final LoweringRules rules;

  public KernelLowering(OpRegistry registry, LoweringRules rules) {
    this.registry = registry;
    this.rules = rules;
  }

  public static KernelLowering standard() {
    return new KernelLowering(OpRegistry.standard(), LoweringRules.standard());
  }

  /** Lowers {@code node} of {@code graph} (whose types are inferred) into a kernel. */
  public Kernel lower(Node node, Graph graph) {
    Graph body = node.domain().equals(NnvmOps.DOMAIN) && node.opType().equals(NnvmOps.FUSED)
        ? node.attribute("body").asGraph() : singleNodeBody(node, graph);
    return new Lowerer(node, body, graph).run();
  }

  private static Graph singleNodeBody(Node node, Graph graph) {
    Graph.Builder b = Graph.builder(node.name().isEmpty() ? node.opType() : node.name());
    for (String in : new LinkedHashSet<>(node.inputs())) {
      if (!in.isEmpty()) {
        b.input(in, typeIn(graph, in, node));
      }
    }
    b.node(node);
    for (String o : node.outputs()) {
      if (!o.isEmpty()) {
        b.output(o, typeIn(graph, o, node));
      }
    }
    return b.build();
  }

  private static TensorType typeIn(Graph g, String value, Node node) {
    return g.typeOf(value).orElseThrow(() -> new IllegalStateException(
        node.describe() + ": the type of '" + value + "' is unknown; infer types before lowering"));
  }

  /** The lowering of one kernel. */
  private final class Lowerer {
    private final Node node;
    private final Graph body;
    private final Graph graph;
    private final Map<String, BufferRef> buffers = new HashMap<>();
    private final Map<String, Node> producers;
    private final Set<String> symbols = new LinkedHashSet<>();
    private Node reduceNode;
    private List<Expr> reduceIndex;
    private Expr reduceResult;

    Lowerer(Node node, Graph body, Graph graph) {
      this.node = node;
      this.body = body;
      this.graph = graph;
      this.producers = body.producers();
    }

    Kernel run() {
      List<BufferRef> ins = new ArrayList<>();
      for (ValueInfo in : body.inputs()) {
        ins.add(buffer(in.name(), in.type(), "in"));
      }
      List<BufferRef> outs = new ArrayList<>();
      for (ValueInfo out : body.outputs()) {
        outs.add(buffer(out.name(), out.type(), "out"));
      }
      for (Node n : body.nodes()) {
        if (rules.reduction(n).isPresent() || WindowKernels.handles(n)) {
          if (reduceNode != null) {
            throw unsupported("two reductions in one kernel");
          }
          reduceNode = n;
        }
      }
      Stmt stmt;
      if (body.nodes().size() == 1 && rules.rule(body.nodes().get(0)).isEmpty() && reduceNode == null) {
        Node only = body.nodes().get(0);
        stmt = OpaqueKernels.lower(only, context(only), ins, outs)
            .orElseThrow(() -> unsupported("no loop lowering for " + only.qualifiedOp()));
      } else {
        stmt = reduceNode == null ? elementwise(outs) : reduction(outs);
      }
      String name = node.name().isEmpty() ? node.opType() : node.name();
      return new Kernel(name, ins, outs, new ArrayList<>(symbols), stmt);
    }

    private BufferRef buffer(String value, TensorType t, String role) {
      if (!t.shape().hasRank()) {
        throw unsupported("'" + value + "' has no known rank");
      }
      List<Expr> shape = new ArrayList<>();
      for (var d : t.shape().dims()) {
        if (d.isUnknown()) {
          throw unsupported("'" + value + "' has a dimension of unknown size " + t.shape());
        }
        if (d.isSymbolic()) {
          symbols.add(d.symbol());
        }
        shape.add(Exprs.dim(d));
      }
      BufferRef b = new BufferRef(value, t.dtype(), shape);
      buffers.put(value, b);
      return b;
    }

    private UnsupportedModelException unsupported(String why) {
      return new UnsupportedModelException(node.describe() + ": cannot lower to a loop kernel: " + why);
    }

    private Stmt elementwise(List<BufferRef> outs) {
      List<Stmt> nests = new ArrayList<>();
      for (BufferRef out : outs) {
        List<Expr.Var> vars = loopVars("i", out.rank());
        List<Expr> idx = new ArrayList<>(vars);
        Stmt store = new Stmt.Store(out, Exprs.flatIndex(idx, out.shape()), Exprs.as(valueAt(out.name(), idx),
            out.dtype()));
        nests.add(nest(vars, out.shape(), store));
      }
      return nests.size() == 1 ? nests.get(0) : new Stmt.Seq(nests);
    }

    private Stmt reduction(List<BufferRef> outs) {
      if (WindowKernels.handles(reduceNode)) {
        return window(outs);
      }
      Reduction kind = rules.reduction(reduceNode).orElseThrow();
      String x = reduceNode.input(0);
      TensorType xt = type(x);
      TensorType rt = type(reduceNode.output(0));
      LowerContext ctx = context(reduceNode);
      int rank = xt.shape().rank();
      int[] axes = LoweringRules.reducedAxes(ctx, rank);
      boolean keep = LoweringRules.keepDims(ctx);
      for (BufferRef out : outs) {
        if (!type(out.name()).shape().equals(rt.shape())) {
          throw unsupported("output '" + out.name() + "' is not shaped like the reduction's result");
        }
      }
      List<Expr> xDims = LowerContext.dims(xt);
      List<Expr> rDims = LowerContext.dims(rt);
      List<Expr.Var> outVars = loopVars("i", rDims.size());
      List<Expr.Var> redVars = loopVars("r", axes.length);
      List<Expr> inIdx = new ArrayList<>();
      List<Expr> redExtents = new ArrayList<>();
      int o = 0;
      int r = 0;
      for (int a = 0; a < rank; a++) {
        if (r < axes.length && axes[r] == a) {
          inIdx.add(redVars.get(r));
          redExtents.add(xDims.get(a));
          r++;
          if (keep) {
            o++;
          }
        } else {
          inIdx.add(outVars.get(o++));
        }
      }
      DType acc = xt.dtype();
      Expr.Local accumulator = new Expr.Local("acc", acc);
      Expr.Local result = new Expr.Local("result", acc);
      Stmt accumulate = new Stmt.Assign(accumulator, kind.step(accumulator, Exprs.as(valueAt(x, inIdx), acc)));
      List<Stmt> inner = new ArrayList<>();
      inner.add(new Stmt.Declare(accumulator, kind.init(acc)));
      inner.add(redVars.isEmpty() ? accumulate : serialNest(redVars, redExtents, accumulate));
      // No axes (noop_with_empty_axes): the identity, as ONNX defines it, not one step of the reduction
      // (ReduceL1 would take the absolute value, ReduceSumSquare the square).
      inner.add(new Stmt.Declare(result, axes.length == 0 ? Exprs.as(valueAt(x, inIdx), acc)
          : kind.finish(accumulator, Exprs.product(redExtents))));
      reduceIndex = new ArrayList<>(outVars);
      reduceResult = result;
      for (BufferRef out : outs) {
        inner.add(new Stmt.Store(out, Exprs.flatIndex(reduceIndex, out.shape()), Exprs.as(valueAt(out.name(),
            reduceIndex), out.dtype())));
      }
      return nest(outVars, rDims, new Stmt.Seq(inner));
    }

    /**
     * A window operator (convolution, pooling, Gemm): its accumulation per
     * element of its result, then the epilogue. The group's outputs may
     * broadcast the result along axes where it has size 1 (a squeeze-excite
     * scale); those axes loop inside, after the accumulation.
     */
    private Stmt window(List<BufferRef> outs) {
      List<Expr> rDims = LowerContext.dims(type(reduceNode.output(0)));
      List<Expr> oDims = outs.get(0).shape();
      for (BufferRef out : outs) {
        if (!out.shape().equals(oDims) || out.rank() != rDims.size()) {
          throw unsupported("outputs " + outs.stream().map(BufferRef::name).toList()
              + " are not one shape that broadcasts the window's result");
        }
      }
      List<Expr.Var> vars = loopVars("i", rDims.size());
      List<Expr.Var> outerVars = new ArrayList<>();
      List<Expr> outerDims = new ArrayList<>();
      List<Expr.Var> innerVars = new ArrayList<>();
      List<Expr> innerDims = new ArrayList<>();
      List<Expr> resultIndex = new ArrayList<>();
      for (int d = 0; d < rDims.size(); d++) {
        if (rDims.get(d).equals(oDims.get(d))) {
          outerVars.add(vars.get(d));
          outerDims.add(oDims.get(d));
          resultIndex.add(vars.get(d));
        } else if (Long.valueOf(1).equals(Exprs.constValue(rDims.get(d)))) {
          innerVars.add(vars.get(d));
          innerDims.add(oDims.get(d));
          resultIndex.add(Exprs.i64(0));
        } else {
          throw unsupported("outputs of shape " + oDims + " do not broadcast the window's result " + rDims);
        }
      }
      TensorType rt = type(reduceNode.output(0));
      if (innerVars.isEmpty() && outs.get(0).dtype() == rt.dtype()) {
        Optional<WindowKernels.UpsamplingTiles> tiles = WindowKernels.upsamplingTiles(context(reduceNode));
        if (tiles.isPresent()) {
          return tiles(outs, vars, oDims, tiles.get());
        }
        Optional<WindowKernels.WindowRows> rows = WindowKernels.windowRows(context(reduceNode));
        if (rows.isPresent()) {
          return windowRows(outs, vars, oDims, rows.get());
        }
        Optional<WindowKernels.Sum> lanes = WindowKernels.laneSum(context(reduceNode), resultIndex);
        if (lanes.isPresent()) {
          return lanes(outs, vars, oDims, lanes.get());
        }
      }
      WindowKernels.Accumulation a = WindowKernels.accumulate(context(reduceNode), resultIndex);
      Expr.Local result = new Expr.Local("result", a.value().type());
      reduceIndex = resultIndex;
      reduceResult = result;
      List<Stmt> stores = new ArrayList<>();
      List<Expr> index = new ArrayList<>(vars);
      for (BufferRef out : outs) {
        stores.add(new Stmt.Store(out, Exprs.flatIndex(index, out.shape()), Exprs.as(valueAt(out.name(), index),
            out.dtype())));
      }
      Stmt store = stores.size() == 1 ? stores.get(0) : new Stmt.Seq(stores);
      Stmt body = new Stmt.Seq(List.of(a.body(), new Stmt.Declare(result, a.value()),
          innerVars.isEmpty() ? store : serialNest(innerVars, innerDims, store)));
      return nest(outerVars, outerDims, body);
    }

    /**
     * A sum over the window for all lanes of an output pixel at once
     * (innermost loop over the last axis), accumulated in the first output;
     * then the epilogue reads it back there, and the first output is
     * written last. (A convolution group's output never shares memory with
     * its inputs: the memory plan writes in place only for elementwise kernels.)
     */
    private Stmt lanes(List<BufferRef> outs, List<Expr.Var> vars, List<Expr> dims, WindowKernels.Sum sum) {
      int last = vars.size() - 1;
      BufferRef acc = outs.get(0);
      List<Expr> index = new ArrayList<>(vars);
      Expr at = accumulateInFirstOutput(outs, index);
      Stmt pixel = new Stmt.Seq(List.of(
          new Stmt.For(vars.get(last), dims.get(last), new Stmt.Store(acc, at, sum.init()),
              Stmt.ForKind.VECTORIZABLE),
          sum.loops().apply(new Stmt.For(vars.get(last), dims.get(last), new Stmt.Store(acc, at,
              Exprs.value(Expr.BinaryOp.ADD, new Expr.Load(acc, at), sum.term())), Stmt.ForKind.VECTORIZABLE)),
          epilogueRow(outs, index, vars.get(last), dims.get(last))));
      return nest(vars.subList(0, last), dims.subList(0, last), pixel);
    }

    /**
     * An upsampling ConvTranspose (see {@link WindowKernels.UpsamplingTiles}):
     * per output row (input row i, tap row a), the row is set to the bias,
     * each input channel adds its contribution over input columns j (the sw
     * pixels of a tile written together, contiguous reads of X), then the
     * epilogue reads the row back from the first output, written last.
     */
    private Stmt tiles(List<BufferRef> outs, List<Expr.Var> vars, List<Expr> dims, WindowKernels.UpsamplingTiles t) {
      BufferRef acc = outs.get(0);
      DType dt = acc.dtype();
      Expr.Var i = new Expr.Var("ti");
      Expr.Var a = new Expr.Var("ta");
      Expr.Var j = new Expr.Var("tj");
      Expr.Var c = new Expr.Var("tc");
      Expr n = vars.get(0);
      Expr m = vars.get(1);
      Expr oh = Exprs.add(Exprs.mul(i, Exprs.i64(t.sh())), a);
      Expr.Var ow = vars.get(3);
      List<Expr> index = List.of(n, m, oh, ow);
      Expr at = accumulateInFirstOutput(outs, index);
      List<Stmt> taps = new ArrayList<>();
      Expr xv = t.x(n, c, i, j);
      for (long b = 0; b < t.sw(); b++) {
        Expr px = Exprs.flatIndex(List.of(n, m, oh, Exprs.add(Exprs.mul(j, Exprs.i64(t.sw())), Exprs.i64(b))),
            acc.shape());
        taps.add(new Stmt.Store(acc, px, Exprs.value(Expr.BinaryOp.ADD, new Expr.Load(acc, px),
            Exprs.value(Expr.BinaryOp.MUL, Exprs.as(xv, dt), Exprs.as(t.w(c, m, a, b), dt)))));
      }
      Stmt row = new Stmt.Seq(List.of(
          new Stmt.For(ow, dims.get(3), new Stmt.Store(acc, at, t.bias(m, dt)), Stmt.ForKind.VECTORIZABLE),
          new Stmt.For(c, Exprs.i64(t.channelsIn()), new Stmt.For(j, Exprs.i64(t.inW()), new Stmt.Seq(taps),
              Stmt.ForKind.VECTORIZABLE), Stmt.ForKind.SERIAL),
          epilogueRow(outs, index, ow, dims.get(3))));
      return nest(List.of(vars.get(0), vars.get(1), i, a), List.of(dims.get(0), dims.get(1), Exprs.i64(t.inH()),
          Exprs.i64(t.sh())), row);
    }

    /**
     * A depthwise convolution or a MaxPool by output rows (see
     * {@link WindowKernels.WindowRows}), accumulated in the first output,
     * then the epilogue reads the row back there; the first output is
     * written last.
     */
    private Stmt windowRows(List<BufferRef> outs, List<Expr.Var> vars, List<Expr> dims, WindowKernels.WindowRows d) {
      BufferRef acc = outs.get(0);
      DType dt = acc.dtype();
      Expr n = vars.get(0);
      Expr c = vars.get(1);
      Expr oh = vars.get(2);
      Expr.Var ow = vars.get(3);
      List<Expr> index = List.of(n, c, oh, ow);
      accumulateInFirstOutput(outs, index);
      long width = d.out()[1];
      // Interior columns: every tap reads inside the image row (when the row is inside).
      long lo = 0;
      long hi = width;
      for (long kw = 0; kw < d.kernel()[1]; kw++) {
        long[] cols = d.columns(kw);
        lo = Math.max(lo, cols[0]);
        hi = Math.min(hi, cols[1]);
      }
      hi = Math.max(lo, hi);
      long[][] borders = {{0, lo}, {hi, width}};
      Expr.Var j = new Expr.Var("dj");
      List<Stmt> row = new ArrayList<>();
      for (long[] border : borders) {
        row.add(columns(j, border[0], border[1], col -> new Stmt.Store(acc, pixel(acc, n, c, oh, col),
            d.init(c, dt))));
      }
      // The interior in one pass: all taps of an output combined in registers, one store.
      // A local, not a nested expression: a max reads its running value twice per tap.
      Expr.Local sum = new Expr.Local("wacc", dt);
      List<Stmt> interior = new ArrayList<>(List.of(new Stmt.Declare(sum, d.init(c, dt))));
      List<Stmt> borderTaps = new ArrayList<>();
      for (long kh = 0; kh < d.kernel()[0]; kh++) {
        Expr ih = Exprs.add(Exprs.mul(oh, Exprs.i64(d.strides()[0])),
            Exprs.i64(kh * d.dilations()[0] - d.padBegin()[0]));
        WindowKernels.SourceRow src = WindowKernels.SourceRow.of(ih, d.in()[0]);
        Expr rowInside = src.inside();
        Expr ihClamped = src.clamped();
        for (long kw = 0; kw < d.kernel()[1]; kw++) {
          long tapKh = kh;
          long tapKw = kw;
          java.util.function.BiFunction<Expr, Expr, Expr> tap = (acc0, col) -> d.combine(acc0, rowInside,
              d.x(n, c, ihClamped, Exprs.add(Exprs.mul(col, Exprs.i64(d.strides()[1])),
                  Exprs.i64(tapKw * d.dilations()[1] - d.padBegin()[1]))), c, tapKh, tapKw, dt);
          interior.add(new Stmt.Assign(sum, tap.apply(sum, Exprs.add(j, Exprs.i64(lo)))));
          // Border columns this tap reads inside the image, tap by tap.
          long[] cols = d.columns(kw);
          for (long[] border : borders) {
            borderTaps.add(columns(j, Math.max(cols[0], border[0]), Math.min(cols[1], border[1]), col -> {
              Expr px = pixel(acc, n, c, oh, col);
              return new Stmt.Store(acc, px, tap.apply(new Expr.Load(acc, px), col));
            }));
          }
        }
      }
      if (hi > lo) {
        interior.add(new Stmt.Store(acc, pixel(acc, n, c, oh, Exprs.add(j, Exprs.i64(lo))), sum));
        row.add(new Stmt.For(j, Exprs.i64(hi - lo), new Stmt.Seq(interior), Stmt.ForKind.VECTORIZABLE));
      }
      row.addAll(borderTaps);
      row.add(epilogueRow(outs, index, ow, dims.get(3)));
      return nest(vars.subList(0, 3), dims.subList(0, 3), new Stmt.Seq(row));
    }

    /** A vectorizable loop over columns [from, to) (nothing when empty); {@code body} gets the column. */
    private static Stmt columns(Expr.Var j, long from, long to, java.util.function.Function<Expr, Stmt> body) {
      if (to <= from) {
        return new Stmt.Seq(List.of());
      }
      return new Stmt.For(j, Exprs.i64(to - from), body.apply(Exprs.add(j, Exprs.i64(from))),
          Stmt.ForKind.VECTORIZABLE);
    }

    private static Expr pixel(BufferRef acc, Expr n, Expr c, Expr oh, Expr col) {
      return Exprs.flatIndex(List.of(n, c, oh, col), acc.shape());
    }

    /**
     * Makes the first output the accumulator of the window's result at
     * {@code index} (the epilogue reads it back from there); returns its flat
     * index.
     */
    private Expr accumulateInFirstOutput(List<BufferRef> outs, List<Expr> index) {
      BufferRef acc = outs.get(0);
      Expr at = Exprs.flatIndex(index, acc.shape());
      reduceIndex = index;
      reduceResult = new Expr.Load(acc, at);
      return at;
    }

    /**
     * The epilogue over one row ({@code var} up to {@code extent}): every
     * output at {@code index}, the first (the accumulator) written last.
     */
    private Stmt epilogueRow(List<BufferRef> outs, List<Expr> index, Expr.Var var, Expr extent) {
      List<Stmt> stores = new ArrayList<>();
      for (int i = outs.size() - 1; i >= 0; i--) {
        BufferRef out = outs.get(i);
        stores.add(new Stmt.Store(out, Exprs.flatIndex(index, out.shape()), Exprs.as(valueAt(out.name(), index),
            out.dtype())));
      }
      return new Stmt.For(var, extent, stores.size() == 1 ? stores.get(0) : new Stmt.Seq(stores),
          stores.size() == 1 ? Stmt.ForKind.VECTORIZABLE : Stmt.ForKind.SERIAL);
    }

    private List<Expr.Var> loopVars(String prefix, int n) {
      List<Expr.Var> vars = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        vars.add(new Expr.Var(prefix + i));
      }
      return vars;
    }

    /**
     * Loops over a shape: the outermost may run in parallel, the innermost is vectorizable. Leading
     * dimensions statically 1 long go just inside the first longer one, which becomes the parallel loop
     * (a batch of 1 would otherwise leave a MaxPool over [1, 64, 56, 56] on one thread); loops of one
     * iteration may go anywhere.
     */
    private Stmt nest(List<Expr.Var> vars, List<Expr> extents, Stmt inner) {
      if (vars.isEmpty()) {
        return inner;
      }
      int first = 0;
      while (first < vars.size() - 1 && Long.valueOf(1).equals(Exprs.constValue(extents.get(first)))) {
        first++;
      }
      if (first == vars.size() - 1) {
        first = 0;  // only the innermost is longer: it stays innermost (vectorizable)
      }
      List<Integer> order = new ArrayList<>();
      order.add(first);
      for (int i = 0; i < vars.size(); i++) {
        if (i != first) {
          order.add(i);
        }
      }
      Stmt s = inner;
      for (int k = order.size() - 1; k >= 0; k--) {
        int i = order.get(k);
        Stmt.ForKind kind = i == vars.size() - 1 && !(inner instanceof Stmt.Seq) ? Stmt.ForKind.VECTORIZABLE
            : k == 0 ? Stmt.ForKind.PARALLEL : Stmt.ForKind.SERIAL;
        s = new Stmt.For(vars.get(i), extents.get(i), s, kind);
      }
      return s;
    }

    private Stmt serialNest(List<Expr.Var> vars, List<Expr> extents, Stmt inner) {
      Stmt s = inner;
      for (int i = vars.size() - 1; i >= 0; i--) {
        s = new Stmt.For(vars.get(i), extents.get(i), s, Stmt.ForKind.SERIAL);
      }
      return s;
    }

    private TensorType type(String value) {
      return body.typeOf(value).or(() -> graph.typeOf(value)).orElseThrow(() -> unsupported(
          "the type of '" + value + "' is unknown"));
    }

    /** The expression of a value at an index: a load of a kernel input, or its producer inlined. */
    private Expr valueAt(String value, List<Expr> index) {
      BufferRef in = buffers.get(value);
      if (in != null && body.input(value).isPresent()) {
        return new Expr.Load(in, Exprs.flatIndex(index, in.shape()));
      }
      Node n = producers.get(value);
      if (n == null) {
        throw unsupported("'" + value + "' is neither an input nor computed in the kernel");
      }
      if (n == reduceNode) {
        if (!sameElement(index, reduceIndex, type(n.output(0)))) {
          throw unsupported("the reduction's result is read at another index than it is computed");
        }
        return reduceResult;
      }
      if (!n.output(0).equals(value)) {
        throw unsupported(n.describe() + " result '" + value + "' is not its first output");
      }
      ComputeRule rule = rules.rule(n).orElseThrow(() -> unsupported("no loop lowering for " + n.qualifiedOp()));
      return rule.compute(context(n), index);
    }

    /** Whether two indices name one element of a value: they agree except on axes of size 1. */
    private boolean sameElement(List<Expr> a, List<Expr> b, TensorType t) {
      if (a.size() != b.size()) {
        return false;
      }
      for (int d = 0; d < a.size(); d++) {
        Dim dim = t.shape().dim(d);
        if (!a.get(d).equals(b.get(d)) && !(dim.isStatic() && dim.value() == 1)) {
          return false;
        }
      }
      return true;
    }

    private LowerContext context(Node n) {
      OpDef def = registry.require(n);
      List<TensorType> inTypes = new ArrayList<>();
      for (String in : n.inputs()) {
        inTypes.add(in.isEmpty() ? null : type(in));
      }
      Map<String, Tensor> constants = graph.constants();
      return new LowerContext(n, def, graph.opset(n.domain(), 1), inTypes, type(n.output(0)), constants::get,
          (i, idx) -> valueAt(n.input(i), idx));
    }
  }
}
