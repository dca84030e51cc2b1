package dev.nnvm.compiler.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.nnvm.compiler.conformance.NodeSuite;
import dev.nnvm.compiler.frontend.onnx.OnnxImporter;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Attribute;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.op.AttrSpec;
import dev.nnvm.compiler.ir.op.OpDef;
import dev.nnvm.compiler.ir.op.OpRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Round-trips the ONNX backend node test models through the text form: every
 * model with an If, Loop or Scan body and an even sample of 200 others.
 *
 * <p>The models are imported with a registry made from the operators each
 * model uses, so the test does not depend on which operators are implemented.
 */
class OnnxTextRoundTripTest {
  private static final int SAMPLE = 200;

  @Test
  void nodeTestModelsRoundTrip() throws IOException {
    Path root = NodeSuite.root();
    assumeTrue(root != null, NodeSuite::missingReason);
    List<Path> withSubgraphs = new ArrayList<>();
    List<Path> others = new ArrayList<>();
    Map<Path, Onnx.Model> models = new LinkedHashMap<>();
    for (Path c : NodeSuite.cases(root, null)) {
      Onnx.Model m = Onnx.Model.parseFrom(Files.readAllBytes(c.resolve("model.onnx")));
      models.put(c, m);
      (hasSubgraph(m.getGraph()) ? withSubgraphs : others).add(c);
    }
    Collections.shuffle(others, new Random(17));
    int subgraphModels = roundTripAll(withSubgraphs, models, Integer.MAX_VALUE);
    int sampled = roundTripAll(others, models, SAMPLE);
    System.out.println("text round trip: " + subgraphModels + " of " + withSubgraphs.size()
        + " models with sub-graphs, " + sampled + " others");
    assertTrue(subgraphModels >= 10, "too few importable If/Loop/Scan models: " + subgraphModels);
    assertEquals(SAMPLE, sampled);
  }

  /**
   * Round-trips the importable models among {@code cases}, up to {@code limit}; returns how many.
   * Models the importer rejects (sequence or optional values, newer opsets) are listed and skipped.
   */
  private static int roundTripAll(List<Path> cases, Map<Path, Onnx.Model> models, int limit) {
    int done = 0;
    List<String> notImported = new ArrayList<>();
    for (Path c : cases) {
      if (done == limit) {
        break;
      }
      Graph g;
      try {
        g = new OnnxImporter(registryFor(models.get(c))).read(c.resolve("model.onnx"));
      } catch (ModelException e) {
        notImported.add(c.getFileName() + " (" + e.getMessage() + ")");
        continue;
      }
      GraphTextTest.roundTrip(g);
      done++;
    }
    System.out.println("not importable, skipped: " + notImported);
    return done;
  }

  private static boolean hasSubgraph(Onnx.Graph g) {
    for (Onnx.Node n : g.getNodeList()) {
      for (Onnx.Attribute a : n.getAttributeList()) {
        if (a.hasG() || a.getGraphsCount() > 0) {
          return true;
        }
      }
    }
    return false;
  }

  /** A registry accepting exactly the operators and attributes the model uses, with any arity. */
  private static OpRegistry registryFor(Onnx.Model m) {
    Map<String, Map<String, Attribute.Kind>> ops = new LinkedHashMap<>();
    collect(m.getGraph(), ops);
    OpRegistry r = new OpRegistry();
    for (Map.Entry<String, Map<String, Attribute.Kind>> e : ops.entrySet()) {
      String[] key = e.getKey().split("::", 2);
      OpDef.Builder b = OpDef.builder(key[0], key[1]).inputs(0, Integer.MAX_VALUE).outputs(0, Integer.MAX_VALUE)
          .infer(ctx -> {
            throw ctx.error("only parsed in this test");
          })
          .eval(ctx -> {
            throw ctx.error("only parsed in this test");
          });
      e.getValue().forEach((name, kind) -> b.attr(AttrSpec.of(name, kind)));
      b.register(r);
    }
    return r;
  }

  private static void collect(Onnx.Graph g, Map<String, Map<String, Attribute.Kind>> ops) {
    for (Onnx.Node n : g.getNodeList()) {
      String domain = n.getDomain().equals("ai.onnx") ? "" : n.getDomain();
      Map<String, Attribute.Kind> attrs = ops.computeIfAbsent(domain + "::" + n.getOpType(), k -> new LinkedHashMap<>());
      for (Onnx.Attribute a : n.getAttributeList()) {
        Attribute.Kind kind = kind(a);
        if (kind != null) {
          attrs.putIfAbsent(a.getName(), kind);
        }
        if (a.hasG()) {
          collect(a.getG(), ops);
        }
        a.getGraphsList().forEach(sub -> collect(sub, ops));
      }
    }
  }

  /** The attribute's kind, or null for kinds the IR does not hold (type protos, sparse tensors). */
  private static Attribute.Kind kind(Onnx.Attribute a) {
    if (a.hasType() && a.getType() != Onnx.Attribute.Kind.UNDEFINED) {
      for (Attribute.Kind k : Attribute.Kind.values()) {
        if (k.name().equals(a.getType().name())) {
          return k;
        }
      }
      return null;
    }
    if (a.hasF()) {
      return Attribute.Kind.FLOAT;
    } else if (a.hasI()) {
      return Attribute.Kind.INT;
    } else if (a.hasS()) {
      return Attribute.Kind.STRING;
    } else if (a.hasT()) {
      return Attribute.Kind.TENSOR;
    } else if (a.hasG()) {
      return Attribute.Kind.GRAPH;
    } else if (a.getFloatsCount() > 0) {
      return Attribute.Kind.FLOATS;
    } else if (a.getStringsCount() > 0) {
      return Attribute.Kind.STRINGS;
    }
    return Attribute.Kind.INTS;
  }
}
