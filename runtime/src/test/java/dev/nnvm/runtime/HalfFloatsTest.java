package dev.nnvm.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Checks the 16-bit float conversions against definitions written
 * independently here: the value of a bit pattern from sign, exponent and
 * mantissa, and rounding as "the nearest representable value, ties to the
 * even pattern, beyond the largest finite value plus half a step: infinity".
 */
class HalfFloatsTest {
  private static final int HALF_MAX_BITS = 0x7bff; // 65504
  private static final int BF16_MAX_BITS = 0x7f7f; // 3.3895e38

  /** The value of binary16 bits from the format's definition. */
  private static double halfValue(int h) {
    int sign = (h >>> 15) & 1;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    double magnitude;
    if (exp == 0x1f) {
      magnitude = mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else if (exp == 0) {
      magnitude = Math.scalb((double) mant, -24);
    } else {
      magnitude = Math.scalb(1024.0 + mant, exp - 25);
    }
    return sign == 1 ? -magnitude : magnitude;
  }

  private static boolean isHalfNaN(int h) {
    return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
  }

  @Test
  void everyHalfWidensExactlyAndNarrowsBack() {
    for (int bits = 0; bits < 0x10000; bits++) {
      int h = bits;
      float f = HalfFloats.halfToFloat((short) h);
      double want = halfValue(h);
      if (isHalfNaN(h)) {
        assertTrue(Float.isNaN(f), () -> "NaN pattern stays NaN");
        int back = HalfFloats.floatToHalf(f) & 0xffff;
        assertTrue(isHalfNaN(back), "NaN narrows to NaN");
        assertEquals(h | 0x200, back, "NaN keeps sign and payload, made quiet");
        continue;
      }
      assertEquals(want, (double) f, () -> "value of half bits 0x" + Integer.toHexString(h));
      assertEquals(Double.doubleToRawLongBits(want) >>> 63, (long) (Float.floatToRawIntBits(f) >>> 31), "sign");
      assertEquals(h, HalfFloats.floatToHalf(f) & 0xffff, () -> "round trip of 0x" + Integer.toHexString(h));
      assertEquals(f, HalfFloats.roundToHalf(f));
    }
  }

  @Test
  void midpointsRoundToEvenAndNeighboursToTheNearest() {
    // Every pair of adjacent positive finite halves, subnormals included; the
    // midpoint is exact in float (a float has 13 more mantissa bits).
    for (int h = 0; h < HALF_MAX_BITS; h++) {
      for (int sign : new int[] {0, 0x8000}) {
        float lo = HalfFloats.halfToFloat((short) (h | sign));
        float hi = HalfFloats.halfToFloat((short) ((h + 1) | sign));
        float mid = (float) (((double) lo + hi) / 2);
        int even = (h & 1) == 0 ? h : h + 1;
        assertEquals(even | sign, HalfFloats.floatToHalf(mid) & 0xffff, "tie between " + lo + " and " + hi);
        float towardHi = sign == 0 ? Math.nextUp(mid) : Math.nextDown(mid);
        float towardLo = sign == 0 ? Math.nextDown(mid) : Math.nextUp(mid);
        assertEquals((h + 1) | sign, HalfFloats.floatToHalf(towardHi) & 0xffff, "just past the tie of " + lo);
        assertEquals(h | sign, HalfFloats.floatToHalf(towardLo) & 0xffff, "just before the tie of " + lo);
      }
    }
  }

  @Test
  void overflowAndUnderflow() {
    assertEquals(0x7bff, HalfFloats.floatToHalf(65504f));
    assertEquals(0x7bff, HalfFloats.floatToHalf(Math.nextDown(65520f)), "below the overflow threshold");
    assertEquals(0x7c00, HalfFloats.floatToHalf(65520f), "the tie above 65504 rounds to even: infinity");
    assertEquals((short) 0xfc00, HalfFloats.floatToHalf(-65520f));
    assertEquals(0x7c00, HalfFloats.floatToHalf(1e10f));
    assertEquals(0x7c00, HalfFloats.floatToHalf(Float.MAX_VALUE));
    assertEquals(0x7c00, HalfFloats.floatToHalf(Float.POSITIVE_INFINITY));
    assertEquals((short) 0xfc00, HalfFloats.floatToHalf(Float.NEGATIVE_INFINITY));

    float tiny = 0x1p-24f; // the smallest subnormal half
    assertEquals(1, HalfFloats.floatToHalf(tiny));
    assertEquals(0, HalfFloats.floatToHalf(tiny / 2), "the tie with zero rounds to even: zero");
    assertEquals(1, HalfFloats.floatToHalf(Math.nextUp(tiny / 2)));
    assertEquals(0, HalfFloats.floatToHalf(Float.MIN_VALUE));
    assertEquals((short) 0x8000, HalfFloats.floatToHalf(-Float.MIN_VALUE), "negative underflow keeps the sign");
    assertEquals((short) 0x8000, HalfFloats.floatToHalf(-0f));
    assertEquals(0x0400, HalfFloats.floatToHalf(0x1p-14f), "the smallest normal");
    assertEquals(0x0400, HalfFloats.floatToHalf(Math.nextDown(0x1p-14f)), "rounds up out of the subnormals");
    assertEquals(0x3c00, HalfFloats.floatToHalf(1f));
    assertEquals(0x3c00, HalfFloats.floatToHalf(1f + 0x1p-11f), "tie at 1 + half an ulp goes to even 1");
    assertEquals(0x3c02, HalfFloats.floatToHalf(1f + 3 * 0x1p-11f), "tie at 1 + 1.5 ulp goes to even 1 + 2 ulp");
  }

  @Test
  void randomFloatsRoundToTheNearestHalf() {
    double[] halves = new double[HALF_MAX_BITS + 1];
    for (int h = 0; h <= HALF_MAX_BITS; h++) {
      halves[h] = halfValue(h);
    }
    SplittableRandom random = new SplittableRandom(2026);
    for (int i = 0; i < 1_000_000; i++) {
      // Exponents spread over the whole half range and a little beyond it.
      float f = (float) Math.scalb(random.nextDouble(1, 2), random.nextInt(-28, 18)) * (random.nextBoolean() ? 1 : -1);
      int want = nearestHalf(halves, Math.abs(f)) | (f < 0 ? 0x8000 : 0);
      int got = HalfFloats.floatToHalf(f) & 0xffff;
      if (want != got) {
        fail("floatToHalf(" + f + ") = 0x" + Integer.toHexString(got) + ", nearest is 0x" + Integer.toHexString(want));
      }
    }
  }

  /** Bits of the half nearest to {@code x >= 0} (ties to even, infinity past the threshold), by search. */
  private static int nearestHalf(double[] halves, double x) {
    double threshold = halves[HALF_MAX_BITS] + Math.scalb(1.0, 15 - 11); // 65504 + half a step of 32
    if (x >= threshold) {
      return 0x7c00;
    }
    int i = Arrays.binarySearch(halves, x);
    if (i >= 0) {
      return i;
    }
    int hi = -i - 1;
    if (hi > HALF_MAX_BITS) {
      return HALF_MAX_BITS;
    }
    int lo = hi - 1;
    double dLo = x - halves[lo];
    double dHi = halves[hi] - x;
    if (dLo != dHi) {
      return dLo < dHi ? lo : hi;
    }
    return (lo & 1) == 0 ? lo : hi;
  }

  @Test
  void everyBfloat16WidensAndNarrowsBack() {
    for (int bits = 0; bits < 0x10000; bits++) {
      int b = bits;
      float f = HalfFloats.bfloat16ToFloat((short) b);
      assertEquals(b << 16, Float.floatToRawIntBits(f), "bf16 is the top half of a float");
      int back = HalfFloats.floatToBfloat16(f) & 0xffff;
      if (Float.isNaN(f)) {
        assertEquals(b | 0x40, back, "NaN keeps sign and payload, made quiet");
      } else {
        assertEquals(b, back, () -> "round trip of 0x" + Integer.toHexString(b));
        assertEquals(f, HalfFloats.roundToBfloat16(f));
      }
    }
  }

  @Test
  void randomFloatsRoundToTheNearestBfloat16() {
    SplittableRandom random = new SplittableRandom(17);
    for (int i = 0; i < 2_000_000; i++) {
      int x = random.nextInt();
      float f = Float.intBitsToFloat(x);
      int got = HalfFloats.floatToBfloat16(f) & 0xffff;
      if (Float.isNaN(f)) {
        assertTrue((got & 0x7f80) == 0x7f80 && (got & 0x7f) != 0, "NaN stays NaN");
        continue;
      }
      assertEquals(nearestBfloat16(f), got, () -> "floatToBfloat16(" + f + ")");
    }
    // Ties and the edges.
    assertEquals(0x3f80, HalfFloats.floatToBfloat16(Float.intBitsToFloat(0x3f808000)), "tie to even (down)");
    assertEquals(0x3f82, HalfFloats.floatToBfloat16(Float.intBitsToFloat(0x3f818000)), "tie to even (up)");
    assertEquals(0x3f81, HalfFloats.floatToBfloat16(Float.intBitsToFloat(0x3f808001)));
    assertEquals(0x7f80, HalfFloats.floatToBfloat16(Float.MAX_VALUE), "overflow to infinity");
    assertEquals(BF16_MAX_BITS, HalfFloats.floatToBfloat16(Float.intBitsToFloat(0x7f7f7fff)));
    assertEquals(0x0000, HalfFloats.floatToBfloat16(Float.MIN_VALUE), "the smallest subnormal float rounds to zero");
    assertEquals(0x0001, HalfFloats.floatToBfloat16(Float.intBitsToFloat(0x00008001)), "subnormal rounds up");
    assertEquals((short) 0xff80, HalfFloats.floatToBfloat16(Float.NEGATIVE_INFINITY));
  }

  /** Nearest bfloat16 by comparing the distances to the two candidates in double. */
  private static int nearestBfloat16(float f) {
    int x = Float.floatToRawIntBits(f);
    int sign = x & 0x80000000;
    int mag = x & 0x7fffffff;
    int lo = mag & 0xffff0000;
    int hi = lo + 0x10000; // may be the pattern of infinity, which is then the right answer
    double v = Math.abs((double) f);
    double dLo = v - Float.intBitsToFloat(lo);
    double dHi = hi == 0x7f800000 ? Math.scalb(1.0, 128) - v : Float.intBitsToFloat(hi) - v;
    int pick = dLo < dHi ? lo : dLo > dHi ? hi : ((lo >>> 16) & 1) == 0 ? lo : hi;
    return ((sign | pick) >>> 16) & 0xffff;
  }
}
