package dev.nnvm.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.UnsupportedModelException;
import dev.nnvm.compiler.testing.OpTester;
import dev.nnvm.runtime.DType;
import org.junit.jupiter.api.Test;

class ResizeOpsTest {
  private static final String[] COORDS = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
      "asymmetric"};

  private static Tensor f32(float... v) {
    return Tensor.ofFloats(new long[] {v.length}, v);
  }

  private static OpTester scales(String mode, String coord, float... s) {
    return OpTester.op("Resize").opset(19).input("x", DType.FLOAT32, 1, 2, 4, 5).skipInput().constant("s", f32(s))
        .attr("mode", mode).attr("coordinate_transformation_mode", coord).tolerance(1e-4, 1e-5);
  }

  private static void check(String what, OpTester t) {
    try {
      t.check();
    } catch (AssertionError e) {
      throw new AssertionError(what + ": " + e.getMessage(), e);
    }
  }

  /** Scales where scale * size is whole: ONNX Runtime's nearest align_corners uses the integer size. */
  @Test
  void everyModeAndCoordinateTransformWithScales() {
    for (String mode : new String[] {"nearest", "linear", "cubic"}) {
      for (String coord : COORDS) {
        check(mode + "/" + coord + " up", scales(mode, coord, 1f, 1f, 2f, 1.6f));
        check(mode + "/" + coord + " down", scales(mode, coord, 1f, 1f, 0.5f, 0.6f));
      }
    }
  }

  @Test
  void nearestModes() {
    for (String nm : new String[] {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}) {
      check(nm + "/half_pixel", scales("nearest", "half_pixel", 1f, 1f, 1.7f, 0.8f).attr("nearest_mode", nm));
      check(nm + "/tf_half_pixel_for_nn",
          scales("nearest", "tf_half_pixel_for_nn", 1f, 1f, 2.5f, 3f).attr("nearest_mode", nm));
    }
  }

  @Test
  void cubicOptions() {
    scales("cubic", "half_pixel", 1f, 1f, 1.6f, 0.7f).attr("cubic_coeff_a", -0.5f).attr("exclude_outside", 1L).check();
    scales("cubic", "asymmetric", 1f, 1f, 3f, 2f).attr("exclude_outside", 1L).check();
  }

  @Test
  void sizesAxesAndAspectRatio() {
    OpTester.op("Resize").opset(13).input("x", DType.FLOAT32, 1, 1, 4, 6).skipInput().skipInput()
        .constant("z", Tensor.vector(1, 1, 7, 3)).attr("mode", "linear").check();
    OpTester.op("Resize").opset(18).input("x", DType.FLOAT32, 1, 1, 4, 6).skipInput().skipInput()
        .constant("z", Tensor.vector(3, 9)).attr("axes", 2L, 3L).attr("mode", "cubic").check();
    for (String policy : new String[] {"not_larger", "not_smaller"}) {
      OpTester.op("Resize").opset(18).input("x", DType.FLOAT32, 1, 1, 4, 6).skipInput().skipInput()
          .constant("z", Tensor.vector(7, 8)).attr("axes", 2L, 3L).attr("keep_aspect_ratio_policy", policy)
          .attr("mode", "linear").check();
    }
    OpTester.op("Resize").opset(18).input("x", DType.FLOAT32, 1, 2, 4, 6).skipInput().constant("s", f32(2f, 0.5f))
        .attr("axes", 3L, 2L).attr("mode", "nearest").check();
  }

  @Test
  void tfCropAndResize() {
    OpTester.op("Resize").opset(13).input("x", DType.FLOAT32, 1, 1, 5, 5)
        .constant("roi", f32(0f, 0f, 0.2f, 0.4f, 1f, 1f, 0.9f, 1.2f)).skipInput()
        .constant("z", Tensor.vector(1, 1, 3, 4)).attr("mode", "linear")
        .attr("coordinate_transformation_mode", "tf_crop_and_resize").attr("extrapolation_value", 7f).check();
  }

  @Test
  void olderOpsets() {
    OpTester.op("Resize").opset(10).input("x", DType.FLOAT32, 1, 1, 3, 4).constant("s", f32(1f, 1f, 2f, 1.5f))
        .attr("mode", "linear").check();
    OpTester.op("Resize").opset(10).input("x", DType.FLOAT32, 1, 1, 3, 4).constant("s", f32(1f, 1f, 2.5f, 0.5f)).check();
    OpTester.op("Resize").opset(11).input("x", DType.FLOAT32, 1, 1, 3, 4).constant("roi", f32())
        .constant("s", f32(1f, 1f, 2f, 2f)).attr("mode", "cubic").check();
    OpTester.op("Upsample").opset(7).input("x", DType.FLOAT32, 1, 2, 3, 4).attr("scales", 1f, 1f, 2f, 3f).check();
    OpTester.op("Upsample").opset(9).input("x", DType.FLOAT32, 1, 2, 3, 4).constant("s", f32(1f, 1f, 2f, 2f))
        .attr("mode", "linear").check();
  }

  @Test
  void antialiasWhenDownsampling() {
    for (String mode : new String[] {"linear", "cubic"}) {
      check(mode + " antialias", scales(mode, "half_pixel", 1f, 1f, 0.5f, 0.6f).attr("antialias", 1L));
      check(mode + " antialias up", scales(mode, "align_corners", 1f, 1f, 2f, 0.6f).attr("antialias", 1L));
    }
  }

  @Test
  void unknownModeIsRejectedNamingTheNode() {
    UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
        () -> scales("area", "half_pixel", 1f, 1f, 0.5f, 0.5f).graph());
    assertTrue(e.getMessage().contains("Resize 'node'") && e.getMessage().contains("mode"), e.getMessage());
  }
}
