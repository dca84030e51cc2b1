package dev.nnvm.runtime.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.NativeTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NativeCallTest {
  private static final int ROWS = 257;
  private static final int COLS = 33;

  private static SharedLibrary library;
  private static int savedMaxThreads;

  private NativeAllocator allocator;

  @BeforeAll
  static void load() throws Exception {
    library = SharedLibrary.load(TestModels.library());
    savedMaxThreads = ThreadPool.maxThreads();
    ThreadPool.setMaxThreads(8);
  }

  @AfterAll
  static void unload() {
    ThreadPool.setMaxThreads(savedMaxThreads);
    library.close();
  }

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("calls");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  @Test
  void aParallelModelMatchesJavaForEveryThreadCount() {
    Random random = new Random(7);
    float[] a = new float[ROWS * COLS];
    float[] b = new float[ROWS * COLS];
    float[] bias = new float[COLS];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) random.nextGaussian();
      b[i] = (float) random.nextGaussian();
    }
    for (int c = 0; c < COLS; c++) {
      bias[c] = (float) random.nextGaussian();
    }
    float[] expected = new float[ROWS * COLS];
    for (int r = 0; r < ROWS; r++) {
      for (int c = 0; c < COLS; c++) {
        expected[r * COLS + c] = a[r * COLS + c] * b[r * COLS + c] + bias[c];
      }
    }
    ModelEntryPoint entry = library.entryPoint("nnvm_test_fma_rows", 2, 2, 2);
    try (NativeTensor ta = NativeTensor.allocate(allocator, DType.FLOAT32, ROWS, COLS);
        NativeTensor tb = NativeTensor.allocate(allocator, DType.FLOAT32, ROWS, COLS);
        NativeTensor out = NativeTensor.allocate(allocator, DType.FLOAT32, ROWS, COLS);
        NativeTensor visits = NativeTensor.allocate(allocator, DType.INT32, ROWS);
        NativeBuffer weights = allocator.allocate(4L * COLS, 64, "weights");
        NativeBuffer workspace = allocator.allocate(4L * ROWS * COLS, 64, "workspace");
        NativeCall call = entry.newCall(allocator)) {
      ta.copyFrom(a);
      tb.copyFrom(b);
      NativeMemory.copyFromArray(bias, 0, COLS, weights.address());
      for (int threads : new int[] {1, 2, 3, 4, 8, 300}) {
        float[] nan = new float[ROWS * COLS];
        Arrays.fill(nan, Float.NaN);
        out.copyFrom(nan);
        visits.copyFrom(new int[ROWS]);
        call.invoke(List.of(ta, tb), List.of(out, visits), workspace, weights, new long[] {ROWS, COLS}, threads);
        float[] actual = new float[ROWS * COLS];
        out.copyTo(actual);
        int[] seen = new int[ROWS];
        visits.copyTo(seen);
        double maxAbs = 0;
        double maxRel = 0;
        for (int i = 0; i < actual.length; i++) {
          double abs = Math.abs((double) actual[i] - expected[i]);
          maxAbs = Math.max(maxAbs, abs);
          maxRel = Math.max(maxRel, abs / Math.max(Math.abs(expected[i]), Float.MIN_NORMAL));
        }
        System.out.printf("fma_rows %dx%d, %d threads: max abs error %.3g, max rel error %.3g%n", ROWS, COLS, threads,
            maxAbs, maxRel);
        assertEquals(Arrays.toString(expected), Arrays.toString(actual), threads + " threads");
        int[] once = new int[ROWS];
        Arrays.fill(once, 1);
        assertEquals(Arrays.toString(once), Arrays.toString(seen), "every row exactly once with " + threads
            + " threads");
      }
    }
    assertTrue(ThreadPool.workers() >= 3, "4 threads used 3 pool workers; started: " + ThreadPool.workers());
  }

  @Test
  void concurrentCallersEachWithTheirOwnFrameShareThePool() throws Exception {
    ModelEntryPoint entry = library.entryPoint("nnvm_test_fma_rows", 2, 2, 2);
    int callers = 4;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try (NativeAllocator shared = allocator.newChild("shared")) {
      List<Future<String>> results = new ArrayList<>();
      for (int caller = 0; caller < callers; caller++) {
        int seed = caller;
        results.add(pool.submit(() -> runRepeatedly(entry, shared, seed)));
      }
      for (Future<String> result : results) {
        assertEquals("ok", result.get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** 50 calls with 3 threads on fresh data; "ok" or what went wrong. */
  private static String runRepeatedly(ModelEntryPoint entry, NativeAllocator parent, int seed) {
    int rows = 64 + seed;
    int cols = 9;
    Random random = new Random(seed);
    try (NativeAllocator mine = parent.newChild("caller-" + seed);
        NativeTensor ta = NativeTensor.allocate(mine, DType.FLOAT32, rows, cols);
        NativeTensor tb = NativeTensor.allocate(mine, DType.FLOAT32, rows, cols);
        NativeTensor out = NativeTensor.allocate(mine, DType.FLOAT32, rows, cols);
        NativeTensor visits = NativeTensor.allocate(mine, DType.INT32, rows);
        NativeBuffer weights = mine.allocate(4L * cols);
        NativeBuffer workspace = mine.allocate(4L * rows * cols);
        NativeCall call = entry.newCall(mine)) {
      float[] bias = new float[cols];
      NativeMemory.copyFromArray(bias, 0, cols, weights.address());
      for (int iteration = 0; iteration < 50; iteration++) {
        float[] a = new float[rows * cols];
        float[] b = new float[rows * cols];
        for (int i = 0; i < a.length; i++) {
          a[i] = random.nextFloat();
          b[i] = random.nextFloat();
        }
        ta.copyFrom(a);
        tb.copyFrom(b);
        visits.copyFrom(new int[rows]);
        call.invoke(List.of(ta, tb), List.of(out, visits), workspace, weights, new long[] {rows, cols}, 3);
        float[] actual = new float[rows * cols];
        out.copyTo(actual);
        int[] seen = new int[rows];
        visits.copyTo(seen);
        for (int i = 0; i < actual.length; i++) {
          if (actual[i] != a[i] * b[i]) {
            return "caller " + seed + " iteration " + iteration + " element " + i + ": " + actual[i] + " != "
                + a[i] * b[i];
          }
        }
        for (int r = 0; r < rows; r++) {
          if (seen[r] != 1) {
            return "caller " + seed + " iteration " + iteration + " row " + r + " visited " + seen[r] + " times";
          }
        }
      }
      return "ok";
    }
  }

  @Test
  void parallelLoopsRunOnAsManyThreadsAsAsked() {
    ModelEntryPoint entry = library.entryPoint("nnvm_test_rendezvous", 0, 1, 0);
    try (NativeTensor met = NativeTensor.allocate(allocator, DType.INT32, 1);
        NativeCall call = entry.newCall(allocator)) {
      for (int threads : new int[] {1, 2, 4}) {
        call.invoke(List.of(), List.of(met), null, null, new long[0], threads);
        int[] flag = new int[1];
        met.copyTo(flag);
        assertEquals(1, flag[0], threads + " tasks ran at the same time");
      }
    }
  }

  @Test
  void aFailingModelBecomesAnExceptionWithItsMessage() {
    ModelEntryPoint entry = library.entryPoint("nnvm_test_check", 0, 0, 1);
    try (NativeCall call = entry.newCall(allocator)) {
      NativeCallException e = assertThrows(NativeCallException.class,
          () -> call.invoke(List.of(), List.of(), null, null, new long[] {7}));
      assertEquals(7, e.status());
      assertEquals("nnvm_test_check: value 7 is not allowed", e.modelMessage());
      assertEquals("model entry point 'nnvm_test_check' failed with status 7: nnvm_test_check: value 7 is not allowed",
          e.getMessage());
      call.invoke(List.of(), List.of(), null, null, new long[] {0});
      NativeCallException again = assertThrows(NativeCallException.class,
          () -> call.invoke(List.of(), List.of(), null, null, new long[] {3}));
      assertEquals("nnvm_test_check: value 3 is not allowed", again.modelMessage());
    }
  }

  @Test
  void aMessageLongerThanTheBufferIsCut() {
    try (NativeCall call = library.entryPoint("nnvm_test_fail_long", 0, 0, 0).newCall(allocator)) {
      NativeCallException e = assertThrows(NativeCallException.class,
          () -> call.invoke(List.of(), List.of(), null, null, new long[0]));
      assertEquals(-1, e.status());
      assertEquals(NativeCall.ERROR_CAPACITY - 1, e.modelMessage().length());
      assertTrue(e.modelMessage().startsWith("abcdefghijklmnopqrstuvwxyzabc"), e.modelMessage());
    }
  }

  @Test
  void badArgumentsAreRefusedBeforeTheNativeCall() {
    ModelEntryPoint entry = library.entryPoint("nnvm_test_fma_rows", 2, 2, 2);
    NativeTensor closed = NativeTensor.allocate(allocator, DType.FLOAT32, 2, 2);
    closed.close();
    try (NativeTensor t = NativeTensor.allocate(allocator, DType.FLOAT32, 2, 2);
        NativeTensor v = NativeTensor.allocate(allocator, DType.INT32, 2);
        NativeBuffer workspace = allocator.allocate(16);
        NativeBuffer weights = allocator.allocate(8);
        NativeCall call = entry.newCall(allocator)) {
      long[] dims = {2, 2};
      assertMessage(IllegalArgumentException.class, "entry point 'nnvm_test_fma_rows' takes 2 inputs, got 1",
          () -> call.invoke(List.of(t), List.of(t, v), workspace, weights, dims));
      assertMessage(IllegalArgumentException.class, "entry point 'nnvm_test_fma_rows' takes 2 outputs, got 3",
          () -> call.invoke(List.of(t, t), List.of(t, v, v), workspace, weights, dims));
      assertMessage(IllegalArgumentException.class, "entry point 'nnvm_test_fma_rows': the input list is null",
          () -> call.invoke(null, List.of(t, v), workspace, weights, dims));
      assertMessage(IllegalArgumentException.class, "entry point 'nnvm_test_fma_rows': input 1 is null",
          () -> call.invoke(Arrays.asList(t, null), List.of(t, v), workspace, weights, dims));
      assertMessage(IllegalStateException.class,
          "entry point 'nnvm_test_fma_rows': output 0 (" + closed + ") is closed",
          () -> call.invoke(List.of(t, t), List.of(closed, v), workspace, weights, dims));
      assertMessage(IllegalArgumentException.class, "entry point 'nnvm_test_fma_rows' takes 2 symbol values, got 1",
          () -> call.invoke(List.of(t, t), List.of(t, v), workspace, weights, new long[] {2}));
      assertMessage(IllegalArgumentException.class,
          "entry point 'nnvm_test_fma_rows': symbol value 1 is negative (-2)",
          () -> call.invoke(List.of(t, t), List.of(t, v), workspace, weights, new long[] {2, -2}));
      assertMessage(IllegalArgumentException.class, "entry point 'nnvm_test_fma_rows': threads must be at least 1,"
          + " got 0", () -> call.invoke(List.of(t, t), List.of(t, v), workspace, weights, dims, 0));
      try (NativeBuffer gone = allocator.allocate(16)) {
        gone.close();
        assertMessage(IllegalStateException.class, "entry point 'nnvm_test_fma_rows': the workspace (" + gone
            + ") is closed", () -> call.invoke(List.of(t, t), List.of(t, v), gone, weights, dims));
      }
      try (NativeBuffer base = allocator.allocate(128)) {
        // A view 8 bytes into an aligned block: misaligned on every allocator. Never closed (it owns nothing).
        NativeBuffer misaligned = new NativeBuffer(allocator, -1, base.address() + 8, 64, 8, "8-byte aligned view");
        assertMessage(IllegalArgumentException.class, "entry point 'nnvm_test_fma_rows': the weights must be 64-byte"
            + " aligned, " + misaligned + " is not",
            () -> call.invoke(List.of(t, t), List.of(t, v), workspace, misaligned, dims));
      }
      call.invoke(List.of(t, t), List.of(t, v), workspace, weights, dims);
      call.close();
      call.close();
      assertMessage(IllegalStateException.class, "the call frame of 'nnvm_test_fma_rows' is closed",
          () -> call.invoke(List.of(t, t), List.of(t, v), workspace, weights, dims));
    }
  }

  @Test
  void emptyEntryPointOverhead() {
    ModelEntryPoint entry = library.entryPoint("nnvm_test_empty", 1, 1, 1);
    try (NativeTensor in = NativeTensor.allocate(allocator, DType.FLOAT32, 1);
        NativeTensor out = NativeTensor.allocate(allocator, DType.FLOAT32, 1);
        NativeBuffer ignored = allocator.allocate(256);
        NativeCall call = entry.newCall(allocator)) {
      List<NativeTensor> inputs = List.of(in);
      List<NativeTensor> outputs = List.of(out);
      long[] symbols = {1};
      long frame = ignored.address();
      int calls = 500_000;
      double rawBest = Double.MAX_VALUE;
      double fullBest = Double.MAX_VALUE;
      for (int round = 0; round < 8; round++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          Natives.invoke(entry.address(), frame);
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          call.invoke(inputs, outputs, null, null, symbols);
        }
        long t2 = System.nanoTime();
        rawBest = Math.min(rawBest, (t1 - t0) / (double) calls);
        fullBest = Math.min(fullBest, (t2 - t1) / (double) calls);
      }
      System.out.printf("empty entry point, best of 8 rounds of %d calls: %.1f ns per raw JNI call, %.1f ns per"
          + " NativeCall.invoke (1 input, 1 output, 1 symbol, checks included)%n", calls, rawBest, fullBest);
    }
  }

  private static void assertMessage(Class<? extends RuntimeException> type, String message, Runnable action) {
    RuntimeException e = assertThrows(type, action::run);
    assertEquals(message, e.getMessage());
  }
}
