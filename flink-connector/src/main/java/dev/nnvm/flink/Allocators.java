package dev.nnvm.flink;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/**
 * The Arrow root allocator of this JVM (TaskManager or client): every scoring
 * subtask takes a named child and closes it when it ends, so a leak shows up
 * as a failed close naming the subtask, not as a slowly growing process.
 */
public final class Allocators {
  private static final RootAllocator ROOT = new RootAllocator();

  private Allocators() {}

  /** A child of the JVM's root allocator; close it when done. */
  public static BufferAllocator child(String name) {
    return ROOT.newChildAllocator(name, 0, Long.MAX_VALUE);
  }
}
