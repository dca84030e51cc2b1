package dev.nnvm.scoring;

import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models loaded in this JVM, by artifact id: one load per JVM however
 * many tasks (Spark) or slots (Flink) score with the same model. The first
 * {@link #acquire} loads ({@link CompiledModel#load}: verify, load the native
 * library, copy the weights into native memory once); later ones reuse it
 * and only count a lease. A model stays loaded while leased, and after its
 * last lease closes it stays cached, idle, so the next task does not load it
 * again; {@link #evictIdle()} unloads the idle ones.
 *
 * <p>Thread-safe. Loading holds the cache's lock, so tasks that start
 * together wait for one load instead of loading the model twice.
 */
public final class ModelCache implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);
  private static final ModelCache SHARED = new ModelCache("nnvm-model-cache");

  private final NativeAllocator allocator;
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private int loads;
  private long loadNanos;
  private boolean closed;

  private ModelCache(String name) {
    this.allocator = NativeAllocator.newRoot(name);
  }

  /** The JVM-wide cache (never closed; its models live until evicted or the JVM ends). */
  public static ModelCache shared() {
    return SHARED;
  }

  /** A cache of its own (tests, or an engine that wants separate accounting); close it when done. */
  public static ModelCache create(String name) {
    return new ModelCache(Objects.requireNonNull(name, "name"));
  }

  /**
   * A lease on the spec's model, loading it when this JVM has not yet.
   *
   * @throws IllegalArgumentException when the artifact cannot be loaded here (corrupt, or no native variant
   *     this CPU runs: the message lists what each variant lacks)
   */
  public Lease acquire(ScoringSpec spec) {
    Objects.requireNonNull(spec, "spec");
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("model cache " + allocator.name() + " is closed");
      }
      Entry e = entries.get(spec.artifactId());
      boolean loaded = false;
      long nanos = 0;
      if (e == null) {
        long t0 = System.nanoTime();
        CompiledModel model;
        try {
          model = CompiledModel.load(spec.artifact(), allocator);
        } catch (ArtifactException ex) {
          throw new IllegalArgumentException("cannot load model '" + spec.modelName() + "' (artifact "
              + spec.artifactId().substring(0, 12) + "): " + ex.getMessage(), ex);
        }
        nanos = System.nanoTime() - t0;
        e = new Entry(model);
        entries.put(spec.artifactId(), e);
        loads++;
        loadNanos += nanos;
        loaded = true;
        LOG.info("loaded model '{}' (artifact {}, variant {}, {} bytes of weights) in {} ms", spec.modelName(),
            spec.artifactId().substring(0, 12), model.variant().name(), model.weightsBytes(), nanos / 1_000_000);
      }
      e.leases++;
      return new Lease(this, e, loaded, nanos);
    }
  }

  /** Loads performed by this cache so far (a test of "one load per JVM" reads it before and after). */
  public synchronized int loadCount() {
    return loads;
  }

  /** Nanoseconds all loads took together. */
  public synchronized long loadNanos() {
    return loadNanos;
  }

  /** Models loaded now, leased or idle. */
  public synchronized int loadedModels() {
    return entries.size();
  }

  /** Leases open now on the model of {@code artifactId} (0 when idle or not loaded). */
  public synchronized int leases(String artifactId) {
    Entry e = entries.get(artifactId);
    return e == null ? 0 : e.leases;
  }

  /** Unloads every model no lease uses; returns how many were unloaded. */
  public int evictIdle() {
    List<CompiledModel> idle = new ArrayList<>();
    synchronized (this) {
      entries.values().removeIf(e -> {
        if (e.leases == 0) {
          idle.add(e.model);
          return true;
        }
        return false;
      });
    }
    for (CompiledModel m : idle) {
      m.close();
    }
    return idle.size();
  }

  /** Native bytes the cached models' weights take (all of them, leased or idle). */
  public long nativeBytes() {
    return allocator.allocatedBytes();
  }

  /**
   * Unloads every model and frees the cache's memory; fails, naming the count,
   * while leases are open. The {@link #shared()} cache refuses to close.
   */
  @Override
  public void close() {
    if (this == SHARED) {
      throw new UnsupportedOperationException("the shared model cache lives as long as the JVM; use evictIdle()");
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      int open = 0;
      for (Entry e : entries.values()) {
        open += e.leases;
      }
      if (open > 0) {
        throw new IllegalStateException("model cache " + allocator.name() + " cannot close: " + open
            + " leases are open");
      }
      closed = true;
    }
    evictIdle();
    allocator.close();
  }

  private synchronized void release(Entry e) {
    e.leases--;
  }

  private static final class Entry {
    final CompiledModel model;
    int leases;

    Entry(CompiledModel model) {
      this.model = model;
    }
  }

  /** A task's hold on a loaded model; closing it leaves the model cached (idle). Closing twice is harmless. */
  public static final class Lease implements AutoCloseable {
    private final ModelCache cache;
    private final Entry entry;
    private final boolean loaded;
    private final long loadNanos;
    private boolean closed;

    private Lease(ModelCache cache, Entry entry, boolean loaded, long loadNanos) {
      this.cache = cache;
      this.entry = entry;
      this.loaded = loaded;
      this.loadNanos = loadNanos;
    }

    /** The loaded model (thread-safe; make one executor per thread). */
    public CompiledModel model() {
      if (closed) {
        throw new IllegalStateException("the lease on " + entry.model + " is closed");
      }
      return entry.model;
    }

    /** True when this acquire loaded the model (the first in the JVM), false when it reused it. */
    public boolean loadedModel() {
      return loaded;
    }

    /** Nanoseconds this acquire spent loading (0 when reused). */
    public long loadNanos() {
      return loadNanos;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        cache.release(entry);
      }
    }
  }
}
