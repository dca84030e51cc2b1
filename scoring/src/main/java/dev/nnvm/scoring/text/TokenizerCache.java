package dev.nnvm.scoring.text;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link TextTokenizer} per worker JVM for each tokenizer.json and maximum
 * length, however many tasks or slots use it: workers receive the file's
 * bytes (a broadcast) with their fingerprint, and the first task to ask
 * builds the tokenizer. The shared instance keeps its tokenizers for the life
 * of the JVM (a tokenizer is a few MB and several tasks use it at once, which
 * {@link TextTokenizer#encode} allows); {@link #clear()} closes them, for
 * tests and for a JVM that stays up after its jobs.
 */
public final class TokenizerCache {
  private static final Logger LOG = LoggerFactory.getLogger(TokenizerCache.class);
  private static final TokenizerCache SHARED = new TokenizerCache();

  private final Map<String, TextTokenizer> tokenizers = new ConcurrentHashMap<>();
  private final AtomicInteger builds = new AtomicInteger();

  /** A cache of one's own (the shared one is {@link #shared()}). */
  public TokenizerCache() {}

  /** The JVM-wide cache. */
  public static TokenizerCache shared() {
    return SHARED;
  }

  /**
   * The tokenizer for a tokenizer.json whose {@link TextTokenizer#fingerprint(byte[]) fingerprint} is
   * {@code fingerprint}, built from {@code tokenizerJson} (read only on first use) unless this JVM has it. The
   * caller must not close it.
   */
  public TextTokenizer get(String fingerprint, int maxLength, Supplier<byte[]> tokenizerJson) {
    Objects.requireNonNull(fingerprint, "fingerprint");
    Objects.requireNonNull(tokenizerJson, "tokenizerJson");
    return tokenizers.computeIfAbsent(fingerprint + "/" + maxLength, key -> {
      byte[] json = tokenizerJson.get();
      TextTokenizer t = TextTokenizer.fromBytes(json, maxLength);
      if (!t.fingerprint().equals(fingerprint)) {
        t.close();
        throw new IllegalArgumentException("the tokenizer.json bytes have fingerprint " + t.fingerprint()
            + ", the caller said " + fingerprint);
      }
      builds.incrementAndGet();
      LOG.info("built tokenizer {} (maxLength {}) in this JVM", fingerprint.substring(0, 12), maxLength);
      return t;
    });
  }

  /** The tokenizer for these bytes (fingerprinted here: prefer {@link #get(String, int, Supplier)} per batch). */
  public TextTokenizer get(byte[] tokenizerJson, int maxLength) {
    return get(TextTokenizer.fingerprint(tokenizerJson), maxLength, () -> tokenizerJson);
  }

  /** Tokenizers built by this cache so far. */
  public int buildCount() {
    return builds.get();
  }

  /** Tokenizers held now. */
  public int size() {
    return tokenizers.size();
  }

  /** Closes and forgets every tokenizer; none may be in use. */
  public void clear() {
    tokenizers.values().removeIf(t -> {
      t.close();
      return true;
    });
  }
}
