package dev.nnvm.runtime.exec;

import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactFormat;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.NativeVariant;
import dev.nnvm.runtime.artifact.Sha256;
import dev.nnvm.runtime.nativeio.ModelEntryPoint;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import dev.nnvm.runtime.nativeio.NativeBuffer;
import dev.nnvm.runtime.nativeio.NativeMemory;
import dev.nnvm.runtime.nativeio.SharedLibrary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A compiled model loaded for this JVM: the manifest, the best native
 * variant for this CPU (loaded once, from a file named by its hash), and the
 * weights copied once into native memory.
 *
 * <p>Every {@code load} of the same artifact (same {@link ModelArtifact#id()})
 * and variant in the JVM shares one loaded copy, so all the Spark tasks of an
 * executor use one copy of the weights. Each {@code load} returns a handle of
 * its own; the copy (native code, weights in native memory, the manifest;
 * not the artifact's heap bytes) is unloaded when the last handle and the last
 * {@link Executor} made from it are closed. The weights are allocated from a
 * child allocator ({@code weights-<id>}) of the allocator passed to the load
 * that loaded the copy first; they count against it until the copy is unloaded.
 *
 * <p>Handles are thread-safe; make one {@link Executor} per thread.
 */
public final class CompiledModel implements AutoCloseable {
  /** Loaded copies by artifact id and variant; also the lock for loading and unloading. */
  private static final Map<String, Loaded> LOADED = new HashMap<>();
  /** Artifact id to the variant this machine's CPU runs, once selected. Guarded by LOADED. */
  private static final Map<String, String> HOST_VARIANTS = new HashMap<>();
  private static final int COPY_CHUNK = 1 << 20;

  private final Loaded loaded;
  private final AtomicBoolean closed = new AtomicBoolean();

  private CompiledModel(Loaded loaded) {
    this.loaded = loaded;
  }

  /**
   * Reads, verifies and loads an artifact held in memory (a broadcast value)
   * for this machine's CPU. When the header names an artifact already loaded
   * for this CPU, the bytes are not read again (every Spark task of an
   * executor may call this): the loaded copy came from verified bytes of the
   * same content, which the id in the header names.
   */
  public static CompiledModel load(byte[] artifact, NativeAllocator allocator) throws ArtifactException {
    Objects.requireNonNull(artifact, "artifact");
    Objects.requireNonNull(allocator, "allocator");
    String id = headerId(artifact);
    if (id != null) {
      synchronized (LOADED) {
        String variant = HOST_VARIANTS.get(id);
        Loaded existing = variant == null ? null : LOADED.get(id + "/" + variant);
        if (existing != null) {
          existing.retain();
          return new CompiledModel(existing);
        }
      }
    }
    return load(ArtifactReader.read(artifact), allocator, CpuFeatures.host());
  }

  /** The manifest hash the header declares, or null when the bytes do not start like an artifact. */
  private static String headerId(byte[] bytes) {
    byte[] magic = ArtifactFormat.magic();
    if (bytes.length < ArtifactFormat.HEADER_BYTES
        || !Arrays.equals(bytes, 0, magic.length, magic, 0, magic.length)) {
      return null;
    }
    return Sha256.toHex(Arrays.copyOfRange(bytes, ArtifactFormat.HEADER_BYTES - 32, ArtifactFormat.HEADER_BYTES));
  }

  /** Reads, verifies and loads an artifact file for this machine's CPU. */
  public static CompiledModel load(Path file, NativeAllocator allocator) throws IOException {
    return load(ArtifactReader.read(file), allocator, CpuFeatures.host());
  }

  /** Loads a verified artifact for this machine's CPU. */
  public static CompiledModel load(ModelArtifact artifact, NativeAllocator allocator) throws ArtifactException {
    return load(artifact, allocator, CpuFeatures.host());
  }

  /**
   * Loads a verified artifact for a CPU with the given features: the first
   * variant (best first) that the CPU runs.
   *
   * @throws ArtifactException naming, for every variant, why the CPU cannot run it
   */
  public static CompiledModel load(ModelArtifact artifact, NativeAllocator allocator, CpuFeatures cpu)
      throws ArtifactException {
    Objects.requireNonNull(artifact, "artifact");
    Objects.requireNonNull(allocator, "allocator");
    Objects.requireNonNull(cpu, "cpu");
    NativeVariant variant = artifact.selectVariant(cpu);
    String key = artifact.id() + "/" + variant.name();
    synchronized (LOADED) {
      Loaded existing = LOADED.get(key);
      if (existing != null) {
        existing.retain();
        return new CompiledModel(existing);
      }
      Loaded created = Loaded.create(key, artifact, variant, allocator);
      LOADED.put(key, created);
      if (cpu == CpuFeatures.host()) {
        HOST_VARIANTS.put(artifact.id(), variant.name());
      }
      return new CompiledModel(created);
    }
  }

  /** Distinct compiled models loaded in this JVM now. */
  public static int loadedCount() {
    synchronized (LOADED) {
      return LOADED.size();
    }
  }

  /**
   * A new executor with its own call frame and workspace, allocated from
   * {@code allocator}; it keeps the model loaded until it is closed.
   */
  public Executor newExecutor(NativeAllocator allocator) {
    Objects.requireNonNull(allocator, "allocator");
    checkOpen();
    loaded.retain();
    try {
      return new Executor(loaded, allocator);
    } catch (RuntimeException | Error e) {
      loaded.release();
      throw e;
    }
  }

  public Manifest manifest() {
    return loaded.manifest;
  }

  /** The artifact's id (the SHA-256 of its manifest). */
  public String id() {
    return loaded.id;
  }

  /** The native variant this JVM runs. */
  public NativeVariant variant() {
    return loaded.variant;
  }

  public List<TensorSpec> inputs() {
    return manifest().inputs();
  }

  public List<TensorSpec> outputs() {
    return manifest().outputs();
  }

  /** Bytes of native memory the shared weights take. */
  public long weightsBytes() {
    return loaded.weights == null ? 0 : loaded.weights.size();
  }

  public boolean isClosed() {
    return closed.get();
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException(this + " is closed");
    }
  }

  /** Releases this handle; the shared copy is unloaded once no handle and no executor uses it. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      loaded.release();
    }
  }

  @Override
  public String toString() {
    return "compiled model '" + manifest().model().name() + "' (artifact " + id().substring(0, 12) + ", variant "
        + loaded.variant.name() + ")" + (closed.get() ? " (closed)" : "");
  }

  /** One loaded copy: library, entry point and weights, with a count of its handles and executors. */
  static final class Loaded {
    final String key;
    final String id;
    final Manifest manifest;
    final NativeVariant variant;
    final SharedLibrary library;
    final ModelEntryPoint entry;
    final NativeAllocator weightsAllocator;
    final NativeBuffer weights;
    /** Guarded by LOADED. */
    private int users = 1;

    private Loaded(String key, ModelArtifact artifact, NativeVariant variant, SharedLibrary library,
        ModelEntryPoint entry, NativeAllocator weightsAllocator, NativeBuffer weights) {
      this.key = key;
      this.id = artifact.id();
      this.manifest = artifact.manifest();
      this.variant = variant;
      this.library = library;
      this.entry = entry;
      this.weightsAllocator = weightsAllocator;
      this.weights = weights;
    }

    /**
     * Loads the library and copies the weights; undoes what it did when a step
     * fails. Keeps the manifest, not the artifact, so its heap bytes can go.
     */
    static Loaded create(String key, ModelArtifact artifact, NativeVariant variant, NativeAllocator allocator) {
      Manifest m = artifact.manifest();
      ByteBuffer code = artifact.library(variant);
      byte[] bytes = new byte[code.remaining()];
      code.get(bytes);
      SharedLibrary library = SharedLibrary.load(bytes);
      NativeAllocator weightsAllocator = null;
      NativeBuffer weights = null;
      try {
        ModelEntryPoint entry = library.entryPoint(variant.entry(), m.inputs().size(), m.outputs().size(),
            m.symbols().size());
        weightsAllocator = allocator.newChild("weights-" + artifact.id().substring(0, 12));
        ByteBuffer blob = artifact.weights();
        if (blob.remaining() > 0) {
          weights = weightsAllocator.allocate(blob.remaining(), NativeAllocator.DEFAULT_ALIGNMENT,
              "weights of model '" + m.model().name() + "'");
          copy(blob, weights.address());
        }
        return new Loaded(key, artifact, variant, library, entry, weightsAllocator, weights);
      } catch (RuntimeException | Error e) {
        closeAll(e, weights, weightsAllocator, library);
        throw e;
      }
    }

    private static void copy(ByteBuffer from, long address) {
      byte[] chunk = new byte[Math.min(COPY_CHUNK, from.remaining())];
      long at = address;
      while (from.hasRemaining()) {
        int n = Math.min(chunk.length, from.remaining());
        from.get(chunk, 0, n);
        NativeMemory.copyFromArray(chunk, 0, n, at);
        at += n;
      }
    }

    void retain() {
      synchronized (LOADED) {
        if (users == 0) {
          throw new IllegalStateException("compiled model " + key + " is unloaded");
        }
        users++;
      }
    }

    void release() {
      synchronized (LOADED) {
        if (--users > 0) {
          return;
        }
        if (LOADED.remove(key, this)) {
          HOST_VARIANTS.remove(id, variant.name());
        }
      }
      RuntimeException failure = null;
      for (AutoCloseable c : new AutoCloseable[] {weights, weightsAllocator, library}) {
        try {
          if (c != null) {
            c.close();
          }
        } catch (Exception e) {
          if (failure == null) {
            failure = new IllegalStateException("unloading compiled model " + key + " failed: " + e.getMessage(), e);
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }

    private static void closeAll(Throwable pending, AutoCloseable... resources) {
      for (AutoCloseable c : resources) {
        if (c != null) {
          try {
            c.close();
          } catch (Exception e) {
            pending.addSuppressed(e);
          }
        }
      }
    }
  }
}
