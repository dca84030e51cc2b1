package dev.nnvm.compiler.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.frontend.onnx.OnnxExporter;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.text.GraphParser;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.NativeVariant;
import dev.nnvm.runtime.artifact.WorkspacePlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link ModelCompiler} puts into an artifact, its options, and its cache. */
class ModelCompilerTest {
  /** y = Relu(x W), x f32[N, 8]: the small model of the compile-and-cache tests. */
  static final String SMALL = "graph small(%x: f32[N, 8]) -> (%y: f32[N, 4]) opset(ai.onnx=17) {\n"
      + "  const %w: f32[8, 4] = dense<" + CompiledModelExecutionTest.dense(32, 0.2) + ">\n"
      + "  %p = MatMul(%x, %w)\n  %y = Relu(%p)\n  return %y\n}\n";

  @TempDir Path dir;

  @Test
  void theCacheMakesTheSecondCompileAFileRead() throws Exception {
    Path onnx = dir.resolve("small.onnx");
    OnnxExporter.write(GraphParser.parse(SMALL), onnx);
    List<String> progress = new ArrayList<>();
    ModelCompiler compiler = ModelCompiler.create().withCache(dir.resolve("cache"))
        .withProgress(p -> progress.add(p.name()));
    CompileResult first = compiler.compile(onnx, CompileOptions.defaults());
    assertFalse(first.cached());
    assertEquals(List.of("import", "optimize", "lower", "llvm", "link", "write", "cache"), progress);
    assertTrue(Files.isRegularFile(first.cacheFile()));
    CompileResult second = compiler.compile(onnx, CompileOptions.defaults());
    assertTrue(second.cached());
    assertArrayEquals(first.bytes(), second.bytes());
    assertEquals(List.of("cache"), second.phases().stream().map(CompileResult.Phase::name).toList());
    System.out.printf("compiled in %.0f ms (%s), from the cache in %.1f ms%n", first.totalNanos() / 1e6,
        first.phaseSummary(), second.totalNanos() / 1e6);
    assertEquals("small", second.manifest().model().name());

    CompileResult otherLevel = compiler.compile(onnx, CompileOptions.defaults().withOptLevel(1));
    assertFalse(otherLevel.cached(), "other options, another cache entry");
    Files.write(second.cacheFile(), new byte[] {1, 2, 3});
    assertFalse(compiler.compile(onnx, CompileOptions.defaults()).cached(), "a damaged entry is compiled again");
  }

  @Test
  void portableTargetsBecomeVariantsBestFirst() throws Exception {
    CompileResult r = ModelCompiler.create().compile(GraphParser.parse(SMALL),
        CompileOptions.defaults().withTargets(List.of("x86-64-v3", "x86-64-v4", "host")));
    Manifest m = ArtifactReader.read(r.bytes()).manifest();
    List<String> names = m.variants().stream().map(NativeVariant::name).toList();
    assertEquals(3, names.size());
    assertTrue(names.get(0).startsWith("host-"), names.toString());
    // LLVM's level names are aliases of the portable targets, generic CPU plus the vector features only.
    assertEquals(List.of("x86-64-avx512", "x86-64-avx2"), names.subList(1, 3));
    NativeVariant avx2 = m.variants().get(2);
    assertEquals("x86-64", avx2.cpu());
    assertTrue(avx2.features().containsAll(List.of("avx2", "fma", "f16c")), avx2.features().toString());
    assertFalse(avx2.features().contains("lzcnt"), avx2.features().toString());
    assertTrue(m.variants().get(1).features().contains("avx512f"));
    assertEquals("host,x86-64-avx512,x86-64-avx2", m.created().options().get("targets"));
    assertTrue(r.sizes().get("library/x86-64-avx2") > 0);
  }

  @Test
  void theWorkspaceIsThePlanFollowedByTheScratch() {
    CompileResult r = ModelCompiler.create().compile(GraphParser.parse(SMALL), CompileOptions.defaults());
    List<WorkspacePlan.Region> regions = r.manifest().workspace().regions();
    WorkspacePlan.Region scratch = regions.get(regions.size() - 1);
    assertEquals(Map.of(), scratch.monomial(), "the matrix products' scratch is a fixed region at the end");
    assertTrue(scratch.coefficient() > 0);
  }

  @Test
  void inputShapesSpecializeTheModel() {
    CompileResult r = ModelCompiler.create().compile(GraphParser.parse(SMALL),
        CompileOptions.defaults().withInputShape("x", Shape.parse("[4, 8]")));
    assertEquals("x: f32[4, 8]", r.manifest().inputs().get(0).toString());
    assertEquals("y: f32[4, 4]", r.manifest().outputs().get(0).toString());
    assertEquals(List.of(), r.manifest().symbols());
    assertEquals("[4, 8]", r.manifest().created().options().get("input-shape.x"));
    ModelException e = assertThrows(ModelException.class, () -> ModelCompiler.create().compile(
        GraphParser.parse(SMALL), CompileOptions.defaults().withInputShape("z", Shape.parse("[4, 8]"))));
    assertTrue(e.getMessage().contains("no input named [z]"), e.getMessage());
  }

  @Test
  void badOptionsAreRefused() {
    IllegalArgumentException level = assertThrows(IllegalArgumentException.class,
        () -> CompileOptions.defaults().withOptLevel(4));
    assertTrue(level.getMessage().contains("0 to 3"), level.getMessage());
    IllegalArgumentException target = assertThrows(IllegalArgumentException.class,
        () -> CompileOptions.defaults().withTargets(List.of("cuda")));
    assertTrue(target.getMessage().contains("unknown target 'cuda'"), target.getMessage());
    assertThrows(IllegalArgumentException.class, () -> CompileOptions.defaults().withTargets(List.of("host", "host")));
  }

  @Test
  void unknownDimensionsNeedAnInputShape() {
    Graph g = GraphParser.parse(SMALL.replace("%x: f32[N, 8]", "%x: f32[?, 8]").replace("%y: f32[N, 4]",
        "%y: f32[?, 4]"));
    ModelException e = assertThrows(ModelException.class,
        () -> ModelCompiler.create().compile(g, CompileOptions.defaults()));
    assertTrue(e.getMessage().contains("input 'x' has shape [?, 8]") && e.getMessage().contains("--input-shape"),
        e.getMessage());
  }
}
