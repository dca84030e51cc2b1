package dev.nnvm.compiler.frontend.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.eval.ReferenceEvaluator;
import dev.nnvm.compiler.frontend.onnx.proto.Onnx;
import dev.nnvm.compiler.ir.Graph;
import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.compiler.ir.Tensor;
import dev.nnvm.runtime.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tensors stored outside the model file: read from the model's folder, and nowhere else. */
class ExternalDataTest {
  @TempDir Path dir;

  private static Onnx.Tensor external(String location, long offset, long length) {
    Onnx.Tensor.Builder b = Onnx.Tensor.newBuilder().setName("w").setDataType(DType.FLOAT32.onnxCode()).addDims(2)
        .setDataLocation(Onnx.Tensor.Location.EXTERNAL)
        .addExternalData(Onnx.KeyValue.newBuilder().setKey("location").setValue(location));
    if (offset >= 0) {
      b.addExternalData(Onnx.KeyValue.newBuilder().setKey("offset").setValue(Long.toString(offset)));
    }
    if (length >= 0) {
      b.addExternalData(Onnx.KeyValue.newBuilder().setKey("length").setValue(Long.toString(length)));
    }
    return b.build();
  }

  /** Writes 8 bytes of padding then the floats 1.5 and -2.5, little-endian. */
  private static void writeWeights(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(0x7777777777777777L).putFloat(1.5f).putFloat(-2.5f);
    Files.write(file, b.array());
  }

  private Path writeModel(Path folder, Onnx.Tensor weight) throws IOException {
    Files.createDirectories(folder);
    Path model = folder.resolve("model.onnx");
    Files.write(model, OnnxProtos.addModel(weight).toByteArray());
    return model;
  }

  private static String importError(Path model) {
    return assertThrows(ModelException.class, () -> OnnxImporter.load(model)).getMessage();
  }

  @Test
  void readsExternalDataAtAnOffset() throws IOException {
    writeWeights(dir.resolve("data/weights.bin"));
    Path model = writeModel(dir, external("data/weights.bin", 8, 8));
    Graph g = OnnxImporter.load(model);
    assertEquals(Tensor.ofFloats(new long[] {2}, 1.5f, -2.5f), g.constants().get("w"));
    Map<String, Tensor> out = ReferenceEvaluator.standard().run(g,
        Map.of("x", Tensor.ofFloats(new long[] {2}, 1f, 1f)));
    assertEquals(Tensor.ofFloats(new long[] {2}, 2.5f, -1.5f), out.get("y"));
  }

  @Test
  void lengthDefaultsToWhatTheShapeNeeds() throws IOException {
    writeWeights(dir.resolve("weights.bin"));
    Graph g = OnnxImporter.load(writeModel(dir, external("weights.bin", 8, -1)));
    assertEquals(Tensor.ofFloats(new long[] {2}, 1.5f, -2.5f), g.constants().get("w"));
  }

  @Test
  void refusesAnAbsoluteLocation() throws IOException {
    Path outside = dir.resolve("elsewhere/weights.bin");
    writeWeights(outside);
    String msg = importError(writeModel(dir.resolve("model"), external(outside.toString(), 8, 8)));
    assertTrue(msg.contains("initializer 'w'") && msg.contains("must be relative to the model's folder"), msg);
  }

  @Test
  void refusesALocationThatEscapesTheFolder() throws IOException {
    writeWeights(dir.resolve("secret.bin"));
    String msg = importError(writeModel(dir.resolve("model"), external("../secret.bin", 8, 8)));
    assertTrue(msg.contains("'../secret.bin' leaves the model's folder"), msg);
    msg = importError(writeModel(dir.resolve("model"), external("sub/../../secret.bin", 8, 8)));
    assertTrue(msg.contains("leaves the model's folder"), msg);
  }

  @Test
  void refusesASymlinkThatLeadsOutOfTheFolder() throws IOException {
    Path secret = dir.resolve("secret.bin");
    writeWeights(secret);
    Path folder = dir.resolve("model");
    Path model = writeModel(folder, external("weights.bin", 8, 8));
    Files.createSymbolicLink(folder.resolve("weights.bin"), secret);
    String msg = importError(model);
    assertTrue(msg.contains("leaves the model's folder (through a link)"), msg);
  }

  @Test
  void followsASymlinkThatStaysInTheFolder() throws IOException {
    writeWeights(dir.resolve("real.bin"));
    Files.createSymbolicLink(dir.resolve("weights.bin"), dir.resolve("real.bin"));
    Graph g = OnnxImporter.load(writeModel(dir, external("weights.bin", 8, 8)));
    assertEquals(Tensor.ofFloats(new long[] {2}, 1.5f, -2.5f), g.constants().get("w"));
  }

  @Test
  void reportsAMissingFile() throws IOException {
    String msg = importError(writeModel(dir, external("nothing.bin", 0, 8)));
    assertTrue(msg.contains("external data file 'nothing.bin' not found"), msg);
  }

  @Test
  void reportsARangeBeyondTheFileEnd() throws IOException {
    writeWeights(dir.resolve("weights.bin"));
    String msg = importError(writeModel(dir, external("weights.bin", 12, 8)));
    assertTrue(msg.contains("external data range [12, 20) lies outside 'weights.bin' (16 bytes)"), msg);
  }

  @Test
  void reportsALengthThatDoesNotMatchTheShape() throws IOException {
    writeWeights(dir.resolve("weights.bin"));
    String msg = importError(writeModel(dir, external("weights.bin", 0, 12)));
    assertTrue(msg.contains("external data length 12 does not match the 8 bytes"), msg);
  }

  @Test
  void reportsABadOffset() throws IOException {
    writeWeights(dir.resolve("weights.bin"));
    Onnx.Tensor t = external("weights.bin", -1, -1).toBuilder()
        .addExternalData(Onnx.KeyValue.newBuilder().setKey("offset").setValue("eight")).build();
    String msg = importError(writeModel(dir, t));
    assertTrue(msg.contains("external data offset 'eight' is not a number"), msg);
  }

  @Test
  void refusesALocationThatIsNotAPath() throws IOException {
    String msg = importError(writeModel(dir, external("bad\u0000name.bin", 0, 8)));
    assertTrue(msg.contains("initializer 'w'"), msg);
  }

  @Test
  void needsTheModelFolderWhenReadFromBytes() {
    byte[] bytes = OnnxProtos.addModel(external("weights.bin", 0, 8)).toByteArray();
    ModelException e = assertThrows(ModelException.class,
        () -> new OnnxImporter(dev.nnvm.compiler.ir.op.OpRegistry.standard()).read(bytes, null, "model"));
    assertTrue(e.getMessage().contains("needs the model's folder"), e.getMessage());
  }
}
