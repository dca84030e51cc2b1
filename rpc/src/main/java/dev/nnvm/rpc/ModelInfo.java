package dev.nnvm.rpc;

import dev.nnvm.runtime.TensorSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * A model loaded on a server, as {@code list}, {@code describe} and
 * {@code upload} answer it (JSON, one object per model).
 *
 * @param hash the artifact id (SHA-256 of its manifest, which covers every part): names the model in calls
 * @param name the model's name from its manifest
 * @param variant the native variant the server's CPU runs
 * @param artifactBytes size of the uploaded artifact
 * @param weightsBytes native memory the weights take on the server
 * @param symbols the symbolic dimensions (e.g. {@code N}, {@code seq})
 * @param inputs the inputs; a batch sent to the model has a column of each input's name
 * @param outputs the outputs; each answer batch has a column of each output's name
 * @param exchanges exchanges scoring with the model now
 * @param batches batches scored since the upload
 * @param rows rows scored since the upload
 * @param nativeMillis milliseconds spent in native runs since the upload
 */
public record ModelInfo(String hash, String name, String variant, long artifactBytes, long weightsBytes,
    List<String> symbols, List<TensorInfo> inputs, List<TensorInfo> outputs, int exchanges, long batches,
    long rows, double nativeMillis) {

  public ModelInfo {
    symbols = List.copyOf(symbols);
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /**
   * One input or output.
   *
   * @param name the tensor's name (and the column's)
   * @param dtype the element type's short name ({@code f32}, {@code i64}, ...)
   * @param shape the shape, symbols included ({@code [N, 16]}); dimension 0 is the batch's rows
   */
  public record TensorInfo(String name, String dtype, String shape) {
    static List<TensorInfo> of(List<TensorSpec> specs) {
      List<TensorInfo> out = new ArrayList<>();
      for (TensorSpec s : specs) {
        out.add(new TensorInfo(s.name(), s.dtype().shortName(), s.shape().toString()));
      }
      return out;
    }
  }
}
