package dev.nnvm.compiler.standalone;

import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.NativeVariant;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Exports one native variant of a compiled artifact as a standalone C
 * library, NNVM's {@code export_library}: everything a C program needs to run
 * the model with no JVM, generated from the manifest alone.
 *
 * <ul>
 *   <li>{@code <model>.so}: the variant's shared library, exactly as the artifact carries it;
 *   <li>{@code <model>.weights}: the artifact's weights part, byte for byte;
 *   <li>{@code nnvm_model_abi.h}: the runtime's model ABI header, unchanged;
 *   <li>{@code <model>.h}: the model's C interface ({@link ModelHeader});
 *   <li>{@code <model>_run.c}: a program that loads library and weights with {@code dlopen}, reads each
 *       input from a raw little-endian file, binds the symbols from {@code NAME=VALUE} arguments, runs the
 *       model (serially, or on pthreads with {@code -t}) and writes each output as a raw file;
 *   <li>{@code Makefile} and {@code README.txt}: how to build and run it.
 * </ul>
 *
 * <p>{@code <model>} is the model's name as a C identifier. The library is not
 * rebuilt, so the exported program runs the same machine code as the Java
 * runtime on the same variant: with the same inputs and threads its outputs
 * are the same bits.
 */
public final class StandaloneExport {
  /** The ABI header's file name, in the export and in the runtime jar. */
  public static final String ABI_HEADER = "nnvm_model_abi.h";
  private static final String ABI_RESOURCE = "/dev/nnvm/runtime/native/include/" + ABI_HEADER;
  private static final String RUNNER_TEMPLATE = "model_run.c.in";
  /** C compiler flags of the Makefile and the one-line build command. */
  public static final String CFLAGS = "-std=c11 -O2 -Wall -Wextra";
  /** Libraries the program links: dlopen, pthreads, and libm kept for math calls of the model's code. */
  public static final String LDLIBS = "-ldl -pthread -Wl,--no-as-needed -lm";

  private StandaloneExport() {}

  /**
   * The names of the exported files.
   *
   * @param prefix the model's name as a C identifier: file stem and prefix of the header's names
   * @param macroPrefix the prefix of the header's macros ({@code PREFIX_} in upper case)
   */
  public record FileNames(String prefix, String macroPrefix, String library, String weights, String header,
      String source, String program) {

    static FileNames of(Manifest m, NativeVariant variant) {
      String stem = CText.identifier(m.model().name());
      if ((stem + ".h").equals(ABI_HEADER)) {
        stem += "_model";
      }
      String lib = variant.library();
      int slash = lib.lastIndexOf('/');
      int dot = lib.lastIndexOf('.');
      String extension = dot > slash && dot < lib.length() - 1 ? lib.substring(dot) : ".so";
      return new FileNames(stem, stem.toUpperCase(Locale.ROOT) + "_", stem + extension, stem + ".weights",
          stem + ".h", stem + "_run.c", stem + "_run");
    }
  }

  /**
   * What an export wrote.
   *
   * @param dir the directory written to
   * @param variant the exported variant
   * @param names the file names
   * @param files every file written, in the order of {@link StandaloneExport}'s list
   * @param buildCommand the one-line command that builds the program, run in {@code dir}
   * @param runExample how to run it, with a value for every symbol and a file per input
   */
  public record Exported(Path dir, NativeVariant variant, FileNames names, List<Path> files, String buildCommand,
      String runExample) {
    public Exported {
      files = List.copyOf(files);
    }
  }

  /**
   * Writes the export of {@code variant} (which need not run on this CPU) to {@code dir}, created when
   * missing; files of the same names are replaced.
   *
   * @throws IllegalArgumentException when the variant is not the artifact's
   */
  public static Exported write(ModelArtifact artifact, NativeVariant variant, Path dir) throws IOException {
    Objects.requireNonNull(dir, "dir");
    Manifest m = artifact.manifest();
    if (!m.variants().contains(variant)) {
      throw new IllegalArgumentException("variant '" + variant.name() + "' is not one of the artifact's "
          + m.variants().stream().map(NativeVariant::name).toList());
    }
    FileNames f = FileNames.of(m, variant);
    Map<String, String> outputFiles = CText.fileNames(m.outputs().stream().map(TensorSpec::name).toList(), ".bin");
    String build = "cc " + CFLAGS + " -o " + f.program() + " " + f.source() + " " + LDLIBS;
    String run = runExample(m, f);

    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    files.add(writeBytes(dir.resolve(f.library()), artifact.library(variant)));
    files.add(writeBytes(dir.resolve(f.weights()), artifact.weights()));
    files.add(writeText(dir.resolve(ABI_HEADER), abiHeader()));
    files.add(writeText(dir.resolve(f.header()), ModelHeader.generate(artifact, variant, f)));
    files.add(writeText(dir.resolve(f.source()), runner(m, f, outputFiles)));
    files.add(writeText(dir.resolve("Makefile"), makefile(m, f)));
    files.add(writeText(dir.resolve("README.txt"), readme(artifact, variant, f, outputFiles, build, run)));
    return new Exported(dir, variant, f, files, build, run);
  }

  /** The runtime's ABI header, as its jar carries it. */
  public static String abiHeader() {
    try (InputStream in = ModelArtifact.class.getResourceAsStream(ABI_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("the runtime jar has no " + ABI_RESOURCE);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + ABI_RESOURCE + " from the runtime jar", e);
    }
  }

  /** The {@code NNVM_MODEL_ABI_VERSION} the runtime's header defines. */
  static String abiVersion() {
    Matcher v = Pattern.compile("#define NNVM_MODEL_ABI_VERSION (\\d+)").matcher(abiHeader());
    if (!v.find()) {
      throw new IllegalStateException(ABI_RESOURCE + " defines no NNVM_MODEL_ABI_VERSION");
    }
    return v.group(1);
  }

  private static String runExample(Manifest m, FileNames f) {
    StringBuilder sb = new StringBuilder("./" + f.program());
    m.symbols().forEach(s -> sb.append(' ').append(s).append("=1"));
    CText.fileNames(m.inputs().stream().map(TensorSpec::name).toList(), ".bin").values()
        .forEach(file -> sb.append(' ').append(file));
    return sb.append(" -o out").toString();
  }

  private static String runner(Manifest m, FileNames f, Map<String, String> outputFiles) {
    String template;
    try (InputStream in = StandaloneExport.class.getResourceAsStream(RUNNER_TEMPLATE)) {
      if (in == null) {
        throw new IllegalStateException("the compiler jar has no " + RUNNER_TEMPLATE);
      }
      template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RUNNER_TEMPLATE, e);
    }
    String files = outputFiles.isEmpty() ? "NULL"
        : outputFiles.values().stream().map(CText::literal).collect(Collectors.joining(", "));
    return template.replace("@PROGRAM@", f.program())
        .replace("@MODEL_COMMENT@", CText.comment(m.model().name()))
        .replace("@LIBRARY@", f.library())
        .replace("@WEIGHTS@", f.weights())
        .replace("@HEADER@", f.header())
        .replace("@OUTPUT_FILES@", files)
        .replace("@M@", f.macroPrefix())
        .replace("@P@", f.prefix());
  }

  private static String makefile(Manifest m, FileNames f) {
    return "# Builds " + f.program() + ", which runs model '" + CText.comment(m.model().name())
        + "' with no JVM (written by nnvmc export).\n"
        + "CFLAGS ?= " + CFLAGS + "\n"
        + "LDLIBS = " + LDLIBS + "\n\n"
        + f.program() + ": " + f.source() + " " + f.header() + " " + ABI_HEADER + "\n"
        + "\t$(CC) $(CFLAGS) -o $@ " + f.source() + " $(LDLIBS)\n\n"
        + "clean:\n\trm -f " + f.program() + "\n\n"
        + ".PHONY: clean\n";
  }

  private static String readme(ModelArtifact artifact, NativeVariant v, FileNames f, Map<String, String> outputFiles,
      String build, String run) {
    Manifest m = artifact.manifest();
    StringBuilder r = new StringBuilder();
    r.append("Model '").append(m.model().name()).append("' exported by nnvmc export from artifact\n")
        .append(artifact.id()).append(",\nnative variant '").append(v.name()).append("' (").append(v.triple())
        .append(", cpu ").append(v.cpu()).append("). Running it needs no JVM.\n\n");
    r.append("Files\n");
    file(r, f.library(), "the model's shared library, exactly as the artifact carries it; entry point "
        + v.entry() + ", called through the NNVM model ABI");
    file(r, f.weights(), "the weights: the artifact's weights part byte for byte (" + m.weights().size()
        + " bytes), to be loaded at a 64-byte boundary");
    file(r, ABI_HEADER, "the runtime's model ABI (nnvm_call, nnvm_entry, parallel_for), unchanged");
    file(r, f.header(), "the model's C interface: symbols in entry order, input and output descriptors, "
        + f.prefix() + "_workspace_bytes(symbols), a serial parallel_for");
    file(r, f.source(), "a program that loads library and weights, runs the model on raw input files and "
        + "writes each output as a raw file");
    file(r, "Makefile", "builds " + f.program());
    r.append("\nBuild (with make, or the same in one line):\n  make\n  ").append(build).append("\n\n");
    r.append("Run:\n  ").append(run).append("\n\n");
    r.append("  Symbols, one NAME=VALUE each, in the order the entry point takes them: ")
        .append(m.symbols().isEmpty() ? "none" : String.join(", ", m.symbols())).append('\n');
    r.append("  Inputs: raw little-endian files (dense, row-major; numpy writes one with\n"
        + "  a.astype('<f4').tofile('x.bin')), one per input in this order, or NAME=FILE:\n");
    m.inputs().forEach(s -> r.append("    ").append(s).append('\n'));
    r.append("  Outputs, written as raw little-endian files to -o DIR (default: the current directory):\n");
    m.outputs().forEach(s -> r.append("    ").append(s).append(" -> ").append(outputFiles.get(s.name())).append('\n'));
    r.append("  -t THREADS runs the model's parallel loops on that many threads (default 1); -l LIBRARY and\n"
        + "  -w WEIGHTS name other files (default: beside the program). Exit status: 0, 1 when loading or\n"
        + "  running failed (a file of the wrong size, a library or symbol missing, a model error), 2 for a\n"
        + "  wrong command line (a symbol without a value, an unknown name); the error is one line on stderr.\n\n");
    r.append(wrap("CPU: the library needs " + v.arch() + (v.features().isEmpty() ? "" : " with "
        + String.join(", ", v.features()) + " (LLVM feature names)") + ".", 100)).append('\n');
    return r.toString();
  }

  private static void file(StringBuilder r, String name, String what) {
    String[] lines = wrap(what, 78).split("\n");
    for (int i = 0; i < lines.length; i++) {
      r.append(String.format(Locale.ROOT, "  %-20s %s\n", i == 0 ? name : "", lines[i]));
    }
  }

  /** {@code text} broken at spaces into lines of at most {@code width} characters (longer words stay whole). */
  private static String wrap(String text, int width) {
    StringBuilder out = new StringBuilder();
    int lineStart = 0;
    for (String word : text.split(" ")) {
      if (out.length() > lineStart && out.length() - lineStart + 1 + word.length() > width) {
        out.append('\n');
        lineStart = out.length();
      } else if (out.length() > lineStart) {
        out.append(' ');
      }
      out.append(word);
    }
    return out.toString();
  }

  private static Path writeBytes(Path file, ByteBuffer bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
    }
    return file;
  }

  private static Path writeText(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardCharsets.UTF_8);
    return file;
  }
}
