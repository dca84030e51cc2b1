package dev.nnvm.spark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Sentence splitting keeps complete sentences only; the English filter tells English from other EU languages. */
class SentencesTest {
  @Test
  void keepsCompleteSentencesOnly() {
    String doc = "of the report, which we adopted.   Mr President, I welcome this proposal. It is late!"
        + " Is it enough?  We shall see in the vote tomorrow and";
    assertEquals(List.of("Mr President, I welcome this proposal."), Sentences.split(doc, 4, 400));
    assertEquals(List.of("Mr President, I welcome this proposal.", "It is late!", "Is it enough?"),
        Sentences.split(doc, 1, 400));
    assertEquals(List.of("It is late!", "Is it enough?"), Sentences.split(doc, 1, 20));
    assertTrue(Sentences.split(null, 1, 10).isEmpty());
  }

  @Test
  void tellsEnglishFromOtherLanguages() {
    String english = "We should remember that education and training are also the keys to Europe's"
        + " competitiveness, which is why the specific objectives of our education policy are to improve the"
        + " quality of education and to prepare young people for work.";
    String german = "Ich freue mich sehr, daß Herr Bertens hier ist, denn er hat auch an der Aussprache mit der"
        + " niederländischen Präsidentschaft teilgenommen, in der Lateinamerika als Schwerpunkt noch nicht einmal"
        + " erwähnt wurde.";
    String italian = "Invitiamo dunque la Commissione a sottoporre nuove proposte intese a combattere in modo"
        + " efficace la discriminazione basata sul sesso e a garantire l'autentica uguaglianza nei settori diversi"
        + " dal lavoro.";
    assertTrue(Sentences.looksEnglish(english));
    assertFalse(Sentences.looksEnglish(german));
    assertFalse(Sentences.looksEnglish(italian));
    assertFalse(Sentences.looksEnglish("The end of it."), "too short to tell");
    assertFalse(Sentences.looksEnglish(null));
  }
}
