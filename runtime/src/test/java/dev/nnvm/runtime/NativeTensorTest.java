package dev.nnvm.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class NativeTensorTest {
  @Test
  void borrowedTensorDescribesMemoryWithoutOwningIt() {
    NativeTensor t = NativeTensor.wrap(0x1000, 96, DType.FLOAT32, 4, 6);
    assertEquals(0x1000, t.address());
    assertEquals(24, t.elementCount());
    assertEquals(96, t.dataSize());
    assertFalse(t.ownsMemory());
    t.close();
    assertTrue(t.isClosed());
    assertThrows(IllegalStateException.class, t::address);
  }

  @Test
  void ownerIsClosedExactlyOnce() {
    AtomicInteger closes = new AtomicInteger();
    NativeTensor t = NativeTensor.wrap(0x2000, 16, DType.INT64, new long[] {2}, closes::incrementAndGet);
    assertTrue(t.ownsMemory());
    t.close();
    t.close();
    assertEquals(1, closes.get());
  }

  @Test
  void inconsistentDescriptionsAreRejected() {
    IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
        () -> NativeTensor.wrap(0x1000, 95, DType.FLOAT32, 4, 6));
    assertTrue(small.getMessage().contains("needs 96 bytes, the memory has 95"), small.getMessage());
    assertThrows(IllegalArgumentException.class, () -> NativeTensor.wrap(0, 4, DType.FLOAT32, 1));
    assertThrows(IllegalArgumentException.class, () -> NativeTensor.wrap(0x1000, 4, DType.FLOAT32, -1));
    assertThrows(IllegalArgumentException.class, () -> NativeTensor.wrap(0x1000, 4, DType.STRING, 1));
    assertEquals(0, NativeTensor.wrap(0, 0, DType.FLOAT32, 0, 5).elementCount(), "empty tensors need no memory");
  }
}
