package dev.nnvm.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.exec.Executor;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;

/** The executor form of the client: tensors in and out, equal bit for bit to a local {@link Executor}. */
class RemoteExecutorTest {
  @Test
  void setInputsRunAndReadOutputsLikeALocalExecutor() throws Exception {
    long seed = 31L;
    Random random = new Random(seed);
    byte[] artifact = TestModels.dense(0);
    try (BufferAllocator arrow = new RootAllocator(); NativeAllocator memory = NativeAllocator.newRoot("test")) {
      try (NnvmFlightServer server = NnvmFlightServer.start(ServerOptions.builder().port(0).build());
          NnvmFlightClient client = NnvmFlightClient.builder(server.uri()).allocator(arrow).connect();
          CompiledModel local = CompiledModel.load(artifact, memory);
          Executor localExec = local.newExecutor(memory)) {
        RemoteModel model = client.upload(artifact);
        try (RemoteExecutor exec = model.newExecutor()) {
          for (int rows : new int[] {5, 1, 37}) {
            float[] x = new float[rows * TestModels.FEATURES];
            for (int i = 0; i < x.length; i++) {
              x[i] = random.nextFloat() * 2 - 1;
            }
            try (NativeTensor in = NativeTensor.allocate(memory, DType.FLOAT32, rows, TestModels.FEATURES)) {
              in.copyFrom(x);
              exec.setInput("x", in);
              exec.run();
              localExec.setInput("x", in);
              localExec.run();
              for (String out : new String[] {"y", "a"}) {
                try (NativeTensor remote = exec.output(out, memory); NativeTensor mine = localExec.output(out)) {
                  assertArrayEquals(new long[] {rows, TestModels.CLASSES}, remote.shape(), out);
                  float[] r = new float[rows * TestModels.CLASSES];
                  float[] l = new float[r.length];
                  remote.copyTo(r);
                  mine.copyTo(l);
                  for (int i = 0; i < r.length; i++) {
                    assertEquals(Float.floatToRawIntBits(l[i]), Float.floatToRawIntBits(r[i]), out + "[" + i + "]");
                  }
                }
              }
            }
          }
          try (NativeTensor wrong = NativeTensor.allocate(memory, DType.FLOAT32, 2, 15)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> exec.setInput("x", wrong));
            assertTrue(e.getMessage().contains("dimension 1: expected 16, got 15"), e.getMessage());
          }
          assertThrows(IllegalArgumentException.class, () -> exec.output("z", memory));
        }
        System.out.printf("seed %d: remote executor outputs bit-identical to the local executor for 3 runs%n", seed);
      }
      assertEquals(0, arrow.getAllocatedMemory());
      assertEquals(0, memory.allocatedBytes());
    }
  }
}
