package dev.nnvm.scoring.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Hugging Face {@code tokenizer.json} (WordPiece, BPE, Unigram: whatever the
 * file describes) run by DJL's binding of the Rust {@code tokenizers} library,
 * turning texts into the {@code input_ids} / {@code attention_mask} /
 * {@code token_type_ids} rows a BERT-style encoder takes.
 *
 * <p>Sequences are truncated to {@link #maxLength()} tokens (special tokens
 * included) and not padded: {@link Encoded} keeps each row at its own length
 * and pads later, per length bucket ({@link Encoded#bucketed}) or per batch
 * ({@code InputLayout.Padded}), so short texts are not padded to the longest
 * one. Whatever padding or truncation the file itself declares is replaced by
 * these settings.
 *
 * <p>Built from the file's bytes ({@link #fromBytes}) so the connectors can
 * ship the bytes to workers and build the tokenizer there; see
 * {@link TokenizerCache} for one tokenizer per worker JVM. DJL never touches
 * the network here: it runs offline and extracts the native library its jar
 * bundles into a directory under {@code java.io.tmpdir}.
 *
 * <p>The tokenizer holds native memory: close it. {@link #encode} may be
 * called from several threads at once (the native tokenizer is only read
 * after construction).
 */
public final class TextTokenizer implements AutoCloseable {
  /** Column and model-input name of the token ids. */
  public static final String INPUT_IDS = "input_ids";
  /** Column and model-input name of the attention mask. */
  public static final String ATTENTION_MASK = "attention_mask";
  /** Column and model-input name of the token type (segment) ids. */
  public static final String TOKEN_TYPE_IDS = "token_type_ids";

  private static final Logger LOG = LoggerFactory.getLogger(TextTokenizer.class);

  private final HuggingFaceTokenizer tokenizer;
  private final int maxLength;
  private final String fingerprint;
  private volatile boolean closed;

  private TextTokenizer(HuggingFaceTokenizer tokenizer, int maxLength, String fingerprint) {
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
    this.fingerprint = fingerprint;
  }

  /** Reads {@code tokenizerJson} and builds the tokenizer; see {@link #fromBytes}. */
  public static TextTokenizer fromFile(Path tokenizerJson, int maxLength) throws IOException {
    Objects.requireNonNull(tokenizerJson, "tokenizerJson");
    return create(Files.readAllBytes(tokenizerJson), maxLength, tokenizerJson.toString());
  }

  /**
   * Builds a tokenizer from the bytes of a {@code tokenizer.json}.
   *
   * @param maxLength the most tokens a row keeps, special tokens included (longer texts are truncated)
   * @throws IllegalArgumentException when the bytes are not a tokenizer.json or maxLength is below 1
   */
  public static TextTokenizer fromBytes(byte[] tokenizerJson, int maxLength) {
    return create(tokenizerJson, maxLength, "tokenizer.json bytes");
  }

  private static TextTokenizer create(byte[] json, int maxLength, String source) {
    Objects.requireNonNull(json, "tokenizerJson");
    if (maxLength < 1) {
      throw new IllegalArgumentException("maxLength must be at least 1, got " + maxLength);
    }
    // A cheap check before native code sees the bytes: a model file or an empty file passed by mistake
    // gets a message saying what was expected rather than a parser error from deep inside the library.
    int first = 0;
    while (first < json.length && Character.isWhitespace(json[first])) {
      first++;
    }
    if (first == json.length || json[first] != '{') {
      throw new IllegalArgumentException(source + " is not a Hugging Face tokenizer.json: "
          + (json.length == 0 ? "it is empty" : "it does not start with a JSON object"));
    }
    DjlEnvironment.configure();
    Map<String, String> options = new HashMap<>();
    options.put("addSpecialTokens", "true");
    options.put("truncation", "true");
    options.put("padding", "false");
    options.put("maxLength", Integer.toString(maxLength));
    // DJL caps maxLength at modelMaxLength (512 unless given); the caller's maxLength is the limit here.
    options.put("modelMaxLength", Integer.toString(maxLength));
    long start = System.nanoTime();
    HuggingFaceTokenizer tokenizer;
    try {
      tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
    } catch (IOException | RuntimeException e) {
      if (e.getClass().getName().startsWith("ai.djl.engine")) {
        throw new IllegalStateException("the native Hugging Face tokenizers library (DJL) did not load on "
            + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + ": " + e.getMessage(), e);
      }
      throw new IllegalArgumentException(source + " is not a valid Hugging Face tokenizer.json: " + e.getMessage(), e);
    }
    LOG.debug("tokenizer from {} ({} bytes) built in {} ms", source, json.length, (System.nanoTime() - start) / 1_000_000);
    return new TextTokenizer(tokenizer, maxLength, fingerprint(json));
  }

  /** SHA-256 of a tokenizer.json's bytes, hex: the key of {@link TokenizerCache}. */
  public static String fingerprint(byte[] tokenizerJson) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(tokenizerJson));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** The most tokens a row keeps. */
  public int maxLength() {
    return maxLength;
  }

  /** SHA-256 (hex) of the tokenizer.json this tokenizer was built from. */
  public String fingerprint() {
    return fingerprint;
  }

  /**
   * Tokenizes {@code texts} in one native call; a null text gives a null row.
   *
   * @return one row per text, in order, truncated to {@link #maxLength()}, unpadded
   */
  public Encoded encode(List<String> texts) {
    Objects.requireNonNull(texts, "texts");
    if (closed) {
      throw new IllegalStateException("the tokenizer is closed");
    }
    int n = texts.size();
    long[][] ids = new long[n][];
    long[][] mask = new long[n][];
    long[][] types = new long[n][];
    boolean[] truncated = new boolean[n];
    List<String> present = new ArrayList<>(n);
    int[] at = new int[n];
    for (int r = 0; r < n; r++) {
      String t = texts.get(r);
      if (t != null) {
        at[present.size()] = r;
        present.add(t);
      }
    }
    if (!present.isEmpty()) {
      Encoding[] encodings = tokenizer.batchEncode(present.toArray(new String[0]));
      for (int i = 0; i < encodings.length; i++) {
        int r = at[i];
        ids[r] = encodings[i].getIds();
        mask[r] = encodings[i].getAttentionMask();
        types[r] = encodings[i].getTypeIds();
        truncated[r] = encodings[i].exceedMaxLength();
      }
    }
    return new Encoded(ids, mask, types, truncated);
  }

  /** Frees the native tokenizer; safe to call twice. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      tokenizer.close();
    }
  }
}
