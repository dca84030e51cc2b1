package dev.nnvm.spark.job;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of text input: the tokenizer, the text column, sentence splitting, normalization. */
final class TextOptions {
  @Option(names = {"-t", "--tokenizer"}, paramLabel = "FILE",
      description = "The model's Hugging Face tokenizer.json (WordPiece, BPE, Unigram).")
  Path tokenizer;

  @Option(names = "--text-column", paramLabel = "COLUMN", defaultValue = "text",
      description = "The column holding the text (default: ${DEFAULT-VALUE}; text files are read into it).")
  String textColumn;

  @Option(names = "--max-length", paramLabel = "TOKENS", defaultValue = "128",
      description = "Longest token sequence, special tokens included; longer texts are truncated"
          + " (default: ${DEFAULT-VALUE}).")
  int maxLength;

  @Option(names = "--embedding-column", paramLabel = "COLUMN", defaultValue = "embedding",
      description = "The output column of sentence vectors (default: ${DEFAULT-VALUE}).")
  String embeddingColumn;

  @Option(names = "--no-normalize", description = "Keep pooled vectors as they are (default: L2-normalized).")
  boolean noNormalize;

  @Option(names = "--split-sentences",
      description = "Split each text into sentences (the JDK's sentence iterator) and keep the complete ones.")
  boolean splitSentences;

  @Option(names = "--english-only",
      description = "Keep only texts that read as English (a function-word share test on the whole text).")
  boolean englishOnly;

  @Option(names = "--min-words", paramLabel = "N", defaultValue = "4",
      description = "With --split-sentences: shortest sentence kept, in words (default: ${DEFAULT-VALUE}).")
  int minWords;

  @Option(names = "--max-chars", paramLabel = "N", defaultValue = "400",
      description = "With --split-sentences: longest sentence kept, in characters (default: ${DEFAULT-VALUE}).")
  int maxChars;
}
