package dev.nnvm.runtime;

/**
 * Conversions between {@code float} and the 16-bit float formats (IEEE
 * binary16 and bfloat16), rounding to nearest even as hardware does.
 */
public final class HalfFloats {
  private HalfFloats() {}

  /** Widens IEEE binary16 bits to a float (exact). */
  public static float halfToFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** Narrows a float to IEEE binary16 bits, rounding to nearest even; overflow gives infinity. */
  public static short floatToHalf(float f) {
    int x = Float.floatToRawIntBits(f);
    int sign = (x >>> 16) & 0x8000;
    int exp = (x >>> 23) & 0xff;
    int mant = x & 0x7fffff;
    if (exp == 0xff) {
      // Infinity stays infinity; NaN keeps a quiet payload bit so it stays NaN.
      return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      // Subnormal half: shift the full significand (with its hidden bit) into place.
      int m = mant | 0x800000;
      int shift = 14 - e;
      int half = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1) != 0)) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
      half++; // may carry into the exponent, and up to infinity, which is correct
    }
    return (short) (sign | half);
  }

  /** Widens bfloat16 bits to a float (exact). */
  public static float bfloat16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** Narrows a float to bfloat16 bits, rounding to nearest even. */
  public static short floatToBfloat16(float f) {
    int x = Float.floatToRawIntBits(f);
    if ((x & 0x7f800000) == 0x7f800000 && (x & 0x7fffff) != 0) {
      return (short) ((x >>> 16) | 0x40);
    }
    int lsb = (x >>> 16) & 1;
    return (short) ((x + 0x7fff + lsb) >>> 16);
  }

  /** Rounds a float to the nearest binary16 value, returned as a float. */
  public static float roundToHalf(float f) {
    return halfToFloat(floatToHalf(f));
  }

  /** Rounds a float to the nearest bfloat16 value, returned as a float. */
  public static float roundToBfloat16(float f) {
    return bfloat16ToFloat(floatToBfloat16(f));
  }
}
