package dev.nnvm.it;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.nnvm.compiler.codegen.CompiledModelRunner;
import dev.nnvm.compiler.frontend.onnx.OnnxTensors;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.compiler.ir.ValueInfo;
import dev.nnvm.compiler.testing.Comparison;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.nativeio.NativeAllocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The ONNX "light" whole-network models (AlexNet, DenseNet-121, Inception
 * v1/v2, ResNet-50, ShuffleNet, SqueezeNet, VGG-19, ZFNet-512) from
 * {@code <nnvm.shared.dir>/onnx-tests/light}: each {@code light_X.onnx} with
 * its expected {@code light_X_output_0.pb}, no input shipped.
 *
 * <p>These models keep the real architectures but replace every weight by a
 * ConstantOfShape fill, which makes their output independent of the input
 * (ONNX Runtime gives the stored output bit for bit for inputs filled with 0,
 * 0.5 or 1). The input is therefore the usual constant fill, all ones, of the
 * declared input shape.
 */
class LightModelsTest {
  /**
   * fp32 through up to 120 layers; the outputs are softmax probabilities of
   * about 1e-3 (or pooled activations), so the absolute floor is small.
   */
  private static final double RTOL = 1e-3;
  private static final double ATOL = 1e-6;

  @TestFactory
  Stream<DynamicTest> lightModelsMatchTheirExpectedOutputs() throws IOException {
    return models().stream().map(m -> dynamicTest(m.getFileName().toString(), () -> check(m, false)));
  }

  /**
   * The same models compiled to native code (level 2, the CPU compiler's passes, the host's best variant)
   * and run through the runtime on two threads: LRN, ConstantOfShape fills too large to fold (VGG-19's and
   * ZFNet's classifier weights), concatenations, grouped and strided convolutions, pooling with ceil mode.
   */
  @TestFactory
  Stream<DynamicTest> lightModelsCompiledMatchTheirExpectedOutputs() throws IOException {
    return models().stream().map(m -> dynamicTest("compiled " + m.getFileName(), () -> check(m, true)));
  }

  private static List<Path> models() throws IOException {
    Path dir = Path.of(System.getProperty("nnvm.shared.dir", "../../shared"), "onnx-tests", "light");
    if (!Files.isDirectory(dir)) {
      System.out.println("SKIPPED light models: " + dir + " does not exist (set -Dnnvm.shared.dir to the shared "
          + "test material)");
    }
    Assumptions.assumeTrue(Files.isDirectory(dir), () -> dir + " does not exist");
    List<Path> models = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> p.getFileName().toString().endsWith(".onnx")).sorted().forEach(models::add);
    }
    return models;
  }

  private static void check(Path model, boolean compiled) throws IOException {
    String stem = model.getFileName().toString().replaceFirst("\\.onnx$", "");
    Path expectedFile = model.resolveSibling(stem + "_output_0.pb");
    Assumptions.assumeTrue(Files.exists(expectedFile), () -> "no expected output " + expectedFile);
    Graph g = ModelCheck.importModel(Files.readAllBytes(model), model.getParent(), model.getFileName().toString());
    if (g.inputs().size() != 1) {
      throw new AssertionError(stem + ": expected one input, the model has " + g.inputs());
    }
    ValueInfo in = g.inputs().get(0);
    Map<String, Tensor> inputs = Map.of(in.name(), ones(in));
    Map<String, Tensor> expected = Map.of(g.outputs().get(0).name(), OnnxTensors.read(expectedFile));
    if (!compiled) {
      ModelCheck.againstExpected(stem, g, inputs, expected, RTOL, ATOL).assertAllWithin();
      return;
    }
    try (NativeAllocator allocator = NativeAllocator.newRoot("light-" + stem);
        CompiledModelRunner runner = CompiledModelRunner.optimizing(g, allocator)) {
      Map<String, Tensor> got = runner.run(inputs, 2);
      for (Map.Entry<String, Tensor> e : expected.entrySet()) {
        System.out.println("compiled " + stem + " (" + runner.times() + "): "
            + Comparison.assertClose(e.getKey(), e.getValue(), got.get(e.getKey()), RTOL, ATOL));
      }
    }
  }

  private static Tensor ones(ValueInfo in) {
    List<Dim> dims = in.type().shape().dims();
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!dims.get(i).isStatic()) {
        throw new AssertionError("input '" + in.name() + "' has a dynamic shape " + in.type());
      }
      shape[i] = dims.get(i).value();
    }
    double[] v = new double[Tensor.elementCount(shape)];
    Arrays.fill(v, 1.0);
    return Tensor.fromDoubles(in.type().dtype(), shape, v);
  }
}
