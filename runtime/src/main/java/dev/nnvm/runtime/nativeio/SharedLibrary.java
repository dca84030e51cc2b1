package dev.nnvm.runtime.nativeio;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A native shared library (a compiled model's code) loaded with
 * {@code dlopen(RTLD_NOW | RTLD_LOCAL)}.
 *
 * <p>{@link #load(byte[])} writes the bytes to {@code <sha256>.so} in a
 * directory of this JVM's own and loads that file once: every load of the
 * same bytes in the JVM shares it, and the last {@link #close()} unloads it
 * and deletes the file. {@link #load(Path)} loads a file in place.
 *
 * <p>Each {@link NativeCall} frame keeps the library loaded until the frame
 * is closed, so closing the handle while a call runs cannot unload code under
 * it. Close is idempotent; a closed handle refuses symbol lookups, and the
 * frames made from it refuse calls.
 */
public final class SharedLibrary implements AutoCloseable {
  /** Libraries loaded from bytes, by SHA-256; also the lock for loading and unloading them. */
  private static final Map<String, Loaded> BY_HASH = new HashMap<>();
  private static Path directory;

  private final Loaded loaded;
  private final AtomicBoolean closed = new AtomicBoolean();

  private SharedLibrary(Loaded loaded) {
    this.loaded = loaded;
  }

  /**
   * Loads a shared library file in place.
   *
   * @throws NativeException with the dynamic loader's message when it refuses the file
   */
  public static SharedLibrary load(Path file) {
    Objects.requireNonNull(file, "file");
    Path absolute = file.toAbsolutePath();
    if (!Files.isRegularFile(absolute)) {
      throw new NativeException("no shared library file at " + absolute);
    }
    NativeLoader.ensureLoaded();
    long handle;
    try {
      handle = Natives.dlopen(absolute.toString());
    } catch (NativeException e) {
      throw new NativeException("cannot load shared library " + absolute + ": " + e.getMessage(), e);
    }
    return new SharedLibrary(new Loaded(absolute, null, false, handle));
  }

  /**
   * Loads a shared library from its bytes (as carried by a compiled artifact),
   * sharing one loaded copy per content in the JVM.
   *
   * @throws NativeException with the dynamic loader's message when it refuses the bytes
   */
  public static SharedLibrary load(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    NativeLoader.ensureLoaded();
    String hash = NativeLoader.sha256(bytes);
    synchronized (BY_HASH) {
      Loaded existing = BY_HASH.get(hash);
      if (existing != null) {
        if (existing.tryRetain()) {
          return new SharedLibrary(existing);
        }
        existing.dispose();
      }
      Path file;
      try {
        file = directory().resolve(hash + ".so");
        Files.write(file, bytes);
        file.toFile().deleteOnExit();
      } catch (IOException e) {
        throw new NativeException("cannot write a shared library of " + bytes.length + " bytes (sha256 " + hash
            + ") to a temporary file: " + e.getMessage(), e);
      }
      long handle;
      try {
        handle = Natives.dlopen(file.toString());
      } catch (NativeException e) {
        deleteQuietly(file, e);
        throw new NativeException("cannot load a shared library of " + bytes.length + " bytes (sha256 " + hash
            + "): " + e.getMessage(), e);
      }
      Loaded created = new Loaded(file, hash, true, handle);
      BY_HASH.put(hash, created);
      return new SharedLibrary(created);
    }
  }

  /** This JVM's directory for libraries loaded from bytes; deleted at exit with what is left in it. Lock held. */
  private static Path directory() throws IOException {
    if (directory == null || !Files.isDirectory(directory)) {
      directory = Files.createTempDirectory("nnvm-libraries-");
      directory.toFile().deleteOnExit();
    }
    return directory;
  }

  private static void deleteQuietly(Path file, Exception pending) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      pending.addSuppressed(e);
    }
  }

  /**
   * The address of an exported symbol.
   *
   * @throws NativeException naming the symbol and the library when it is not exported
   */
  public long symbol(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("empty symbol name");
    }
    acquire();
    try {
      return Natives.dlsym(loaded.handle, name);
    } catch (NativeException e) {
      throw new NativeException("symbol '" + name + "' not found in " + describe() + ": " + e.getMessage(), e);
    } finally {
      release();
    }
  }

  /**
   * The model entry point exported as {@code symbol}, taking {@code inputs}
   * input pointers, {@code outputs} output pointers and {@code symbols}
   * symbolic-dimension values (see {@code nnvm_model_abi.h}).
   */
  public ModelEntryPoint entryPoint(String symbol, int inputs, int outputs, int symbols) {
    return new ModelEntryPoint(this, symbol, symbol(symbol), inputs, outputs, symbols);
  }

  /** The file the library was loaded from (deleted after the last close when loaded from bytes). */
  public Path path() {
    return loaded.file;
  }

  /** The SHA-256 of the bytes, in hex, for a library loaded from bytes; null for one loaded from a path. */
  public String sha256() {
    return loaded.sha256;
  }

  public boolean isClosed() {
    return closed.get();
  }

  /** Keeps the library loaded until {@link #release()}; refuses when this handle is closed. */
  void acquire() {
    if (closed.get() || !loaded.tryRetain()) {
      throw new IllegalStateException(describe() + " is closed");
    }
  }

  void release() {
    loaded.release();
  }

  /**
   * Releases this handle; the library is unloaded (and a file written from
   * bytes deleted) once no handle and no call frame uses it.
   *
   * @throws NativeException when dlclose reports an error
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      loaded.release();
    }
  }

  String describe() {
    return "shared library " + (loaded.sha256 != null ? "sha256 " + loaded.sha256.substring(0, 16) + " at " : "")
        + loaded.file;
  }

  @Override
  public String toString() {
    return describe() + (closed.get() ? " (closed)" : "");
  }

  /** One dlopen handle with its users: open handles plus running calls. */
  private static final class Loaded {
    final Path file;
    final String sha256;
    final boolean temporary;
    final long handle;
    final AtomicInteger users = new AtomicInteger(1);
    /** Guarded by BY_HASH. */
    boolean disposed;

    Loaded(Path file, String sha256, boolean temporary, long handle) {
      this.file = file;
      this.sha256 = sha256;
      this.temporary = temporary;
      this.handle = handle;
    }

    boolean tryRetain() {
      for (;;) {
        int n = users.get();
        if (n == 0) {
          return false;
        }
        if (users.compareAndSet(n, n + 1)) {
          return true;
        }
      }
    }

    void release() {
      if (users.decrementAndGet() == 0) {
        dispose();
      }
    }

    void dispose() {
      synchronized (BY_HASH) {
        if (disposed) {
          return;
        }
        disposed = true;
        if (sha256 != null && BY_HASH.get(sha256) == this) {
          BY_HASH.remove(sha256);
        }
        NativeException failure = null;
        try {
          Natives.dlclose(handle);
        } catch (NativeException e) {
          failure = new NativeException("cannot unload shared library " + file + ": " + e.getMessage(), e);
        }
        if (temporary) {
          try {
            Files.deleteIfExists(file);
          } catch (IOException e) {
            if (failure == null) {
              failure = new NativeException("cannot delete the temporary shared library " + file, e);
            } else {
              failure.addSuppressed(e);
            }
          }
        }
        if (failure != null) {
          throw failure;
        }
      }
    }
  }
}
