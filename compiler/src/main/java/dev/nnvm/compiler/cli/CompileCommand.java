package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.compile.CompileResult;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code nnvmc compile}: compiles an ONNX model to an artifact file, printing
 * a line per phase (import, optimize, lower, LLVM, link, write, cache), the
 * sizes and the total time.
 */
@Command(name = "compile", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Compile an ONNX model to native code: one self-contained artifact (.nnvm).",
    footer = {"", "Example:",
        "  nnvmc compile model.onnx -o model.nnvm --target x86-64-v4 --target x86-64-v3"})
final class CompileCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

  @Mixin
  private VerboseOption verbose;

  @Mixin
  private CompileOptionsMixin compile;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The ONNX model file (.onnx).")
  private Path model;

  @Option(names = {"-o", "--output"}, paramLabel = "FILE", required = true,
      description = "The artifact file to write (.nnvm).")
  private Path output;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    if (!Files.isRegularFile(model)) {
      throw new CliException("model file not found: " + model);
    }
    if (CompiledModels.isArtifact(model)) {
      throw new CliException(model + " is already a compiled artifact; compile takes an ONNX model");
    }
    out.println("compiling " + model.getFileName() + " (" + compile.options().describe() + ")");
    out.flush();
    CompileResult r = compile.compiler(out).compile(model, compile.options());
    Path parent = output.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Files.write(output, r.bytes());
    out.println("sizes: " + r.sizes());
    out.printf(Locale.ROOT, "%s %s in %.0f ms -> %s (%d bytes)%n", r.cached() ? "found" : "compiled",
        model.getFileName(), r.totalNanos() / 1e6, output, r.bytes().length);
    out.flush();
    return 0;
  }
}
