package dev.nnvm.compiler.artifact;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactFormat;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ManifestJson;
import dev.nnvm.runtime.artifact.NativeVariant;
import dev.nnvm.runtime.artifact.PartBytes;
import dev.nnvm.runtime.artifact.WeightsTable;
import dev.nnvm.runtime.artifact.WorkspacePlan;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Assembles a compiled model into one artifact file ({@link ArtifactFormat}):
 * collects the manifest's fields, lays out the weights (each constant at the
 * next 64-byte boundary), names the parts, computes every size and SHA-256,
 * and writes the bytes. Equal content gives equal bytes: parts are stored in
 * name order, maps sorted, and the creation time is whatever the caller
 * passes.
 *
 * <p>Buffers handed to the builder are borrowed, not copied: a 100 MB weights
 * blob is streamed from the caller's buffers to the output, so the caller
 * must not change them until the artifact is written.
 *
 * <pre>{@code
 * ArtifactWriter w = ArtifactWriter.builder()
 *     .compiler("0.1.0").created(Instant.now(), "nnvmc 0.1.0").option("opt-level", "3")
 *     .model("minilm", sha256OfOnnxFile).symbols("batch", "seq")
 *     .input(new TensorSpec("ids", DType.INT64, Shape.parse("[batch, seq]")))
 *     .output(new TensorSpec("out", DType.FLOAT32, Shape.parse("[batch, seq, 384]")))
 *     .workspaceRegion(9280, Map.of("batch", 1, "seq", 1))
 *     .constant("w0", DType.FLOAT32, Shape.of(384, 384), w0Bytes)
 *     .variant("x86-64-v3", "x86_64-unknown-linux-gnu", "x86-64-v3", List.of("avx2", "fma"), "nnvm_run", so)
 *     .build();
 * w.writeTo(Path.of("model.nnvm"));
 * }</pre>
 */
public final class ArtifactWriter {
  /** The part that holds the weights blob. */
  public static final String WEIGHTS_PART = "weights";

  private final Manifest manifest;
  private final byte[] manifestJson;
  private final List<PartBytes> parts;
  private final long byteSize;

  private ArtifactWriter(Manifest manifest, byte[] manifestJson, List<PartBytes> parts) {
    this.manifest = manifest;
    this.manifestJson = manifestJson;
    this.parts = parts;
    this.byteSize = ArtifactFormat.fileSize(manifestJson.length, parts);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The part name of a native variant's shared library. */
  public static String libraryPart(String variant) {
    return "native/" + variant + ".so";
  }

  public Manifest manifest() {
    return manifest;
  }

  /** The size of the artifact in bytes. */
  public long byteSize() {
    return byteSize;
  }

  /** Streams the artifact; the stream is flushed, not closed. */
  public void writeTo(OutputStream out) throws IOException {
    ArtifactFormat.write(out, manifestJson, parts);
  }

  /** Writes the artifact to a file, replacing it. */
  public void writeTo(Path file) throws IOException {
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
      writeTo(out);
    }
  }

  /**
   * The artifact as one byte array (what Spark and Flink broadcast).
   *
   * @throws IllegalStateException when it is too large for one array; write it to a file instead
   */
  public byte[] toBytes() {
    if (byteSize > ArtifactFormat.MAX_PART_BYTES) {
      throw new IllegalStateException("the artifact is " + byteSize + " bytes, too large for one byte array;"
          + " write it to a file");
    }
    ArrayOutput out = new ArrayOutput(new byte[(int) byteSize]);
    try {
      writeTo(out);
    } catch (IOException e) {
      throw new IllegalStateException("writing into an array cannot fail with " + e, e);
    }
    return out.bytes;
  }

  /** Writes into an array of the exact size, so the result needs no second copy. */
  private static final class ArrayOutput extends OutputStream {
    private final byte[] bytes;
    private int at;

    ArrayOutput(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public void write(int b) {
      bytes[at++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      System.arraycopy(b, off, bytes, at, len);
      at += len;
    }
  }

  /** Collects the content of an artifact; {@link #build()} checks it and computes the hashes. */
  public static final class Builder {
    private String compilerVersion;
    private Instant createdAt;
    private String createdBy;
    private final Map<String, String> options = new TreeMap<>();
    private String modelName;
    private String modelSha256;
    private final List<String> symbols = new ArrayList<>();
    private final List<TensorSpec> inputs = new ArrayList<>();
    private final List<TensorSpec> outputs = new ArrayList<>();
    private final List<WorkspacePlan.Region> regions = new ArrayList<>();
    private final List<PendingConstant> constants = new ArrayList<>();
    private final List<PendingVariant> variants = new ArrayList<>();
    private final Map<String, ByteBuffer> extraParts = new TreeMap<>();

    private record PendingConstant(String name, DType dtype, Shape shape, ByteBuffer data) {
    }

    private record PendingVariant(NativeVariant variant, ByteBuffer library) {
    }

    private Builder() {
    }

    /** The version of the compiler writing the artifact. */
    public Builder compiler(String version) {
      this.compilerVersion = Objects.requireNonNull(version, "version");
      return this;
    }

    /** When and by what tool; pass a fixed instant for reproducible bytes. */
    public Builder created(Instant at, String by) {
      this.createdAt = Objects.requireNonNull(at, "at");
      this.createdBy = Objects.requireNonNull(by, "by");
      return this;
    }

    /** One compile option, recorded so an artifact says how it was made. */
    public Builder option(String name, String value) {
      options.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** The source model's name and the SHA-256 (64 lowercase hex digits) of its file. */
    public Builder model(String name, String sha256) {
      this.modelName = Objects.requireNonNull(name, "name");
      this.modelSha256 = Objects.requireNonNull(sha256, "sha256");
      return this;
    }

    /** The symbolic dimensions, in the order the runtime passes their values to the entry point. */
    public Builder symbols(String... names) {
      symbols.addAll(List.of(names));
      return this;
    }

    public Builder input(TensorSpec spec) {
      inputs.add(Objects.requireNonNull(spec, "spec"));
      return this;
    }

    public Builder output(TensorSpec spec) {
      outputs.add(Objects.requireNonNull(spec, "spec"));
      return this;
    }

    /** The next workspace region: {@code coefficient} bytes per unit of the monomial (symbol to power). */
    public Builder workspaceRegion(long coefficient, Map<String, Integer> monomial) {
      regions.add(new WorkspacePlan.Region(coefficient, monomial));
      return this;
    }

    /**
     * Appends a constant to the weights at the next 64-byte boundary: its
     * remaining bytes, dense, row-major, little-endian. The buffer is borrowed.
     *
     * @throws IllegalArgumentException when the byte count does not match the type and shape
     */
    public Builder constant(String name, DType dtype, Shape shape, ByteBuffer data) {
      if (!shape.isStatic()) {
        throw new IllegalArgumentException("constant '" + name + "' needs a static shape, got " + shape);
      }
      long expected = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
      if (data.remaining() != expected) {
        throw new IllegalArgumentException("constant '" + name + "' " + dtype + shape + " needs " + expected
            + " bytes, got " + data.remaining());
      }
      constants.add(new PendingConstant(name, dtype, shape, data.duplicate()));
      return this;
    }

    /**
     * Adds a native variant, best first: the runtime takes the first one the
     * worker's CPU supports. Its library goes to part {@link #libraryPart}.
     *
     * @param features LLVM feature names the code needs, with or without {@code +}
     */
    public Builder variant(String name, String triple, String cpu, Collection<String> features, String entry,
        ByteBuffer library) {
      List<String> plain = new ArrayList<>();
      features.forEach(f -> plain.add(f.startsWith("+") ? f.substring(1) : f));
      variants.add(new PendingVariant(new NativeVariant(name, triple, cpu, plain, entry, libraryPart(name)),
          library.duplicate()));
      return this;
    }

    /** Another named part (say PTX, or an execution plan); the buffer is borrowed. */
    public Builder part(String name, ByteBuffer bytes) {
      extraParts.put(Objects.requireNonNull(name, "name"), bytes.duplicate());
      return this;
    }

    /**
     * Lays out the parts, hashes them, and checks the manifest exactly as a
     * reader will.
     *
     * @throws IllegalStateException naming what is missing or inconsistent
     */
    public ArtifactWriter build() {
      require(compilerVersion, "compiler(version)");
      require(createdAt, "created(at, by)");
      require(modelName, "model(name, sha256)");

      Map<String, PartBytes> content = new TreeMap<>();
      List<WeightsTable.Constant> table = new ArrayList<>();
      List<ByteBuffer> blob = new ArrayList<>();
      long size = 0;
      for (PendingConstant c : constants) {
        long offset = ArtifactFormat.align(size);
        if (offset > size) {
          blob.add(ByteBuffer.allocate((int) (offset - size)));
        }
        blob.add(c.data);
        table.add(new WeightsTable.Constant(c.name, c.dtype, c.shape, offset));
        size = offset + c.data.remaining();
      }
      addPart(content, WEIGHTS_PART, PartBytes.of(blob));
      List<NativeVariant> variantList = new ArrayList<>();
      for (PendingVariant v : variants) {
        variantList.add(v.variant);
        addPart(content, v.variant.library(), PartBytes.of(v.library));
      }
      extraParts.forEach((name, bytes) -> addPart(content, name, PartBytes.of(bytes)));

      List<Manifest.Part> partTable = new ArrayList<>();
      long at = 0;
      for (Map.Entry<String, PartBytes> e : content.entrySet()) {
        long offset = partTable.isEmpty() ? 0 : ArtifactFormat.align(at);
        partTable.add(new Manifest.Part(e.getKey(), offset, e.getValue().size(), e.getValue().sha256()));
        at = offset + e.getValue().size();
      }
      Manifest manifest = new Manifest(ArtifactFormat.VERSION, compilerVersion,
          new Manifest.Creation(createdAt, createdBy, options), new Manifest.Model(modelName, modelSha256),
          symbols, inputs, outputs, new WorkspacePlan(ArtifactFormat.ALIGNMENT, regions),
          new WeightsTable(WEIGHTS_PART, size, ArtifactFormat.ALIGNMENT, table), variantList, partTable);
      byte[] json;
      try {
        json = ManifestJson.write(manifest);
        ManifestJson.read(json);
      } catch (ArtifactException | IllegalArgumentException e) {
        throw new IllegalStateException("cannot build the artifact of model '" + modelName + "': "
            + e.getMessage(), e);
      }
      if (json.length > ArtifactFormat.MAX_MANIFEST_BYTES) {
        throw new IllegalStateException("cannot build the artifact of model '" + modelName + "': its manifest is "
            + json.length + " bytes, more than the format's limit of " + ArtifactFormat.MAX_MANIFEST_BYTES);
      }
      return new ArtifactWriter(manifest, json, List.copyOf(content.values()));
    }

    private static void addPart(Map<String, PartBytes> content, String name, PartBytes bytes) {
      if (content.putIfAbsent(name, bytes) != null) {
        throw new IllegalStateException("part '" + name + "' is added twice");
      }
    }

    private static void require(Object value, String call) {
      if (value == null) {
        throw new IllegalStateException("artifact builder: call " + call + " before build()");
      }
    }
  }
}
