package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.compile.CompileResult;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.TensorType;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.NativeVariant;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.exec.CompiledModel;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** How the commands get a compiled model: read a {@code .nnvm} file, or compile an ONNX file through the cache. */
final class CompiledModels {
  static final String EXTENSION = ".nnvm";

  private CompiledModels() {}

  static boolean isArtifact(Path file) {
    return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(EXTENSION);
  }

  /** The artifact of a model file, compiling an ONNX file with {@code options} (progress lines to {@code out}). */
  static ModelArtifact open(Path model, CompileOptionsMixin options, PrintWriter out) throws IOException {
    if (!Files.isRegularFile(model)) {
      throw new CliException("model file not found: " + model);
    }
    if (isArtifact(model)) {
      return read(model);
    }
    try {
      return ArtifactReader.read(compile(model, options, out));
    } catch (ArtifactException e) {
      throw new IllegalStateException("the compiler wrote an artifact it cannot read back: " + e.getMessage(), e);
    }
  }

  /** The artifact's bytes (to send to a server): a {@code .nnvm} file read and verified, or an ONNX file compiled. */
  static byte[] bytes(Path model, CompileOptionsMixin options, PrintWriter out) throws IOException {
    if (!Files.isRegularFile(model)) {
      throw new CliException("model file not found: " + model);
    }
    if (isArtifact(model)) {
      byte[] b = Files.readAllBytes(model);
      try {
        ArtifactReader.read(b);
      } catch (ArtifactException e) {
        throw new CliException(e.getMessage(), e);
      }
      return b;
    }
    return compile(model, options, out);
  }

  private static byte[] compile(Path model, CompileOptionsMixin options, PrintWriter out) throws IOException {
    out.println("compiling " + model.getFileName());
    CompileResult r = options.compiler(out).compile(model, options.options());
    out.printf(Locale.ROOT, "%s %s in %.0f ms%n", r.cached() ? "found" : "compiled", model.getFileName(),
        r.totalNanos() / 1e6);
    return r.bytes();
  }

  static ModelArtifact read(Path file) throws IOException {
    try {
      return ArtifactReader.read(file);
    } catch (ArtifactException e) {
      throw new CliException(e.getMessage(), e);
    }
  }

  /**
   * Loads an artifact for this CPU, or its variant {@code variant} when not null (picked as for a CPU with only
   * that variant's features); one this CPU cannot run is a one-line error saying why.
   */
  static CompiledModel load(ModelArtifact artifact, NativeAllocator allocator, String variant) {
    try {
      if (variant == null) {
        return CompiledModel.load(artifact, allocator);
      }
      NativeVariant v = artifact.manifest().variants().stream().filter(x -> x.name().equals(variant)).findFirst()
          .orElseThrow(() -> new CliException("--variant " + variant + ": the artifact has the variants "
              + artifact.manifest().variants().stream().map(NativeVariant::name).toList()));
      CpuFeatures host = CpuFeatures.host();
      if (!v.arch().equals(host.arch())) {
        throw new CliException("--variant " + variant + " is built for " + v.arch() + ", this CPU is " + host.arch());
      }
      List<String> missing = host.missing(v.features());
      if (!missing.isEmpty()) {
        throw new CliException("--variant " + variant + " needs " + String.join(", ", missing)
            + ", which this CPU lacks");
      }
      List<String> flags = v.features().stream().map(f -> CpuFeatures.cpuinfoFlag(v.arch(), f)).toList();
      CompiledModel m = CompiledModel.load(artifact, allocator, CpuFeatures.of(host.arch(), host.os(), flags));
      if (!m.variant().name().equals(variant)) {
        String picked = m.variant().name();
        m.close();
        throw new CliException("--variant " + variant + ": a CPU with its features runs '" + picked
            + "', listed before it");
      }
      return m;
    } catch (ArtifactException e) {
      throw new CliException(e.getMessage(), e);
    }
  }

  /** A graph with the artifact's inputs and outputs and nothing else, to name, check and make up inputs. */
  static Graph interfaceOf(Manifest m) {
    Graph.Builder b = Graph.builder(m.model().name());
    for (TensorSpec in : m.inputs()) {
      b.input(in.name(), new TensorType(in.dtype(), in.shape()));
    }
    for (TensorSpec out : m.outputs()) {
      b.output(out.name(), new TensorType(out.dtype(), out.shape()));
    }
    return b.build();
  }
}
