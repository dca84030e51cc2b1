package dev.nnvm.runtime.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {
  private NativeAllocator root;

  @BeforeEach
  void openRoot() {
    root = NativeAllocator.newRoot("test", 1 << 20);
  }

  @AfterEach
  void closeRoot() {
    root.close();
    assertEquals(0, root.allocatedBytes());
  }

  @Test
  void accountingFollowsTheTree() {
    try (NativeAllocator model = root.newChild("model", 4096);
        NativeAllocator task = model.newChild("task")) {
      assertEquals("test/model/task", task.path());
      NativeBuffer a = task.allocate(1000);
      NativeBuffer b = model.allocate(24);
      assertEquals(1000, task.allocatedBytes());
      assertEquals(1024, model.allocatedBytes());
      assertEquals(1024, root.allocatedBytes());
      a.close();
      assertEquals(0, task.allocatedBytes());
      assertEquals(24, model.allocatedBytes());
      assertEquals(1000, task.peakBytes());
      assertEquals(1024, model.peakBytes());
      b.close();
      assertEquals(0, root.allocatedBytes());
      assertEquals(1024, root.peakBytes());
    }
    assertEquals(0, root.openChildren());
  }

  @Test
  void memoryIsAlignedAndUsable() {
    try (NativeBuffer line = root.allocate(100);
        NativeBuffer page = root.allocate(10, 4096, "page")) {
      assertEquals(0, line.address() % NativeAllocator.DEFAULT_ALIGNMENT);
      assertEquals(0, page.address() % 4096);
      assertEquals(4096, page.alignment());
      line.fill((byte) 0x5a);
      byte[] back = new byte[100];
      NativeMemory.copyToArray(line.address(), back, 0, 100);
      byte[] expected = new byte[100];
      Arrays.fill(expected, (byte) 0x5a);
      assertArrayEquals(expected, back);
    }
  }

  @Test
  void limitsOfTheAllocatorAndItsAncestorsAreEnforced() {
    try (NativeAllocator model = root.newChild("model", 100)) {
      AllocationLimitException own = assertThrows(AllocationLimitException.class, () -> model.allocate(101));
      assertEquals("allocator 'test/model' cannot give 101 bytes: 0 of its limit 100 bytes are in use",
          own.getMessage());
      try (NativeAllocator greedy = root.newChild("greedy");
          NativeBuffer big = root.allocate((1 << 20) - 64)) {
        AllocationLimitException ancestor = assertThrows(AllocationLimitException.class, () -> greedy.allocate(65));
        assertEquals("allocator 'test' cannot give 65 bytes to 'test/greedy': 1048512 of its limit 1048576 bytes"
            + " are in use", ancestor.getMessage());
        assertEquals(0, greedy.allocatedBytes(), "a refused allocation leaves no trace");
        assertEquals(big.size(), root.allocatedBytes());
      }
    }
  }

  @Test
  void closingWithOpenBuffersOrChildrenFailsNamingThem() {
    NativeAllocator model = root.newChild("model");
    NativeBuffer weights = model.allocate(1024, 64, "weights");
    NativeBuffer scratch = model.allocate(64);
    NativeAllocator task = model.newChild("task-3");
    NativeBuffer input = task.allocate(32, 64, "input");

    IllegalStateException leak = assertThrows(IllegalStateException.class, model::close);
    String m = leak.getMessage();
    assertTrue(m.startsWith("allocator 'test/model' closed with 2 open buffers (1088 bytes) and 1 open child"
        + " allocator: "), m);
    assertTrue(m.contains("of 1024 bytes from 'test/model' (weights)"), m);
    assertTrue(m.contains("of 64 bytes from 'test/model'"), m);
    assertTrue(m.contains("child allocator 'test/model/task-3' (32 bytes in 1 buffers, 0 children)"), m);
    assertThrows(IllegalStateException.class, () -> model.allocate(8), "a closed allocator refuses allocations");
    IllegalStateException parentLeak = assertThrows(IllegalStateException.class, root::close);
    assertTrue(parentLeak.getMessage().contains("child allocator 'test/model' (1120 bytes in 2 buffers, 1 children,"
        + " closed)"), parentLeak.getMessage());

    weights.close();
    scratch.close();
    input.close();
    task.close();
    assertEquals(0, root.openChildren(), "the closed allocator left its parent once it was empty");
    model.close();
    assertTrue(model.isClosed());
  }

  @Test
  void buffersCloseOnceAndRefuseUseAfterwards() {
    NativeBuffer b = root.allocate(64, 64, "twice");
    b.close();
    b.close();
    assertEquals(0, root.allocatedBytes());
    IllegalStateException e = assertThrows(IllegalStateException.class, b::address);
    assertTrue(e.getMessage().matches("buffer #\\d+ of 64 bytes from 'test' \\(twice\\) is closed"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> b.fill((byte) 0));
  }

  @Test
  void badRequestsAreRefusedBeforeAnyNativeCall() {
    assertThrows(IllegalArgumentException.class, () -> root.allocate(-1));
    assertThrows(IllegalArgumentException.class, () -> root.allocate(8, 24, null));
    assertThrows(IllegalArgumentException.class, () -> root.allocate(8, 4, null));
    assertThrows(IllegalArgumentException.class, () -> root.newChild("a/b"));
    assertThrows(IllegalArgumentException.class, () -> root.newChild("neg", -1));
    try (NativeBuffer empty = root.allocate(0)) {
      assertFalse(empty.isClosed());
      assertEquals(0, empty.size());
    }
  }

  @Test
  void systemRefusalBecomesANativeException() {
    try (NativeAllocator huge = NativeAllocator.newRoot("huge")) {
      NativeException e = assertThrows(NativeException.class, () -> huge.allocate(Long.MAX_VALUE / 2));
      assertTrue(e.getMessage().startsWith("posix_memalign failed: 4611686018427387903 bytes aligned to 64: "),
          e.getMessage());
      assertEquals(0, huge.allocatedBytes(), "the failed allocation was given back");
    }
  }
}
