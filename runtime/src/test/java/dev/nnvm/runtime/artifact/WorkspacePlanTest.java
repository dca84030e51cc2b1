package dev.nnvm.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkspacePlanTest {
  private static final WorkspacePlan PLAN = new WorkspacePlan(64, List.of(
      new WorkspacePlan.Region(9280, Map.of("seq", 1, "batch", 1)),
      new WorkspacePlan.Region(4096, Map.of()),
      new WorkspacePlan.Region(128, Map.of("batch", 2))));

  @Test
  void regionsPrintAsCoefficientTimesMonomial() {
    assertEquals("[9280*batch*seq, 4096, 128*batch*batch]", PLAN.toString());
  }

  @Test
  void evaluatesPerBinding() {
    long[][] bindings = {{1, 1}, {32, 128}, {0, 7}, {3, 1000}};
    for (long[] b : bindings) {
      long batch = b[0];
      long seq = b[1];
      Map<String, Long> binding = Map.of("batch", batch, "seq", seq);
      long r0 = 9280 * batch * seq;
      long r1 = 4096;
      long r2 = 128 * batch * batch;
      assertArrayEquals(new long[] {0, r0, r0 + r1}, PLAN.regionOffsets(binding), binding.toString());
      assertEquals(r0 + r1 + r2, PLAN.totalBytes(binding), binding.toString());
      for (long offset : PLAN.regionOffsets(binding)) {
        assertEquals(0, offset % PLAN.alignment());
      }
    }
    assertEquals(38_010_880 + 4096 + 131_072, PLAN.totalBytes(Map.of("batch", 32L, "seq", 128L)));
  }

  @Test
  void bindingsFollowTheManifestSymbolOrder() {
    Manifest m = SampleArtifact.manifest(SampleArtifact.parts());
    assertEquals(List.of("batch", "seq"), m.symbols());
    Map<String, Long> b = m.bindings(8, 64);
    assertEquals(Map.of("batch", 8L, "seq", 64L), b);
    assertEquals(9280L * 8 * 64 + 4096, m.workspace().totalBytes(b));
    assertEquals("expected 2 symbol values [batch, seq], got 1",
        assertThrows(IllegalArgumentException.class, () -> m.bindings(8)).getMessage());
    assertEquals("symbol 'seq' must be >= 0, got -1",
        assertThrows(IllegalArgumentException.class, () -> m.bindings(8, -1)).getMessage());
  }

  @Test
  void unboundNegativeAndOverflowingBindingsAreClearErrors() {
    assertEquals("workspace region 9280*batch*seq: symbol 'seq' is not bound",
        assertThrows(IllegalArgumentException.class, () -> PLAN.totalBytes(Map.of("batch", 1L))).getMessage());
    assertEquals("workspace region 9280*batch*seq: symbol 'batch' must be >= 0, got -2",
        assertThrows(IllegalArgumentException.class,
            () -> PLAN.totalBytes(Map.of("batch", -2L, "seq", 1L))).getMessage());
    Map<String, Long> huge = new java.util.TreeMap<>(Map.of("batch", 1L << 31, "seq", 1L << 31));
    assertEquals("workspace region 9280*batch*seq overflows 64 bits for {batch=2147483648, seq=2147483648}",
        assertThrows(IllegalArgumentException.class, () -> PLAN.regionOffsets(huge)).getMessage());
    WorkspacePlan two = new WorkspacePlan(64, List.of(new WorkspacePlan.Region(1L << 62, Map.of()),
        new WorkspacePlan.Region(1L << 62, Map.of()), new WorkspacePlan.Region(64, Map.of())));
    assertEquals("workspace size overflows 64 bits for {}",
        assertThrows(IllegalArgumentException.class, () -> two.totalBytes(Map.of())).getMessage());
  }
}
