package dev.nnvm.compiler.viz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.compiler.transform.PassContext;
import dev.nnvm.compiler.transform.PassManager;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

class GraphDrawingTest {
  private static Graph fused() {
    Graph g = GraphParser.parse("graph main(%x: f32[N, 2, 4, 4]) -> (%y: f32[N, 2, 4, 4]) opset(ai.onnx=17) {\n"
        + "  const %w: f32[2, 2, 1, 1] = dense<[1.0, 0.0, 0.0, 1.0]>\n"
        + "  %c = Conv(%x, %w)\n  %r = Relu(%c)\n  %m = MaxPool(%r) {kernel_shape = [1, 1]}\n"
        + "  %y = Sigmoid(%m)\n  return %y\n}\n");
    return PassManager.standard(2).run(g, PassContext.standard()).graph();
  }

  @Test
  void dotShowsFusedGroupsAndTypedEdges() {
    String dot = DotWriter.toDot(fused());
    assertTrue(dot.startsWith("digraph \"main\" {"), dot);
    assertTrue(dot.contains("fused_conv_relu_0\\npattern".replace("pattern", "out_elemwise_fusable")), dot);
    assertTrue(dot.contains("Conv\\nRelu"), dot);
    assertTrue(dot.contains("[label=\"f32[N, 2, 4, 4]\"]"), dot);
    assertEquals(dot.chars().filter(c -> c == '{').count(), dot.chars().filter(c -> c == '}').count());
  }

  @Test
  void svgAndHtmlAreWellFormedAndLabelled() throws Exception {
    Graph g = fused();
    String svg = SvgWriter.toSvg(g);
    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    assertEquals("svg", doc.getDocumentElement().getTagName());
    // input, fused conv+relu, MaxPool, Sigmoid, output
    assertEquals(5, doc.getElementsByTagName("rect").getLength(), svg);
    assertTrue(svg.contains("fused_conv_relu_0") && svg.contains("f32[N, 2, 4, 4]"), svg);
    String html = SvgWriter.toHtml(g, "model <test>");
    assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("model &lt;test&gt;") && html.contains("<svg"));
  }
}
