package dev.nnvm.compiler.ops;

import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.EvalContext;
import dev.nnvm.compiler.ir.op.InferContext;
import dev.nnvm.compiler.ir.op.OpContext;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Constants and control flow: Constant, If, Loop and Scan. */
final class ControlFlowOps {
  private ControlFlowOps() {}

  static void register(OpRegistry r) {
    OpDef.builder("Constant")
        .inputs(0)
        .attr(AttrSpec.of("value", Attribute.Kind.TENSOR))
        .attr(AttrSpec.of("value_float", Attribute.Kind.FLOAT))
        .attr(AttrSpec.of("value_floats", Attribute.Kind.FLOATS))
        .attr(AttrSpec.of("value_int", Attribute.Kind.INT))
        .attr(AttrSpec.of("value_ints", Attribute.Kind.INTS))
        .attr(AttrSpec.of("value_string", Attribute.Kind.STRING))
        .attr(AttrSpec.of("value_strings", Attribute.Kind.STRINGS))
        .infer(ctx -> List.of(constantValue(ctx).type()))
        .eval(ctx -> List.of(constantValue(ctx)))
        .register(r);

    OpDef.builder("If")
        .inputs(1)
        .outputs(1, Integer.MAX_VALUE)
        .attr(AttrSpec.required("then_branch", Attribute.Kind.GRAPH))
        .attr(AttrSpec.required("else_branch", Attribute.Kind.GRAPH))
        .infer(ctx -> {
          List<TensorType> out = new java.util.ArrayList<>();
          for (var v : ctx.attrGraph("then_branch").outputs()) {
            out.add(v.type());
          }
          return out;
        })
        .eval(ctx -> {
          boolean cond = ctx.input(0).getBool(0);
          return ctx.runSubgraph(ctx.attrGraph(cond ? "then_branch" : "else_branch"), Map.of());
        })
        .register(r);

    OpDef.builder("Loop")
        .inputs(2, Integer.MAX_VALUE)
        .outputs(1, Integer.MAX_VALUE)
        .attr(AttrSpec.required("body", Attribute.Kind.GRAPH))
        .infer(ControlFlowOps::inferLoop)
        .eval(ControlFlowOps::evalLoop)
        .register(r);

    OpDef.builder("Scan")
        .inputs(1, Integer.MAX_VALUE)
        .outputs(1, Integer.MAX_VALUE)
        .attr(AttrSpec.required("body", Attribute.Kind.GRAPH))
        .attr(AttrSpec.required("num_scan_inputs", Attribute.Kind.INT))
        .attr(AttrSpec.of("scan_input_directions", Attribute.Kind.INTS))
        .attr(AttrSpec.of("scan_output_directions", Attribute.Kind.INTS))
        .attr(AttrSpec.of("scan_input_axes", Attribute.Kind.INTS))
        .attr(AttrSpec.of("scan_output_axes", Attribute.Kind.INTS))
        .attr(AttrSpec.of("directions", Attribute.Kind.INTS))
        .infer(ControlFlowOps::inferScan)
        .eval(ControlFlowOps::evalScan)
        .register(r);
  }

  // ---- Loop ----

  /**
   * Loop inputs: M (max trip count, optional), cond (optional), N loop-carried
   * values. Body: (iteration, cond, N carried) -> (cond, N carried, K scan
   * slices). Outputs: N final carried values, then K scan outputs stacked on a
   * new leading axis.
   */
  private static List<TensorType> inferLoop(InferContext ctx) {
    Graph body = ctx.attrGraph("body");
    int n = ctx.inputCount() - 2;
    checkLoopBody(ctx, body, n);
    List<TensorType> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(merge(ctx.inputType(2 + i), body.outputs().get(1 + i).type()));
    }
    for (int k = 1 + n; k < body.outputs().size(); k++) {
      TensorType slice = body.outputs().get(k).type();
      out.add(slice.withShape(stackedShape(slice.shape(), 0, Dim.unknown())));
    }
    return out;
  }

  private static void checkLoopBody(OpContext ctx, Graph body, int n) {
    if (body.inputs().size() != 2 + n) {
      throw ctx.error("body has %d inputs, expected %d (iteration, cond and %d loop-carried values)",
          body.inputs().size(), 2 + n, n);
    }
    if (body.outputs().size() < 1 + n) {
      throw ctx.error("body has %d outputs, expected at least %d (cond and %d loop-carried values)",
          body.outputs().size(), 1 + n, n);
    }
    if (ctx.outputCount() > body.outputs().size() - 1) {
      throw ctx.error("node has %d outputs, the body produces only %d", ctx.outputCount(),
          body.outputs().size() - 1);
    }
  }

  private static List<Tensor> evalLoop(EvalContext ctx) {
    Graph body = ctx.attrGraph("body");
    int n = ctx.inputCount() - 2;
    checkLoopBody(ctx, body, n);
    Tensor maxTrips = ctx.optionalInput(0);
    Tensor condIn = ctx.optionalInput(1);
    long limit = maxTrips == null ? Long.MAX_VALUE : maxTrips.scalarLong();
    boolean cond = condIn == null || condIn.getBool(0);
    List<Tensor> carried = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      carried.add(ctx.input(2 + i));
    }
    int k = body.outputs().size() - 1 - n;
    List<List<Tensor>> scans = new ArrayList<>();
    for (int j = 0; j < k; j++) {
      scans.add(new ArrayList<>());
    }
    for (long it = 0; it < limit && cond; it++) {
      Map<String, Tensor> bind = new HashMap<>();
      bind.put(body.inputs().get(0).name(), Tensor.scalarLong(DType.INT64, it));
      bind.put(body.inputs().get(1).name(), Tensor.ofBools(new long[0], cond));
      for (int i = 0; i < n; i++) {
        bind.put(body.inputs().get(2 + i).name(), carried.get(i));
      }
      List<Tensor> outs = ctx.runSubgraph(body, bind);
      // As in ONNX Runtime and the ONNX reference, the body's condition ends the loop even when the
      // node has no cond input.
      cond = outs.get(0).getBool(0);
      for (int i = 0; i < n; i++) {
        carried.set(i, outs.get(1 + i));
      }
      for (int j = 0; j < k; j++) {
        scans.get(j).add(outs.get(1 + n + j));
      }
    }
    List<Tensor> result = new ArrayList<>(carried);
    for (int j = 0; j < k; j++) {
      result.add(stack(ctx, scans.get(j), 0, body.outputs().get(1 + n + j).type()));
    }
    return result;
  }

  // ---- Scan ----

  /**
   * Scan (opset 9+) inputs: N initial states, then M scan inputs. Body: (N
   * states, M slices) -> (N states, K slices). Outputs: N final states, then
   * K scan outputs stacked along their axes; directions 1 walk / stack in reverse.
   *
   * <p>Scan-8 differs: an optional sequence_lens input comes first, every
   * input and output has a leading batch axis, scan inputs are scanned along
   * axis 1 (attribute {@code directions}), and each batch entry runs the body
   * for its own sequence length; shorter scan outputs are padded with zeros.
   */
  private static List<TensorType> inferScan(InferContext ctx) {
    ScanSpec s = new ScanSpec(ctx);
    List<TensorType> out = new ArrayList<>();
    for (int i = 0; i < s.n; i++) {
      TensorType initial = ctx.inputType(s.first + i);
      out.add(s.batched ? initial : merge(initial, s.body.outputs().get(i).type()));
    }
    Dim trips = Dim.unknown();
    Dim batch = Dim.unknown();
    Shape firstScan = ctx.inputType(s.first + s.n).shape();
    if (firstScan.hasRank()) {
      trips = firstScan.dim(s.batched ? 1 : ctx.axis(s.inputAxes[0], firstScan.rank(), "scan_input_axes value"));
      batch = firstScan.dim(0);
    }
    for (int k = 0; k < s.k; k++) {
      TensorType slice = s.body.outputs().get(s.n + k).type();
      if (s.batched) {
        out.add(slice.withShape(stackedShape(stackedShape(slice.shape(), 0, trips), 0, batch)));
        continue;
      }
      int axis = slice.shape().hasRank()
          ? ctx.axis(s.outputAxes[k], slice.shape().rank() + 1, "scan_output_axes value") : 0;
      out.add(slice.withShape(stackedShape(slice.shape(), axis, trips)));
    }
    return out;
  }

  private static List<Tensor> evalScan(EvalContext ctx) {
    ScanSpec s = new ScanSpec(ctx);
    if (s.batched) {
      return evalBatchedScan(ctx, s);
    }
    List<Tensor> state = new ArrayList<>();
    for (int i = 0; i < s.n; i++) {
      state.add(ctx.input(i));
    }
    List<Tensor> inputs = new ArrayList<>();
    int[] axes = new int[s.m];
    for (int j = 0; j < s.m; j++) {
      inputs.add(ctx.input(s.n + j));
      axes[j] = ctx.axis(s.inputAxes[j], inputs.get(j).rank(), "scan_input_axes value");
    }
    List<List<Tensor>> scans = runScan(ctx, s, state, inputs, axes, scanLength(ctx, inputs, axes));
    List<Tensor> result = new ArrayList<>(state);
    for (int k = 0; k < s.k; k++) {
      List<Tensor> parts = scans.get(k);
      if (s.outputDirections[k] == 1) {
        java.util.Collections.reverse(parts);
      }
      TensorType slice = s.body.outputs().get(s.n + k).type();
      int rank = parts.isEmpty() ? (slice.shape().hasRank() ? slice.shape().rank() : 0) : parts.get(0).rank();
      result.add(stack(ctx, parts, ctx.axis(s.outputAxes[k], rank + 1, "scan_output_axes value"), slice));
    }
    return result;
  }

  private static List<Tensor> evalBatchedScan(EvalContext ctx, ScanSpec s) {
    Tensor lens = ctx.optionalInput(0);
    Tensor firstScan = ctx.input(s.first + s.n);
    int batch = (int) firstScan.dim(0);
    int[] axes = new int[s.m];
    java.util.Arrays.fill(axes, 0);
    List<List<Tensor>> finalStates = new ArrayList<>();
    List<List<Tensor>> scanOutputs = new ArrayList<>();
    for (int i = 0; i < s.n + s.k; i++) {
      (i < s.n ? finalStates : scanOutputs).add(new ArrayList<>());
    }
    for (int b = 0; b < batch; b++) {
      List<Tensor> state = new ArrayList<>();
      for (int i = 0; i < s.n; i++) {
        state.add(slice(ctx.input(s.first + i), 0, b));
      }
      List<Tensor> inputs = new ArrayList<>();
      for (int j = 0; j < s.m; j++) {
        inputs.add(slice(ctx.input(s.first + s.n + j), 0, b));
      }
      long full = scanLength(ctx, inputs, axes);
      long len = lens == null ? full : lens.getLong(b);
      if (len < 0 || len > full) {
        throw ctx.error("sequence_lens[%d] = %d is outside [0, %d]", b, len, full);
      }
      List<List<Tensor>> scans = runScan(ctx, s, state, inputs, axes, len);
      for (int i = 0; i < s.n; i++) {
        finalStates.get(i).add(state.get(i));
      }
      for (int k = 0; k < s.k; k++) {
        List<Tensor> parts = scans.get(k);
        while (!parts.isEmpty() && parts.size() < full) {
          parts.add(Tensor.zeros(parts.get(0).dtype(), parts.get(0).shape()));
        }
        scanOutputs.get(k).add(stack(ctx, parts, 0, s.body.outputs().get(s.n + k).type()));
      }
    }
    List<Tensor> result = new ArrayList<>();
    for (int i = 0; i < s.n; i++) {
      result.add(stack(ctx, finalStates.get(i), 0, s.body.outputs().get(i).type()));
    }
    for (int k = 0; k < s.k; k++) {
      result.add(stack(ctx, scanOutputs.get(k), 0, s.body.outputs().get(s.n + k).type()));
    }
    return result;
  }

  /** The common number of steps of the scan inputs along their axes. */
  private static long scanLength(EvalContext ctx, List<Tensor> inputs, int[] axes) {
    long trips = -1;
    for (int j = 0; j < inputs.size(); j++) {
      long d = inputs.get(j).dim(axes[j]);
      if (trips >= 0 && d != trips) {
        throw ctx.error("scan input %d has %d steps along axis %d, the first has %d", j, d, axes[j], trips);
      }
      trips = d;
    }
    return trips;
  }

  /**
   * Runs the body {@code trips} times; {@code state} is updated in place to
   * the final states; returns the K lists of scan output slices in step order.
   */
  private static List<List<Tensor>> runScan(EvalContext ctx, ScanSpec s, List<Tensor> state, List<Tensor> inputs,
      int[] axes, long trips) {
    List<List<Tensor>> scans = new ArrayList<>();
    for (int k = 0; k < s.k; k++) {
      scans.add(new ArrayList<>());
    }
    for (int t = 0; t < trips; t++) {
      Map<String, Tensor> bind = new HashMap<>();
      for (int i = 0; i < s.n; i++) {
        bind.put(s.body.inputs().get(i).name(), state.get(i));
      }
      for (int j = 0; j < s.m; j++) {
        int step = s.inputDirections[j] == 1 ? (int) trips - 1 - t : t;
        bind.put(s.body.inputs().get(s.n + j).name(), slice(inputs.get(j), axes[j], step));
      }
      List<Tensor> outs = ctx.runSubgraph(s.body, bind);
      for (int i = 0; i < s.n; i++) {
        state.set(i, outs.get(i));
      }
      for (int k = 0; k < s.k; k++) {
        scans.get(k).add(outs.get(s.n + k));
      }
    }
    return scans;
  }

  /** The counts and per-input / per-output attributes of a Scan node, with defaults filled in. */
  private static final class ScanSpec {
    final Graph body;
    final boolean batched;
    final int first;
    final int n;
    final int m;
    final int k;
    final long[] inputDirections;
    final long[] outputDirections;
    final long[] inputAxes;
    final long[] outputAxes;

    ScanSpec(OpContext ctx) {
      batched = ctx.opset() < 9;
      first = batched ? 1 : 0;
      body = ctx.attrGraph("body");
      m = (int) ctx.attrInt("num_scan_inputs");
      n = ctx.inputCount() - first - m;
      if (m < 1 || n < 0) {
        throw ctx.error("num_scan_inputs %d does not fit %d inputs", m, ctx.inputCount());
      }
      k = body.outputs().size() - n;
      if (body.inputs().size() != n + m || k < 0) {
        throw ctx.error("body has %d inputs and %d outputs; expected %d inputs (%d states, %d scan slices) and at "
            + "least %d outputs", body.inputs().size(), body.outputs().size(), n + m, n, m, n);
      }
      if (ctx.outputCount() > n + k) {
        throw ctx.error("node has %d outputs, the body produces %d", ctx.outputCount(), n + k);
      }
      inputDirections = perValue(ctx, batched ? "directions" : "scan_input_directions", m);
      outputDirections = perValue(ctx, "scan_output_directions", k);
      inputAxes = perValue(ctx, "scan_input_axes", m);
      outputAxes = perValue(ctx, "scan_output_axes", k);
      for (long d : inputDirections) {
        checkDirection(ctx, d);
      }
      for (long d : outputDirections) {
        checkDirection(ctx, d);
      }
    }

    private static void checkDirection(OpContext ctx, long d) {
      if (d != 0 && d != 1) {
        throw ctx.error("scan direction must be 0 (forward) or 1 (reverse), got %d", d);
      }
    }

    private static long[] perValue(OpContext ctx, String name, int count) {
      long[] v = ctx.attrInts(name);
      if (v == null) {
        return new long[count];
      }
      if (v.length != count) {
        throw ctx.error("%s has %d values, expected %d", name, v.length, count);
      }
      return v;
    }
  }

  // ---- helpers ----

  /** A loop-carried value's type: its initial type where the body keeps it, unknown dims where it changes. */
  private static TensorType merge(TensorType initial, TensorType fromBody) {
    if (initial.equals(fromBody) || !fromBody.shape().hasRank()) {
      return initial;
    }
    Shape a = initial.shape();
    Shape b = fromBody.shape();
    if (!a.hasRank() || a.rank() != b.rank()) {
      return TensorType.unknownShape(initial.dtype());
    }
    List<Dim> dims = new ArrayList<>();
    for (int i = 0; i < a.rank(); i++) {
      dims.add(a.dim(i).equals(b.dim(i)) ? a.dim(i) : Dim.unknown());
    }
    return new TensorType(initial.dtype(), Shape.of(dims));
  }

  private static Shape stackedShape(Shape slice, int axis, Dim count) {
    if (!slice.hasRank()) {
      return Shape.unknownRank();
    }
    List<Dim> dims = new ArrayList<>(slice.dims());
    dims.add(axis, count);
    return Shape.of(dims);
  }

  /** Element {@code index} along {@code axis}, with that axis removed. */
  static Tensor slice(Tensor x, int axis, int index) {
    long[] shape = x.shape();
    int outer = 1;
    int inner = 1;
    for (int d = 0; d < shape.length; d++) {
      if (d < axis) {
        outer *= (int) shape[d];
      } else if (d > axis) {
        inner *= (int) shape[d];
      }
    }
    int n = (int) shape[axis];
    Object out = Tensor.newStorage(x.dtype(), outer * inner);
    for (int o = 0; o < outer; o++) {
      System.arraycopy(x.data(), (o * n + index) * inner, out, o * inner, inner);
    }
    long[] outShape = new long[shape.length - 1];
    for (int d = 0, j = 0; d < shape.length; d++) {
      if (d != axis) {
        outShape[j++] = shape[d];
      }
    }
    return Tensor.of(x.dtype(), outShape, out);
  }

  /** Stacks equal-shaped tensors along a new axis; an empty list gives a zero-length axis of the body's type. */
  private static Tensor stack(OpContext ctx, List<Tensor> parts, int axis, TensorType sliceType) {
    if (parts.isEmpty()) {
      List<Long> dims = new ArrayList<>();
      if (sliceType.shape().hasRank()) {
        for (Dim d : sliceType.shape().dims()) {
          dims.add(d.isStatic() ? d.value() : 0L);
        }
      }
      dims.add(Math.min(axis, dims.size()), 0L);
      return Tensor.zeros(sliceType.dtype(), dims.stream().mapToLong(Long::longValue).toArray());
    }
    Tensor first = parts.get(0);
    long[] shape = first.shape();
    for (Tensor p : parts) {
      if (!java.util.Arrays.equals(p.shape(), shape) || p.dtype() != first.dtype()) {
        throw ctx.error("scan output slices differ in type or shape: %s and %s", first.type(), p.type());
      }
    }
    int outer = 1;
    int inner = 1;
    for (int d = 0; d < shape.length; d++) {
      if (d < axis) {
        outer *= (int) shape[d];
      } else {
        inner *= (int) shape[d];
      }
    }
    int count = parts.size();
    Object out = Tensor.newStorage(first.dtype(), outer * count * inner);
    for (int i = 0; i < count; i++) {
      for (int o = 0; o < outer; o++) {
        System.arraycopy(parts.get(i).data(), o * inner, out, (o * count + i) * inner, inner);
      }
    }
    long[] outShape = new long[shape.length + 1];
    for (int d = 0, j = 0; d < outShape.length; d++) {
      outShape[d] = d == axis ? count : shape[j++];
    }
    return Tensor.of(first.dtype(), outShape, out);
  }

  private static Tensor constantValue(dev.nnvm.compiler.ir.op.OpContext ctx) {
    if (ctx.hasAttr("value")) {
      return ctx.attrTensor("value");
    }
    if (ctx.hasAttr("value_float")) {
      return Tensor.scalarFloat(ctx.attrFloat("value_float"));
    }
    if (ctx.hasAttr("value_floats")) {
      float[] v = ctx.attrFloats("value_floats");
      return Tensor.ofFloats(new long[] {v.length}, v);
    }
    if (ctx.hasAttr("value_int")) {
      return Tensor.scalarLong(dev.nnvm.runtime.DType.INT64, ctx.attrInt("value_int"));
    }
    if (ctx.hasAttr("value_ints")) {
      return Tensor.vector(ctx.attrInts("value_ints"));
    }
    if (ctx.hasAttr("value_string")) {
      return Tensor.ofStrings(new long[0], ctx.attrString("value_string"));
    }
    if (ctx.hasAttr("value_strings")) {
      return Tensor.ofStrings(new long[] {ctx.node().attribute("value_strings").asStrings().size()},
          ctx.node().attribute("value_strings").asStrings().toArray(new String[0]));
    }
    throw ctx.error("needs one of the value attributes");
  }
}
