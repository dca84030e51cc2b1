package dev.nnvm.compiler.standalone;

import dev.nnvm.runtime.DType;
import dev.nnvm.runtime.Dim;
import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.ArtifactFormat;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.NativeVariant;
import dev.nnvm.runtime.artifact.WorkspacePlan;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes {@code <model>.h}: the C interface of one exported variant, all from
 * the manifest. It includes the runtime's {@code nnvm_model_abi.h} unchanged,
 * then defines (once per translation unit, shared by every exported model) the
 * tensor descriptor types, element type codes, checked size arithmetic and a
 * serial {@code parallel_for}, and for this model: its names and files, the
 * symbols in entry order, input and output descriptors, the workspace size as
 * a function of the symbols, and the entry point's declaration. It relies on
 * what the artifact reader checks: every dimension is a size or a declared
 * symbol, no tensor holds strings, the entry symbol is a C identifier.
 */
final class ModelHeader {
  private ModelHeader() {}

  static String generate(ModelArtifact artifact, NativeVariant variant, StandaloneExport.FileNames f) {
    Manifest m = artifact.manifest();
    String p = f.prefix();
    String mp = f.macroPrefix();
    StringBuilder h = new StringBuilder();
    h.append("/*\n")
        .append(" * ").append(f.header()).append(": the C interface of model '").append(CText.comment(m.model().name()))
        .append("', exported by nnvmc export\n")
        .append(" * from artifact ").append(artifact.id()).append(",\n")
        .append(" * native variant '").append(CText.comment(variant.name())).append("' (")
        .append(CText.comment(variant.triple())).append(", cpu ").append(CText.comment(variant.cpu())).append(").\n")
        .append(" *\n")
        .append(" * ").append(f.library()).append(" implements the NNVM model ABI of ")
        .append(StandaloneExport.ABI_HEADER)
        .append(" (NNVM_MODEL_ABI_VERSION ").append(StandaloneExport.abiVersion()).append(")\n")
        .append(" * through one entry point, ").append(mp).append("ENTRY_SYMBOL. To run the model: dlopen() the\n")
        .append(" * library and look the entry point up (or link it), read ").append(f.weights()).append(" into\n")
        .append(" * memory aligned to ").append(mp)
        .append("WEIGHTS_ALIGNMENT bytes, choose a value for every symbol,\n")
        .append(" * allocate the inputs and outputs (").append(p).append("_inputs, ").append(p)
        .append("_outputs, nnvm_tensor_bytes) and\n")
        .append(" * ").append(p).append("_workspace_bytes(symbols) bytes of workspace aligned to ").append(mp)
        .append("WORKSPACE_ALIGNMENT,\n")
        .append(" * fill an nnvm_call (parallel_for may be nnvm_serial_parallel_for) and call the entry point;\n")
        .append(" * ").append(f.source()).append(" does exactly this. Tensors are dense, row-major, little-endian.\n")
        .append(" *\n")
        .append(" * The library needs a CPU with these features (LLVM names):")
        .append(variant.features().isEmpty() ? " none" : "").append('\n');
    wrapList(h, variant.features());
    h.append(" * Generated from the artifact's manifest; do not edit.\n */\n");
    String guard = "NNVM_EXPORT_" + mp + "H";
    h.append("#ifndef ").append(guard).append("\n#define ").append(guard).append("\n\n");
    h.append("#include <stddef.h>\n#include <stdint.h>\n\n");
    h.append("#include \"").append(StandaloneExport.ABI_HEADER).append("\"\n\n");
    h.append("#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    common(h);

    h.append("/* ---- model '").append(CText.comment(m.model().name())).append("' ---- */\n\n");
    define(h, mp + "MODEL_NAME", CText.literal(m.model().name()));
    define(h, mp + "MODEL_SHA256", CText.literal(m.model().sha256()));
    define(h, mp + "ARTIFACT_ID", CText.literal(artifact.id()));
    define(h, mp + "VARIANT", CText.literal(variant.name()));
    define(h, mp + "TARGET_TRIPLE", CText.literal(variant.triple()));
    define(h, mp + "TARGET_CPU", CText.literal(variant.cpu()));
    define(h, mp + "CPU_FEATURES", CText.literal(String.join(",", variant.features())));
    define(h, mp + "ENTRY_SYMBOL", CText.literal(variant.entry()));
    define(h, mp + "LIBRARY_FILE", CText.literal(f.library()));
    define(h, mp + "WEIGHTS_FILE", CText.literal(f.weights()));
    define(h, mp + "WEIGHTS_BYTES", "INT64_C(" + m.weights().size() + ")");
    define(h, mp + "WEIGHTS_ALIGNMENT", Integer.toString(Math.max(ArtifactFormat.ALIGNMENT, m.weights().alignment())));
    define(h, mp + "WEIGHTS_SHA256", CText.literal(m.part(m.weights().part()).map(Manifest.Part::sha256).orElse("")));
    define(h, mp + "WORKSPACE_ALIGNMENT",
        Integer.toString(Math.max(ArtifactFormat.ALIGNMENT, m.workspace().alignment())));
    define(h, mp + "NUM_SYMBOLS", Integer.toString(m.symbols().size()));
    define(h, mp + "NUM_INPUTS", Integer.toString(m.inputs().size()));
    define(h, mp + "NUM_OUTPUTS", Integer.toString(m.outputs().size()));
    h.append('\n');

    h.append("/* The symbolic dimensions, in the order of nnvm_call.symbols");
    h.append(m.symbols().isEmpty() ? " (none: the entry point still gets a valid pointer)" : "").append(". */\n");
    h.append("static const char* const ").append(p).append("_symbols[] = {");
    if (m.symbols().isEmpty()) {
      h.append("NULL");
    }
    for (int i = 0; i < m.symbols().size(); i++) {
      h.append(i == 0 ? "" : ", ").append(CText.literal(m.symbols().get(i)));
    }
    h.append("};\n\n");
    tensors(h, p, "input", m.inputs(), m.symbols());
    tensors(h, p, "output", m.outputs(), m.symbols());
    workspace(h, p, m.workspace(), m.symbols());

    // The reader accepts only C identifiers as entry symbols.
    h.append("/* The entry point, for programs that link ").append(f.library())
        .append(" directly; with dlopen() look up ").append(mp).append("ENTRY_SYMBOL. */\n");
    h.append("int32_t ").append(variant.entry()).append("(const nnvm_call* call);\n\n");
    h.append("#ifdef __cplusplus\n}\n#endif\n\n#endif /* ").append(guard).append(" */\n");
    return h.toString();
  }

  /** The part every exported header shares, defined once per translation unit. */
  private static void common(StringBuilder h) {
    h.append("#ifndef NNVM_EXPORT_COMMON_V1\n#define NNVM_EXPORT_COMMON_V1\n\n");
    h.append("/* Element types: ONNX TensorProto.DataType codes. */\n");
    for (DType t : DType.values()) {
      if (t != DType.STRING) {
        define(h, "NNVM_DTYPE_" + t.shortName().toUpperCase(Locale.ROOT), Integer.toString(t.onnxCode()));
      }
    }
    h.append("""

        /* One dimension: a fixed size (symbol < 0) or the value of symbols[symbol]. */
        typedef struct nnvm_dim_desc {
          int64_t size;
          int32_t symbol;
        } nnvm_dim_desc;

        /* A model input or output: dense, row-major, little-endian. */
        typedef struct nnvm_tensor_desc {
          const char* name;           /* the name in the model */
          int32_t dtype;              /* NNVM_DTYPE_* */
          const char* dtype_name;     /* f32, i64, ... */
          int32_t element_size;       /* bytes per element */
          int32_t rank;
          const nnvm_dim_desc* dims;  /* rank entries; NULL for a scalar */
          const char* shape;          /* the shape as text, e.g. [N, 3, 224, 224] */
        } nnvm_tensor_desc;

        /* *acc *= factor; 0 (and *acc unchanged) when factor < 0 or the product overflows int64_t. */
        static inline int nnvm_checked_mul(int64_t* acc, int64_t factor) {
          if (factor < 0 || (factor != 0 && *acc > INT64_MAX / factor)) {
            return 0;
          }
          *acc *= factor;
          return 1;
        }

        /* *acc += term (both >= 0); 0 when the sum overflows int64_t. */
        static inline int nnvm_checked_add(int64_t* acc, int64_t term) {
          if (*acc > INT64_MAX - term) {
            return 0;
          }
          *acc += term;
          return 1;
        }

        /* The size of dimension i for these symbol values. */
        static inline int64_t nnvm_dim_size(const nnvm_tensor_desc* t, int32_t i, const int64_t* symbols) {
          return t->dims[i].symbol >= 0 ? symbols[t->dims[i].symbol] : t->dims[i].size;
        }

        /* Elements of a tensor for these symbol values; -1 when one is negative or the count overflows. */
        static inline int64_t nnvm_tensor_elements(const nnvm_tensor_desc* t, const int64_t* symbols) {
          int64_t n = 1;
          for (int32_t i = 0; i < t->rank; i++) {
            if (!nnvm_checked_mul(&n, nnvm_dim_size(t, i, symbols))) {
              return -1;
            }
          }
          return n;
        }

        /* Bytes of a tensor for these symbol values; -1 when one is negative or the size overflows. */
        static inline int64_t nnvm_tensor_bytes(const nnvm_tensor_desc* t, const int64_t* symbols) {
          int64_t n = nnvm_tensor_elements(t, symbols);
          return n >= 0 && nnvm_checked_mul(&n, t->element_size) ? n : -1;
        }

        /*
         * A parallel_for for hosts without threads: the whole range on the calling
         * thread, which the ABI allows (a task never assumes how ranges are split).
         */
        static inline void nnvm_serial_parallel_for(int64_t n, nnvm_task task, void* ctx, int32_t threads) {
          (void) threads;
          if (n > 0) {
            task(0, n, ctx);
          }
        }

        #endif /* NNVM_EXPORT_COMMON_V1 */

        """);
  }

  private static void tensors(StringBuilder h, String p, String kind, List<TensorSpec> specs, List<String> symbols) {
    for (int i = 0; i < specs.size(); i++) {
      TensorSpec s = specs.get(i);
      if (s.shape().rank() == 0) {
        continue;
      }
      h.append("static const nnvm_dim_desc ").append(p).append('_').append(kind).append(i).append("_dims[] = {");
      for (int d = 0; d < s.shape().rank(); d++) {
        Dim dim = s.shape().dim(d);
        h.append(d == 0 ? "" : ", ");
        if (dim.isStatic()) {
          h.append("{INT64_C(").append(dim.value()).append("), -1}");
        } else {
          h.append("{0, ").append(symbols.indexOf(dim.symbol())).append('}');
        }
      }
      h.append("};\n");
    }
    h.append("/* The ").append(kind).append("s, in the order of nnvm_call.").append(kind).append("s. */\n");
    h.append("static const nnvm_tensor_desc ").append(p).append('_').append(kind).append("s[] = {\n");
    if (specs.isEmpty()) {
      h.append("  {NULL, 0, NULL, 0, 0, NULL, NULL},  /* none; a placeholder, since C has no empty arrays */\n");
    }
    for (int i = 0; i < specs.size(); i++) {
      TensorSpec s = specs.get(i);
      h.append("  {").append(CText.literal(s.name())).append(", NNVM_DTYPE_")
          .append(s.dtype().shortName().toUpperCase(Locale.ROOT)).append(", ")
          .append(CText.literal(s.dtype().shortName())).append(", ").append(s.dtype().byteSize()).append(", ")
          .append(s.shape().rank()).append(", ")
          .append(s.shape().rank() == 0 ? "NULL" : p + "_" + kind + i + "_dims").append(", ")
          .append(CText.literal(s.shape().toString())).append("},  /* ").append(kind).append(' ').append(i)
          .append(": ").append(CText.comment(s.toString())).append(" */\n");
    }
    h.append("};\n\n");
  }

  private static void workspace(StringBuilder h, String p, WorkspacePlan plan, List<String> symbols) {
    h.append("/*\n * Bytes of workspace one call needs for these symbol values (nnvm_call.symbols order),\n"
        + " * the sum of the planned regions");
    h.append(plan.regions().isEmpty() ? " (none: pass NULL)" : ": " + CText.comment(plan.toString()));
    h.append(";\n * -1 when a value is negative or the size overflows int64_t.\n */\n");
    h.append("static inline int64_t ").append(p).append("_workspace_bytes(const int64_t* symbols) {\n");
    h.append("  int64_t total = 0;\n");
    if (symbols.isEmpty()) {
      h.append("  (void) symbols;\n");
    }
    for (int i = 0; i < symbols.size(); i++) {
      h.append("  if (symbols[").append(i).append("] < 0) {\n    return -1;\n  }\n");
    }
    for (WorkspacePlan.Region r : plan.regions()) {
      h.append("  {  /* ").append(CText.comment(r.toString())).append(" */\n");
      h.append("    int64_t region = INT64_C(").append(r.coefficient()).append(");\n");
      for (Map.Entry<String, Integer> e : r.monomial().entrySet()) {
        for (int k = 0; k < e.getValue(); k++) {
          h.append("    if (!nnvm_checked_mul(&region, symbols[").append(symbols.indexOf(e.getKey()))
              .append("])) {\n      return -1;\n    }\n");
        }
      }
      h.append("    if (!nnvm_checked_add(&total, region)) {\n      return -1;\n    }\n  }\n");
    }
    h.append("  return total;\n}\n\n");
  }

  private static void define(StringBuilder h, String name, String value) {
    h.append("#define ").append(name).append(' ').append(value).append('\n');
  }

  private static void wrapList(StringBuilder h, List<String> items) {
    StringBuilder line = new StringBuilder(" *   ");
    for (int i = 0; i < items.size(); i++) {
      String item = CText.comment(items.get(i)) + (i + 1 < items.size() ? "," : "");
      if (line.length() + item.length() + 1 > 100) {
        h.append(line.toString().stripTrailing()).append('\n');
        line = new StringBuilder(" *   ");
      }
      line.append(item).append(' ');
    }
    if (!items.isEmpty()) {
      h.append(line.toString().stripTrailing()).append('\n');
    }
  }
}
