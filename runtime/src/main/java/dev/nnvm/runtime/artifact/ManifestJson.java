package dev.nnvm.runtime.artifact;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.Shape;
import dev.nnvm.runtime.TensorSpec;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The manifest as JSON: {@link #write} gives the bytes the writer stores
 * (UTF-8, two-space indents, {@code \n} line ends, fields in a fixed order,
 * maps sorted: equal manifests give equal bytes); {@link #read} parses and
 * checks them. An example:
 *
 * <pre>{@code
 * {
 *   "format" : 1,
 *   "compiler" : "0.1.0",
 *   "created" : { "at" : "2026-11-25T22:00:00Z", "by" : "nnvmc 0.1.0", "options" : { "opt-level" : "3" } },
 *   "model" : { "name" : "all-MiniLM-L6-v2", "sha256" : "<64 hex digits>" },
 *   "symbols" : [ "batch", "seq" ],
 *   "inputs" : [ { "name" : "input_ids", "dtype" : "i64", "shape" : [ "batch", "seq" ] } ],
 *   "outputs" : [ { "name" : "last_hidden_state", "dtype" : "f32", "shape" : [ "batch", "seq", 384 ] } ],
 *   "workspace" : { "alignment" : 64, "regions" : [ { "coefficient" : 9280, "monomial" : { "batch" : 1, "seq" : 1 } } ] },
 *   "weights" : { "part" : "weights", "size" : 90868224, "alignment" : 64,
 *                 "constants" : [ { "name" : "embeddings.word", "dtype" : "f32", "shape" : [ 30522, 384 ], "offset" : 0 } ] },
 *   "variants" : [ { "name" : "x86-64-v3", "triple" : "x86_64-unknown-linux-gnu", "cpu" : "x86-64-v3",
 *                    "features" : [ "avx2", "fma" ], "entry" : "nnvm_run", "library" : "native/x86-64-v3.so" } ],
 *   "parts" : [ { "name" : "native/x86-64-v3.so", "offset" : 0, "size" : 181234, "sha256" : "<64 hex digits>" },
 *               { "name" : "weights", "offset" : 181248, "size" : 90868224, "sha256" : "<64 hex digits>" } ]
 * }
 * }</pre>
 *
 * <p>Shapes are arrays of numbers (static) and declared symbols; constants
 * have static shapes. Element types are the short names of {@link DType}
 * ({@code string} is refused: compiled code takes dense tensors).
 */
public final class ManifestJson {
  private static final JsonMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  private static final ObjectWriter WRITER = MAPPER.writer(new DefaultPrettyPrinter()
      .withObjectIndenter(new DefaultIndenter("  ", "\n")));

  private static final Pattern PART_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,254}");
  private static final Pattern SYMBOL = Pattern.compile("[A-Za-z_][A-Za-z0-9_.:/-]*");
  private static final Pattern FEATURE = Pattern.compile("[a-z0-9][a-z0-9._-]*");
  private static final Pattern C_SYMBOL = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private ManifestJson() {
  }

  /** The manifest as the UTF-8 JSON bytes an artifact stores. */
  public static byte[] write(Manifest m) {
    ObjectNode root = MAPPER.createObjectNode();
    root.put("format", m.formatVersion());
    root.put("compiler", m.compilerVersion());
    ObjectNode created = root.putObject("created");
    created.put("at", m.created().at().toString());
    created.put("by", m.created().by());
    ObjectNode options = created.putObject("options");
    m.created().options().forEach(options::put);
    ObjectNode model = root.putObject("model");
    model.put("name", m.model().name());
    model.put("sha256", m.model().sha256());
    ArrayNode symbols = root.putArray("symbols");
    m.symbols().forEach(symbols::add);
    writeTensors(root.putArray("inputs"), m.inputs());
    writeTensors(root.putArray("outputs"), m.outputs());
    ObjectNode workspace = root.putObject("workspace");
    workspace.put("alignment", m.workspace().alignment());
    ArrayNode regions = workspace.putArray("regions");
    for (WorkspacePlan.Region r : m.workspace().regions()) {
      ObjectNode region = regions.addObject();
      region.put("coefficient", r.coefficient());
      ObjectNode monomial = region.putObject("monomial");
      r.monomial().forEach(monomial::put);
    }
    ObjectNode weights = root.putObject("weights");
    weights.put("part", m.weights().part());
    weights.put("size", m.weights().size());
    weights.put("alignment", m.weights().alignment());
    ArrayNode constants = weights.putArray("constants");
    for (WeightsTable.Constant c : m.weights().constants()) {
      ObjectNode constant = constants.addObject();
      constant.put("name", c.name());
      constant.put("dtype", c.dtype().shortName());
      writeShape(constant.putArray("shape"), c.shape());
      constant.put("offset", c.offset());
    }
    ArrayNode variants = root.putArray("variants");
    for (NativeVariant v : m.variants()) {
      ObjectNode variant = variants.addObject();
      variant.put("name", v.name());
      variant.put("triple", v.triple());
      variant.put("cpu", v.cpu());
      ArrayNode features = variant.putArray("features");
      v.features().forEach(features::add);
      variant.put("entry", v.entry());
      variant.put("library", v.library());
    }
    ArrayNode parts = root.putArray("parts");
    for (Manifest.Part p : m.parts()) {
      ObjectNode part = parts.addObject();
      part.put("name", p.name());
      part.put("offset", p.offset());
      part.put("size", p.size());
      part.put("sha256", p.sha256());
    }
    try {
      return WRITER.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree built in memory could not be written", e);
    }
  }

  private static void writeTensors(ArrayNode out, List<TensorSpec> tensors) {
    for (TensorSpec t : tensors) {
      ObjectNode tensor = out.addObject();
      tensor.put("name", t.name());
      tensor.put("dtype", t.dtype().shortName());
      writeShape(tensor.putArray("shape"), t.shape());
    }
  }

  private static void writeShape(ArrayNode out, Shape shape) {
    if (!shape.hasRank()) {
      throw new IllegalArgumentException("a shape of unknown rank cannot go into an artifact");
    }
    for (Dim d : shape.dims()) {
      if (d.isStatic()) {
        out.add(d.value());
      } else if (d.isSymbolic()) {
        out.add(d.symbol());
      } else {
        throw new IllegalArgumentException("shape " + shape + " has an unknown dimension; an artifact's dimensions"
            + " are numbers or declared symbols");
      }
    }
  }

  /**
   * Parses and checks a manifest: the JSON is well formed, every field is
   * present with the right type and range, names are unique, the parts are
   * laid out as {@link ArtifactFormat} says, every part named by the weights
   * or a variant exists, every constant lies inside the weights, every
   * symbol used is declared.
   *
   * @throws ArtifactException naming the field and what is wrong with it
   */
  public static Manifest read(byte[] json) throws ArtifactException {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw new ArtifactException("manifest is not valid JSON: " + e.getOriginalMessage()
          + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), e);
    } catch (IOException e) {
      throw new ArtifactException("manifest could not be parsed: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new ArtifactException("manifest is not a JSON object");
    }
    return new Reader().manifest(root);
  }

  /** One pass over a parsed manifest; remembers the declared symbols for the shapes that follow. */
  private static final class Reader {
    private final Set<String> symbols = new LinkedHashSet<>();

    Manifest manifest(JsonNode root) throws ArtifactException {
      int format = (int) integer(root, "format", "", 1, Integer.MAX_VALUE);
      if (format != ArtifactFormat.VERSION) {
        throw bad("format", "is " + format + " but this reader and the artifact header say " + ArtifactFormat.VERSION);
      }
      String compiler = text(root, "compiler", "");
      JsonNode createdNode = object(root, "created", "");
      Instant at;
      String atText = text(createdNode, "at", "created.");
      try {
        at = Instant.parse(atText);
      } catch (DateTimeParseException e) {
        throw bad("created.at", "is not an ISO-8601 instant: '" + atText + "'");
      }
      Map<String, String> options = new LinkedHashMap<>();
      JsonNode optionsNode = object(createdNode, "options", "created.");
      for (Map.Entry<String, JsonNode> e : optionsNode.properties()) {
        if (!e.getValue().isTextual()) {
          throw bad("created.options." + e.getKey(), "must be a string, got " + e.getValue().getNodeType());
        }
        options.put(e.getKey(), e.getValue().asText());
      }
      Manifest.Creation created = new Manifest.Creation(at, string(createdNode, "by", "created."), options);
      JsonNode modelNode = object(root, "model", "");
      Manifest.Model model = new Manifest.Model(text(modelNode, "name", "model."), hash(modelNode, "model."));

      List<String> symbolList = new ArrayList<>();
      JsonNode symbolsNode = array(root, "symbols", "");
      for (int i = 0; i < symbolsNode.size(); i++) {
        JsonNode s = symbolsNode.get(i);
        String where = "symbols[" + i + "]";
        if (!s.isTextual() || !SYMBOL.matcher(s.asText()).matches()) {
          throw bad(where, "must be a name like 'batch', got " + s);
        }
        if (!symbols.add(s.asText())) {
          throw bad(where, "'" + s.asText() + "' is declared twice");
        }
        symbolList.add(s.asText());
      }
      List<TensorSpec> inputs = tensors(root, "inputs");
      List<TensorSpec> outputs = tensors(root, "outputs");
      if (outputs.isEmpty()) {
        throw bad("outputs", "is empty: a model has at least one output");
      }
      WorkspacePlan workspace = workspace(object(root, "workspace", ""));
      List<Manifest.Part> parts = parts(array(root, "parts", ""));
      Map<String, Manifest.Part> partsByName = new LinkedHashMap<>();
      parts.forEach(p -> partsByName.put(p.name(), p));
      WeightsTable weights = weights(object(root, "weights", ""), partsByName);
      List<NativeVariant> variants = variants(array(root, "variants", ""), partsByName);
      return new Manifest(format, compiler, created, model, symbolList, inputs, outputs, workspace, weights,
          variants, parts);
    }

    private List<TensorSpec> tensors(JsonNode root, String field) throws ArtifactException {
      JsonNode list = array(root, field, "");
      List<TensorSpec> out = new ArrayList<>();
      Set<String> names = new HashSet<>();
      for (int i = 0; i < list.size(); i++) {
        String where = field + "[" + i + "].";
        JsonNode t = element(list, i, field);
        String name = text(t, "name", where);
        if (!names.add(name)) {
          throw bad(where + "name", "'" + name + "' is used twice in " + field);
        }
        out.add(new TensorSpec(name, dtype(t, where), shape(t, where, true)));
      }
      return out;
    }

    private DType dtype(JsonNode obj, String where) throws ArtifactException {
      String name = text(obj, "dtype", where);
      DType t;
      try {
        t = DType.parse(name);
      } catch (IllegalArgumentException e) {
        throw bad(where + "dtype", "'" + name + "' is not an element type");
      }
      if (t == DType.STRING) {
        throw bad(where + "dtype", "is string; compiled code takes dense numeric tensors");
      }
      return t;
    }

    private Shape shape(JsonNode obj, String where, boolean symbolic) throws ArtifactException {
      JsonNode dims = array(obj, "shape", where);
      List<Dim> out = new ArrayList<>();
      for (int i = 0; i < dims.size(); i++) {
        JsonNode d = dims.get(i);
        String at = where + "shape[" + i + "]";
        if (d.isIntegralNumber() && d.canConvertToLong() && d.asLong() >= 0) {
          out.add(Dim.of(d.asLong()));
        } else if (symbolic && d.isTextual() && symbols.contains(d.asText())) {
          out.add(Dim.symbol(d.asText()));
        } else if (symbolic && d.isTextual()) {
          throw bad(at, "'" + d.asText() + "' is not a declared symbol " + symbols);
        } else {
          throw bad(at, "must be a size >= 0" + (symbolic ? " or a declared symbol" : "") + ", got " + d);
        }
      }
      return Shape.of(out);
    }

    private WorkspacePlan workspace(JsonNode node) throws ArtifactException {
      int alignment = powerOfTwo(node, "workspace.", 1 << 20);
      JsonNode list = array(node, "regions", "workspace.");
      List<WorkspacePlan.Region> regions = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        String where = "workspace.regions[" + i + "].";
        JsonNode r = element(list, i, "workspace.regions");
        long coefficient = integer(r, "coefficient", where, 0, Long.MAX_VALUE);
        if (coefficient % alignment != 0) {
          throw bad(where + "coefficient", coefficient + " is not a multiple of the alignment " + alignment);
        }
        Map<String, Integer> monomial = new LinkedHashMap<>();
        JsonNode m = object(r, "monomial", where);
        for (Map.Entry<String, JsonNode> e : m.properties()) {
          String symbol = e.getKey();
          if (!symbols.contains(symbol)) {
            throw bad(where + "monomial", "'" + symbol + "' is not a declared symbol " + symbols);
          }
          monomial.put(symbol, (int) integer(m, symbol, where + "monomial.", 1, 64));
        }
        regions.add(new WorkspacePlan.Region(coefficient, monomial));
      }
      return new WorkspacePlan(alignment, regions);
    }

    private List<Manifest.Part> parts(JsonNode list) throws ArtifactException {
      List<Manifest.Part> out = new ArrayList<>();
      Set<String> names = new HashSet<>();
      long end = 0;
      for (int i = 0; i < list.size(); i++) {
        String where = "parts[" + i + "].";
        JsonNode p = element(list, i, "parts");
        String name = text(p, "name", where);
        if (!PART_NAME.matcher(name).matches()) {
          throw bad(where + "name", "'" + name + "' is not a part name (letters, digits, '.', '_', '/', '-')");
        }
        if (!names.add(name)) {
          throw bad(where + "name", "part '" + name + "' is listed twice");
        }
        long offset = integer(p, "offset", where, 0, Long.MAX_VALUE);
        long size = integer(p, "size", where, 0, Long.MAX_VALUE);
        if (size > ArtifactFormat.MAX_PART_BYTES) {
          throw bad(where + "size", "part '" + name + "' is " + size + " bytes; this runtime reads parts of at most "
              + ArtifactFormat.MAX_PART_BYTES + " bytes");
        }
        long expected = i == 0 ? 0 : ArtifactFormat.align(end);
        if (offset != expected) {
          throw bad(where + "offset", "part '" + name + "' is at " + offset + ", but the layout puts it at " + expected
              + " (the previous part's end rounded up to " + ArtifactFormat.ALIGNMENT + ")");
        }
        end = offset + size;
        out.add(new Manifest.Part(name, offset, size, hash(p, where)));
      }
      return out;
    }

    private WeightsTable weights(JsonNode node, Map<String, Manifest.Part> parts) throws ArtifactException {
      String part = text(node, "part", "weights.");
      Manifest.Part blob = parts.get(part);
      if (blob == null) {
        throw bad("weights.part", "names part '" + part + "', which is not in the parts list " + parts.keySet());
      }
      long size = integer(node, "size", "weights.", 0, Long.MAX_VALUE);
      if (size != blob.size()) {
        throw bad("weights.size", "is " + size + " but part '" + part + "' is " + blob.size() + " bytes");
      }
      int alignment = powerOfTwo(node, "weights.", ArtifactFormat.ALIGNMENT);
      JsonNode list = array(node, "constants", "weights.");
      List<WeightsTable.Constant> constants = new ArrayList<>();
      Set<String> names = new HashSet<>();
      long end = 0;
      for (int i = 0; i < list.size(); i++) {
        String where = "weights.constants[" + i + "].";
        JsonNode c = element(list, i, "weights.constants");
        String name = text(c, "name", where);
        if (!names.add(name)) {
          throw bad(where + "name", "constant '" + name + "' is listed twice");
        }
        DType dtype = dtype(c, where);
        Shape shape = shape(c, where, false);
        long offset = integer(c, "offset", where, 0, Long.MAX_VALUE);
        if (offset % alignment != 0) {
          throw bad(where + "offset", "constant '" + name + "' at " + offset + " is not aligned to " + alignment);
        }
        if (offset < end) {
          throw bad(where + "offset", "constant '" + name + "' at " + offset + " overlaps the previous constant,"
              + " which ends at " + end + " (constants are listed in offset order)");
        }
        WeightsTable.Constant constant = new WeightsTable.Constant(name, dtype, shape, offset);
        long bytes;
        try {
          bytes = constant.byteSize();
          end = Math.addExact(offset, bytes);
        } catch (ArithmeticException overflow) {
          throw bad(where + "shape", "constant '" + name + "' " + shape + " has more bytes than a long counts");
        }
        if (end > size) {
          throw bad(where + "offset", "constant '" + name + "' (" + dtype + shape + ", " + bytes + " bytes at "
              + offset + ") ends at " + end + ", beyond the " + size + "-byte weights");
        }
        constants.add(constant);
      }
      return new WeightsTable(part, size, alignment, constants);
    }

    private List<NativeVariant> variants(JsonNode list, Map<String, Manifest.Part> parts) throws ArtifactException {
      List<NativeVariant> out = new ArrayList<>();
      Set<String> names = new HashSet<>();
      for (int i = 0; i < list.size(); i++) {
        String where = "variants[" + i + "].";
        JsonNode v = element(list, i, "variants");
        String name = text(v, "name", where);
        if (!names.add(name)) {
          throw bad(where + "name", "variant '" + name + "' is listed twice");
        }
        String triple = text(v, "triple", where);
        String cpu = text(v, "cpu", where);
        JsonNode featureList = array(v, "features", where);
        List<String> features = new ArrayList<>();
        for (int j = 0; j < featureList.size(); j++) {
          JsonNode f = featureList.get(j);
          if (!f.isTextual() || !FEATURE.matcher(f.asText()).matches()) {
            throw bad(where + "features[" + j + "]", "must be an LLVM feature name like 'avx2', got " + f);
          }
          features.add(f.asText());
        }
        String entry = text(v, "entry", where);
        if (!C_SYMBOL.matcher(entry).matches()) {
          throw bad(where + "entry", "'" + entry + "' is not a C symbol name");
        }
        String library = text(v, "library", where);
        if (!parts.containsKey(library)) {
          throw bad(where + "library", "variant '" + name + "' names part '" + library
              + "', which is not in the parts list " + parts.keySet());
        }
        out.add(new NativeVariant(name, triple, cpu, features, entry, library));
      }
      return out;
    }
  }

  private static ArtifactException bad(String field, String problem) {
    return new ArtifactException("manifest: " + field + " " + problem);
  }

  private static JsonNode need(JsonNode obj, String field, String where) throws ArtifactException {
    JsonNode v = obj.get(field);
    if (v == null || v.isNull()) {
      throw bad(where + field, "is missing");
    }
    return v;
  }

  private static JsonNode element(JsonNode array, int i, String where) throws ArtifactException {
    JsonNode v = array.get(i);
    if (!v.isObject()) {
      throw bad(where + "[" + i + "]", "must be an object, got " + v.getNodeType());
    }
    return v;
  }

  private static JsonNode object(JsonNode obj, String field, String where) throws ArtifactException {
    JsonNode v = need(obj, field, where);
    if (!v.isObject()) {
      throw bad(where + field, "must be an object, got " + v.getNodeType());
    }
    return v;
  }

  private static JsonNode array(JsonNode obj, String field, String where) throws ArtifactException {
    JsonNode v = need(obj, field, where);
    if (!v.isArray()) {
      throw bad(where + field, "must be an array, got " + v.getNodeType());
    }
    return v;
  }

  /** A string, possibly empty. */
  private static String string(JsonNode obj, String field, String where) throws ArtifactException {
    JsonNode v = need(obj, field, where);
    if (!v.isTextual()) {
      throw bad(where + field, "must be a string, got " + v.getNodeType());
    }
    return v.asText();
  }

  /** A non-empty string. */
  private static String text(JsonNode obj, String field, String where) throws ArtifactException {
    String s = string(obj, field, where);
    if (s.isEmpty()) {
      throw bad(where + field, "is empty");
    }
    return s;
  }

  private static String hash(JsonNode obj, String where) throws ArtifactException {
    String s = string(obj, "sha256", where);
    if (!Sha256.isHex(s)) {
      throw bad(where + "sha256", "must be 64 lowercase hex digits, got '" + s + "'");
    }
    return s;
  }

  private static long integer(JsonNode obj, String field, String where, long min, long max)
      throws ArtifactException {
    JsonNode v = need(obj, field, where);
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw bad(where + field, "must be an integer, got " + v);
    }
    long n = v.asLong();
    if (n < min || n > max) {
      throw bad(where + field, (max == Long.MAX_VALUE ? "must be >= " + min : "must be in [" + min + ", " + max + "]")
          + ", got " + n);
    }
    return n;
  }

  private static int powerOfTwo(JsonNode obj, String where, int max) throws ArtifactException {
    long n = integer(obj, "alignment", where, 1, max);
    if (Long.bitCount(n) != 1) {
      throw bad(where + "alignment", "must be a power of two, got " + n);
    }
    return (int) n;
  }
}
