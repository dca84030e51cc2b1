package dev.nnvm.compiler.cli;

import dev.nnvm.runtime.TensorSpec;
import dev.nnvm.runtime.artifact.CpuFeatures;
import dev.nnvm.runtime.artifact.Manifest;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.NativeVariant;
import dev.nnvm.runtime.artifact.WorkspacePlan;
import java.io.PrintWriter;
import java.util.List;

/** What {@code nnvmc inspect MODEL.nnvm} prints: the manifest in a few lines. */
final class ArtifactSummary {
  private ArtifactSummary() {}

  static void print(ModelArtifact a, PrintWriter out) {
    Manifest m = a.manifest();
    out.println("artifact " + a.id() + ": model '" + m.model().name() + "' (sha256 " + m.model().sha256() + "), "
        + a.byteSize() + " bytes, format " + m.formatVersion());
    out.println("compiled by " + m.created().by() + " at " + m.created().at() + " with " + m.created().options());
    out.println("symbols: " + m.symbols());
    printSpecs(out, "inputs", m.inputs());
    printSpecs(out, "outputs", m.outputs());
    WorkspacePlan w = m.workspace();
    out.println("workspace: " + w.regions().size() + " regions, alignment " + w.alignment());
    for (WorkspacePlan.Region r : w.regions()) {
      out.println("  " + r + " bytes");
    }
    out.println("weights: " + m.weights().size() + " bytes in " + m.weights().constants().size() + " constants"
        + " (part '" + m.weights().part() + "')");
    CpuFeatures host = CpuFeatures.host();
    out.println("variants (best first):");
    for (NativeVariant v : m.variants()) {
      long size = m.part(v.library()).map(Manifest.Part::size).orElse(0L);
      boolean sameArch = v.arch().equals(host.arch());
      List<String> missing = sameArch ? host.missing(v.features()) : List.of();
      out.println("  " + v.name() + ": " + v.triple() + ", cpu " + v.cpu() + ", entry " + v.entry() + ", " + size
          + " bytes, needs " + v.features().size() + " features" + (v.features().isEmpty() ? "" : " " + v.features())
          + (!sameArch ? "; for " + v.arch() + " workers, not this " + host.arch() + " CPU"
              : missing.isEmpty() ? "; runs here" : "; not on this CPU (lacks " + String.join(", ", missing) + ")"));
    }
  }

  private static void printSpecs(PrintWriter out, String title, List<TensorSpec> specs) {
    out.println(title + ":");
    specs.forEach(s -> out.println("  " + s));
  }
}
