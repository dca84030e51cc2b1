package dev.nnvm.runtime.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SharedLibraryTest {
  private NativeAllocator allocator;

  @BeforeEach
  void open() {
    allocator = NativeAllocator.newRoot("libraries");
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  @Test
  void aLibraryFileLoadsInPlaceAndResolvesSymbols() throws Exception {
    Path file = TestModels.library();
    try (SharedLibrary lib = SharedLibrary.load(file)) {
      assertEquals(file.toAbsolutePath(), lib.path());
      assertNull(lib.sha256());
      assertNotEquals(0, lib.symbol("nnvm_test_empty"));
      NativeException missing = assertThrows(NativeException.class, () -> lib.symbol("nnvm_test_nothing"));
      assertTrue(missing.getMessage().startsWith("symbol 'nnvm_test_nothing' not found in shared library "
          + file.toAbsolutePath() + ": dlsym failed: "), missing.getMessage());
      assertTrue(missing.getMessage().contains("undefined symbol: nnvm_test_nothing"), missing.getMessage());
    }
    assertTrue(Files.exists(file), "a library loaded in place stays where it is");
  }

  @Test
  void bytesAreSharedByHashAndDeletedAfterTheLastClose() throws Exception {
    byte[] bytes = Files.readAllBytes(TestModels.library());
    SharedLibrary first = SharedLibrary.load(bytes);
    SharedLibrary second = SharedLibrary.load(bytes);
    Path file = first.path();
    assertEquals(file, second.path());
    assertEquals(NativeLoader.sha256(bytes), first.sha256());
    assertEquals(first.sha256() + ".so", file.getFileName().toString());
    assertTrue(Files.isRegularFile(file));

    first.close();
    first.close();
    assertTrue(Files.isRegularFile(file), "the second user still holds the file");
    IllegalStateException closed = assertThrows(IllegalStateException.class, () -> first.symbol("nnvm_test_empty"));
    assertTrue(closed.getMessage().endsWith(file + " is closed"), closed.getMessage());
    assertNotEquals(0, second.symbol("nnvm_test_empty"));

    second.close();
    assertFalse(Files.exists(file), "the last close deletes the temporary file");

    try (SharedLibrary again = SharedLibrary.load(bytes)) {
      assertTrue(Files.isRegularFile(again.path()), "a later load writes the file anew");
      assertNotEquals(0, again.symbol("nnvm_test_empty"));
    }
  }

  @Test
  void bytesThatAreNoLibraryGiveTheLoadersMessageAndLeaveNoFile() throws Exception {
    Path directory;
    try (SharedLibrary real = SharedLibrary.load(Files.readAllBytes(TestModels.library()))) {
      directory = real.path().getParent();
    }
    byte[] junk = new byte[4096];
    Arrays.fill(junk, (byte) 'x');
    NativeException e = assertThrows(NativeException.class, () -> SharedLibrary.load(junk));
    assertTrue(e.getMessage().startsWith("cannot load a shared library of 4096 bytes (sha256 "
        + NativeLoader.sha256(junk) + "): dlopen failed: "), e.getMessage());
    assertTrue(e.getMessage().contains("invalid ELF header"), e.getMessage());
    assertFalse(Files.exists(directory.resolve(NativeLoader.sha256(junk) + ".so")));

    NativeException absent = assertThrows(NativeException.class,
        () -> SharedLibrary.load(directory.resolve("absent.so")));
    assertEquals("no shared library file at " + directory.resolve("absent.so"), absent.getMessage());
  }

  @Test
  void callFramesKeepTheLibraryLoadedButRefuseCallsOnceItIsClosed() throws Exception {
    SharedLibrary lib = SharedLibrary.load(Files.readAllBytes(TestModels.library()));
    Path file = lib.path();
    ModelEntryPoint entry = lib.entryPoint("nnvm_test_empty", 0, 0, 0);
    try (NativeCall call = entry.newCall(allocator)) {
      call.invoke(List.of(), List.of(), null, null, new long[0]);
      lib.close();
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> call.invoke(List.of(), List.of(), null, null, new long[0]));
      assertEquals("entry point 'nnvm_test_empty': shared library sha256 " + lib.sha256().substring(0, 16) + " at "
          + file + " is closed", e.getMessage());
      assertTrue(Files.isRegularFile(file), "the frame still holds the library");
      assertThrows(IllegalStateException.class, () -> entry.newCall(allocator));
    }
    assertFalse(Files.exists(file), "closing the last frame unloaded the library and deleted its file");
  }

  @Test
  void entryPointCountsAreBounded() throws Exception {
    try (SharedLibrary lib = SharedLibrary.load(TestModels.library())) {
      assertThrows(IllegalArgumentException.class, () -> lib.entryPoint("nnvm_test_empty", -1, 0, 0));
      assertThrows(IllegalArgumentException.class,
          () -> lib.entryPoint("nnvm_test_empty", 0, ModelEntryPoint.MAX_ARGUMENTS + 1, 0));
      assertThrows(NativeException.class, () -> lib.entryPoint("nnvm_test_missing", 0, 0, 0));
    }
  }
}
