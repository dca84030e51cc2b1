package dev.nnvm.compiler.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** An inclusive range of integers, written {@code lo:hi} on the command line. */
record IntRange(long lo, long hi) {
  IntRange {
    if (lo > hi) {
      throw new IllegalArgumentException("empty integer range " + lo + ":" + hi + " (lo must be <= hi)");
    }
  }

  static IntRange parse(String text) {
    int colon = text.indexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("integer range must look like lo:hi, got '" + text + "'");
    }
    try {
      return new IntRange(Long.parseLong(text.substring(0, colon).trim()),
          Long.parseLong(text.substring(colon + 1).trim()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("integer range must look like lo:hi with two integers, got '" + text + "'", e);
    }
  }

  @Override
  public String toString() {
    return lo + ":" + hi;
  }

  /** Lets picocli read {@code --int-range} values; a bad value is a usage error. */
  static final class Converter implements ITypeConverter<IntRange> {
    @Override
    public IntRange convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
