package dev.nnvm.compiler.viz;

import dev.nnvm.compiler.ir.Graph;

/**
 * Draws a graph as a standalone SVG (or an HTML page holding it) with no
 * external tools: boxes in layers top to bottom, fused groups highlighted
 * with their operators listed, and tensor types on the edges.
 */
public final class SvgWriter {
  private static final int BOX_WIDTH = 220;
  private static final int LINE_HEIGHT = 14;
  private static final int H_GAP = 40;
  private static final int V_GAP = 60;

  private SvgWriter() {}

  public static String toSvg(Graph g) {
    GraphLayout layout = new GraphLayout(g);
    int[] layerY = new int[layout.layers.size()];
    int[] layerHeight = new int[layout.layers.size()];
    int maxSlots = 1;
    for (int l = 0; l < layout.layers.size(); l++) {
      for (GraphLayout.Box b : layout.layers.get(l)) {
        layerHeight[l] = Math.max(layerHeight[l], height(b));
      }
      maxSlots = Math.max(maxSlots, layout.layers.get(l).size());
    }
    int y = 20;
    for (int l = 0; l < layerY.length; l++) {
      layerY[l] = y;
      y += layerHeight[l] + V_GAP;
    }
    int width = maxSlots * (BOX_WIDTH + H_GAP) + H_GAP;
    StringBuilder sb = new StringBuilder();
    sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(width).append("\" height=\"").append(y)
        .append("\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n");
    sb.append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" "
        + "markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n");
    for (GraphLayout.Edge e : layout.edges) {
      int x1 = centerX(e.from, layout) ;
      int y1 = layerY[e.from.layer] + height(e.from);
      int x2 = centerX(e.to, layout);
      int y2 = layerY[e.to.layer];
      sb.append(String.format("<path d=\"M%d,%d C%d,%d %d,%d %d,%d\" fill=\"none\" stroke=\"#555\" "
          + "marker-end=\"url(#arrow)\"/>%n", x1, y1, x1, y1 + V_GAP / 2, x2, y2 - V_GAP / 2, x2, y2));
      sb.append(String.format("<text x=\"%d\" y=\"%d\" fill=\"#a33\" font-size=\"9\">%s</text>%n",
          (x1 + x2) / 2 + 4, (y1 + y2) / 2, xml(e.label)));
    }
    for (GraphLayout.Box b : layout.boxes) {
      int x = left(b, layout);
      int top = layerY[b.layer];
      String fill = b.kind.equals("fused") ? "#fff4d6" : b.kind.equals("node") ? "#ffffff" : "#e8f0fe";
      String stroke = b.kind.equals("fused") ? "#c98a00" : "#333";
      sb.append(String.format("<g><title>%s</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\" "
          + "fill=\"%s\" stroke=\"%s\" stroke-width=\"%s\"/>%n", xml(b.title), x, top, BOX_WIDTH, height(b), fill,
          stroke, b.kind.equals("fused") ? "2" : "1"));
      sb.append(String.format("<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>%n", x + 6, top + 15,
          xml(clip(b.title))));
      for (int i = 0; i < b.lines.size(); i++) {
        sb.append(String.format("<text x=\"%d\" y=\"%d\">%s</text>%n", x + 10, top + 15 + LINE_HEIGHT * (i + 1),
            xml(clip(b.lines.get(i)))));
      }
      sb.append("</g>\n");
    }
    return sb.append("</svg>\n").toString();
  }

  /** A standalone HTML page with a title, a legend and the SVG drawing. */
  public static String toHtml(Graph g, String title) {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + xml(title) + "</title>"
        + "<style>body{font-family:Helvetica,Arial,sans-serif;margin:16px} .legend span{padding:2px 8px;"
        + "margin-right:8px;border:1px solid #999}</style></head><body>\n<h1>" + xml(title) + "</h1>\n"
        + "<p class=\"legend\"><span style=\"background:#fff4d6\">fused kernel</span>"
        + "<span style=\"background:#fff\">single-operator kernel</span>"
        + "<span style=\"background:#e8f0fe\">graph input / output</span></p>\n" + toSvg(g) + "</body></html>\n";
  }

  private static int height(GraphLayout.Box b) {
    return 22 + LINE_HEIGHT * b.lines.size();
  }

  private static int left(GraphLayout.Box b, GraphLayout layout) {
    return H_GAP + b.slot * (BOX_WIDTH + H_GAP);
  }

  private static int centerX(GraphLayout.Box b, GraphLayout layout) {
    return left(b, layout) + BOX_WIDTH / 2;
  }

  private static String clip(String s) {
    return s.length() > 34 ? s.substring(0, 33) + "\u2026" : s;
  }

  static String xml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
