package dev.nnvm.compiler.transform;

import org.junit.jupiter.api.Test;

/**
 * Golden tests: each pass on a small graph, before and after as text. Every
 * case also checks (through {@link PassChecks}) that the pass left its input
 * unchanged, that the result verifies, and that it computes the same outputs
 * as the input on random data.
 */
class PassGoldenTest {
  /** One input for the reshape and the cast rewrites: both look at it. */
  private static final String RESHAPES_AND_CASTS =
        "graph main(%x: f32[2, 3, 4], %w: f16[2, 3]) -> (%y: f32[6, 4], %z: f32[2, 3, 4], %c: i64[2, 3]) opset(ai.onnx=17) {\n"
        + "  const %s1: i64[2] = dense<[2, 12]>\n"
        + "  const %s2: i64[2] = dense<[6, 4]>\n"
        + "  const %s3: i64[3] = dense<[2, 3, 4]>\n"
        + "  %a = Reshape(%x, %s1)\n"
        + "  %y = Reshape(%a, %s2)\n"
        + "  %b = Reshape(%x, %s1)\n"
        + "  %z = Reshape(%b, %s3)\n"
        + "  %w32 = Cast(%w) {to = 1}\n"
        + "  %w64 = Cast(%w32) {to = 11}\n"
        + "  %w64b = Cast(%w64) {to = 11}\n"
        + "  %c = Cast(%w64b) {to = 7}\n"
        + "  return %y, %z, %c\n"
        + "}\n";

  @Test
  void simplifyInferenceRemovesIdentityDropoutAndBatchNorm() {
    PassChecks.assertRewrites(SimplifyInference.INSTANCE,
        "graph main(%x: f32[N, 2, 3, 3]) -> (%y: f32[N, 2, 3, 3]) opset(ai.onnx=17) {\n"
        + "  const %gamma: f32[2] = dense<[1.0, 2.0]>\n"
        + "  const %beta: f32[2] = dense<[0.5, -1.0]>\n"
        + "  const %mean: f32[2] = dense<[0.25, 0.0]>\n"
        + "  const %var: f32[2] = dense<[1.0, 4.0]>\n"
        + "  %a = Identity(%x)\n"
        + "  %b = Dropout(%a)\n"
        + "  %y = BatchNormalization(%b, %gamma, %beta, %mean, %var) {epsilon = 0.0}\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%x: f32[N, 2, 3, 3]) -> (%y: f32[N, 2, 3, 3]) opset(ai.onnx=17) {\n"
        + "  const %gamma: f32[2] = dense<[1.0, 2.0]>\n"
        + "  const %beta: f32[2] = dense<[0.5, -1.0]>\n"
        + "  const %mean: f32[2] = dense<[0.25, 0.0]>\n"
        + "  const %var: f32[2] = dense<[1.0, 4.0]>\n"
        + "  const %y/scale: f32[2, 1, 1] = dense<[1.0, 1.0]>\n"
        + "  const %y/shift: f32[2, 1, 1] = dense<[0.25, -1.0]>\n"
        + "  %y/scaled = Mul(%x, %y/scale) {name = \"y/mul\"} : f32[N, 2, 3, 3]\n"
        + "  %y = Add(%y/scaled, %y/shift) {name = \"y/add\"} : f32[N, 2, 3, 3]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void foldConstantsEvaluatesWeightOnlyNodes() {
    PassChecks.assertRewrites(FoldConstants.INSTANCE,
        "graph main(%x: f32[N, 2]) -> (%y: f32[N, 2]) opset(ai.onnx=17) {\n"
        + "  const %a: f32[2] = dense<[1.0, 2.0]>\n"
        + "  const %b: f32[2] = dense<[3.0, 4.0]>\n"
        + "  %c = Add(%a, %b)\n"
        + "  %d = Mul(%c, %c)\n"
        + "  %y = Add(%x, %d)\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%x: f32[N, 2]) -> (%y: f32[N, 2]) opset(ai.onnx=17) {\n"
        + "  const %a: f32[2] = dense<[1.0, 2.0]>\n"
        + "  const %b: f32[2] = dense<[3.0, 4.0]>\n"
        + "  const %c: f32[2] = dense<[4.0, 6.0]>\n"
        + "  const %d: f32[2] = dense<[16.0, 36.0]>\n"
        + "  %y = Add(%x, %d) : f32[N, 2]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void cseMergesEqualNodesAndConstantsButKeepsOutputs() {
    PassChecks.assertRewrites(EliminateCommonSubexpressions.INSTANCE,
        "graph main(%x: f32[N, 2]) -> (%y: f32[N, 2], %z: f32[N, 2]) opset(ai.onnx=17) {\n"
        + "  const %one: f32[] = dense<[1.0]>\n"
        + "  const %one_again: f32[] = dense<[1.0]>\n"
        + "  %a = Relu(%x)\n"
        + "  %b = Relu(%x)\n"
        + "  %c = Add(%a, %one)\n"
        + "  %d = Add(%b, %one_again)\n"
        + "  %y = Mul(%c, %d)\n"
        + "  %z = Relu(%x)\n"
        + "  return %y, %z\n"
        + "}\n",
        "graph main(%x: f32[N, 2]) -> (%y: f32[N, 2], %z: f32[N, 2]) opset(ai.onnx=17) {\n"
        + "  const %one: f32[] = dense<[1.0]>\n"
        + "  %a = Relu(%x) : f32[N, 2]\n"
        + "  %c = Add(%a, %one) : f32[N, 2]\n"
        + "  %y = Mul(%c, %c) : f32[N, 2]\n"
        + "  %z = Relu(%x) : f32[N, 2]\n"
        + "  return %y, %z\n"
        + "}\n");
  }

  @Test
  void dceRemovesUnreadNodesAndConstants() {
    PassChecks.assertRewrites(EliminateDeadCode.INSTANCE,
        "graph main(%x: f32[N, 2]) -> (%y: f32[N, 2]) opset(ai.onnx=17) {\n"
        + "  const %unused: f32[2] = dense<[1.0, 2.0]>\n"
        + "  %a = Relu(%x)\n"
        + "  %dead = Sigmoid(%a)\n"
        + "  %dead2 = Add(%dead, %unused)\n"
        + "  %y = Neg(%a)\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%x: f32[N, 2]) -> (%y: f32[N, 2]) opset(ai.onnx=17) {\n"
        + "  %a = Relu(%x) : f32[N, 2]\n"
        + "  %y = Neg(%a) : f32[N, 2]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void shapeChainBecomesSymbolicReshape() {
    PassChecks.assertRewrites(FoldShapeComputations.INSTANCE,
        "graph main(%x: f32[N, S, 6]) -> (%y: f32[N, S, 2, 3]) opset(ai.onnx=13) {\n"
        + "  const %i0: i64[] = dense<[0]>\n"
        + "  const %i1: i64[] = dense<[1]>\n"
        + "  const %ax: i64[1] = dense<[0]>\n"
        + "  const %tail: i64[2] = dense<[2, 3]>\n"
        + "  %s = Shape(%x)\n"
        + "  %n = Gather(%s, %i0)\n"
        + "  %seq = Gather(%s, %i1)\n"
        + "  %n1 = Unsqueeze(%n, %ax)\n"
        + "  %seq1 = Unsqueeze(%seq, %ax)\n"
        + "  %shape = Concat(%n1, %seq1, %tail) {axis = 0}\n"
        + "  %y = Reshape(%x, %shape)\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%x: f32[N, S, 6]) -> (%y: f32[N, S, 2, 3]) opset(ai.onnx=13) {\n"
        + "  const %i0: i64[] = dense<[0]>\n"
        + "  const %i1: i64[] = dense<[1]>\n"
        + "  const %ax: i64[1] = dense<[0]>\n"
        + "  const %tail: i64[2] = dense<[2, 3]>\n"
        + "  const %shape/folded: i64[4] = dense<[0, 0, 2, 3]>\n"
        + "  %s = Shape(%x) : i64[3]\n"
        + "  %n = Gather(%s, %i0) : i64[]\n"
        + "  %seq = Gather(%s, %i1) : i64[]\n"
        + "  %n1 = Unsqueeze(%n, %ax) : i64[1]\n"
        + "  %seq1 = Unsqueeze(%seq, %ax) : i64[1]\n"
        + "  %shape = Concat(%n1, %seq1, %tail) {axis = 0} : i64[4]\n"
        + "  %y = Reshape(%x, %shape/folded) : f32[N, S, 2, 3]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void transposePairsCancelOrCompose() {
    PassChecks.assertRewrites(CancelTransposes.INSTANCE,
        "graph main(%x: f32[2, 3, 4]) -> (%y: f32[2, 3, 4], %z: f32[4, 2, 3]) opset(ai.onnx=17) {\n"
        + "  %a = Transpose(%x) {perm = [0, 2, 1]}\n"
        + "  %y = Transpose(%a) {perm = [0, 2, 1]}\n"
        + "  %b = Transpose(%x) {perm = [1, 0, 2]}\n"
        + "  %z = Transpose(%b) {perm = [2, 1, 0]}\n"
        + "  return %y, %z\n"
        + "}\n",
        "graph main(%x: f32[2, 3, 4]) -> (%y: f32[2, 3, 4], %z: f32[4, 2, 3]) opset(ai.onnx=17) {\n"
        + "  %y = Identity(%x) {name = \"y/transpose\"} : f32[2, 3, 4]\n"
        + "  %z = Transpose(%x) {name = \"z/transpose\", perm = [2, 0, 1]} : f32[4, 2, 3]\n"
        + "  return %y, %z\n"
        + "}\n");
  }

  @Test
  void reshapePairsCollapse() {
    PassChecks.assertRewrites(CollapseReshapes.INSTANCE,
RESHAPES_AND_CASTS,
        "graph main(%x: f32[2, 3, 4], %w: f16[2, 3]) -> (%y: f32[6, 4], %z: f32[2, 3, 4], %c: i64[2, 3]) opset(ai.onnx=17) {\n"
        + "  const %s1: i64[2] = dense<[2, 12]>\n"
        + "  const %s2: i64[2] = dense<[6, 4]>\n"
        + "  const %s3: i64[3] = dense<[2, 3, 4]>\n"
        + "  %y = Reshape(%x, %s2) {name = \"y/reshape\"} : f32[6, 4]\n"
        + "  %z = Identity(%x) {name = \"z/reshape\"} : f32[2, 3, 4]\n"
        + "  %w32 = Cast(%w) {to = 1} : f32[2, 3]\n"
        + "  %w64 = Cast(%w32) {to = 11} : f64[2, 3]\n"
        + "  %w64b = Cast(%w64) {to = 11} : f64[2, 3]\n"
        + "  %c = Cast(%w64b) {to = 7} : i64[2, 3]\n"
        + "  return %y, %z, %c\n"
        + "}\n");
  }

  @Test
  void redundantCastsGo() {
    PassChecks.assertRewrites(RemoveRedundantCasts.INSTANCE,
RESHAPES_AND_CASTS,
        "graph main(%x: f32[2, 3, 4], %w: f16[2, 3]) -> (%y: f32[6, 4], %z: f32[2, 3, 4], %c: i64[2, 3]) opset(ai.onnx=17) {\n"
        + "  const %s1: i64[2] = dense<[2, 12]>\n"
        + "  const %s2: i64[2] = dense<[6, 4]>\n"
        + "  const %s3: i64[3] = dense<[2, 3, 4]>\n"
        + "  %a = Reshape(%x, %s1) : f32[2, 12]\n"
        + "  %y = Reshape(%a, %s2) : f32[6, 4]\n"
        + "  %b = Reshape(%x, %s1) : f32[2, 12]\n"
        + "  %z = Reshape(%b, %s3) : f32[2, 3, 4]\n"
        + "  %w64 = Cast(%w) {to = 11} : f64[2, 3]\n"
        + "  %w64b = Identity(%w64) {name = \"w64b/cast\"} : f64[2, 3]\n"
        + "  %c = Cast(%w64b) {to = 7} : i64[2, 3]\n"
        + "  return %y, %z, %c\n"
        + "}\n");
  }

  @Test
  void scaleAndShiftFoldIntoConvolution() {
    PassChecks.assertRewrites(FoldScaleAxis.INSTANCE,
        "graph main(%x: f32[N, 1, 4, 4]) -> (%y: f32[N, 2, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[2, 1, 1, 1] = dense<[1.0, 2.0]>\n"
        + "  const %b: f32[2] = dense<[0.5, 0.25]>\n"
        + "  const %s: f32[2, 1, 1] = dense<[3.0, -1.0]>\n"
        + "  const %t: f32[2, 1, 1] = dense<[1.0, 10.0]>\n"
        + "  %c = Conv(%x, %w, %b)\n"
        + "  %m = Mul(%c, %s)\n"
        + "  %y = Add(%m, %t)\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%x: f32[N, 1, 4, 4]) -> (%y: f32[N, 2, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[2, 1, 1, 1] = dense<[1.0, 2.0]>\n"
        + "  const %b: f32[2] = dense<[0.5, 0.25]>\n"
        + "  const %s: f32[2, 1, 1] = dense<[3.0, -1.0]>\n"
        + "  const %t: f32[2, 1, 1] = dense<[1.0, 10.0]>\n"
        + "  const %w/scaled: f32[2, 1, 1, 1] = dense<[3.0, -2.0]>\n"
        + "  const %b/folded: f32[2] = dense<[1.5, -0.25]>\n"
        + "  const %b/folded/folded: f32[2] = dense<[2.5, 9.75]>\n"
        + "  %y = Conv(%x, %w/scaled, %b/folded/folded) : f32[N, 2, 4, 4]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void decomposedLayerNormFuses() {
    PassChecks.assertRewrites(FuseLayerNorm.INSTANCE,
        "graph main(%x: f32[N, S, 4]) -> (%y: f32[N, S, 4]) opset(ai.onnx=11) {\n"
        + "  const %two: f32[] = dense<[2.0]>\n"
        + "  const %eps: f32[] = dense<[1.0e-5]>\n"
        + "  const %gamma: f32[4] = dense<[1.0, 2.0, 3.0, 4.0]>\n"
        + "  const %beta: f32[4] = dense<[0.0, 0.5, 1.0, 1.5]>\n"
        + "  %mean = ReduceMean(%x) {axes = [-1]}\n"
        + "  %d = Sub(%x, %mean)\n"
        + "  %p = Pow(%d, %two)\n"
        + "  %var = ReduceMean(%p) {axes = [-1]}\n"
        + "  %e = Add(%var, %eps)\n"
        + "  %s = Sqrt(%e)\n"
        + "  %n = Div(%d, %s)\n"
        + "  %g = Mul(%n, %gamma)\n"
        + "  %y = Add(%g, %beta)\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%x: f32[N, S, 4]) -> (%y: f32[N, S, 4]) opset(ai.onnx=11) {\n"
        + "  const %two: f32[] = dense<[2.0]>\n"
        + "  const %eps: f32[] = dense<[1.0E-5]>\n"
        + "  const %gamma: f32[4] = dense<[1.0, 2.0, 3.0, 4.0]>\n"
        + "  const %beta: f32[4] = dense<[0.0, 0.5, 1.0, 1.5]>\n"
        + "  %y = LayerNormalization(%x, %gamma, %beta) {name = \"y/layernorm\", axis = 2, epsilon = 1.0E-5} : f32[N, S, 4]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void erfGeluFuses() {
    PassChecks.assertRewrites(FuseGelu.INSTANCE,
        "graph main(%x: f32[N, 8]) -> (%y: f32[N, 8]) opset(ai.onnx=13) {\n"
        + "  const %sqrt2: f32[] = dense<[1.4142135]>\n"
        + "  const %one: f32[] = dense<[1.0]>\n"
        + "  const %half: f32[] = dense<[0.5]>\n"
        + "  %a = Div(%x, %sqrt2)\n"
        + "  %b = Erf(%a)\n"
        + "  %c = Add(%b, %one)\n"
        + "  %d = Mul(%x, %c)\n"
        + "  %y = Mul(%d, %half)\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%x: f32[N, 8]) -> (%y: f32[N, 8]) opset(ai.onnx=13) {\n"
        + "  const %sqrt2: f32[] = dense<[1.4142135]>\n"
        + "  const %one: f32[] = dense<[1.0]>\n"
        + "  const %half: f32[] = dense<[0.5]>\n"
        + "  %y = Gelu(%x) {name = \"y/gelu\"} : f32[N, 8]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void attentionFuses() {
    PassChecks.assertRewrites(FuseAttention.INSTANCE,
        "graph main(%q: f32[N, 2, S, 4], %k: f32[N, 2, S, 4], %v: f32[N, 2, S, 4], %mask: f32[N, 1, 1, S]) -> (%y: f32[N, 2, S, 4]) opset(ai.onnx=13) {\n"
        + "  const %c: f32[] = dense<[2.0]>\n"
        + "  %kt = Transpose(%k) {perm = [0, 1, 3, 2]}\n"
        + "  %s = MatMul(%q, %kt)\n"
        + "  %s1 = Div(%s, %c)\n"
        + "  %s2 = Add(%s1, %mask)\n"
        + "  %p = Softmax(%s2) {axis = -1}\n"
        + "  %y = MatMul(%p, %v)\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%q: f32[N, 2, S, 4], %k: f32[N, 2, S, 4], %v: f32[N, 2, S, 4], %mask: f32[N, 1, 1, S]) -> (%y: f32[N, 2, S, 4]) opset(ai.onnx=13) {\n"
        + "  const %c: f32[] = dense<[2.0]>\n"
        + "  %kt = Transpose(%k) {perm = [0, 1, 3, 2]} : f32[N, 2, 4, S]\n"
        + "  %y = nnvm.Attention(%q, %kt, %v, %mask) {name = \"y/attention\", scale = 0.5} : f32[N, 2, S, 4]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void matMulPlusBiasFuses() {
    PassChecks.assertRewrites(FuseMatMulBias.INSTANCE,
        "graph main(%x: f32[N, S, 4]) -> (%y: f32[N, S, 3]) opset(ai.onnx=13) {\n"
        + "  const %w: f32[4, 3] = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]>\n"
        + "  const %b: f32[3] = dense<[0.5, -0.5, 1.0]>\n"
        + "  %m = MatMul(%x, %w)\n"
        + "  %y = Add(%b, %m)\n"
        + "  return %y\n"
        + "}\n",
        "graph main(%x: f32[N, S, 4]) -> (%y: f32[N, S, 3]) opset(ai.onnx=13) {\n"
        + "  const %w: f32[4, 3] = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]>\n"
        + "  const %b: f32[3] = dense<[0.5, -0.5, 1.0]>\n"
        + "  %y = nnvm.MatMulBias(%x, %w, %b) {name = \"y/matmul_bias\"} : f32[N, S, 3]\n"
        + "  return %y\n"
        + "}\n");
  }

  @Test
  void fusionGroupsByPattern() {
    PassChecks.assertRewrites(FuseOperators.INSTANCE,
        "graph main(%x: f32[N, 2, 4, 4], %r: f32[N, 2, 4, 4]) -> (%y: f32[N, 2], %z: f32[N, 2, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[2, 2, 1, 1] = dense<[1.0, 0.0, 0.0, 1.0]>\n"
        + "  const %b: f32[2] = dense<[0.5, -0.5]>\n"
        + "  %c = Conv(%x, %w, %b)\n"
        + "  %a = Add(%c, %r)\n"
        + "  %z = Relu(%a)\n"
        + "  %e = Exp(%z)\n"
        + "  %n = Neg(%z)\n"
        + "  %j = Add(%e, %n)\n"
        + "  %t = Transpose(%j) {perm = [0, 1, 3, 2]}\n"
        + "  %m = ReduceMean(%t) {axes = [2, 3], keepdims = 0}\n"
        + "  %y = Softmax(%m) {axis = 1}\n"
        + "  return %y, %z\n"
        + "}\n",
        "graph main(%x: f32[N, 2, 4, 4], %r: f32[N, 2, 4, 4]) -> (%y: f32[N, 2], %z: f32[N, 2, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[2, 2, 1, 1] = dense<[1.0, 0.0, 0.0, 1.0]>\n"
        + "  const %b: f32[2] = dense<[0.5, -0.5]>\n"
        + "  %z = nnvm.Fused(%x, %w, %b, %r) {name = \"fused_conv_add_relu_0\", body = graph fused_conv_add_relu_0(%x: f32[N, 2, 4, 4], %w: f32[2, 2, 1, 1], %b: f32[2], %r: f32[N, 2, 4, 4]) -> (%z: f32[N, 2, 4, 4]) {\n"
        + "    %c = Conv(%x, %w, %b) : f32[N, 2, 4, 4]\n"
        + "    %a = Add(%c, %r) : f32[N, 2, 4, 4]\n"
        + "    %z = Relu(%a)\n"
        + "    return %z\n"
        + "  }, pattern = \"OUT_ELEMWISE_FUSABLE\"} : f32[N, 2, 4, 4]\n"
        + "  %m = nnvm.Fused(%z) {name = \"fused_exp_neg_add_transpose_reducemean_1\", body = graph fused_exp_neg_add_transpose_reducemean_1(%z: f32[N, 2, 4, 4]) -> (%m: f32[N, 2]) {\n"
        + "    %e = Exp(%z) : f32[N, 2, 4, 4]\n"
        + "    %n = Neg(%z) : f32[N, 2, 4, 4]\n"
        + "    %j = Add(%e, %n) : f32[N, 2, 4, 4]\n"
        + "    %t = Transpose(%j) {perm = [0, 1, 3, 2]} : f32[N, 2, 4, 4]\n"
        + "    %m = ReduceMean(%t) {axes = [2, 3], keepdims = 0}\n"
        + "    return %m\n"
        + "  }, pattern = \"REDUCE\"} : f32[N, 2]\n"
        + "  %y = Softmax(%m) {axis = 1} : f32[N, 2]\n"
        + "  return %y, %z\n"
        + "}\n");
  }

  /** Plain and depthwise convs go blocked; the residual Add stays blocked; Concat needs the plain value back. */
  @Test
  void convolutionsMoveToBlockedLayout() {
    PassChecks.assertRewrites(AlterOpLayout.INSTANCE,
        "graph main(%x: f32[N, 8, 4, 4]) -> (%y: f32[N, 16, 4, 4], %z: f32[N, 16, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w1: f32[8, 8, 1, 1] = dense<[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]>\n"
        + "  const %wd: f32[8, 1, 3, 3] = dense<[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]>\n"
        + "  const %bias: f32[8, 1, 1] = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>\n"
        + "  %a = Conv(%x, %w1)\n"
        + "  %r = Relu(%a)\n"
        + "  %d = Conv(%r, %wd) {group = 8, pads = [1, 1, 1, 1]}\n"
        + "  %s = Add(%d, %bias)\n"
        + "  %t = Add(%s, %r)\n"
        + "  %y = Concat(%t, %x) {axis = 1}\n"
        + "  %z = Concat(%x, %t) {axis = 1}\n"
        + "  return %y, %z\n"
        + "}\n",
        "graph main(%x: f32[N, 8, 4, 4]) -> (%y: f32[N, 16, 4, 4], %z: f32[N, 16, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w1/packed8: f32[1, 1, 1, 1, 8, 8] = dense<[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0]>\n"
        + "  const %wd/packed8: f32[1, 1, 3, 3, 1, 8] = dense<[0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0]>\n"
        + "  const %bias/nchw8c: f32[1, 1, 1, 8] = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]>\n"
        + "  %x/nchw8c = nnvm.LayoutTransform(%x) {name = \"x/nchw8c/to_nchwc\", block = 8, to_blocked = 1} : f32[N, 1, 4, 4, 8]\n"
        + "  %a/nchw8c = nnvm.ConvNCHWc(%x/nchw8c, %w1/packed8) {block = 8, weight_block_in = 8} : f32[N, 1, 4, 4, 8]\n"
        + "  %r/nchw8c = Relu(%a/nchw8c) : f32[N, 1, 4, 4, 8]\n"
        + "  %d/nchw8c = nnvm.ConvNCHWc(%r/nchw8c, %wd/packed8) {block = 8, weight_block_in = 1, group = 8, pads = [1, 1, 1, 1]} : f32[N, 1, 4, 4, 8]\n"
        + "  %s/nchw8c = Add(%d/nchw8c, %bias/nchw8c) : f32[N, 1, 4, 4, 8]\n"
        + "  %t/nchw8c = Add(%s/nchw8c, %r/nchw8c) : f32[N, 1, 4, 4, 8]\n"
        + "  %t = nnvm.LayoutTransform(%t/nchw8c) {name = \"t/to_nchw\", block = 8, to_blocked = 0} : f32[N, 8, 4, 4]\n"
        + "  %y = Concat(%t, %x) {axis = 1} : f32[N, 16, 4, 4]\n"
        + "  %z = Concat(%x, %t) {axis = 1} : f32[N, 16, 4, 4]\n"
        + "  return %y, %z\n"
        + "}\n");
  }
}
