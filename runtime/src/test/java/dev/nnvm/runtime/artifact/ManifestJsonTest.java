package dev.nnvm.runtime.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Manifests whose hash is right but whose content is not: each is written
 * into an otherwise valid artifact and must be refused with a message that
 * names the field.
 */
class ManifestJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, byte[]> PARTS = SampleArtifact.parts();
  private static final Manifest MANIFEST = SampleArtifact.manifest(PARTS);

  private static String readError(byte[] manifestJson) {
    byte[] artifact = SampleArtifact.encode(manifestJson, PARTS);
    return assertThrows(ArtifactException.class, () -> ArtifactReader.read(artifact)).getMessage();
  }

  private static String edited(Consumer<ObjectNode> edit) {
    try {
      ObjectNode root = (ObjectNode) JSON.readTree(ManifestJson.write(MANIFEST));
      edit.accept(root);
      return readError(JSON.writeValueAsBytes(root));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode at(ObjectNode root, String array, int i) {
    return (ObjectNode) root.get(array).get(i);
  }

  private static ObjectNode weights(ObjectNode root) {
    return (ObjectNode) root.get("weights");
  }

  private static ObjectNode constant(ObjectNode root, int i) {
    return (ObjectNode) weights(root).get("constants").get(i);
  }

  @Test
  void writeThenReadGivesTheSameManifestAndTheSameBytes() throws ArtifactException {
    byte[] json = ManifestJson.write(MANIFEST);
    Manifest back = ManifestJson.read(json);
    assertEquals(MANIFEST, back);
    assertArrayEquals(json, ManifestJson.write(back));
    assertEquals(-1, new String(json, StandardCharsets.UTF_8).indexOf('\r'));
  }

  @Test
  void malformedJson() {
    assertEquals("manifest is not valid JSON: Unexpected end-of-input in field name (line 1, column 17)",
        readError("{\"format\": 1, \"c".getBytes(StandardCharsets.UTF_8)));
    assertEquals("manifest is not a JSON object", readError("[1, 2]".getBytes(StandardCharsets.UTF_8)));
    assertEquals("manifest is not a JSON object", readError(new byte[0]));
    assertEquals("manifest is not valid JSON", readError("{\"a\": 1} {}".getBytes(StandardCharsets.UTF_8))
        .substring(0, 26));
    assertEquals("manifest is not valid JSON", readError("{\"a\": 1, \"a\": 2}".getBytes(StandardCharsets.UTF_8))
        .substring(0, 26));
    assertEquals("manifest is not valid JSON", readError(new byte[] {'{', (byte) 0xC3, '}'}).substring(0, 26));
  }

  @Test
  void missingAndMistypedFields() {
    assertEquals("manifest: format is missing", edited(r -> r.remove("format")));
    assertEquals("manifest: format is 2 but this reader and the artifact header say 1",
        edited(r -> r.put("format", 2)));
    assertEquals("manifest: compiler must be a string, got NUMBER", edited(r -> r.put("compiler", 7)));
    assertEquals("manifest: created.at is not an ISO-8601 instant: 'yesterday'",
        edited(r -> ((ObjectNode) r.get("created")).put("at", "yesterday")));
    assertEquals("manifest: created.options.opt-level must be a string, got NUMBER",
        edited(r -> ((ObjectNode) r.get("created").get("options")).put("opt-level", 3)));
    assertEquals("manifest: model.sha256 must be 64 lowercase hex digits, got 'ABC'",
        edited(r -> ((ObjectNode) r.get("model")).put("sha256", "ABC")));
    assertEquals("manifest: inputs must be an array, got OBJECT", edited(r -> r.putObject("inputs")));
    assertEquals("manifest: inputs[1] must be an object, got STRING",
        edited(r -> ((ArrayNode) r.get("inputs")).set(1, "mask")));
    assertEquals("manifest: outputs is empty: a model has at least one output", edited(r -> r.putArray("outputs")));
  }

  @Test
  void tensorsAndSymbols() {
    assertEquals("manifest: symbols[1] 'batch' is declared twice",
        edited(r -> ((ArrayNode) r.get("symbols")).set(1, "batch")));
    assertEquals("manifest: symbols[0] must be a name like 'batch', got \"2x\"",
        edited(r -> ((ArrayNode) r.get("symbols")).set(0, "2x")));
    assertEquals("manifest: inputs[1].shape[2] 'len' is not a declared symbol [batch, seq]",
        edited(r -> ((ArrayNode) at(r, "inputs", 1).get("shape")).set(2, "len")));
    assertEquals("manifest: inputs[0].shape[0] must be a size >= 0 or a declared symbol, got -1",
        edited(r -> ((ArrayNode) at(r, "inputs", 0).get("shape")).set(0, -1)));
    assertEquals("manifest: inputs[1].name 'ids' is used twice in inputs",
        edited(r -> at(r, "inputs", 1).put("name", "ids")));
    assertEquals("manifest: outputs[0].dtype 'f33' is not an element type",
        edited(r -> at(r, "outputs", 0).put("dtype", "f33")));
    assertEquals("manifest: outputs[0].dtype is string; compiled code takes dense numeric tensors",
        edited(r -> at(r, "outputs", 0).put("dtype", "string")));
  }

  @Test
  void workspace() {
    assertEquals("manifest: workspace.regions[0].coefficient 9281 is not a multiple of the alignment 64",
        edited(r -> ((ObjectNode) r.get("workspace").get("regions").get(0)).put("coefficient", 9281)));
    assertEquals("manifest: workspace.regions[0].coefficient must be >= 0, got -64",
        edited(r -> ((ObjectNode) r.get("workspace").get("regions").get(0)).put("coefficient", -64)));
    assertEquals("manifest: workspace.regions[0].monomial 'n' is not a declared symbol [batch, seq]",
        edited(r -> ((ObjectNode) r.get("workspace").get("regions").get(0).get("monomial")).put("n", 1)));
    assertEquals("manifest: workspace.regions[0].monomial.seq must be in [1, 64], got 0",
        edited(r -> ((ObjectNode) r.get("workspace").get("regions").get(0).get("monomial")).put("seq", 0)));
    assertEquals("manifest: workspace.alignment must be a power of two, got 48",
        edited(r -> ((ObjectNode) r.get("workspace")).put("alignment", 48)));
  }

  @Test
  void weightsTable() {
    assertEquals("manifest: weights.constants[1].offset constant 'b' (i64[6], 48 bytes at 128) ends at 176,"
        + " beyond the 168-byte weights", edited(r -> constant(r, 1).set("shape", JSON.createArrayNode().add(6))));
    assertEquals("manifest: weights.constants[1].offset constant 'b' (i64[5], 40 bytes at 192) ends at 232,"
        + " beyond the 168-byte weights", edited(r -> constant(r, 1).put("offset", 192)));
    assertEquals("manifest: weights.constants[1].offset constant 'b' at 130 is not aligned to 64",
        edited(r -> constant(r, 1).put("offset", 130)));
    assertEquals("manifest: weights.constants[1].offset constant 'b' at 0 overlaps the previous constant,"
        + " which ends at 48 (constants are listed in offset order)", edited(r -> constant(r, 1).put("offset", 0)));
    assertEquals("manifest: weights.constants[0].offset must be >= 0, got -64",
        edited(r -> constant(r, 0).put("offset", -64)));
    assertEquals("manifest: weights.constants[0].shape[1] must be a size >= 0, got \"seq\"",
        edited(r -> ((ArrayNode) constant(r, 0).get("shape")).set(1, "seq")));
    assertEquals("manifest: weights.constants[1].name constant 'w' is listed twice",
        edited(r -> constant(r, 1).put("name", "w")));
    assertEquals("manifest: weights.constants[0].shape constant 'w' [4294967296, 4294967296] has more bytes than"
        + " a long counts", edited(r -> constant(r, 0)
            .set("shape", JSON.createArrayNode().add(1L << 32).add(1L << 32))));
    assertEquals("manifest: weights.size is 169 but part 'weights' is 168 bytes",
        edited(r -> weights(r).put("size", 169)));
    assertEquals("manifest: weights.part names part 'blob', which is not in the parts list"
        + " [native/x86-64-v3.so, native/x86-64-v4.so, ptx/model.ptx, weights]",
        edited(r -> weights(r).put("part", "blob")));
    assertEquals("manifest: weights.alignment must be in [1, 64], got 128",
        edited(r -> weights(r).put("alignment", 128)));
  }

  @Test
  void variants() {
    assertEquals("manifest: variants[0].library variant 'x86-64-v4' names part 'native/v4.so', which is not in"
        + " the parts list [native/x86-64-v3.so, native/x86-64-v4.so, ptx/model.ptx, weights]",
        edited(r -> at(r, "variants", 0).put("library", "native/v4.so")));
    assertEquals("manifest: variants[1].name variant 'x86-64-v4' is listed twice",
        edited(r -> at(r, "variants", 1).put("name", "x86-64-v4")));
    assertEquals("manifest: variants[0].entry 'run model' is not a C symbol name",
        edited(r -> at(r, "variants", 0).put("entry", "run model")));
    assertEquals("manifest: variants[0].features[0] must be an LLVM feature name like 'avx2', got \"+avx\"",
        edited(r -> ((ArrayNode) at(r, "variants", 0).get("features")).set(0, "+avx")));
  }

  @Test
  void partTable() {
    assertEquals("manifest: parts[1].size must be >= 0, got -5", edited(r -> at(r, "parts", 1).put("size", -5)));
    assertEquals("manifest: parts[3].size part 'weights' is 3000000000 bytes; this runtime reads parts of at most"
        + " 2147483639 bytes", edited(r -> at(r, "parts", 3).put("size", 3_000_000_000L)));
    assertEquals("manifest: parts[1].offset part 'native/x86-64-v4.so' is at 0, but the layout puts it at 64"
        + " (the previous part's end rounded up to 64)", edited(r -> at(r, "parts", 1).put("offset", 0)));
    assertEquals("manifest: parts[0].offset must be an integer, got 0.5",
        edited(r -> at(r, "parts", 0).put("offset", 0.5)));
    assertEquals("manifest: parts[0].offset must be an integer, got 99999999999999999999",
        edited(r -> at(r, "parts", 0).put("offset", new java.math.BigInteger("99999999999999999999"))));
    assertEquals("manifest: parts[1].name part 'native/x86-64-v3.so' is listed twice",
        edited(r -> at(r, "parts", 1).put("name", "native/x86-64-v3.so")));
    assertEquals("manifest: parts[2].name '../etc/passwd' is not a part name (letters, digits, '.', '_', '/', '-')",
        edited(r -> at(r, "parts", 2).put("name", "../etc/passwd")));
  }

  @Test
  void sizesBeyondTheFileAreTruncationNotAllocation() {
    String grown = edited(r -> {
      at(r, "parts", 3).put("size", 2_000_000_000L);
      weights(r).put("size", 2_000_000_000L);
    });
    assertEquals("artifact is truncated: part 'weights' needs bytes ", grown.substring(0, 50));
  }

  @Test
  void unknownFieldsAreIgnored() throws IOException {
    ObjectNode root = (ObjectNode) JSON.readTree(ManifestJson.write(MANIFEST));
    root.put("plan", "a later addition");
    at(root, "parts", 0).put("compression", "none");
    byte[] artifact = SampleArtifact.encode(JSON.writeValueAsBytes(root), PARTS);
    assertEquals(MANIFEST, ArtifactReader.read(artifact).manifest());
  }
}
