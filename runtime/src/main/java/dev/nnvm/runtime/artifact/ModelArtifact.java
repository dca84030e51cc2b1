package dev.nnvm.runtime.artifact;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A compiled model read and verified by {@link ArtifactReader}: the manifest
 * and the bytes of every part, each checked against its size and SHA-256
 * when it was read. Immutable; every accessor returns a fresh read-only view,
 * so callers may move its position freely and share the artifact between
 * threads.
 */
public final class ModelArtifact {
  private static final Logger LOG = LoggerFactory.getLogger(ModelArtifact.class);

  private final Manifest manifest;
  private final String id;
  private final Map<String, ByteBuffer> parts;
  private final long byteSize;

  ModelArtifact(Manifest manifest, String id, Map<String, ByteBuffer> parts, long byteSize) {
    this.manifest = manifest;
    this.id = id;
    this.parts = Map.copyOf(parts);
    this.byteSize = byteSize;
  }

  public Manifest manifest() {
    return manifest;
  }

  /**
   * The SHA-256 of the manifest. The manifest lists the hash of every part,
   * so this names the whole content: a cache key, and the name of the
   * temporary file native code is loaded from.
   */
  public String id() {
    return id;
  }

  /** The size of the artifact file in bytes. */
  public long byteSize() {
    return byteSize;
  }

  /**
   * The bytes of a part, as a read-only view.
   *
   * @throws IllegalArgumentException naming the parts there are when there is no such part
   */
  public ByteBuffer part(String name) {
    ByteBuffer b = parts.get(name);
    if (b == null) {
      List<String> names = new ArrayList<>();
      manifest.parts().forEach(p -> names.add(p.name()));
      throw new IllegalArgumentException("artifact has no part '" + name + "'; its parts are " + names);
    }
    return b.asReadOnlyBuffer();
  }

  /** The weights blob (constants at the offsets of {@link Manifest#weights()}). */
  public ByteBuffer weights() {
    return part(manifest.weights().part());
  }

  /**
   * The bytes of one constant, a read-only little-endian view into the
   * weights (dense, row-major, in the target's byte order, which is little-endian
   * on every target the compiler supports).
   *
   * @throws IllegalArgumentException when there is no such constant
   */
  public ByteBuffer constant(String name) {
    WeightsTable.Constant c = manifest.weights().constant(name)
        .orElseThrow(() -> new IllegalArgumentException("artifact has no constant '" + name + "'"));
    return weights().slice((int) c.offset(), (int) c.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The shared library of a native variant. */
  public ByteBuffer library(NativeVariant variant) {
    return part(variant.library());
  }

  /** The best native variant for this machine's CPU ({@link CpuFeatures#host()}). */
  public NativeVariant selectVariant() throws ArtifactException {
    return selectVariant(CpuFeatures.host());
  }

  /**
   * The best native variant this CPU runs: the first in manifest order (the
   * compiler lists them best first) whose architecture and operating system
   * match and whose features the CPU has. Variants of another architecture
   * (the aarch64 build of an artifact on an x86-64 worker, and the other way
   * round) are skipped silently; a warning is logged only when a variant of
   * this architecture that this CPU lacks features for came first.
   *
   * @throws ArtifactException listing, for every variant, why this CPU cannot run it
   */
  public NativeVariant selectVariant(CpuFeatures cpu) throws ArtifactException {
    if (manifest.variants().isEmpty()) {
      throw new ArtifactException("artifact of model '" + manifest.model().name() + "' has no native CPU code");
    }
    List<String> reasons = new ArrayList<>();
    boolean fasterSkipped = false;
    for (NativeVariant v : manifest.variants()) {
      if (!v.arch().equals(cpu.arch())) {
        reasons.add("variant '" + v.name() + "' is built for " + v.arch() + ", this CPU is " + cpu.arch());
        continue;
      }
      if (v.os() != null && cpu.os() != null && !v.os().equals(cpu.os())) {
        reasons.add("variant '" + v.name() + "' is built for " + v.os() + ", this machine runs " + cpu.os());
        continue;
      }
      List<String> missing = cpu.missing(v.features());
      if (missing.isEmpty()) {
        if (fasterSkipped) {
          LOG.warn("model '{}' runs its native variant '{}', slower than the ones this CPU ({}) cannot run: {}",
              manifest.model().name(), v.name(), cpu, String.join("; ", reasons));
        }
        return v;
      }
      reasons.add("variant '" + v.name() + "' (" + v.cpu() + ") needs " + String.join(", ", missing)
          + ", which this CPU lacks");
      fasterSkipped = true;
    }
    throw new ArtifactException("no native code in the artifact of model '" + manifest.model().name()
        + "' runs on this CPU (" + cpu + "): " + String.join("; ", reasons)
        + "; recompile the model with a target this CPU supports");
  }

  @Override
  public String toString() {
    return "artifact of model '" + manifest.model().name() + "' (id " + id.substring(0, 12) + ", " + byteSize
        + " bytes, " + parts.size() + " parts)";
  }
}
