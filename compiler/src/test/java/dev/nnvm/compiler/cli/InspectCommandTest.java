package dev.nnvm.compiler.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.text.GraphParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code nnvmc inspect} on a small conv + batch-norm + relu model. */
class InspectCommandTest {
  @TempDir Path dir;
  private Path model;

  @BeforeEach
  void writeModel() throws IOException {
    model = dir.resolve("small.onnx");
    OnnxExporter.write(GraphParser.parse(
        "graph main(%x: f32[batch, 2, 4, 4]) -> (%y: f32[batch, 2, 4, 4]) opset(ai.onnx=17) {\n"
            + "  const %w: f32[2, 2, 1, 1] = dense<[1.0, 0.0, 0.0, 1.0]>\n"
            + "  const %g: f32[2] = dense<[1.0, 2.0]>\n  const %b: f32[2] = dense<[0.0, 1.0]>\n"
            + "  const %m: f32[2] = dense<[0.5, 0.0]>\n  const %v: f32[2] = dense<[1.0, 4.0]>\n"
            + "  %c = Conv(%x, %w)\n  %n = BatchNormalization(%c, %g, %b, %m, %v)\n  %r = Relu(%n)\n"
            + "  %y = Sigmoid(%r)\n  return %y\n}\n"), model);
  }

  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Nnvmc.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new String[] {Integer.toString(code), out.toString(), err.toString()};
  }

  @Test
  void textSummaryReportsFusionMemoryAndPasses() {
    String[] r = run("inspect", model.toString(), "--opt-level", "3", "--dim", "batch=8");
    assertEquals("0", r[0], r[2]);
    String out = r[1];
    assertTrue(out.contains("nodes: 4 before, 1 kernels after (1 fused groups)"), out);
    assertTrue(out.contains("fused_conv_relu_sigmoid_0 [OUT_ELEMWISE_FUSABLE]: Conv -> Relu -> Sigmoid"), out);
    assertTrue(out.contains("FoldScaleAxis") && out.contains("FuseOperators"), out);
    assertTrue(out.contains("workspace at {batch=8}: 0 bytes planned"), out);
  }

  @Test
  void jsonAndDrawingsAreWritten() throws IOException {
    Path dot = dir.resolve("g.dot");
    Path svg = dir.resolve("g.svg");
    Path html = dir.resolve("out/g.html");
    String[] r = run("inspect", model.toString(), "--json", "--opt-level", "1", "--dot", dot.toString(),
        "--svg", svg.toString(), "--html", html.toString());
    assertEquals("0", r[0], r[2]);
    JsonNode json = new ObjectMapper().readTree(r[1]);
    assertEquals(4, json.get("nodesBefore").asInt());
    assertEquals(1, json.get("optLevel").asInt());
    // Level 1: batch norm becomes scale + shift and fuses with the conv, but is not folded into its weights.
    assertEquals("Conv", json.get("fusedGroups").get(0).get("ops").get(0).asText());
    assertTrue(json.get("passes").toString().contains("\"skipped\":\"needs level 2\""), r[1]);
    assertTrue(Files.readString(dot).startsWith("digraph"));
    assertTrue(Files.readString(svg).startsWith("<svg"));
    assertTrue(Files.readString(html).contains("<svg"));
  }

  @Test
  void badLevelsAndPassNamesAreOneLineErrors() {
    String[] r = run("inspect", model.toString(), "--opt-level", "7");
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("--opt-level must be 0 to 3, got 7") && r[2].lines().count() == 1, r[2]);
    r = run("inspect", model.toString(), "--disable-pass", "Bogus");
    assertEquals("1", r[0]);
    assertTrue(r[2].contains("no pass named 'Bogus'"), r[2]);
  }
}
