package dev.nnvm.spark.job;

import java.text.BreakIterator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Turns documents into sentences for the embedding job: the JDK's sentence {@link BreakIterator} splits, and
 * only complete sentences are kept (starting with an upper-case letter, digit or quote and ending with a
 * terminal mark) so that documents cut in mid-sentence, as corpus samples often are, give no fragments.
 *
 * <p>{@link #looksEnglish} is a deliberately simple filter for mixed-language corpora (the Europarl sample
 * the README's job embeds holds 21 languages): English function words make up a quarter or more of the words
 * of an English text of some length and well under a tenth of other European languages' text. It is applied
 * to whole documents, where it is reliable, not to single sentences.
 */
public final class Sentences {
  /** The most frequent English function words; none of them is a frequent word of another EU language. */
  private static final Set<String> ENGLISH = Set.of("the", "of", "and", "to", "is", "that", "in", "it", "for",
      "this", "we", "be", "on", "are", "with", "as", "not", "have", "by", "which", "was", "will", "has");
  private static final double ENGLISH_SHARE = 0.25;
  private static final int MIN_WORDS_FOR_LANGUAGE = 20;

  private Sentences() {}

  /**
   * The complete sentences of {@code text} that have between {@code minWords} and {@code maxChars}
   * characters, trimmed, in order.
   */
  public static List<String> split(String text, int minWords, int maxChars) {
    List<String> out = new ArrayList<>();
    if (text == null || text.isBlank()) {
      return out;
    }
    BreakIterator it = BreakIterator.getSentenceInstance(Locale.ENGLISH);
    it.setText(text);
    int start = it.first();
    for (int end = it.next(); end != BreakIterator.DONE; start = end, end = it.next()) {
      String s = text.substring(start, end).strip().replaceAll("\\s+", " ");
      if (s.length() <= maxChars && complete(s) && words(s) >= minWords) {
        out.add(s);
      }
    }
    return out;
  }

  private static boolean complete(String s) {
    if (s.length() < 2) {
      return false;
    }
    char first = s.charAt(0);
    char last = s.charAt(s.length() - 1);
    boolean opens = Character.isUpperCase(first) || Character.isDigit(first) || first == '"' || first == '\u201C';
    boolean closes = last == '.' || last == '!' || last == '?' || last == '"' || last == '\u201D';
    return opens && closes;
  }

  private static int words(String s) {
    int n = 0;
    boolean inWord = false;
    for (int i = 0; i < s.length(); i++) {
      boolean letter = Character.isLetterOrDigit(s.charAt(i));
      if (letter && !inWord) {
        n++;
      }
      inWord = letter;
    }
    return n;
  }

  /** Whether {@code text} (a document of at least 20 words) reads as English; see the class comment. */
  public static boolean looksEnglish(String text) {
    if (text == null) {
      return false;
    }
    int words = 0;
    int english = 0;
    StringBuilder word = new StringBuilder();
    for (int i = 0; i <= text.length(); i++) {
      char c = i < text.length() ? text.charAt(i) : ' ';
      if (Character.isLetter(c)) {
        word.append(Character.toLowerCase(c));
      } else if (word.length() > 0) {
        words++;
        if (ENGLISH.contains(word.toString())) {
          english++;
        }
        word.setLength(0);
      }
    }
    return words >= MIN_WORDS_FOR_LANGUAGE && english >= ENGLISH_SHARE * words;
  }
}
