package dev.nnvm.rpc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What travels between an NNVM Flight server and its clients, in one place, so
 * that a client in any language can be written from this page.
 *
 * <p>Every call carries {@code authorization: Bearer <token>} when the server
 * was started with a token; without it (or with another token) the call is
 * refused with {@code UNAUTHENTICATED}.
 *
 * <p>Actions ({@code DoAction}; each answers one result whose body is UTF-8 JSON):
 * <ul>
 *   <li>{@value #UPLOAD}: the body is a {@code .nnvm} artifact's bytes. The server
 *       verifies it like any load (format version, manifest and part hashes,
 *       a native variant this CPU runs) and answers the {@link ModelInfo}; the
 *       model's {@code hash} names it in every later call. Uploading a model
 *       that is already loaded answers its entry again. A server started with an
 *       upload key refuses it ({@code UNAUTHENTICATED}) and takes only:</li>
 *   <li>{@value #UPLOAD_SIGNED}: the body is the 32-byte HMAC-SHA256 of the
 *       artifact under the server's upload key, then the artifact; answered like
 *       {@value #UPLOAD}. A wrong signature is {@code UNAUTHENTICATED}.</li>
 *   <li>{@value #LIST}: empty body; answers {@code {"models": [ModelInfo...]}}.</li>
 *   <li>{@value #DESCRIBE}: body {@code {"hash": "..."}}; answers the {@link ModelInfo}
 *       ({@code NOT_FOUND} when no such model is loaded).</li>
 *   <li>{@value #UNLOAD}: body {@code {"hash": "..."}}; answers
 *       {@code {"hash": "...", "unloaded": true}}. Exchanges still running keep
 *       the model until they end.</li>
 *   <li>{@value #BENCHMARK}: body a {@link BenchmarkRequest}; answers a
 *       {@link BenchmarkResult} (times in the server's clock).</li>
 * </ul>
 *
 * <p>Scoring ({@code DoExchange}): the descriptor is either a path of one
 * element, the model's hash, or a command holding an {@link ExchangeRequest} as
 * JSON ({@code {"model": "<hash>", "nullPolicy": "STRICT"}}). The client then
 * streams record batches whose columns are named like the model's inputs (in
 * the Arrow bridge's layouts: scalars, {@code FixedSizeList}s, {@code List}s of
 * equal lengths, {@code arrow.fixed_shape_tensor}); the server answers each
 * batch with one batch holding a column per model output, in order, from one
 * native run. A batch that does not fit fails the call with
 * {@code INVALID_ARGUMENT} naming the column (and row); other calls go on.
 */
public final class FlightProtocol {
  public static final String UPLOAD = "upload";
  public static final String UPLOAD_SIGNED = "upload-signed";
  public static final String LIST = "list";
  public static final String DESCRIBE = "describe";
  public static final String UNLOAD = "unload";
  public static final String BENCHMARK = "benchmark";

  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private FlightProtocol() {}

  /** The body of a {@value #DESCRIBE} or {@value #UNLOAD} action. */
  public record HashRequest(String hash) {}

  /** The answer of {@value #UNLOAD}. */
  public record UnloadResult(String hash, boolean unloaded) {}

  /** The answer of {@value #LIST}. */
  public record ModelList(List<ModelInfo> models) {}

  /** The HMAC-SHA256 of {@code artifact} under {@code key}: what {@value #UPLOAD_SIGNED} puts before the artifact. */
  public static byte[] sign(byte[] key, byte[] artifact) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(artifact);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }

  static byte[] toJson(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }

  /**
   * Reads JSON into {@code type}.
   *
   * @throws IllegalArgumentException naming the type when the text is not such JSON
   */
  static <T> T fromJson(byte[] json, Class<T> type) {
    try {
      T value = JSON.readValue(json, type);
      if (value == null) {
        throw new IllegalArgumentException("expected a JSON " + type.getSimpleName() + ", got null");
      }
      return value;
    } catch (IOException e) {
      String text = new String(json, 0, Math.min(json.length, 200), StandardCharsets.UTF_8);
      throw new IllegalArgumentException("expected a JSON " + type.getSimpleName() + ", got '" + text + "': "
          + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
    }
  }
}
