package dev.nnvm.compiler.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits graph text into tokens with their line and column, on demand (so a
 * constant with millions of elements never holds millions of tokens);
 * {@code //} starts a comment.
 */
final class Lexer {
  /** Token kinds. */
  enum Kind { VALUE, WORD, STRING, INT, FLOAT, PUNCT, END }

  /** One token; {@code text} is the unquoted string for VALUE and STRING. */
  static final class Token {
    final Kind kind;
    final String text;
    final int line;
    final int column;

    Token(Kind kind, String text, int line, int column) {
      this.kind = kind;
      this.text = text;
      this.line = line;
      this.column = column;
    }

    boolean is(String punct) {
      return kind == Kind.PUNCT && text.equals(punct);
    }

    boolean isWord(String word) {
      return kind == Kind.WORD && text.equals(word);
    }

    /** How messages show the token. */
    String show() {
      switch (kind) {
        case END: return "end of input";
        case VALUE: return "value " + Syntax.value(text);
        case STRING: return "string " + Syntax.quote(text);
        default: return "'" + text + "'";
      }
    }
  }

  private final String src;
  private final List<Token> ahead = new ArrayList<>();
  private int pos;
  private int line = 1;
  private int lineStart;

  Lexer(String src) {
    this.src = src;
  }

  /** The token {@code k} places ahead (0 = the next one); END repeats at the end of input. */
  Token peek(int k) {
    while (ahead.size() <= k) {
      if (!ahead.isEmpty() && ahead.get(ahead.size() - 1).kind == Kind.END) {
        return ahead.get(ahead.size() - 1);
      }
      ahead.add(scan());
    }
    return ahead.get(k);
  }

  /** Consumes and returns the next token; at the end of input, returns END without consuming it. */
  Token take() {
    Token t = peek(0);
    if (t.kind != Kind.END) {
      ahead.remove(0);
    }
    return t;
  }

  private Token scan() {
    skipSpaceAndComments();
    if (pos >= src.length()) {
      return new Token(Kind.END, "", line, column());
    }
    return next();
  }

  private int column() {
    return pos - lineStart + 1;
  }

  private void skipSpaceAndComments() {
    while (pos < src.length()) {
      char c = src.charAt(pos);
      if (c == '\n') {
        pos++;
        line++;
        lineStart = pos;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        pos++;
      } else if (c == '/' && pos + 1 < src.length() && src.charAt(pos + 1) == '/') {
        while (pos < src.length() && src.charAt(pos) != '\n') {
          pos++;
        }
      } else {
        return;
      }
    }
  }

  private Token next() {
    int startLine = line;
    int startCol = column();
    char c = src.charAt(pos);
    if (c == '%') {
      pos++;
      if (pos < src.length() && src.charAt(pos) == '"') {
        return new Token(Kind.VALUE, string(startLine, startCol), startLine, startCol);
      }
      int s = pos;
      while (pos < src.length() && Syntax.isValuePart(src.charAt(pos))) {
        pos++;
      }
      if (s == pos) {
        throw new TextParseException(startLine, startCol, "expected a value name after '%'");
      }
      return new Token(Kind.VALUE, src.substring(s, pos), startLine, startCol);
    }
    if (c == '"') {
      return new Token(Kind.STRING, string(startLine, startCol), startLine, startCol);
    }
    if (Syntax.isWordStart(c)) {
      int s = pos;
      while (pos < src.length() && Syntax.isWordPart(src.charAt(pos))) {
        pos++;
      }
      return new Token(Kind.WORD, src.substring(s, pos), startLine, startCol);
    }
    if (isDigit(c) || c == '-' && pos + 1 < src.length() && isDigit(src.charAt(pos + 1))) {
      return number(startLine, startCol);
    }
    if (src.startsWith("->", pos) || src.startsWith("::", pos)) {
      pos += 2;
      return new Token(Kind.PUNCT, src.substring(pos - 2, pos), startLine, startCol);
    }
    if ("()[]{}<>,=:?-".indexOf(c) >= 0) {
      pos++;
      return new Token(Kind.PUNCT, String.valueOf(c), startLine, startCol);
    }
    throw new TextParseException(startLine, startCol, "unexpected character '" + c + "'");
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private Token number(int startLine, int startCol) {
    int s = pos;
    if (src.startsWith("0x", pos)) {
      pos += 2;
      while (pos < src.length() && Character.digit(src.charAt(pos), 16) >= 0) {
        pos++;
      }
      return new Token(Kind.INT, src.substring(s, pos), startLine, startCol);
    }
    boolean isFloat = false;
    if (src.charAt(pos) == '-') {
      pos++;
    }
    while (pos < src.length() && isDigit(src.charAt(pos))) {
      pos++;
    }
    if (pos < src.length() && src.charAt(pos) == '.') {
      isFloat = true;
      pos++;
      while (pos < src.length() && isDigit(src.charAt(pos))) {
        pos++;
      }
    }
    if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
      isFloat = true;
      pos++;
      if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
        pos++;
      }
      while (pos < src.length() && isDigit(src.charAt(pos))) {
        pos++;
      }
    }
    return new Token(isFloat ? Kind.FLOAT : Kind.INT, src.substring(s, pos), startLine, startCol);
  }

  private String string(int startLine, int startCol) {
    pos++;
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (pos >= src.length() || src.charAt(pos) == '\n') {
        throw new TextParseException(startLine, startCol, "unterminated string");
      }
      char c = src.charAt(pos++);
      if (c == '"') {
        return sb.toString();
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (pos >= src.length()) {
        throw new TextParseException(startLine, startCol, "unterminated string");
      }
      char e = src.charAt(pos++);
      switch (e) {
        case '"': sb.append('"'); break;
        case '\\': sb.append('\\'); break;
        case 'n': sb.append('\n'); break;
        case 't': sb.append('\t'); break;
        case 'r': sb.append('\r'); break;
        case 'u': {
          if (pos + 4 > src.length()) {
            throw new TextParseException(line, column(), "expected 4 hex digits after \\u");
          }
          try {
            sb.append((char) Integer.parseInt(src.substring(pos, pos + 4), 16));
          } catch (NumberFormatException ex) {
            throw new TextParseException(line, column(), "expected 4 hex digits after \\u");
          }
          pos += 4;
          break;
        }
        default:
          throw new TextParseException(line, column() - 2, "unknown escape '\\" + e + "'");
      }
    }
  }
}
