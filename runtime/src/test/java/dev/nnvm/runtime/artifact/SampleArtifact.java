package dev.nnvm.runtime.artifact;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small artifact built by hand from the runtime's format pieces (the
 * compiler's writer is not visible from here): two native variants, a
 * weights blob with two constants, and one extra part.
 */
final class SampleArtifact {
  static final List<String> V3 = List.of("avx", "avx2", "bmi", "bmi2", "cx16", "f16c", "fma", "lzcnt", "movbe",
      "popcnt", "sahf", "sse3", "sse4.1", "sse4.2", "ssse3", "xsave");
  static final List<String> V4 = concat(V3, List.of("avx512bw", "avx512cd", "avx512dq", "avx512f", "avx512vl",
      "evex512"));

  /** The weight values: w is 3x4 f32 {0, 0.5, 1, ...}, b is 5 i64 {-2..2}. */
  static final float[] W = {0f, 0.5f, 1f, 1.5f, 2f, 2.5f, 3f, 3.5f, 4f, 4.5f, 5f, 5.5f};
  static final long[] B = {-2, -1, 0, 1, 2};

  private SampleArtifact() {
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** Part name to content, in file order. */
  static Map<String, byte[]> parts() {
    ByteBuffer weights = ByteBuffer.allocate(128 + 40).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < W.length; i++) {
      weights.putFloat(4 * i, W[i]);
    }
    for (int i = 0; i < B.length; i++) {
      weights.putLong(128 + 8 * i, B[i]);
    }
    Map<String, byte[]> parts = new LinkedHashMap<>();
    parts.put("native/x86-64-v3.so", "\u007fELF fake x86-64-v3 library".getBytes(StandardCharsets.US_ASCII));
    parts.put("native/x86-64-v4.so", "\u007fELF fake x86-64-v4 library, a little longer"
        .getBytes(StandardCharsets.US_ASCII));
    parts.put("ptx/model.ptx", "// fake PTX\n.version 8.0\n".getBytes(StandardCharsets.US_ASCII));
    parts.put("weights", weights.array());
    return parts;
  }

  /** The part table for content laid out in this order. */
  static List<Manifest.Part> partTable(Map<String, byte[]> parts) {
    Map<String, PartBytes> content = new LinkedHashMap<>();
    parts.forEach((name, bytes) -> content.put(name, PartBytes.of(bytes)));
    return layout(content);
  }

  /** The part table for content laid out in this order: each part at the previous end rounded up to 64. */
  static List<Manifest.Part> layout(Map<String, PartBytes> parts) {
    List<Manifest.Part> table = new ArrayList<>();
    long end = 0;
    for (Map.Entry<String, PartBytes> e : parts.entrySet()) {
      long offset = table.isEmpty() ? 0 : ArtifactFormat.align(end);
      table.add(new Manifest.Part(e.getKey(), offset, e.getValue().size(), e.getValue().sha256()));
      end = offset + e.getValue().size();
    }
    return table;
  }

  static Manifest manifest(Map<String, byte[]> parts) {
    return new Manifest(1, "0.1.0-test",
        new Manifest.Creation(Instant.parse("2026-11-25T22:30:00Z"), "SampleArtifact", Map.of("opt-level", "3")),
        new Manifest.Model("tiny", Sha256.of(new byte[] {1, 2, 3})),
        List.of("batch", "seq"),
        List.of(new TensorSpec("ids", DType.INT64, Shape.parse("[batch, seq]")),
            new TensorSpec("mask", DType.FLOAT32, Shape.parse("[batch, 1, seq]"))),
        List.of(new TensorSpec("out", DType.FLOAT32, Shape.parse("[batch, seq, 384]"))),
        new WorkspacePlan(64, List.of(
            new WorkspacePlan.Region(9280, Map.of("batch", 1, "seq", 1)),
            new WorkspacePlan.Region(4096, Map.of()))),
        new WeightsTable("weights", parts.get("weights").length, 64, List.of(
            new WeightsTable.Constant("w", DType.FLOAT32, Shape.of(3, 4), 0),
            new WeightsTable.Constant("b", DType.INT64, Shape.of(5), 128))),
        List.of(new NativeVariant("x86-64-v4", "x86_64-unknown-linux-gnu", "x86-64-v4", V4, "nnvm_run",
                "native/x86-64-v4.so"),
            new NativeVariant("x86-64-v3", "x86_64-unknown-linux-gnu", "x86-64-v3", V3, "nnvm_run",
                "native/x86-64-v3.so")),
        partTable(parts));
  }

  /** What the compiler's portable targets require (CpuTarget in the compiler): baseline, AVX2, AVX-512. */
  static final List<String> BASELINE = List.of("cmov", "cx8", "fxsr", "sse", "sse2");
  static final List<String> AVX2 = concat(BASELINE, List.of("sse3", "ssse3", "sse4.1", "sse4.2", "avx", "avx2",
      "fma", "f16c"));
  static final List<String> AVX512 = concat(AVX2, List.of("avx512f", "avx512bw", "avx512dq", "avx512vl"));

  /**
   * The sample with the variants a portable compile carries today, best first: AVX-512, AVX2 and the baseline,
   * each requiring only the vector extensions its kernels use (no LZCNT, BMI or MOVBE).
   */
  static byte[] portableBytes() {
    Map<String, byte[]> parts = new LinkedHashMap<>();
    for (String v : List.of("x86-64", "x86-64-avx2", "x86-64-avx512")) {
      parts.put("native/" + v + ".so", ("\u007fELF fake " + v + " library").getBytes(StandardCharsets.US_ASCII));
    }
    parts.put("weights", parts().get("weights"));
    Manifest m = manifest(parts());
    Manifest portable = new Manifest(1, m.compilerVersion(), m.created(), m.model(), m.symbols(), m.inputs(),
        m.outputs(), m.workspace(), m.weights(),
        List.of(new NativeVariant("x86-64-avx512", "x86_64-unknown-linux-gnu", "x86-64", AVX512, "nnvm_run",
                "native/x86-64-avx512.so"),
            new NativeVariant("x86-64-avx2", "x86_64-unknown-linux-gnu", "x86-64", AVX2, "nnvm_run",
                "native/x86-64-avx2.so"),
            new NativeVariant("x86-64", "x86_64-unknown-linux-gnu", "x86-64", BASELINE, "nnvm_run",
                "native/x86-64.so")),
        partTable(parts));
    return encode(ManifestJson.write(portable), parts);
  }

  static byte[] bytes() {
    Map<String, byte[]> parts = parts();
    return encode(ManifestJson.write(manifest(parts)), parts);
  }

  /** Header, this manifest text (any bytes, hashed as they are) and the parts. */
  static byte[] encode(byte[] manifestJson, Map<String, byte[]> parts) {
    List<PartBytes> content = new ArrayList<>();
    parts.values().forEach(p -> content.add(PartBytes.of(p)));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ArtifactFormat.write(out, manifestJson, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
