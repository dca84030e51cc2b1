package dev.nnvm.scoring.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The tokenizer stage over all-MiniLM-L6-v2's tokenizer.json (a BERT uncased
 * WordPiece vocabulary): ids checked against the file's own vocabulary,
 * truncation, nulls, the Arrow columns (unpadded and padded), and length
 * buckets with their merge. Every test is a leak test of its allocator.
 */
class TextTokenizerTest {
  private static byte[] json;
  private static JsonNode vocab;
  private static TextTokenizer tokenizer;
  private BufferAllocator allocator;

  @BeforeAll
  static void load() throws Exception {
    json = TextFixtures.resource(TextFixtures.TOKENIZER);
    vocab = new ObjectMapper().readTree(json).get("model").get("vocab");
    tokenizer = TextTokenizer.fromBytes(json, 128);
  }

  @AfterAll
  static void unload() {
    tokenizer.close();
  }

  @BeforeEach
  void open() {
    allocator = new RootAllocator();
  }

  @AfterEach
  void close() {
    allocator.close();
  }

  /** The ids the vocabulary gives these WordPiece tokens. */
  private static long[] ids(String... tokens) {
    long[] out = new long[tokens.length];
    for (int i = 0; i < tokens.length; i++) {
      JsonNode id = vocab.get(tokens[i]);
      assertTrue(id != null, tokens[i] + " is in the vocabulary");
      out[i] = id.asLong();
    }
    return out;
  }

  @Test
  void idsFollowTheVocabulary() {
    assertArrayEquals(new long[] {101, 102}, ids("[CLS]", "[SEP]"), "BERT's special tokens");
    Encoded e = tokenizer.encode(List.of("Hello, world.", "Spark embeddings are fun",
        "Café, naïve, résumé", "", "The QUICK brown fox!"));
    // The well-known BERT-uncased ids of this sentence, and the same through the file's vocabulary.
    assertArrayEquals(new long[] {101, 7592, 1010, 2088, 1012, 102}, e.inputIds(0));
    assertArrayEquals(ids("[CLS]", "hello", ",", "world", ".", "[SEP]"), e.inputIds(0));
    assertArrayEquals(ids("[CLS]", "spark", "em", "##bed", "##ding", "##s", "are", "fun", "[SEP]"), e.inputIds(1));
    // BertNormalizer: lower case, accents stripped.
    assertArrayEquals(ids("[CLS]", "cafe", ",", "naive", ",", "resume", "[SEP]"), e.inputIds(2));
    assertArrayEquals(ids("[CLS]", "[SEP]"), e.inputIds(3), "an empty text is just the special tokens");
    assertArrayEquals(ids("[CLS]", "the", "quick", "brown", "fox", "!", "[SEP]"), e.inputIds(4));
    for (int r = 0; r < e.size(); r++) {
      long[] ones = new long[e.length(r)];
      Arrays.fill(ones, 1);
      assertArrayEquals(ones, e.attentionMask(r), "row " + r + " mask");
      assertArrayEquals(new long[e.length(r)], e.tokenTypeIds(r), "row " + r + " type ids (one segment)");
      assertFalse(e.truncated(r));
    }
  }

  @Test
  void longTextsAreTruncatedAndStillEndWithTheSeparator() {
    String text = "Spark embeddings are compiled once on the driver and scored on every executor.";
    try (TextTokenizer short8 = TextTokenizer.fromBytes(json, 8)) {
      Encoded full = tokenizer.encode(List.of(text));
      Encoded cut = short8.encode(List.of(text, "Hello, world."));
      assertTrue(full.length(0) > 8, "the sentence has " + full.length(0) + " tokens");
      assertEquals(8, cut.length(0));
      assertTrue(cut.truncated(0));
      assertFalse(cut.truncated(1));
      long[] want = Arrays.copyOf(full.inputIds(0), 8);
      want[7] = 102;
      assertArrayEquals(want, cut.inputIds(0), "the first 7 tokens, then [SEP]");
      assertArrayEquals(tokenizer.encode(List.of("Hello, world.")).inputIds(0), cut.inputIds(1));
      assertEquals(8, short8.maxLength());
    }
    Encoded all = tokenizer.encode(TextFixtures.SENTENCES);
    int last = all.size() - 1;
    assertEquals(128, all.length(last), "the long passage stops at maxLength");
    assertTrue(all.truncated(last));
    assertEquals(102, all.inputIds(last)[127]);
    assertEquals(128, all.longest());
  }

  @Test
  void nullTextsGiveNullRows() {
    List<String> texts = new ArrayList<>(List.of("first", "third"));
    texts.add(1, null);
    Encoded e = tokenizer.encode(texts);
    assertEquals(3, e.size());
    assertTrue(e.isNull(1));
    assertNull(e.inputIds(1));
    assertEquals(0, e.length(1));
    assertArrayEquals(ids("[CLS]", "third", "[SEP]"), e.inputIds(2), "rows after a null keep their place");
    assertEquals(0, tokenizer.encode(List.of()).size());
    try (VectorSchemaRoot root = e.toArrow(allocator)) {
      assertTrue(root.getVector(TextTokenizer.INPUT_IDS).isNull(1));
      assertEquals(ids("[CLS]", "third", "[SEP]")[1], ((ListVector) root.getVector(TextTokenizer.INPUT_IDS))
          .getObject(2).get(1));
    }
  }

  @Test
  void arrowColumnsUnpaddedAndPadded() {
    Encoded e = tokenizer.encode(Arrays.asList("Hello, world.", null, "A", "The quick brown fox."));
    try (VectorSchemaRoot root = e.toArrow(allocator)) {
      assertEquals(Encoded.schema(), root.getSchema());
      assertEquals(4, root.getRowCount());
      for (String column : List.of(TextTokenizer.INPUT_IDS, TextTokenizer.ATTENTION_MASK,
          TextTokenizer.TOKEN_TYPE_IDS)) {
        ListVector v = (ListVector) root.getVector(column);
        for (int r = 0; r < 4; r++) {
          assertEquals(e.isNull(r), v.isNull(r), column + " row " + r + " null");
          if (!e.isNull(r)) {
            assertEquals(e.length(r), v.getElementEndIndex(r) - v.getElementStartIndex(r), column + " row " + r);
            long[] want = column.equals(TextTokenizer.INPUT_IDS) ? e.inputIds(r)
                : column.equals(TextTokenizer.ATTENTION_MASK) ? e.attentionMask(r) : e.tokenTypeIds(r);
            assertArrayEquals(want, values(v, r), column + " row " + r);
          }
        }
      }
    }
    int[] rows = {3, 1, 0};
    try (VectorSchemaRoot root = e.toArrow(allocator, rows, 9)) {
      ListVector ids = (ListVector) root.getVector(TextTokenizer.INPUT_IDS);
      ListVector mask = (ListVector) root.getVector(TextTokenizer.ATTENTION_MASK);
      assertEquals(3, root.getRowCount());
      assertTrue(ids.isNull(1));
      for (int i : new int[] {0, 2}) {
        long[] want = Arrays.copyOf(e.inputIds(rows[i]), 9);
        long[] ones = new long[9];
        Arrays.fill(ones, 0, e.length(rows[i]), 1);
        assertArrayEquals(want, values(ids, i), "padded ids of row " + rows[i]);
        assertArrayEquals(ones, values(mask, i), "padded mask of row " + rows[i]);
      }
    }
    IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
        () -> e.toArrow(allocator, new int[] {3}, 4));
    assertEquals("row 3 has " + e.length(3) + " tokens, more than padTo=4", tooLong.getMessage());
  }

  @Test
  void bucketsPadEachGroupToItsLongestRowAndMergeBackInOrder() {
    List<String> texts = new ArrayList<>(TextFixtures.SENTENCES);
    texts.add(7, null);
    texts.add(null);
    Encoded e = tokenizer.encode(texts);
    int width = 8;
    try (TokenBuckets buckets = e.bucketed(allocator, width)) {
      BitSet seen = new BitSet();
      long unpaddedTokens = 0;
      int previousKey = -1;
      for (TokenBuckets.Bucket b : buckets.buckets()) {
        int key = (e.length(b.rows()[0]) + width - 1) / width;
        assertTrue(key > previousKey, "buckets are ordered, shortest first");
        previousKey = key;
        int longest = 0;
        for (int r : b.rows()) {
          assertFalse(e.isNull(r), "null rows are in no bucket");
          assertFalse(seen.get(r), "row " + r + " is in one bucket");
          seen.set(r);
          assertEquals(key, (e.length(r) + width - 1) / width, "row " + r + " rounds to its bucket's length");
          longest = Math.max(longest, e.length(r));
          unpaddedTokens += e.length(r);
        }
        assertEquals(longest, b.paddedLength(), "a bucket is padded to its own longest row");
        ListVector ids = (ListVector) b.batch().getVector(TextTokenizer.INPUT_IDS);
        ListVector mask = (ListVector) b.batch().getVector(TextTokenizer.ATTENTION_MASK);
        for (int i = 0; i < b.rows().length; i++) {
          long[] ones = new long[longest];
          Arrays.fill(ones, 0, e.length(b.rows()[i]), 1);
          assertArrayEquals(Arrays.copyOf(e.inputIds(b.rows()[i]), longest), values(ids, i));
          assertArrayEquals(ones, values(mask, i));
        }
      }
      assertEquals(texts.size() - 2, seen.cardinality(), "every non-null row is in a bucket");
      long padToLongest = (long) (texts.size() - 2) * e.longest();
      System.out.printf("%d texts: %d tokens, %d with buckets of width %d, %d padded to the longest%n",
          texts.size(), unpaddedTokens, buckets.paddedTokens(), width, padToLongest);
      assertTrue(buckets.paddedTokens() < padToLongest / 2, "buckets pad far less than padding to the longest");
      assertTrue(buckets.paddedTokens() - unpaddedTokens < (long) (width - 1) * (texts.size() - 2));

      // Per-bucket results (the number of real tokens of each row) merged back in the original order.
      Field element = new Field("element", FieldType.notNullable(
          new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null);
      Schema schema = new Schema(List.of(new Field("count", FieldType.nullable(new ArrowType.FixedSizeList(1)),
          List.of(element))));
      List<VectorSchemaRoot> results = new ArrayList<>();
      try {
        for (TokenBuckets.Bucket b : buckets.buckets()) {
          VectorSchemaRoot out = VectorSchemaRoot.create(schema, allocator);
          results.add(out);
          out.allocateNew();
          FixedSizeListVector v = (FixedSizeListVector) out.getVector("count");
          ListVector mask = (ListVector) b.batch().getVector(TextTokenizer.ATTENTION_MASK);
          for (int i = 0; i < b.rows().length; i++) {
            v.setNotNull(i);
            ((Float4Vector) v.getDataVector()).setSafe(i, Arrays.stream(values(mask, i)).sum());
          }
          out.setRowCount(b.rows().length);
        }
        try (VectorSchemaRoot merged = buckets.merge(results, schema, allocator)) {
          FixedSizeListVector v = (FixedSizeListVector) merged.getVector("count");
          assertEquals(texts.size(), merged.getRowCount());
          for (int r = 0; r < texts.size(); r++) {
            assertEquals(e.isNull(r), v.isNull(r), "row " + r + " null");
            if (!e.isNull(r)) {
              assertEquals(e.length(r), ((Float4Vector) v.getDataVector()).get(r), "row " + r);
            }
          }
        }
      } finally {
        results.forEach(VectorSchemaRoot::close);
      }
    }
    try (TokenBuckets none = tokenizer.encode(Arrays.asList(null, null)).bucketed(allocator, 8)) {
      assertTrue(none.buckets().isEmpty());
      Schema s = Encoded.schema();
      try (VectorSchemaRoot merged = none.merge(List.of(), s, allocator)) {
        assertEquals(2, merged.getRowCount());
        assertTrue(merged.getVector(0).isNull(0) && merged.getVector(0).isNull(1));
      }
    }
  }

  @Test
  void badInputIsRefusedBeforeNativeCode() throws Exception {
    IllegalArgumentException onnx = assertThrows(IllegalArgumentException.class,
        () -> TextTokenizer.fromBytes(new byte[] {0x08, 0x07, 0x12, 0x00}, 128));
    assertEquals("tokenizer.json bytes is not a Hugging Face tokenizer.json: it does not start with a JSON object",
        onnx.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromBytes(new byte[0], 128));
    IllegalArgumentException noModel = assertThrows(IllegalArgumentException.class,
        () -> TextTokenizer.fromBytes("{\"version\": \"1.0\"}".getBytes(StandardCharsets.UTF_8), 128));
    assertTrue(noModel.getMessage().startsWith("tokenizer.json bytes is not a valid Hugging Face tokenizer.json: "),
        noModel.getMessage());
    IllegalArgumentException truncatedFile = assertThrows(IllegalArgumentException.class,
        () -> TextTokenizer.fromBytes(Arrays.copyOf(json, json.length / 2), 128));
    assertTrue(truncatedFile.getMessage().contains("not a valid Hugging Face tokenizer.json"));
    assertEquals("maxLength must be at least 1, got 0",
        assertThrows(IllegalArgumentException.class, () -> TextTokenizer.fromBytes(json, 0)).getMessage());
    TextTokenizer closed = TextTokenizer.fromBytes(json, 16);
    closed.close();
    closed.close();
    assertEquals("the tokenizer is closed",
        assertThrows(IllegalStateException.class, () -> closed.encode(List.of("x"))).getMessage());
  }

  @Test
  void theCacheBuildsOneTokenizerPerFileAndLength() {
    TokenizerCache cache = new TokenizerCache();
    try {
      String id = TextTokenizer.fingerprint(json);
      assertEquals(id, tokenizer.fingerprint());
      TextTokenizer a = cache.get(id, 64, () -> json);
      assertSame(a, cache.get(id, 64, () -> {
        throw new AssertionError("the bytes are read only on first use");
      }));
      assertSame(a, cache.get(json, 64));
      TextTokenizer b = cache.get(id, 32, () -> json);
      assertTrue(a != b);
      assertEquals(2, cache.buildCount());
      IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
          () -> cache.get("00" + id.substring(2), 64, () -> json));
      assertTrue(wrong.getMessage().contains("fingerprint"), wrong.getMessage());
      assertEquals(2, cache.size());
    } finally {
      cache.clear();
    }
    assertEquals(0, cache.size());
  }

  private static long[] values(ListVector v, int row) {
    BigIntVector data = (BigIntVector) v.getDataVector();
    long[] out = new long[v.getElementEndIndex(row) - v.getElementStartIndex(row)];
    for (int i = 0; i < out.length; i++) {
      out[i] = data.get(v.getElementStartIndex(row) + i);
    }
    return out;
  }
}
