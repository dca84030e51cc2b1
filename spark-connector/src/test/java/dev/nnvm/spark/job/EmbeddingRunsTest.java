package dev.nnvm.spark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.scoring.text.Encoded;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** How embed cuts a chunk of tokenized rows into model runs: every non-null row once, sorted by length, full runs. */
class EmbeddingRunsTest {
  @Test
  void runsCoverEveryRowOnceSortedByLengthInFullRuns() {
    long seed = 11L;
    System.out.println("EmbeddingRunsTest seed " + seed);
    Random random = new Random(seed);
    int n = 700;
    long[][] ids = new long[n][];
    for (int r = 0; r < n; r++) {
      if (r % 37 == 5) {
        continue;                                   // a null text
      }
      ids[r] = new long[1 + random.nextInt(128)];
    }
    Encoded e = Encoded.of(ids, ids, ids);
    int batch = 32;
    List<int[]> runs = EmbeddingPartitions.runs(e, batch);
    Set<Integer> seen = new HashSet<>();
    int previous = 0;
    for (int i = 0; i < runs.size(); i++) {
      int[] run = runs.get(i);
      assertTrue(run.length >= 1 && run.length <= batch, "run of " + run.length + " rows");
      if (i < runs.size() - 1) {
        assertEquals(batch, run.length, "only the last run is short");
      }
      for (int r : run) {
        assertTrue(ids[r] != null, "null row " + r + " in a run");
        assertTrue(ids[r].length >= previous, "rows come shortest first");
        previous = ids[r].length;
        assertTrue(seen.add(r), "row " + r + " twice");
      }
    }
    long nonNull = java.util.Arrays.stream(ids).filter(x -> x != null).count();
    assertEquals(nonNull, seen.size());
  }
}
