package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.standalone.StandaloneExport;
import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.NativeVariant;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code nnvmc export}: writes one native variant of a compiled model as a
 * standalone C library with its weights, header and a small C program that
 * runs it without a JVM ({@link StandaloneExport}). The default variant is the
 * one the runtime would pick on this CPU; {@code --variant} exports any other,
 * also one this CPU cannot run (for another machine).
 */
@Command(name = "export", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Export a compiled model as a standalone C library: shared library, weights, C header and a"
        + " C program that runs it with no JVM.",
    footer = {"", "Example:",
        "  nnvmc export model.nnvm --out model-c/ && make -C model-c",
        "  model-c/model_run N=4 x.bin -o out/"})
final class ExportCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

  @Mixin
  private VerboseOption verbose;

  @Mixin
  private CompileOptionsMixin compile;

  @Parameters(index = "0", paramLabel = "MODEL",
      description = "The compiled artifact (.nnvm), or an ONNX model (.onnx) compiled first through the cache.")
  private Path model;

  @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true,
      description = "The directory to write to (created when missing; files of the same names are replaced).")
  private Path out;

  @Option(names = "--variant", paramLabel = "NAME",
      description = "Export this native variant of the artifact, also one this CPU cannot run."
          + " Default: the best variant this CPU runs, as the runtime picks it.")
  private String variant;

  @Override
  public Integer call() throws IOException {
    PrintWriter pw = spec.commandLine().getOut();
    ModelArtifact artifact = CompiledModels.open(model, compile, pw);
    Manifest m = artifact.manifest();
    List<String> names = m.variants().stream().map(NativeVariant::name).toList();
    NativeVariant v;
    String why;
    CpuFeatures host = CpuFeatures.host();
    if (variant == null) {
      try {
        v = artifact.selectVariant(host);
      } catch (ArtifactException e) {
        throw new CliException(e.getMessage() + "; name one with --variant to export it for another machine", e);
      }
      why = "the best of " + names + " this CPU runs, as the runtime picks";
    } else {
      v = m.variants().stream().filter(x -> x.name().equals(variant)).findFirst()
          .orElseThrow(() -> new CliException("--variant " + variant + ": the artifact has the variants " + names));
      List<String> missing = v.arch().equals(host.arch()) ? host.missing(v.features()) : List.of("arch " + v.arch());
      why = missing.isEmpty() ? "as asked; this CPU runs it"
          : "as asked, for another machine: this CPU lacks " + String.join(", ", missing);
    }
    StandaloneExport.Exported e;
    try {
      e = StandaloneExport.write(artifact, v, out);
    } catch (IllegalArgumentException ex) {
      throw new CliException(ex.getMessage(), ex);
    }
    pw.println("exported model '" + m.model().name() + "', variant " + v.name() + " (" + why + "), to " + out + ":");
    for (Path f : e.files()) {
      pw.printf(Locale.ROOT, "  %-24s %9d bytes%n", f.getFileName(), Files.size(f));
    }
    pw.println("build: cd " + out + " && make   (or: " + e.buildCommand() + ")");
    pw.println("run:   " + e.runExample() + "   (raw little-endian inputs; see README.txt)");
    pw.flush();
    return 0;
  }
}
