package dev.nnvm.compiler.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Node;
import dev.nnvm.compiler.ops.NnvmOps;
import dev.nnvm.compiler.transform.Optimizer;
import dev.nnvm.compiler.transform.PassReport;
import dev.nnvm.compiler.transform.SpecializeInputs;
import dev.nnvm.runtime.Shape;
import dev.nnvm.compiler.viz.DotWriter;
import dev.nnvm.compiler.viz.SvgWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code nnvmc inspect}: summarizes a compiled artifact's manifest
 * ({@link ArtifactSummary}), or optimizes an ONNX model and shows what the
 * compiler did: nodes before and after, the fused kernels and their patterns, the
 * planned workspace against its lower bound, and the time of every pass;
 * optionally draws the optimized graph (DOT, SVG, HTML) or prints JSON.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "Optimize an ONNX model as `nnvmc compile` does for this CPU and report fusion, memory"
        + " planning and pass times; or summarize a compiled artifact (.nnvm).",
    footer = {"", "Example:",
        "  nnvmc inspect model.onnx --dim batch=8 --svg model.svg"})
final class InspectCommand implements Callable<Integer> {
  @Spec
  private CommandSpec spec;

  @Mixin
  private VerboseOption verbose;

  @Parameters(index = "0", paramLabel = "MODEL",
      description = "The ONNX model file (.onnx), or a compiled artifact (.nnvm) to summarize its manifest.")
  private Path model;

  @Option(names = "--opt-level", paramLabel = "N", defaultValue = "2",
      description = "0 = none, 1 = fusion and folding, 2 = default (adds transformer pattern fusions, scale"
          + " folding and, for networks whose convolutions all can, the blocked NCHW{b}c layout of this CPU's"
          + " vector width), 3 = the same for the CPU compiler. Default: ${DEFAULT-VALUE}.")
  private int optLevel;

  @Option(names = "--disable-pass", paramLabel = "NAME", description = "Skip a pass by name; repeatable.")
  private List<String> disabled = new ArrayList<>();

  @Option(names = "--dim", paramLabel = "NAME=SIZE",
      description = "Size of a symbolic dimension for the byte figures, e.g. --dim batch=8 (others count as 1).")
  private Map<String, Long> dims = new LinkedHashMap<>();

  @Option(names = "--input-shape", paramLabel = "NAME=SHAPE",
      description = "Compile for this input shape, e.g. --input-shape x=[1,3,640,640] or x=[N,3,640,640]"
          + " (names stay symbolic); repeatable.")
  private Map<String, String> inputShapes = new LinkedHashMap<>();

  @Option(names = "--dot", paramLabel = "FILE", description = "Write the optimized graph as Graphviz DOT.")
  private Path dot;

  @Option(names = "--svg", paramLabel = "FILE", description = "Write the optimized graph as a standalone SVG.")
  private Path svg;

  @Option(names = "--html", paramLabel = "FILE", description = "Write an HTML page holding the SVG drawing.")
  private Path html;

  @Option(names = "--json", description = "Print the summary as JSON instead of text.")
  private boolean json;

  @Override
  public Integer call() throws IOException {
    if (optLevel < 0 || optLevel > 3) {
      throw new CliException("--opt-level must be 0 to 3, got " + optLevel);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (CompiledModels.isArtifact(model)) {
      if (!Files.isRegularFile(model)) {
        throw new CliException("artifact file not found: " + model);
      }
      ArtifactSummary.print(CompiledModels.read(model), out);
      out.flush();
      return 0;
    }
    long t0 = System.nanoTime();
    Graph graph = SpecializeInputs.apply(OnnxImporter.load(model), parseShapes());
    long t1 = System.nanoTime();
    Optimizer.Result result;
    try {
      // What `nnvmc compile` does for this machine: the CPU compiler's pipeline and memory plan.
      List<dev.nnvm.compiler.codegen.llvm.CpuTarget> host = List.of(dev.nnvm.compiler.codegen.llvm.CpuTarget.host());
      result = Optimizer.optimize(graph, dev.nnvm.compiler.compile.ModelCompiler.cpuPipeline(host), optLevel,
          disabled, dims, dev.nnvm.compiler.compile.ModelCompiler.blockedLayout(host));
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), e);
    }
    long t2 = System.nanoTime();
    write(dot, DotWriter.toDot(result.graph()));
    write(svg, SvgWriter.toSvg(result.graph()));
    write(html, SvgWriter.toHtml(result.graph(), model.getFileName().toString()));
    if (json) {
      out.println(toJson(result, (t1 - t0) / 1e6, (t2 - t1) / 1e6));
    } else {
      out.printf("%s: imported in %.0f ms, optimized at level %d in %.0f ms%n", model.getFileName(),
          (t1 - t0) / 1e6, optLevel, (t2 - t1) / 1e6);
      out.print(result.summary());
      List<String> groups = result.fusedGroups();
      if (!groups.isEmpty()) {
        out.println("fused groups:");
        groups.forEach(gr -> out.println("  " + gr));
      }
    }
    out.flush();
    return 0;
  }

  private Map<String, Shape> parseShapes() {
    Map<String, Shape> out = new LinkedHashMap<>();
    inputShapes.forEach((name, text) -> {
      try {
        out.put(name, Shape.parse(text));
      } catch (IllegalArgumentException e) {
        throw new CliException("--input-shape " + name + ": " + e.getMessage(), e);
      }
    });
    return out;
  }

  private static void write(Path file, String text) throws IOException {
    if (file != null) {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, text);
    }
  }

  private String toJson(Optimizer.Result r, double importMillis, double optimizeMillis) throws IOException {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    root.put("model", model.toString());
    root.put("optLevel", optLevel);
    root.put("importMillis", importMillis);
    root.put("optimizeMillis", optimizeMillis);
    root.put("nodesBefore", r.passes().input().nodes().size());
    root.put("kernelsAfter", r.graph().nodes().size());
    root.put("fusedKernels", r.fusedCount());
    ObjectNode kernels = root.putObject("kernels");
    r.kernelCounts().forEach(kernels::put);
    ArrayNode groups = root.putArray("fusedGroups");
    for (Node n : r.graph().nodes()) {
      if (n.domain().equals(NnvmOps.DOMAIN) && n.opType().equals(NnvmOps.FUSED)) {
        ObjectNode g = groups.addObject();
        g.put("name", n.name());
        g.put("pattern", n.attribute("pattern").asString());
        ArrayNode ops = g.putArray("ops");
        n.attribute("body").asGraph().nodes().forEach(b -> ops.add(b.qualifiedOp()));
      }
    }
    ObjectNode memory = root.putObject("memory");
    ObjectNode bindings = memory.putObject("bindings");
    r.bindings().forEach(bindings::put);
    memory.put("workspaceBytes", r.memory().workspaceBytes(r.bindings()));
    memory.put("lowerBoundBytes", r.memory().lowerBoundBytes(r.bindings()));
    memory.put("inPlace", r.memory().inPlaceCount());
    ArrayNode regions = memory.putArray("regions");
    r.memory().regions().forEach(s -> regions.add(s.toString()));
    ArrayNode unplanned = memory.putArray("unplanned");
    r.memory().unplanned().forEach(unplanned::add);
    ArrayNode passes = root.putArray("passes");
    for (PassReport.Step s : r.passes().steps()) {
      ObjectNode p = passes.addObject();
      p.put("name", s.pass());
      p.put("ran", s.ran());
      if (s.ran()) {
        p.put("millis", s.millis());
        p.put("nodesBefore", s.nodesBefore());
        p.put("nodesAfter", s.nodesAfter());
      } else {
        p.put("skipped", s.skipReason());
      }
    }
    return mapper.writeValueAsString(root);
  }
}
