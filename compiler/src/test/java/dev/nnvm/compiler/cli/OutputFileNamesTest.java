package dev.nnvm.compiler.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OutputFileNamesTest {
  @Test
  void unsafeCharactersBecomeUnderscores() {
    assertEquals("logits", OutputFileNames.stem("logits"));
    assertEquals("a_b_c", OutputFileNames.stem("a/b\\c"));
    assertEquals("onnx__MatMul_123", OutputFileNames.stem("onnx::MatMul_123"));
    assertEquals("_x_", OutputFileNames.stem(" x\u00e9"));
    assertEquals("output", OutputFileNames.stem(""));
  }

  @Test
  void hiddenAndParentNamesAreDefused() {
    assertEquals("_..", OutputFileNames.stem(".."));
    assertEquals("_.", OutputFileNames.stem("."));
    assertEquals("_.._.._etc_passwd", OutputFileNames.stem("../../etc/passwd"));
  }

  @Test
  void longNamesAreCut() {
    assertEquals(120, OutputFileNames.stem("y".repeat(500)).length());
  }

  @Test
  void collisionsGetNumbered() {
    Map<String, String> files = OutputFileNames.assign(List.of("a/b", "a_b", "A:b", "c", "a_b_2"));
    assertEquals(List.of("a_b.pb", "a_b_2.pb", "A_b_3.pb", "c.pb", "a_b_2_2.pb"), List.copyOf(files.values()));
  }
}
